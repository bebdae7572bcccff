"""The event gateway as deployed: docker-compose.yml (as `docker compose config` resolves it)
and deploy/k8s give every Regia process SASL_SSL with a user of its own, a password from a
secret and the deployment's CA; the broker has no listener other containers reach in the
clear, denies what no ACL allows, and its init job applies deploy/kafka/acls.txt with a
password for every user it needs. That the ACL file is the one generated from the
services' declared topics is tests/unit/test_kafka_acls.py's."""

from pathlib import PurePosixPath
from typing import Any

import pytest

from regia.operator.deploy_secrets import generate
from regia_shared.contracts import kafka_access

from .test_deploy_compose import ROOT, compose_command_fixture, program_of_service, resolve  # noqa: F401
from .test_deploy_k8s import K8S, container, environment, kubernetes_validate, load, of_kind, pod_spec  # noqa: F401

CA_IN_CONTAINER = "/etc/regia/kafka-ca.crt"


@pytest.fixture(scope="module")
def resolved_and_required(compose: tuple[str, ...]) -> tuple[dict[str, Any], set[str]]:
    return resolve(compose)


def regia_programs(resolved: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Compose service -> (the program it runs, its resolved service)."""
    found = {}
    for name, service in resolved["services"].items():
        program = program_of_service(resolved, service)
        if program is not None:
            found[name] = (program.name, service)
    return found


def user_for(program: str) -> str:
    return kafka_access.TOPICS_USER if program == "topics" else kafka_access.service_user(program)


def test_every_regia_container_logs_in_as_its_own_user_over_tls(
    resolved_and_required: tuple[dict[str, Any], set[str]],
) -> None:
    resolved, _ = resolved_and_required
    programs = regia_programs(resolved)
    assert {p for p, _ in programs.values()} == {"funding", "objectives", "partners", "notifier", "topics"}
    for name, (program, service) in programs.items():
        env = service.get("environment") or {}
        assert env.get("REGIA_KAFKA_SECURITY_PROTOCOL") == "SASL_SSL", name
        assert env.get("REGIA_KAFKA_SASL_MECHANISM") == "SCRAM-SHA-512", name
        assert env.get("REGIA_KAFKA_SASL_USERNAME") == user_for(program), name
        # From .env (a placeholder here), never a value written in the file.
        password = env.get("REGIA_KAFKA_SASL_PASSWORD") or ""
        assert password.startswith("regia-test-placeholder-"), name
        assert password.endswith(kafka_access.password_variable(user_for(program))), name
        assert env.get("REGIA_KAFKA_SSL_CAFILE") == CA_IN_CONTAINER, name
        mounts = {v["target"]: v for v in service.get("volumes") or []}
        ca = mounts.get(CA_IN_CONTAINER)
        assert ca and ca.get("read_only"), f"{name}: the CA is not mounted at {CA_IN_CONTAINER}"
        assert PurePosixPath(ca["source"]) == PurePosixPath(ROOT / "deploy" / "kafka" / "secrets" / "ca.crt"), name


def test_the_broker_speaks_only_sasl_ssl_to_other_containers_and_denies_by_default(
    resolved_and_required: tuple[dict[str, Any], set[str]],
) -> None:
    resolved, _ = resolved_and_required
    env = resolved["services"]["kafka"]["environment"]
    protocols = dict(pair.split(":") for pair in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    for listener in env["KAFKA_LISTENERS"].split(","):
        label, _, address = listener.partition("://")
        host = address.rpartition(":")[0]
        assert protocols[label] == "SASL_SSL" or host == "127.0.0.1", f"{listener} is plain and reachable"
    for listener in env["KAFKA_ADVERTISED_LISTENERS"].split(","):
        assert protocols[listener.partition("://")[0]] == "SASL_SSL", listener
    assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert set(env["KAFKA_SUPER_USERS"].split(";")) == {f"User:{kafka_access.ADMIN_USER}", "User:ANONYMOUS"}
    # ANONYMOUS is a super user only because nothing but the broker reaches its plain listener.
    controller = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split("@", 1)[1]
    assert controller.startswith("127.0.0.1:")
    assert env["KAFKA_SSL_KEYSTORE_LOCATION"].startswith("/etc/kafka/secrets/")
    assert "9092" not in str(resolved["services"]["kafka"].get("ports")), "the broker is not published on the host"


def test_the_init_job_applies_the_acl_file_before_anything_logs_in(
    resolved_and_required: tuple[dict[str, Any], set[str]],
) -> None:
    resolved, _ = resolved_and_required
    init = resolved["services"]["kafka-init"]
    targets = {v["target"]: PurePosixPath(v["source"]) for v in init["volumes"]}
    assert targets[init["environment"]["KAFKA_ACL_FILE"]] == PurePosixPath(ROOT / "deploy" / "kafka" / "acls.txt")
    assert targets["/etc/regia/kafka/init.sh"] == PurePosixPath(ROOT / "deploy" / "kafka" / "init.sh")
    # A password for the admin and every user a Regia container logs in as.
    needed = {kafka_access.ADMIN_USER, *(user_for(p) for p, _ in regia_programs(resolved).values())}
    assert {kafka_access.password_variable(u) for u in needed} <= set(init["environment"])
    assert resolved["services"]["topics"]["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"


def test_deploy_secrets_makes_every_secret_compose_requires(
    resolved_and_required: tuple[dict[str, Any], set[str]],
) -> None:
    _, required = resolved_and_required
    assert {v for v in required if v.startswith("KAFKA_PASSWORD_")}, "the Kafka passwords come from .env"
    assert required <= set(generate()[1]), "a ${VAR:?} of docker-compose.yml that `regia deploy-secrets` does not make"


# --- deploy/k8s ---------------------------------------------------------------------------


def test_every_deployment_logs_in_as_its_own_user_with_the_ca_mounted() -> None:
    for deployment in of_kind("Deployment"):
        name = deployment["metadata"]["name"]
        env = environment(deployment)
        assert env["REGIA_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert env["REGIA_KAFKA_SASL_USERNAME"] == kafka_access.service_user(name), name
        assert "CHANGE-ME" in env["REGIA_KAFKA_SASL_PASSWORD"], f"{name}: the password comes from a Secret"
        secrets = [s["secretRef"]["name"] for s in container(deployment)["envFrom"] if "secretRef" in s]
        assert f"regia-{name}-kafka" in secrets, name
        cafile = PurePosixPath(env["REGIA_KAFKA_SSL_CAFILE"])
        mounts = {m["mountPath"]: m for m in container(deployment)["volumeMounts"]}
        mount = mounts[str(cafile.parent)]
        assert mount.get("readOnly") is True, name
        volume = {v["name"]: v for v in pod_spec(deployment)["volumes"]}[mount["name"]]
        assert volume["configMap"]["name"] == "regia-kafka-ca", name
        assert {i["path"] for i in volume["configMap"]["items"]} == {cafile.name}, name
        assert "optional" not in volume["configMap"], name


@pytest.mark.parametrize("which", ["oldest", "newest"])
def test_the_kafka_init_job_example_is_valid_kubernetes(kubernetes_validate: Any, which: str) -> None:  # noqa: F811
    from .test_deploy_k8s import OLDEST_KUBERNETES

    version = OLDEST_KUBERNETES if which == "oldest" else kubernetes_validate.latest_version()
    for doc in load(K8S / "examples" / "kafka-init.example.yaml"):
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_kafka_init_job_has_every_service_password() -> None:
    (job,) = load(K8S / "examples" / "kafka-init.example.yaml")
    env = {e["name"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    for service in kafka_access.SERVICES:
        assert kafka_access.password_variable(kafka_access.service_user(service)) in env
    assert kafka_access.password_variable(kafka_access.ADMIN_USER) in env
