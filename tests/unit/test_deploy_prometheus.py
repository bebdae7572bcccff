"""deploy/prometheus checked by Prometheus's own tool: the config and the alert rules load,
and the rules' unit tests (deploy/prometheus/tests/*.yml) pass and cover every rule.

promtool comes from Debian's `prometheus` package, which `./regia.sh test` installs when it
runs as root with apt-get. Without it these tests skip locally but fail under CI=true: a CI
that silently skipped them would validate nothing.
"""

import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest
import yaml

from regia_shared.contracts import catalogue

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
CONFIG = PROMETHEUS / "prometheus.yml"
ALERTS = PROMETHEUS / "alerts.yml"
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))
COMPOSE = ROOT / "docker-compose.yml"

# Every metric the deployment may query: what the services export (shared/regia_shared/http/ops.py
# and runtime.py, the consumers, services/*/regia_*/), histograms by their series names. A
# query on a misspelt metric is valid PromQL and silently empty, so names are checked here.
KNOWN_METRICS = frozenset(
    {
        "up",
        "regia_http_requests_total",
        "regia_http_request_duration_seconds_bucket",
        "regia_outbox_backlog_events",
        "regia_outbox_oldest_age_seconds",
        "regia_outbox_published_events_total",
        "regia_objectives_status_changes_total",
        "regia_alerts_delivered_total",
        "regia_alerts_failed_total",
        "regia_alert_attempts_total",
        "regia_alerts_planned_total",
        "regia_funding_events_accepted_total",
        "regia_funding_events_refused_total",
        "regia_events_consumed_total",
        "regia_consumer_batch_duration_seconds_bucket",
        "regia_consumer_failures_total",
        "regia_consumer_offset_commits_total",
        "regia_events_published_total",
        "regia_consumer_lag_messages",
        "regia_dead_letters",
        "regia_alerts_dead",
        "regia_notifier_briefing_owed_seconds",
        "regia_funding_committed_euros",
        "regia_funding_disbursed_euros",
        "regia_objectives",
        "regia_plan_need_euros",
        "regia_plan_committed_euros",
        "regia_plan_info",
        "regia_funding_to_alert_seconds_bucket",
    }
)

# Words of PromQL itself that look like metric names.
_PROMQL_WORDS = frozenset(
    {
        "sum",
        "min",
        "max",
        "avg",
        "count",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "group",
        "count_values",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "offset",
        "bool",
        "rate",
        "irate",
        "increase",
        "delta",
        "idelta",
        "deriv",
        "changes",
        "resets",
        "histogram_quantile",
        "abs",
        "clamp_min",
        "clamp_max",
        "label_replace",
        "vector",
        "scalar",
        "time",
        "absent",
        "absent_over_time",
        "avg_over_time",
        "max_over_time",
        "min_over_time",
        "sum_over_time",
        "last_over_time",
        "predict_linear",
        "round",
        "ceil",
        "floor",
        "sort",
        "sort_desc",
        "timestamp",
    }
)


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: what remains once strings, label matchers,
    grouping clauses, durations and PromQL's own words are taken out."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\boffset\s+\w+", " ", text)
    words = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", text))
    return {w for w in words if w not in _PROMQL_WORDS and not re.fullmatch(r"\d+\w*", w)}


def unknown_metrics(exprs: Iterable[str]) -> dict[str, set[str]]:
    found = {expr: metric_names(expr) - KNOWN_METRICS for expr in exprs}
    return {expr: names for expr, names in found.items() if names}


@pytest.fixture(scope="session")
def promtool() -> str:
    path = shutil.which("promtool")
    if path:
        return path
    message = "promtool is missing: apt-get install prometheus (./regia.sh test installs it when run as root)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def run_promtool(promtool: str, *args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=60)


def check(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"{' '.join(result.args)}\n{result.stdout}\n{result.stderr}"


def alert_rules() -> list[dict]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_config_is_valid_with_its_rule_files(promtool: str) -> None:
    # check config loads the rule files too: the relative path must resolve from the config.
    result = run_promtool(promtool, "check", "config", CONFIG)
    check(result)
    assert "1 rule files found" in result.stdout + result.stderr


def test_alert_rules_are_valid(promtool: str) -> None:
    check(run_promtool(promtool, "check", "rules", ALERTS))


def test_alert_rules_pass_their_unit_tests(promtool: str) -> None:
    assert RULE_TESTS, "deploy/prometheus/tests/*.yml holds the rules' unit tests"
    check(run_promtool(promtool, "test", "rules", *RULE_TESTS))


def test_a_wrong_expectation_fails(promtool: str, tmp_path: Path) -> None:
    # The unit tests are only worth something if promtool reports failures by its exit status.
    (tmp_path / "wrong_test.yml").write_text(
        yaml.safe_dump(
            {
                "rule_files": [str(ALERTS)],
                "tests": [
                    {
                        "interval": "1m",
                        "input_series": [{"series": 'up{job="funding", instance="funding:8101"}', "values": "1x10"}],
                        "alert_rule_test": [
                            {
                                "eval_time": "5m",
                                "alertname": "RegiaServiceDown",
                                "exp_alerts": [
                                    {"exp_labels": {"severity": "page", "job": "funding", "instance": "funding:8101"}}
                                ],
                            }
                        ],
                    }
                ],
            }
        )
    )
    result = run_promtool(promtool, "test", "rules", tmp_path / "wrong_test.yml")
    assert result.returncode != 0, result.stdout


def test_every_alert_rule_is_tested_firing_and_quiet() -> None:
    fires: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for expectation in case.get("alert_rule_test", []):
                (fires if expectation.get("exp_alerts") else quiet).add(expectation["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names - fires == set(), "rules with no test where they fire"
    # Rules with `for:` must also be shown pending, not firing, before it elapses.
    assert {r["alert"] for r in alert_rules() if "for" in r} - quiet == set()


def test_the_issue_s_alerts_exist() -> None:
    names = {rule["alert"] for rule in alert_rules()}
    assert {
        "RegiaServiceDown",
        "RegiaOutboxStuck",
        "RegiaHttpErrors",
        "RegiaConsumerLagGrowing",
        "RegiaDeadLetters",
        "RegiaObjectivesAtRisk",
        "RegiaAlertsFailing",
        "RegiaAlertsDead",
        "RegiaLeadBriefingOwed",
    } <= names


def test_alert_rules_query_only_exported_metrics() -> None:
    rules = alert_rules()
    assert all(rule["labels"]["severity"] in {"page", "ticket"} for rule in rules)
    assert all(rule["annotations"]["summary"] for rule in rules)
    assert unknown_metrics(rule["expr"] for rule in rules) == {}


def test_the_metric_name_check_sees_names() -> None:
    # The check above must not pass by finding nothing.
    assert metric_names('sum by (service) (rate(regia_http_requests_total{status=~"5.."}[5m])) > 0.1') == {
        "regia_http_requests_total"
    }
    assert metric_names("max(regia_dead_lettres) unless up offset 15m") == {"regia_dead_lettres", "up"}


SERVICE_MODULES = tuple(s.module for s in catalogue.SERVICES)


def compose_environment(service: dict) -> dict[str, str]:
    """A compose service's variables: its env files (settings live in deploy/compose/*.env),
    then its `environment`, which wins, as in compose."""
    merged: dict[str, str] = {}
    for env_file in service.get("env_file") or []:
        for line in (ROOT / env_file).read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                merged[key.strip()] = value.strip()
    merged.update({k: str(v) for k, v in (service.get("environment") or {}).items()})
    return merged


def test_every_service_and_replica_of_the_compose_file_is_scraped() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())["services"]
    expected = set()
    for name, service in compose.items():
        command = service.get("command") or []
        if len(command) == 3 and command[:2] == ["python", "-m"] and command[2] in SERVICE_MODULES:
            job = command[2].removeprefix("regia_")
            port = compose_environment(service)[f"REGIA_{job.upper()}_PORT"]
            expected.add((job, f"{name}:{port}"))
    assert len(expected) == 6, expected  # four services, two of them with a second replica
    config = yaml.safe_load(CONFIG.read_text())
    scraped = {
        (job["job_name"], target)
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    }
    assert expected <= scraped


def test_compose_runs_each_service_on_its_catalogue_port() -> None:
    """The ports compose sets, and so scrapes, are those `regia up` uses
    (regia_shared.contracts.catalogue), as the k8s manifests' are: a service has one port wherever it runs."""
    compose = yaml.safe_load(COMPOSE.read_text())["services"]
    checked = 0
    for name, service in compose.items():
        command = service.get("command") or []
        if len(command) == 3 and command[:2] == ["python", "-m"] and command[2] in SERVICE_MODULES:
            app = catalogue.service(command[2].removeprefix("regia_"))
            assert int(compose_environment(service)[app.port_var]) == app.default_port, name
            checked += 1
    assert checked == 6  # four services, two of them with a second replica


def test_compose_mounts_the_rules_beside_the_config() -> None:
    prometheus = yaml.safe_load(COMPOSE.read_text())["services"]["prometheus"]
    mounts = dict(volume.rsplit(":", 2)[:2] for volume in prometheus["volumes"] if volume.startswith("./"))
    assert mounts["./deploy/prometheus/prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    config = yaml.safe_load(CONFIG.read_text())
    for rule_file in config["rule_files"]:
        assert not rule_file.startswith("/"), "relative, so that promtool resolves it here too"
        assert mounts[f"./deploy/prometheus/{rule_file}"] == f"/etc/prometheus/{rule_file}"
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]


def test_every_alert_opens_the_console_page_concerned() -> None:
    """runbook_url is the console's address (prometheus.yml's external label, one place to
    set it) and the page where the alert is looked into; the rule tests check the rendering."""
    config = yaml.safe_load(CONFIG.read_text())
    assert config["global"]["external_labels"]["console_url"] == "http://localhost:8100"
    pages = {}
    for rule in alert_rules():
        url = rule["annotations"]["runbook_url"]
        assert url.startswith("{{ $externalLabels.console_url }}/"), rule["alert"]
        pages[rule["alert"]] = url.removeprefix("{{ $externalLabels.console_url }}")
    assert pages["RegiaObjectivesAtRisk"] == "/objectives?status=AT_RISK&sort=gap"
    assert pages["RegiaDeadLetters"] == "/poison-events"
    assert pages["RegiaAlertsDead"] == pages["RegiaAlertsFailing"] == "/dead-letters"
    assert pages["RegiaConsumerLagGrowing"] == "/events"
    # Every test group renders the links with an address of its own, so a rule whose
    # template lost the label would be caught by promtool.
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            assert case["external_labels"]["console_url"].startswith("https://"), path
            for expectation in case.get("alert_rule_test", []):
                for alert in expectation.get("exp_alerts", []):
                    assert alert["exp_annotations"]["runbook_url"].startswith(case["external_labels"]["console_url"])
