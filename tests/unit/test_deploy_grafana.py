"""deploy/grafana: the provisioned datasource and dashboards, and how docker-compose.yml
mounts them. Grafana is not run here, so the dashboards are checked for what would make
them load broken or show nothing: duplicate panel ids, missing grid positions, a datasource
other than the provisioned one, queries that do not parse (promtool parses them, as
recording rules) or that name a metric no service exports.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

from .test_deploy_prometheus import (
    KNOWN_METRICS,
    ROOT,
    check,
    metric_names,
    promtool,  # noqa: F401 - the fixture
    run_promtool,
    unknown_metrics,
)

GRAFANA = ROOT / "deploy" / "grafana"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "regia.yml"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
COMPOSE = ROOT / "docker-compose.yml"

# What Grafana substitutes before a query reaches Prometheus, with values of the right kind.
_GRAFANA_DURATIONS = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}


def datasource() -> dict:
    (source,) = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    return source


def dashboards() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in DASHBOARDS}


def all_panels(dashboard: dict) -> list[dict]:
    panels = []
    for panel in dashboard["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # a collapsed row holds its panels
    return panels


def targets(dashboard: dict) -> list[tuple[dict, dict]]:
    return [(panel, target) for panel in all_panels(dashboard) for target in panel.get("targets", [])]


def variables(dashboard: dict) -> set[str]:
    return {variable["name"] for variable in dashboard["templating"]["list"]}


def as_promql(expr: str, names: set[str]) -> str:
    for variable, value in _GRAFANA_DURATIONS.items():
        expr = expr.replace(variable, value)
    # Dashboard variables are only used as regular expressions in label matchers.
    for name in names:
        expr = re.sub(r"\$\{?" + name + r"\}?(?![A-Za-z0-9_])", ".*", expr)
    assert "$" not in expr, f"an unknown variable in {expr!r}"
    return expr


def test_the_two_dashboards_exist() -> None:
    titles = {d["title"] for d in dashboards().values()}
    assert titles == {"Regia — plan", "Regia — system"}
    uids = [d["uid"] for d in dashboards().values()]
    assert len(set(uids)) == len(uids)


@pytest.mark.parametrize("name", [path.name for path in DASHBOARDS])
def test_dashboard_structure(name: str) -> None:
    dashboard = dashboards()[name]
    assert dashboard.get("id") is None, "provisioned dashboards get their id from Grafana"
    assert 36 <= dashboard["schemaVersion"] <= 41
    panels = all_panels(dashboard)
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    taken: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert all(isinstance(grid[key], int) for key in ("h", "w", "x", "y")), panel["title"]
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {
            (x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & taken, f"{panel['title']!r} overlaps another panel"
        taken |= cells
        assert panel.get("title"), panel["id"]
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]


@pytest.mark.parametrize("name", [path.name for path in DASHBOARDS])
def test_dashboard_uses_the_provisioned_datasource(name: str) -> None:
    dashboard = dashboards()[name]
    uid = datasource()["uid"]
    for panel in all_panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": uid}, panel["title"]
        for target in panel["targets"]:
            assert target.get("datasource", panel["datasource"])["uid"] == uid, panel["title"]
    for variable in dashboard["templating"]["list"]:
        assert variable["datasource"]["uid"] == uid, variable["name"]


@pytest.mark.parametrize("name", [path.name for path in DASHBOARDS])
def test_every_target_has_a_query_on_exported_metrics(name: str) -> None:
    dashboard = dashboards()[name]
    exprs = []
    for panel, target in targets(dashboard):
        assert target.get("expr", "").strip(), f"{panel['title']!r} {target.get('refId')}"
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        exprs.append(target["expr"])
    assert unknown_metrics(exprs) == {}
    for variable in dashboard["templating"]["list"]:
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        metric = re.fullmatch(r"label_values\((\w+), *\w+\)", query)
        assert metric and metric[1] in KNOWN_METRICS, query


def test_the_dashboards_show_what_the_issue_asks() -> None:
    used = {d["title"]: set().union(*(metric_names(t["expr"]) for _, t in targets(d))) for d in dashboards().values()}
    assert {
        "regia_plan_committed_euros",
        "regia_plan_need_euros",
        "regia_objectives",
        "regia_funding_committed_euros",
        "regia_funding_disbursed_euros",
        "regia_alerts_delivered_total",
        "regia_alerts_failed_total",
    } <= used["Regia — plan"]
    assert {
        "regia_events_consumed_total",
        "regia_events_published_total",
        "regia_http_requests_total",
        "regia_http_request_duration_seconds_bucket",
        "regia_consumer_lag_messages",
        "regia_consumer_batch_duration_seconds_bucket",
        "regia_outbox_backlog_events",
        "regia_outbox_oldest_age_seconds",
        "regia_consumer_failures_total",
        "regia_dead_letters",
        "regia_funding_to_alert_seconds_bucket",
    } <= used["Regia — system"]


def test_every_dashboard_query_parses(promtool: str, tmp_path: Path) -> None:  # noqa: F811
    # promtool has no "parse this expression" command, but `check rules` parses each rule's
    # expression: every query becomes a recording rule named after its panel.
    groups = []
    for dashboard in dashboards().values():
        names = variables(dashboard)
        uid = dashboard["uid"].replace("-", "_")  # unique names: promtool warns of duplicates
        groups.append(
            {
                "name": dashboard["uid"],
                "rules": [
                    {"record": f"{uid}:panel_{panel['id']}_{target['refId']}", "expr": as_promql(target["expr"], names)}
                    for panel, target in targets(dashboard)
                ],
            }
        )
    rules = tmp_path / "dashboard_queries.yml"
    rules.write_text(yaml.safe_dump({"groups": groups}, allow_unicode=True))
    result = run_promtool(promtool, "check", "rules", rules)
    check(result)
    assert f"SUCCESS: {sum(len(g['rules']) for g in groups)} rules found" in result.stdout
    assert not result.stderr, result.stderr


def test_a_broken_query_is_caught(promtool: str, tmp_path: Path) -> None:  # noqa: F811
    rules = tmp_path / "broken.yml"
    rules.write_text(
        yaml.safe_dump(
            {"groups": [{"name": "g", "rules": [{"record": "x:y", "expr": "sum by (service (rate(up[1m]))"}]}]}
        )
    )
    assert run_promtool(promtool, "check", "rules", rules).returncode != 0


def test_compose_provisions_grafana_from_these_files() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    grafana = services["grafana"]
    image, _, tag = grafana["image"].partition(":")
    assert image == "grafana/grafana-oss" and re.fullmatch(r"\d+\.\d+\.\d+", tag), "pinned"
    mounts = {}
    for volume in grafana["volumes"]:
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            assert (ROOT / source).exists(), source
            mounts[source] = target
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    (provider,) = yaml.safe_load(PROVIDERS.read_text())["providers"]
    assert provider["type"] == "file"
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(provider["options"]["path"] + "/")
    assert (GRAFANA / "dashboards" / Path(home).name).exists()
    # The datasource points at the compose file's Prometheus, on its port.
    source = datasource()
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    assert "9090:9090" in services["prometheus"]["ports"]
    assert "prometheus" in grafana["depends_on"]


def test_compose_named_volumes_are_declared() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    declared = set(compose["volumes"])
    for name in ("prometheus", "grafana"):
        for volume in compose["services"][name]["volumes"]:
            source = volume.split(":")[0]
            if not source.startswith(("./", "/")):
                assert source in declared, source
