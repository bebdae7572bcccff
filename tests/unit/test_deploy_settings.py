"""The settings the deployment files give each Regia container agree with what the code
reads (tests/support/deploy_settings.py, derived from the pydantic-settings classes): no REGIA_*
variable the program does not read (a typo is otherwise silently ignored), none it
requires missing (its default is only good for one machine), every value parsing as the
field's type.

docker-compose.yml is read as `docker compose config` resolves it, so env files and
anchors are merged by the real tool. deploy/k8s is read document by document: each
workload's containers, with `env` (value / valueFrom) and `envFrom` (the ConfigMaps and
Secrets of that name in deploy/k8s, Secret templates `*.example.yaml` included). Secrets
the operator creates must be named in deploy/k8s/README.md.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..support.deploy_settings import (
    PROGRAMS,
    SERVICES,
    Program,
    problems,
    program_of,
    read_image,
    settings_of,
)
from .test_deploy_compose import (  # noqa: F401 - compose_command_fixture is the `compose` fixture
    PLACEHOLDER,
    ROOT,
    compose_command_fixture,
    program_of_service,
    regia_image,
    resolve,
)

K8S = ROOT / "deploy" / "k8s"
Doc = dict[str, Any]
PROGRAM = {p.name: p for p in PROGRAMS}

# A complete, valid environment for the notifier: the positive control of the checks below.
NOTIFIER_OK: dict[str, str | None] = {
    "REGIA_DATABASE_URL": None,
    "REGIA_KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
    "REGIA_ADMIN_TOKEN_SHA256": None,
    "REGIA_SESSION_PUBLIC_KEYS": None,
    "REGIA_NOTIFIER_PORT": "8104",
    "REGIA_SMTP_HOST": "mailpit",
    "REGIA_SMTP_FROM": "Regia <regia@example.org>",
    "REGIA_NOTIFIER_SECRETS_KEY": None,
    "REGIA_PREFERENCE_LINK_KEY": None,
    "REGIA_EVENT_SIGNING_KEYS": None,
    "REGIA_CONSOLE_URL": "https://regia.example.org",
}
IMAGE = {"REGIA_HTTP_HOST": "0.0.0.0"}


# --- docker-compose.yml -------------------------------------------------------------------


def compose_environment(service: dict[str, Any]) -> dict[str, str | None]:
    """A compose service's resolved environment; a value made from a placeholder (a secret
    of .env) or passed through from the host (no value) is set, but not known here."""
    return {
        name: None if value is None or PLACEHOLDER in value else value
        for name, value in (service.get("environment") or {}).items()
    }


def test_compose_gives_each_program_the_settings_it_reads(compose: tuple[str, ...]) -> None:
    resolved, _ = resolve(compose)
    found: dict[str, list[str]] = {}
    programs = set()
    for name, service in resolved["services"].items():
        program = program_of_service(resolved, service)
        if program is None:
            continue
        programs.add(program.name)
        image_env = read_image().env if regia_image(resolved, service) else {}
        found[name] = problems(program, compose_environment(service), image_env)
    assert SERVICES <= programs, f"services found in docker-compose.yml: {programs}"
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_compose_placeholders_count_as_set_but_unknown() -> None:
    environment = compose_environment(
        {
            "environment": {
                "REGIA_DATABASE_URL": f"postgresql://u:{PLACEHOLDER}-X@db/regia",
                "REGIA_LOG_LEVEL": "INFO",
                "REGIA_SMTP_USERNAME": None,
            }
        }
    )
    assert environment == {"REGIA_DATABASE_URL": None, "REGIA_LOG_LEVEL": "INFO", "REGIA_SMTP_USERNAME": None}


# --- deploy/k8s ---------------------------------------------------------------------------

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}


@dataclass(frozen=True)
class Manifests:
    """Every document under a folder, each with the file it came from, and the folder's
    README.md (where operator-created Secrets are named)."""

    docs: list[tuple[Path, Doc]]
    readme: str = ""

    @classmethod
    def load(cls, folder: Path) -> "Manifests":
        docs: list[tuple[Path, Doc]] = []
        for path in sorted([*folder.rglob("*.yaml"), *folder.rglob("*.yml")]):
            for doc in yaml.safe_load_all(path.read_text()):
                if isinstance(doc, dict):
                    items = doc.get("items") if doc.get("kind") == "List" else [doc]
                    docs.extend((path, item) for item in items or [] if isinstance(item, dict))
        readme = folder / "README.md"
        return cls(docs, readme.read_text() if readme.exists() else "")

    def find(self, kind: str, name: str, namespace: str | None, *, templates: bool) -> Doc | None:
        for path, doc in self.docs:
            meta = doc.get("metadata") or {}
            if (
                doc.get("kind") == kind
                and meta.get("name") == name
                and (templates or not is_template(path))
                and (namespace is None or meta.get("namespace") in (None, namespace))
            ):
                return doc
        return None

    def documents(self, name: str) -> bool:
        return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", self.readme) is not None

    def services(self, namespace: str | None) -> list[Doc]:
        return [
            doc
            for path, doc in self.docs
            if doc.get("kind") == "Service"
            and not is_template(path)
            and (namespace is None or (doc.get("metadata") or {}).get("namespace") in (None, namespace))
        ]


def is_template(path: Path) -> bool:
    return path.name.endswith((".example.yaml", ".example.yml"))


def keys_of(doc: Doc) -> dict[str, str | None]:
    """A ConfigMap's entries with their values; a Secret's keys, values unknown (templates
    hold placeholders, real Secrets are not in the repository)."""
    if doc["kind"] == "ConfigMap":
        return {
            **{k: str(v) for k, v in (doc.get("data") or {}).items()},
            **{k: None for k in doc.get("binaryData") or {}},
        }
    return {k: None for k in [*(doc.get("stringData") or {}), *(doc.get("data") or {})]}


def service_links(services: list[Doc]) -> dict[str, str]:
    """The variables Kubernetes injects for each Service of the namespace unless the pod
    sets enableServiceLinks: false (e.g. a Service `regia-funding` sets REGIA_FUNDING_PORT
    to tcp://..., which the funding service would read as its port)."""
    env = {}
    for doc in services:
        prefix = (doc.get("metadata") or {}).get("name", "").upper().replace("-", "_")
        ports = (doc.get("spec") or {}).get("ports") or []
        if not prefix or not ports:
            continue
        first = ports[0]
        env[f"{prefix}_SERVICE_HOST"] = "10.0.0.1"
        env[f"{prefix}_SERVICE_PORT"] = str(first["port"])
        env[f"{prefix}_PORT"] = f"{first.get('protocol', 'TCP').lower()}://10.0.0.1:{first['port']}"
    return env


def container_environment(
    container: Doc, pod: Doc, namespace: str | None, manifests: Manifests
) -> tuple[dict[str, str | None], list[str]]:
    """What the container's process finds in its environment (None: set, value unknown
    here), as Kubernetes builds it: service links, then envFrom in order, then env; and what
    is wrong with the references on the way."""
    env: dict[str, str | None] = {}
    wrong: list[str] = []
    if pod.get("enableServiceLinks", True):
        env.update(service_links(manifests.services(namespace)))

    def source(kind: str, name: str, optional: bool) -> Doc | None:
        doc = manifests.find(kind, name, namespace, templates=False)
        if doc is None and kind == "Secret":
            doc = manifests.find(kind, name, namespace, templates=True)  # keys, at least
            if not optional and not manifests.documents(name):
                wrong.append(
                    f"Secret {name} is not in deploy/k8s (templates aside) and "
                    "deploy/k8s/README.md does not name it as one the operator creates"
                )
        elif doc is None and not optional:
            wrong.append(f"ConfigMap {name} is in no manifest of deploy/k8s")
        return doc

    for entry in container.get("envFrom") or []:
        kind = "ConfigMap" if "configMapRef" in entry else "Secret"
        ref = entry.get("configMapRef") or entry.get("secretRef") or {}
        doc = source(kind, ref["name"], ref.get("optional", False))
        if doc is not None:
            env.update({entry.get("prefix", "") + k: v for k, v in keys_of(doc).items()})
    for var in container.get("env") or []:
        name, value_from = var["name"], var.get("valueFrom")
        if value_from is None:
            env[name] = str(var.get("value", ""))
            continue
        ref = value_from.get("configMapKeyRef") or value_from.get("secretKeyRef")
        if ref is None:  # fieldRef, resourceFieldRef: known only in the cluster
            env[name] = None
            continue
        kind = "ConfigMap" if "configMapKeyRef" in value_from else "Secret"
        optional = ref.get("optional", False)
        doc = source(kind, ref["name"], optional)
        if doc is None:
            if kind == "Secret" and manifests.documents(ref["name"]) and not optional:
                env[name] = None  # made by the operator with this key, or the pod fails to start
        elif ref["key"] in keys_of(doc):
            env[name] = keys_of(doc)[ref["key"]]
        elif not optional:
            wrong.append(f"{name}: {kind} {ref['name']} has no key {ref['key']}")
    return env, wrong


def pod_specs(doc: Doc) -> Iterator[Doc]:
    spec = doc.get("spec") or {}
    if doc.get("kind") == "Pod":
        yield spec
    elif doc.get("kind") == "CronJob":
        yield ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template", {}).get("spec") or {}
    else:
        yield (spec.get("template") or {}).get("spec") or {}


def container_program(container: Doc) -> Program | None:
    """`command` replaces the image's entrypoint (it has none) and `args` its CMD."""
    argv = [*(container.get("command") or []), *(container.get("args") or [])]
    if not argv and str(container.get("image", "")).rsplit("/", 1)[-1].startswith("regia"):
        argv = read_image().cmd or []
    return program_of(argv)


def check_manifests(manifests: Manifests, image_env: dict[str, str]) -> dict[str, list[str]]:
    """For each Regia container of each workload (templates aside): what is wrong."""
    found: dict[str, list[str]] = {}
    for path, doc in manifests.docs:
        if doc.get("kind") not in WORKLOADS or is_template(path):
            continue
        namespace = (doc.get("metadata") or {}).get("namespace")
        for pod in pod_specs(doc):
            for container in [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]:
                program = container_program(container)
                if program is None:
                    continue
                env, wrong = container_environment(container, pod, namespace, manifests)
                where = f"{path.name}: {doc['kind']} {doc['metadata']['name']}, container {container.get('name')} ({program.name})"
                found[where] = wrong + problems(program, env, image_env)
    return found


@pytest.fixture(scope="module")
def manifests() -> Manifests:
    if not K8S.is_dir():
        pytest.skip("no deploy/k8s")
    return Manifests.load(K8S)


def test_k8s_gives_each_program_the_settings_it_reads(manifests: Manifests) -> None:
    found = check_manifests(manifests, read_image().env)
    programs = {where.rsplit("(", 1)[1].rstrip(")") for where in found}
    assert SERVICES <= programs, f"Regia containers found in deploy/k8s: {sorted(found)}"
    assert {where: lines for where, lines in found.items() if lines} == {}


# --- the checker itself, on small examples ------------------------------------------------


def test_a_complete_environment_passes() -> None:
    assert problems(PROGRAM["notifier"], NOTIFIER_OK, IMAGE) == []


def test_an_unknown_variable_fails() -> None:
    found = problems(PROGRAM["notifier"], {**NOTIFIER_OK, "REGIA_KAFKA_PARTITONS": "6"}, IMAGE)
    assert found == ["REGIA_KAFKA_PARTITONS is not a setting notifier reads"]
    # Another service's variable is unknown too: names come from each class's aliases.
    assert (
        problems(PROGRAM["partners"], {"REGIA_FUNDING_PORT": "8101"}, IMAGE)[0]
        == "REGIA_FUNDING_PORT is not a setting partners reads"
    )
    # Variables not Regia's are the image's or the platform's business.
    assert problems(PROGRAM["notifier"], {**NOTIFIER_OK, "TZ": "UTC"}, IMAGE) == []


def test_a_missing_required_variable_fails() -> None:
    without = {k: v for k, v in NOTIFIER_OK.items() if k != "REGIA_NOTIFIER_SECRETS_KEY"}
    assert problems(PROGRAM["notifier"], without, IMAGE) == [
        "REGIA_NOTIFIER_SECRETS_KEY is required by notifier and not set"
    ]
    # Empty counts as unset for ServiceSettings (env_ignore_empty).
    assert problems(PROGRAM["notifier"], {**NOTIFIER_OK, "REGIA_SMTP_HOST": ""}, IMAGE) == [
        "REGIA_SMTP_HOST is required by notifier and not set (it is empty, which counts as unset)"
    ]
    # The image's ENV counts: without it REGIA_HTTP_HOST is missing.
    assert problems(PROGRAM["notifier"], NOTIFIER_OK, {}) == ["REGIA_HTTP_HOST is required by notifier and not set"]


def test_a_bad_value_fails() -> None:
    found = problems(PROGRAM["notifier"], {**NOTIFIER_OK, "REGIA_KAFKA_PARTITIONS": "six"}, IMAGE)
    assert len(found) == 1 and found[0].startswith("REGIA_KAFKA_PARTITIONS='six' is not valid"), found
    # Constraints, field validators and model validators count too.
    assert "greater than or equal to 1" in problems(PROGRAM["funding"], {"REGIA_KAFKA_PARTITIONS": "0"}, IMAGE)[-1]
    assert (
        "REGIA_NOTIFIER_TIMEZONE='Europe/Roma'"
        in problems(PROGRAM["notifier"], {**NOTIFIER_OK, "REGIA_NOTIFIER_TIMEZONE": "Europe/Roma"}, IMAGE)[0]
    )
    assert problems(PROGRAM["notifier"], {**NOTIFIER_OK, "REGIA_NOTIFIER_LEASE_S": "5"}, IMAGE) == [
        "notifier: REGIA_NOTIFIER_LEASE_S must exceed REGIA_SMTP_TIMEOUT_S"
    ]
    # Lax, as from the environment.
    assert (
        problems(
            PROGRAM["notifier"],
            {
                **NOTIFIER_OK,
                "REGIA_LOG_JSON": "false",
                "REGIA_SMTP_TIMEOUT_S": "10",
                "REGIA_NOTIFIER_DIGEST_AT": "07:30",
            },
            IMAGE,
        )
        == []
    )


def test_secret_values_are_neither_parsed_nor_shown() -> None:
    found = problems(
        PROGRAM["notifier"],
        {**NOTIFIER_OK, "REGIA_NOTIFIER_SECRETS_KEY": "hunter2", "REGIA_SMTP_PORT": "hunter3"},
        IMAGE,
    )
    assert len(found) == 1 and "REGIA_SMTP_PORT" in found[0] and "hunter2" not in found[0]


def test_what_each_program_must_be_given() -> None:
    required = {p.name: {s.variable for s in settings_of(p) if s.required} for p in PROGRAMS}
    common = {
        "REGIA_DATABASE_URL",
        "REGIA_KAFKA_BOOTSTRAP_SERVERS",
        "REGIA_ADMIN_TOKEN_SHA256",
        "REGIA_SESSION_PUBLIC_KEYS",
        "REGIA_HTTP_HOST",
        "REGIA_EVENT_SIGNING_KEYS",
    }
    assert required == {
        "funding": common,
        "objectives": common,
        "partners": common | {"REGIA_PREFERENCE_LINK_KEY", "REGIA_SESSION_SIGNING_KEYS", "REGIA_ACCOUNT_SECRETS_KEY"},
        "notifier": common
        | {
            "REGIA_SMTP_HOST",
            "REGIA_SMTP_FROM",
            "REGIA_NOTIFIER_SECRETS_KEY",
            "REGIA_PREFERENCE_LINK_KEY",
            "REGIA_CONSOLE_URL",
        },
        "topics": {"REGIA_KAFKA_BOOTSTRAP_SERVERS"},
    }
    # Names from validation_alias, from env_prefix otherwise, and the audit settings too.
    names = {v for s in settings_of(PROGRAM["objectives"]) for v in s.variables}
    assert {
        "REGIA_OBJECTIVES_PORT",
        "REGIA_AT_RISK_THRESHOLD_PCT",
        "REGIA_DB_POOL_MAX",
        "REGIA_TRUSTED_PROXIES",
    } <= names
    assert not any(n.startswith("REGIA_DEFAULT_AT_RISK") or n == "REGIA_HTTP_PORT" for n in names)


def test_programs_are_found_by_their_command() -> None:
    assert program_of(["python", "-m", "regia_funding"]) is PROGRAM["funding"]
    assert program_of(["/usr/local/bin/python3", "-u", "-m", "regia_notifier"]) is PROGRAM["notifier"]
    assert program_of(["regia-objectives"]) is PROGRAM["objectives"]
    assert program_of(["python", "-m", "regia_shared.messaging.create_topics"]) is PROGRAM["topics"]
    assert program_of(["python", "-m", "regia_fundingx"]) is None
    assert program_of(["sleep", "5"]) is None


def test_the_image_is_read_from_its_last_stage(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM python:3.11-slim AS build\nENV REGIA_BUILD_ONLY=1\n"
        'FROM python:3.11-slim\n# a comment\nENV A=1 \\\n    B="two words"\nENV LEGACY some value\n'
        'HEALTHCHECK CMD ["true"]\nCMD ["python", "-m", "regia_partners"]\n'
    )
    image = read_image(dockerfile)
    assert image.env == {"A": "1", "B": "two words", "LEGACY": "some value"}
    assert image.cmd == ["python", "-m", "regia_partners"] and image.healthcheck
    dockerfile.write_text("FROM python:3.11-slim\nHEALTHCHECK NONE\nCMD python -m regia_funding\n")
    image = read_image(dockerfile)
    assert not image.healthcheck and program_of(image.cmd or []) is PROGRAM["funding"]


def _deployment(container: Doc, **pod: Any) -> Doc:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "notifier", "namespace": "regia"},
        "spec": {"template": {"spec": {"containers": [container], **pod}}},
    }


def _config_map(name: str, **data: str) -> Doc:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "regia"}, "data": data}


def _secret(name: str, *keys: str) -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "regia"},
        "stringData": {k: "CHANGE-ME" for k in keys},
    }


def _check(*docs: tuple[str, Doc], readme: str = "") -> list[str]:
    found = check_manifests(Manifests([(Path(f), d) for f, d in docs], readme), IMAGE)
    (lines,) = found.values()
    return lines


NOTIFIER_CONTAINER: Doc = {
    "name": "notifier",
    "image": "regia",
    "command": ["python", "-m", "regia_notifier"],
    "envFrom": [{"configMapRef": {"name": "regia-notifier"}}, {"secretRef": {"name": "regia-notifier-secrets"}}],
    "env": [
        {
            "name": "REGIA_KAFKA_BOOTSTRAP_SERVERS",
            "valueFrom": {"configMapKeyRef": {"name": "kafka", "key": "bootstrap"}},
        }
    ],
}
NOTIFIER_DOCS: list[tuple[str, Doc]] = [
    ("notifier.yaml", _deployment(NOTIFIER_CONTAINER, enableServiceLinks=False)),
    (
        "notifier.yaml",
        _config_map(
            "regia-notifier",
            REGIA_SMTP_HOST="smtp",
            REGIA_NOTIFIER_PORT="8104",
            REGIA_SMTP_FROM="Regia <r@example.org>",
            REGIA_CONSOLE_URL="https://regia.example.org",
        ),
    ),
    ("kafka.yaml", _config_map("kafka", bootstrap="kafka:9092")),
    (
        "examples/secrets.example.yaml",
        _secret(
            "regia-notifier-secrets",
            "REGIA_DATABASE_URL",
            "REGIA_ADMIN_TOKEN_SHA256",
            "REGIA_SESSION_PUBLIC_KEYS",
            "REGIA_NOTIFIER_SECRETS_KEY",
            "REGIA_PREFERENCE_LINK_KEY",
            "REGIA_EVENT_SIGNING_KEYS",
        ),
    ),
]
README = "kubectl create secret generic regia-notifier-secrets ..."


def test_k8s_env_from_config_maps_secret_templates_and_key_refs() -> None:
    assert _check(*NOTIFIER_DOCS, readme=README) == []


def test_k8s_an_unknown_variable_a_missing_one_and_a_bad_value_fail() -> None:
    docs = list(NOTIFIER_DOCS)
    docs[1] = (
        "notifier.yaml",
        _config_map(
            "regia-notifier",
            REGIA_SMTP_HOST="smtp",
            REGIA_NOTIFIER_PORT="8104",
            REGIA_SMTP_FROM="Regia <r@example.org>",
            REGIA_CONSOLE_URL="https://regia.example.org",
            REGIA_SMTP_PROT="25",
        ),
    )
    assert _check(*docs, readme=README) == ["REGIA_SMTP_PROT is not a setting notifier reads"]
    docs[1] = (
        "notifier.yaml",
        _config_map(
            "regia-notifier",
            REGIA_SMTP_HOST="smtp",
            REGIA_NOTIFIER_PORT="8104",
            REGIA_CONSOLE_URL="https://regia.example.org",
        ),
    )
    assert _check(*docs, readme=README) == ["REGIA_SMTP_FROM is required by notifier and not set"]
    container = {
        **NOTIFIER_CONTAINER,
        "env": [
            *NOTIFIER_CONTAINER["env"],
            {"name": "REGIA_SMTP_FROM", "value": "Regia <r@example.org>"},
            {"name": "REGIA_SMTP_PORT", "value": "twenty-five"},
        ],
    }
    docs[0] = ("notifier.yaml", _deployment(container, enableServiceLinks=False))
    (line,) = _check(*docs, readme=README)
    assert line.startswith("REGIA_SMTP_PORT='twenty-five' is not valid for notifier")


def test_k8s_secrets_the_operator_creates_must_be_documented() -> None:
    assert _check(*NOTIFIER_DOCS, readme="") == [
        (
            "Secret regia-notifier-secrets is not in deploy/k8s (templates aside) and "
            "deploy/k8s/README.md does not name it as one the operator creates"
        )
    ]
    # Documented but with no template: its keys are unknown, so what it would hold is missing.
    found = _check(*NOTIFIER_DOCS[:3], readme=README)
    assert "REGIA_NOTIFIER_SECRETS_KEY is required by notifier and not set" in found
    assert not any("Secret regia-notifier-secrets" in line for line in found)


def test_k8s_broken_references_are_reported() -> None:
    assert _check(*NOTIFIER_DOCS[:2], NOTIFIER_DOCS[3], readme=README) == [
        "ConfigMap kafka is in no manifest of deploy/k8s",
        "REGIA_KAFKA_BOOTSTRAP_SERVERS is required by notifier and not set",
    ]
    docs = [*NOTIFIER_DOCS[:2], ("kafka.yaml", _config_map("kafka", brokers="kafka:9092")), NOTIFIER_DOCS[3]]
    assert _check(*docs, readme=README) == [
        "REGIA_KAFKA_BOOTSTRAP_SERVERS: ConfigMap kafka has no key bootstrap",
        "REGIA_KAFKA_BOOTSTRAP_SERVERS is required by notifier and not set",
    ]


def test_k8s_env_wins_over_env_from_and_prefixes_apply() -> None:
    container = {**NOTIFIER_CONTAINER, "env": [*NOTIFIER_CONTAINER["env"], {"name": "REGIA_SMTP_HOST", "value": ""}]}
    docs = [("notifier.yaml", _deployment(container, enableServiceLinks=False)), *NOTIFIER_DOCS[1:]]
    assert _check(*docs, readme=README) == [
        "REGIA_SMTP_HOST is required by notifier and not set (it is empty, which counts as unset)"
    ]
    container = {
        **NOTIFIER_CONTAINER,
        "envFrom": [{"configMapRef": {"name": "plain"}, "prefix": "REGIA_SMTP_"}, *NOTIFIER_CONTAINER["envFrom"]],
    }
    docs = [
        ("notifier.yaml", _deployment(container, enableServiceLinks=False)),
        ("plain.yaml", _config_map("plain", PORT="abc")),
        *NOTIFIER_DOCS[1:],
    ]
    (line,) = _check(*docs, readme=README)
    assert line.startswith("REGIA_SMTP_PORT='abc'")


def test_k8s_service_links_are_environment_too() -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "regia-notifier", "namespace": "regia"},
        "spec": {"ports": [{"port": 8104, "protocol": "TCP"}]},
    }
    docs = [("notifier.yaml", _deployment(NOTIFIER_CONTAINER)), *NOTIFIER_DOCS[1:], ("svc.yaml", service)]
    found = _check(*docs, readme=README)
    assert "REGIA_NOTIFIER_SERVICE_HOST is not a setting notifier reads" in found
    assert not _check(
        ("notifier.yaml", _deployment(NOTIFIER_CONTAINER, enableServiceLinks=False)),
        *NOTIFIER_DOCS[1:],
        ("svc.yaml", service),
        readme=README,
    )
