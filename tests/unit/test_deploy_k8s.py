"""deploy/k8s checked before it meets a cluster: every document against Kubernetes's own
JSON schemas (strict, so a misspelt field is an error rather than silently dropped), and
what the schemas cannot see: the kustomization lists every manifest, each Deployment is
probed, bounded and unprivileged, ports agree from ConfigMap to Service to scrape
annotation, autoscalers stay within the topics' partitions, and every ConfigMap and
Secret a pod reads exists. That each variable is one the service reads, that the ones a
deployment must set are there and that values parse is tests/unit/test_deploy_settings.py's
(tests/support/deploy_settings.py), for compose and these manifests alike.

The schemas come from the PyPI package kubernetes-validate (the project's test extras).
Without it these tests skip locally but fail under CI=true: a CI that silently skipped
them would validate nothing.
"""

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from regia_shared.contracts import catalogue

from ..support.deploy_settings import SERVICES

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUSTOMIZATION = K8S / "kustomization.yaml"
README = K8S / "README.md"
SECRETS_EXAMPLE = K8S / "examples" / "secrets.example.yaml"

# The oldest Kubernetes the manifests must apply to (still supported by the managed
# offerings when they were written); the newest the package ships is checked as well, so
# that an API removed since fails here first.
OLDEST_KUBERNETES = "1.33"

# Services that consume Kafka and therefore scale on partitions (partners consumes nothing).
CONSUMERS = {"funding", "objectives", "notifier"}
IMAGE_USER = 10001  # deploy/Dockerfile's `regia` user
SERVICE_PORT_VARS = {f"REGIA_{service.upper()}_PORT" for service in SERVICES}

Doc = dict[str, Any]


# --- reading the manifests ---------------------------------------------------------------


def manifest_files() -> list[Path]:
    """What kustomize applies: every YAML beside kustomization.yaml (examples/ excluded)."""
    return sorted(p for p in K8S.glob("*.yaml") if p != KUSTOMIZATION)


@functools.cache  # read-only: no test changes what it loaded
def load(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def manifests() -> list[Doc]:
    return [doc for path in manifest_files() for doc in load(path)]


def of_kind(kind: str, docs: list[Doc] | None = None) -> list[Doc]:
    return [doc for doc in (manifests() if docs is None else docs) if doc["kind"] == kind]


def by_name(kind: str, docs: list[Doc] | None = None) -> dict[str, Doc]:
    return {doc["metadata"]["name"]: doc for doc in of_kind(kind, docs)}


def pod_spec(deployment: Doc) -> Doc:
    return deployment["spec"]["template"]["spec"]


def container(deployment: Doc) -> Doc:
    containers = pod_spec(deployment)["containers"]
    assert len(containers) == 1, deployment["metadata"]["name"]
    return containers[0]


def service_of(deployment: Doc) -> str:
    """The Regia service a Deployment runs, from its command (`python -m regia_<name>`)."""
    command = container(deployment)["command"]
    assert command[:2] == ["python", "-m"] and command[2].startswith("regia_"), command
    return command[2].removeprefix("regia_")


def environment(deployment: Doc) -> dict[str, str]:
    """The variables a Deployment's pods get from ConfigMaps (later sources win, as in
    Kubernetes); Secrets' keys are read from the example, their values are placeholders."""
    config_maps = by_name("ConfigMap")
    secrets = by_name("Secret", load(SECRETS_EXAMPLE))
    env: dict[str, str] = {}
    for source in container(deployment).get("envFrom", []):
        if "configMapRef" in source:
            env.update(config_maps[source["configMapRef"]["name"]]["data"])
        else:
            env.update(secrets[source["secretRef"]["name"]]["stringData"])
    env.update({var["name"]: var.get("value", "") for var in container(deployment).get("env", [])})
    return env


# --- the schemas -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kubernetes_validate() -> ModuleType:
    try:
        import kubernetes_validate
    except ImportError:
        message = "kubernetes-validate is missing: pip install kubernetes-validate (test extras)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return kubernetes_validate


def schema_errors(kv: ModuleType, docs: Iterator[tuple[Path, Doc]], version: str) -> list[str]:
    errors = []
    for path, doc in docs:
        where = f"{path.relative_to(K8S)} {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        try:
            kv.validate(doc, version, strict=True)
        except kv.ValidationError as exc:
            errors.append(f"{where}: {'.'.join(map(str, exc.path))}: {exc.message}")
        except kv.SchemaNotFoundError as exc:  # a kind or apiVersion Kubernetes lacks
            errors.append(f"{where}: {exc.message}")
    return errors


def every_document() -> Iterator[tuple[Path, Doc]]:
    for path in [*manifest_files(), SECRETS_EXAMPLE]:
        for doc in load(path):
            yield path, doc


@pytest.mark.parametrize("which", ["oldest", "newest"])
def test_every_document_is_valid_kubernetes(kubernetes_validate: ModuleType, which: str) -> None:
    version = OLDEST_KUBERNETES if which == "oldest" else kubernetes_validate.latest_version()
    documents = list(every_document())
    assert len(documents) > len(manifest_files())  # not passing by reading nothing
    assert schema_errors(kubernetes_validate, iter(documents), version) == []


def test_a_misspelt_field_or_unknown_kind_is_refused(kubernetes_validate: ModuleType) -> None:
    # Strict mode is what makes the test above worth something: without it an unknown
    # field passes the schema, and kubectl would drop it with at most a warning.
    deployment = of_kind("Deployment")[0]
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {"tcpSocket": {"port": "http"}}
    unknown = {"apiVersion": "autoscaling/v9", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "x"}}
    errors = schema_errors(
        kubernetes_validate, iter([(K8S / "x.yaml", broken), (K8S / "y.yaml", unknown)]), OLDEST_KUBERNETES
    )
    assert len(errors) == 2, errors
    assert "livenesProbe" in errors[0]


# --- the kustomization -------------------------------------------------------------------


def test_the_kustomization_lists_exactly_the_manifests() -> None:
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text())
    listed = kustomization["resources"]
    assert len(listed) == len(set(listed)), "listed twice"
    assert set(listed) == {p.name for p in manifest_files()}
    assert kustomization["namespace"] == "regia"
    # Every Deployment names the image `regia`, which an overlay's `images:` pins; a pin
    # in the base would rename it, and the overlay's `name: regia` would match nothing.
    assert "images" not in kustomization
    assert {container(d)["image"] for d in of_kind("Deployment")} == {"regia"}


def test_no_secret_is_committed_outside_the_example() -> None:
    assert of_kind("Secret") == [], "Secrets are created by the operator (README.md)"
    for secret in of_kind("Secret", load(SECRETS_EXAMPLE)):
        assert "data" not in secret, "placeholders in stringData, readable as such"
        for key, value in secret["stringData"].items():
            assert "CHANGE-ME" in value, f"{secret['metadata']['name']}.{key} is not a placeholder"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is optional here")
def test_kustomize_builds_every_document() -> None:
    # An extra where kubectl is installed: kustomize itself accepts the kustomization.
    built = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    docs = [d for d in yaml.safe_load_all(built.stdout) if d]
    assert len(docs) == len(manifests())
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {"regia"}


# --- the Deployments ---------------------------------------------------------------------


def test_the_four_services_are_deployed() -> None:
    assert sorted(service_of(d) for d in of_kind("Deployment")) == sorted(SERVICES)
    assert {d["metadata"]["name"] for d in of_kind("Deployment")} == set(SERVICES)


def test_every_deployment_is_probed_bounded_and_unprivileged() -> None:
    for deployment in of_kind("Deployment"):
        name, spec, main = deployment["metadata"]["name"], pod_spec(deployment), container(deployment)
        probes = {
            kind: main.get(kind, {}).get("httpGet", {}) for kind in ("startupProbe", "livenessProbe", "readinessProbe")
        }
        assert {kind: (p.get("path"), p.get("port")) for kind, p in probes.items()} == {
            "startupProbe": ("/health/live", "http"),
            "livenessProbe": ("/health/live", "http"),
            "readinessProbe": ("/health/ready", "http"),
        }, name
        resources = main.get("resources", {})
        for bound in ("requests", "limits"):
            assert set(resources.get(bound, {})) >= {"cpu", "memory"}, (name, bound)

        pod_security, security = spec.get("securityContext", {}), main.get("securityContext", {})
        assert security.get("runAsNonRoot") is True and pod_security.get("runAsNonRoot") is True, name
        assert security.get("runAsUser") == pod_security.get("runAsUser") == IMAGE_USER, name
        assert security.get("allowPrivilegeEscalation") is False, name
        assert security.get("readOnlyRootFilesystem") is True, name
        assert security.get("capabilities", {}).get("drop") == ["ALL"], name
        assert security.get("capabilities", {}).get("add") is None, name
        for context in (pod_security, security):
            assert context.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
        # The root filesystem is read-only: /tmp is the one writable place, and in memory
        # or on the node's disk, never in the image.
        tmp = [m for m in main.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        assert len(tmp) == 1 and "emptyDir" in volumes[tmp[0]["name"]], name
        assert spec.get("automountServiceAccountToken") is False, name
        assert spec.get("enableServiceLinks") is False, name


def test_every_deployment_rolls_and_stops_gently() -> None:
    for deployment in of_kind("Deployment"):
        name, spec = deployment["metadata"]["name"], pod_spec(deployment)
        strategy = deployment["spec"]["strategy"]
        assert strategy["type"] == "RollingUpdate", name
        assert strategy["rollingUpdate"]["maxUnavailable"] == 0, name
        assert 30 <= spec["terminationGracePeriodSeconds"] <= 120, name
        assert container(deployment)["lifecycle"]["preStop"], name
        # Soft spreading: a small cluster must still schedule every replica.
        constraints = spec.get("topologySpreadConstraints", [])
        anti = spec.get("affinity", {}).get("podAntiAffinity", {})
        assert constraints or anti.get("preferredDuringSchedulingIgnoredDuringExecution"), name
        assert all(c["whenUnsatisfiable"] == "ScheduleAnyway" for c in constraints), name
        assert "requiredDuringSchedulingIgnoredDuringExecution" not in anti, name


def test_ports_agree_from_settings_to_service_and_scrape() -> None:
    services = of_kind("Service")
    for deployment in of_kind("Deployment"):
        name, service = deployment["metadata"]["name"], service_of(deployment)
        env = environment(deployment)
        port_vars = {var for var in env if var in SERVICE_PORT_VARS}
        # deploy/healthcheck.py, used by the image's HEALTHCHECK, wants exactly one.
        assert port_vars == {f"REGIA_{service.upper()}_PORT"}, name
        port = int(env[f"REGIA_{service.upper()}_PORT"])
        assert port == catalogue.service(service).default_port, f"{name}: not the port `regia up` uses"
        assert [(p["name"], p["containerPort"]) for p in container(deployment)["ports"]] == [("http", port)]

        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true", name
        assert annotations["prometheus.io/port"] == str(port), name
        assert annotations["prometheus.io/path"] == "/metrics", name

        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
        fronting = [s for s in services if s["spec"]["selector"].items() <= labels.items()]
        assert [s["metadata"]["name"] for s in fronting] == [name]
        assert fronting[0]["spec"].get("type", "ClusterIP") == "ClusterIP"
        assert [(p["port"], p["targetPort"]) for p in fronting[0]["spec"]["ports"]] == [(port, "http")]


# --- scaling -----------------------------------------------------------------------------


def min_replicas(deployment: Doc) -> int:
    hpas = [
        h
        for h in of_kind("HorizontalPodAutoscaler")
        if h["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    ]
    return hpas[0]["spec"]["minReplicas"] if hpas else deployment["spec"].get("replicas", 1)


def test_autoscalers_stay_within_the_partitions() -> None:
    deployments = by_name("Deployment")
    targets = set()
    for hpa in of_kind("HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        assert (ref["apiVersion"], ref["kind"]) == ("apps/v1", "Deployment")
        deployment = deployments[ref["name"]]
        targets.add(ref["name"])
        # A replica beyond the topics' partitions is assigned none: it would only cost.
        partitions = int(environment(deployment)["REGIA_KAFKA_PARTITIONS"])
        assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"] <= partitions, ref["name"]
        # A replica count in the Deployment would be reset at every apply, undoing the HPA.
        assert "replicas" not in deployment["spec"], ref["name"]
        resources = container(deployment)["resources"]["requests"]
        for metric in hpa["spec"]["metrics"]:
            if metric["type"] == "Resource":  # utilisation is a share of the request
                assert metric["resource"]["name"] in resources, ref["name"]
    assert targets == CONSUMERS
    assert len(targets) == len(of_kind("HorizontalPodAutoscaler")), "one per Deployment"


def test_every_deployment_survives_a_drain() -> None:
    pdbs = of_kind("PodDisruptionBudget")
    for deployment in of_kind("Deployment"):
        name = deployment["metadata"]["name"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        matching = [p for p in pdbs if p["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(matching) == 1, name
        budget, least = matching[0]["spec"], min_replicas(deployment)
        assert least >= 2, f"{name}: one replica and a PDB either blocks drains or allows an outage"
        if "maxUnavailable" in budget:
            assert 1 <= budget["maxUnavailable"] < least, name
        else:
            assert 1 <= budget["minAvailable"] < least, name


# --- configuration and secrets -----------------------------------------------------------


def test_every_config_map_and_secret_a_pod_reads_exists() -> None:
    config_maps = set(by_name("ConfigMap"))
    documented = set(by_name("Secret", load(SECRETS_EXAMPLE)))
    readme = README.read_text()
    used_config_maps, used_secrets = set(), set()
    for deployment in of_kind("Deployment"):
        name = deployment["metadata"]["name"]
        for source in container(deployment)["envFrom"]:
            ((kind, ref),) = source.items()
            # Never optional: a missing source must stop the pod, not start it on defaults.
            assert "optional" not in ref and "prefix" not in source, name
            if kind == "configMapRef":
                assert ref["name"] in config_maps, (name, ref["name"])
                used_config_maps.add(ref["name"])
            else:
                assert kind == "secretRef"
                assert ref["name"] in documented, (name, ref["name"])
                # Operator-created: the README says how.
                assert re.search(rf"create secret generic {re.escape(ref['name'])}\b", readme), ref["name"]
                used_secrets.add(ref["name"])
        for var in container(deployment).get("env", []):
            assert "valueFrom" not in var, "every variable comes through envFrom"
    assert used_config_maps == config_maps, "a ConfigMap no pod reads"
    assert used_secrets == documented, "an example Secret no pod reads"


def test_no_variable_comes_from_two_sources() -> None:
    # Kubernetes lets the later source win silently; two values for one setting is a trap.
    config_maps = by_name("ConfigMap")
    secrets = by_name("Secret", load(SECRETS_EXAMPLE))
    for deployment in of_kind("Deployment"):
        seen: dict[str, str] = {}
        for source in container(deployment)["envFrom"]:
            name = (source.get("configMapRef") or source["secretRef"])["name"]
            data = config_maps[name]["data"] if "configMapRef" in source else secrets[name]["stringData"]
            for key in data:
                assert key not in seen, f"{key} in both {seen.get(key)} and {name}"
                seen[key] = name


def test_secrets_stay_secret() -> None:
    # What the code holds as a secret must not sit in a ConfigMap, readable by anyone who
    # may read the namespace's configuration.
    secret_settings = {
        "REGIA_DATABASE_URL",
        "REGIA_ADMIN_TOKEN_SHA256",
        "REGIA_SMTP_PASSWORD",
        "REGIA_NOTIFIER_SECRETS_KEY",
        "REGIA_PREFERENCE_LINK_KEY",
        "REGIA_KAFKA_SASL_PASSWORD",
    }
    for config_map in of_kind("ConfigMap"):
        assert set(config_map["data"]) & secret_settings == set(), config_map["metadata"]["name"]
    # Each service connects as its own database role, so each has a DSN of its own.
    for deployment in of_kind("Deployment"):
        service = service_of(deployment)
        refs = [s["secretRef"]["name"] for s in container(deployment)["envFrom"] if "secretRef" in s]
        assert f"regia-{service}-db" in refs, service
        dsn = by_name("Secret", load(SECRETS_EXAMPLE))[f"regia-{service}-db"]["stringData"]["REGIA_DATABASE_URL"]
        assert dsn.startswith(f"postgresql://regia_{service}:"), dsn


# --- the network policy ------------------------------------------------------------------


def test_the_network_policy_admits_every_service_port() -> None:
    policies = of_kind("NetworkPolicy")
    for deployment in of_kind("Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        selecting = [p for p in policies if p["spec"]["podSelector"]["matchLabels"].items() <= labels.items()]
        assert selecting, deployment["metadata"]["name"]
        for policy in selecting:
            ports = {port["port"] for rule in policy["spec"]["ingress"] for port in rule["ports"]}
            # Named, so it follows each container's own number; probes and scrapes use it.
            assert ports == {"http"}, policy["metadata"]["name"]
