"""What a deployment's environment must agree with: for each program the Regia image runs,
the environment variables its pydantic-settings classes read, the ones a deployment must
set, and whether the values given parse.

Everything is derived from the settings classes themselves, so a renamed or new setting
needs no edit here: a field is read from `env_prefix` + its name, or from the names of its
`validation_alias` (AliasChoices); a field marked `json_schema_extra={"deployment":
"required"}` must be set by every deployment, its default being only good for one machine.
Variables the image sets (the `ENV` lines of deploy/Dockerfile's last stage) count as set.

tests/unit/test_deploy_settings.py applies `problems()` to each Regia container of
docker-compose.yml (as `docker compose config` resolves it) and of deploy/k8s.
"""

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, AliasPath, SecretBytes, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from regia_funding.config import FundingSettings
from regia_notifier.config import NotifierSettings
from regia_objectives.config import ObjectivesSettings
from regia_partners.config import PartnersSettings
from regia_shared.http.audit import AuditSettings
from regia_shared.settings import ServiceSettings

DOCKERFILE = Path(__file__).resolve().parents[2] / "deploy" / "Dockerfile"
REQUIRED = {"deployment": "required"}


@dataclass(frozen=True)
class Program:
    """One process the image runs, `python -m <module>`, with every settings class it reads."""

    name: str
    module: str
    settings: tuple[type[BaseSettings], ...]
    # Fields it must be given; None: those marked required in its settings classes.
    needs: frozenset[str] | None = None


PROGRAMS: tuple[Program, ...] = (
    # Every service also reads AuditSettings (the audit middleware, REGIA_TRUSTED_PROXIES).
    Program("funding", "regia_funding", (FundingSettings, AuditSettings)),
    Program("objectives", "regia_objectives", (ObjectivesSettings, AuditSettings)),
    Program("partners", "regia_partners", (PartnersSettings, AuditSettings)),
    Program("notifier", "regia_notifier", (NotifierSettings, AuditSettings)),
    # The one-shot topic creation (compose's `topics`, `regia topics`): only the broker.
    Program(
        "topics",
        "regia_shared.messaging.create_topics",
        (ServiceSettings,),
        needs=frozenset({"kafka_bootstrap_servers"}),
    ),
)
SERVICES = frozenset(p.name for p in PROGRAMS if p.needs is None)


@dataclass(frozen=True)
class Setting:
    """One field of a settings class, as the environment sets it."""

    settings: type[BaseSettings]
    field: str
    variables: tuple[str, ...]  # the names it is read from, as declared
    aliased: bool  # validated under its variable's name, not the field's
    required: bool
    secret: bool  # its value is never parsed here nor shown

    @property
    def variable(self) -> str:
        return self.variables[0]


@dataclass
class Image:
    """What the last stage of a Dockerfile gives every container."""

    env: dict[str, str] = field(default_factory=dict)
    cmd: list[str] | None = None
    healthcheck: bool = False


def _variables(cls: type[BaseSettings], name: str, info: FieldInfo) -> tuple[str, ...]:
    alias = info.validation_alias or info.alias
    if alias is None:
        variable = cls.model_config.get("env_prefix", "") + name
        # Upper-cased for display: such a class matches names regardless of case.
        return (variable if cls.model_config.get("case_sensitive") else variable.upper(),)
    names = []
    for choice in alias.choices if isinstance(alias, AliasChoices) else [alias]:
        # Of an AliasPath, pydantic-settings reads the variable the path starts with.
        first = choice.path[0] if isinstance(choice, AliasPath) else choice
        if isinstance(first, str):
            names.append(first)
    return tuple(names)


def _is_secret(annotation: Any) -> bool:
    if annotation in (SecretStr, SecretBytes):
        return True
    return any(_is_secret(arg) for arg in getattr(annotation, "__args__", ()))


def settings_of(program: Program) -> list[Setting]:
    """Every field `program` reads from its environment."""
    found = []
    for cls in program.settings:
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            marked = all(extra.get(k) == v for k, v in REQUIRED.items())
            found.append(
                Setting(
                    cls,
                    name,
                    _variables(cls, name, info),
                    aliased=(info.validation_alias or info.alias) is not None,
                    required=name in program.needs if program.needs is not None else marked,
                    secret=_is_secret(info.annotation),
                )
            )
    return found


def program_of(argv: Sequence[str]) -> Program | None:
    """The program a container's command runs: `python -m <module> ...`, or a service's
    console script (`regia-funding`), also through `sh -c "..."`."""
    words = list(argv)
    if len(words) >= 3 and Path(words[0]).name in {"sh", "bash", "dash"} and words[1] == "-c":
        words = shlex.split(words[2])
    for program in PROGRAMS:
        if any(w == "-m" and nxt == program.module for w, nxt in pairwise(words)):
            return program
        if words and Path(words[0]).name == f"regia-{program.name}":
            return program
    return None


def read_image(dockerfile: Path = DOCKERFILE) -> Image:
    """ENV, CMD and HEALTHCHECK of the last stage (earlier stages do not reach the image).
    Handles `ENV k=v k2="v 2"`, the legacy `ENV k v`, and continued lines."""
    instructions: list[str] = []
    pending = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # comments may sit inside a continued instruction too
        if line.endswith("\\"):
            pending += line[:-1] + " "
        else:
            instructions.append(pending + line)
            pending = ""
    image = Image()
    for instruction in instructions:
        word, _, rest = instruction.partition(" ")
        word, rest = word.upper(), rest.strip()
        if word == "FROM":
            image = Image()
        elif word == "ENV":
            words = shlex.split(rest)
            if words and "=" not in words[0]:  # legacy form: ENV key value with spaces
                image.env[words[0]] = rest.split(None, 1)[1] if len(words) > 1 else ""
            else:
                for pair in words:
                    key, _, value = pair.partition("=")
                    image.env[key] = value
        elif word == "CMD":
            image.cmd = json.loads(rest) if rest.startswith("[") else ["/bin/sh", "-c", rest]
        elif word == "HEALTHCHECK":
            image.healthcheck = rest.split()[-1:] != ["NONE"]
    return image


def _reads(setting: Setting, name: str) -> bool:
    if setting.settings.model_config.get("case_sensitive"):
        return name in setting.variables
    return name.upper() in {v.upper() for v in setting.variables}


def problems(
    program: Program, environment: Mapping[str, str | None], image_env: Mapping[str, str] | None = None
) -> list[str]:
    """What is wrong with `environment` for `program`, one line each: a REGIA_* variable it
    does not read, one it requires and is not given, a value that does not parse.

    A value of None is set but not known here (from a Kubernetes Secret, or a placeholder
    for a secret compose interpolates): it counts as set and is not parsed; nor are the
    values of secret fields, which are never shown either. An empty value counts as unset
    where the settings class ignores empty variables. Values are validated by the settings
    class itself, in lax mode as from the environment: types, constraints, field and model
    validators. `image_env` defaults to the ENV lines of deploy/Dockerfile."""
    given = {**(read_image().env if image_env is None else image_env), **environment}
    settings = settings_of(program)
    found = [
        f"{name} is not a setting {program.name} reads"
        for name in sorted(given)
        if name.upper().startswith("REGIA_") and not any(_reads(s, name) for s in settings)
    ]
    data: dict[type[BaseSettings], dict[str, str]] = {}
    source: dict[tuple[type[BaseSettings], str], str] = {}  # (class, input key) -> variable
    for setting in settings:
        names = [name for name in given if _reads(setting, name)]
        ignore_empty = setting.settings.model_config.get("env_ignore_empty")
        effective = [name for name in names if not (ignore_empty and given[name] == "")]
        if setting.required and not effective:
            empty = " (it is empty, which counts as unset)" if names else ""
            found.append(f"{setting.variable} is required by {program.name} and not set{empty}")
        for name in effective:
            value = given[name]
            if value is None or setting.secret:
                continue
            key = name if setting.aliased else setting.field
            if setting.aliased and not setting.settings.model_config.get("case_sensitive"):
                key = next(v for v in setting.variables if v.upper() == name.upper())
            data.setdefault(setting.settings, {})[key] = value
            source[(setting.settings, key)] = name
    for cls, values in data.items():
        try:
            cls.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                variable = source.get((cls, str(error["loc"][0]))) if error["loc"] else None
                if variable is None:
                    found.append(f"{program.name}: {error['msg']}")
                else:
                    found.append(f"{variable}={given[variable]!r} is not valid for {program.name}: {error['msg']}")
    return found
