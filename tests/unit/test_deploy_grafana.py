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


def query_variables(dashboard: dict) -> list[dict]:
    """The variables Grafana fills from Prometheus (the console's address is typed in)."""
    return [v for v in dashboard["templating"]["list"] if v["type"] == "query"]


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
    for variable in query_variables(dashboard):
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
    for variable in query_variables(dashboard):
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        metric = re.fullmatch(r"label_values\((\w+), *\w+\)", query)
        result = re.fullmatch(r"query_result\((.+)\)", query)
        assert metric or result, query
        if metric:
            assert metric[1] in KNOWN_METRICS, query
        else:
            assert unknown_metrics([result[1]]) == {}, query


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
        "regia_consumer_offset_commits_total",
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


# The console's pages a link may open (console/regia_console/*.py routes; /objectives with a
# query string is the filtered objectives index of issue 18).
CONSOLE_PAGES = ("/", "/events", "/dead-letters", "/poison-events", "/objectives", "/plans/")


def panel(dashboard: dict, panel_id: int) -> dict:
    return next(p for p in all_panels(dashboard) if p["id"] == panel_id)


def grafana_regex(pattern: str) -> re.Pattern[str]:
    """A Grafana variable's /regex/ (JavaScript named groups) as a Python pattern."""
    assert pattern.startswith("/") and pattern.endswith("/"), pattern
    return re.compile(pattern[1:-1].replace("(?<", "(?P<"))


def test_the_plan_variable_shows_titles_and_selects_ids() -> None:
    plan = dashboards()["regia-plan.json"]
    (variable,) = [v for v in plan["templating"]["list"] if v["name"] == "plan"]
    assert (
        variable["definition"]
        == variable["query"]["query"]
        == "query_result(max by (plan_id, plan_title) (regia_plan_info))"
    )
    regex = grafana_regex(variable["regex"])
    # Lines as Grafana renders a query_result (labels in Prometheus' order, values unescaped).
    for line, value, text in (
        (
            '{plan_id="pgs-2008", plan_title="Piano Generale di Sviluppo"} 1 1718000000000',
            "pgs-2008",
            "Piano Generale di Sviluppo",
        ),
        (
            '{plan_id="visione-2000",plan_title="Visione del futuro {2000}, "La Spezia""} 1 17',
            "visione-2000",
            'Visione del futuro {2000}, "La Spezia"',
        ),
    ):
        found = regex.search(line)
        assert found and (found["value"], found["text"]) == (value, text), line
    # Every query on plan figures filters on the id the variable's value carries.
    for _, target in targets(plan):
        if "regia_plan_" in target["expr"]:
            assert target["expr"].count('plan_id=~"$plan"') == target["expr"].count("regia_plan_") - target[
                "expr"
            ].count("regia_plan_info"), target["expr"]
            assert "{{plan_title}}" in target["legendFormat"], target["legendFormat"]


@pytest.mark.parametrize("name", [path.name for path in DASHBOARDS])
def test_data_links_open_the_console_page_concerned(name: str) -> None:
    dashboard = dashboards()[name]
    (console,) = [v for v in dashboard["templating"]["list"] if v["name"] == "console"]
    assert console["type"] == "textbox" and console["query"] == "http://localhost:8100"
    links = [
        (p["title"], link)
        for p in all_panels(dashboard)
        if p["type"] != "row"
        for link in p["fieldConfig"]["defaults"].get("links", [])
    ]
    assert len(links) >= 7, links
    for title, link in links:
        url = link["url"]
        assert url.startswith("${console}/"), (title, url)
        path = url.removeprefix("${console}")
        assert path.split("?")[0] in CONSOLE_PAGES or path.startswith("/plans/"), (title, url)
        assert link["title"] and link["targetBlank"] is True, title


def test_plan_panels_link_to_the_plan_page_with_its_year() -> None:
    plan = dashboards()["regia-plan.json"]
    expected = "${console}/plans/${__field.labels.plan_id:percentencode}?year=${__field.labels.fiscal_year}"
    for panel_id in (2, 3, 13):
        (link,) = panel(plan, panel_id)["fieldConfig"]["defaults"]["links"]
        assert link["url"] == expected, panel_id
    (status,) = panel(plan, 5)["fieldConfig"]["defaults"]["links"]
    assert status["url"] == "${console}/objectives?status=${__field.labels.status:percentencode}"


def plan_queries_test(
    series: list[tuple[str, float]], expectations: list[tuple[str, list[tuple[dict[str, str], float]]]]
) -> dict:
    """A promtool unit test evaluating queries on constant series: each expression must give
    exactly the samples expected (values as Prometheus computes them in float64)."""

    def selector(labels: dict[str, str]) -> str:
        return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"

    return {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": f"{v!r}x5"} for s, v in series],
                "promql_expr_test": [
                    {
                        "expr": expr,
                        "eval_time": "2m",
                        "exp_samples": [{"labels": selector(labels), "value": value} for labels, value in samples],
                    }
                    for expr, samples in expectations
                ],
            }
        ],
    }


def run_plan_queries_test(promtool: str, tmp_path: Path, test: dict) -> None:  # noqa: F811
    path = tmp_path / "plan_queries_test.yml"
    path.write_text(yaml.safe_dump(test, allow_unicode=True))
    result = run_promtool(promtool, "test", "rules", path)
    check(result)


def plan_expectations(plans: dict[str, tuple[str, dict[str, float], dict[str, dict[str, float]]]]) -> list:
    """What the plan dashboard's figures must show for {plan_id: (title, need by year,
    committed by year and level)}: need, committed, gap, and coverage by level, each titled."""
    plan = dashboards()["regia-plan.json"]
    names = variables(plan)
    need_q, committed_q, gap_q = (as_promql(t["expr"], names) for t in panel(plan, 13)["targets"])
    ratio_q = as_promql(panel(plan, 2)["targets"][0]["expr"], names)
    need, committed, gap, ratio = [], [], [], []
    for plan_id, (title, needs, by_level) in plans.items():
        for year, cents in needs.items():
            key = {"plan_id": plan_id, "fiscal_year": year, "plan_title": title}
            total = sum(by_level.get(year, {}).values())
            need.append((key, cents))
            if by_level.get(year):
                committed.append((key, total))
            gap.append((key, max(cents - total, 0.0)))
            ratio.extend(({**key, "level": level}, euros / cents) for level, euros in by_level.get(year, {}).items())
    return [(need_q, need), (committed_q, committed), (gap_q, gap), (ratio_q, ratio)]


def test_the_plan_figures_show_each_plan_summed_and_titled_once_across_replicas(
    promtool: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    # Series as two objectives replicas export them (each the sum over its plan's roots).
    exported = {
        ("regia_plan_need_euros", ("pgs-2008", "2008")): 71_800_000.0,
        ("regia_plan_need_euros", ("pgs-2008", "2009")): 1_000.0,
        ("regia_plan_need_euros", ("miglio-blu", "2027")): 5_000_000.0,
    }
    committed = {("pgs-2008", "2008", "REGIONE"): 12_000_000.0, ("pgs-2008", "2008", "STATO"): 3_000_000.0}
    committed |= {("miglio-blu", "2027", "REGIONE"): 3_000_000.0}
    titles = {"pgs-2008": "Piano Generale di Sviluppo 2008", "miglio-blu": "Il Miglio Blu – La Spezia per la Nautica"}
    series = []
    for instance in ("objectives:8102", "objectives-2:8102"):
        at = f'instance="{instance}", job="objectives"'
        for (_, (plan_id, year)), value in exported.items():
            series.append((f'regia_plan_need_euros{{plan_id="{plan_id}", fiscal_year="{year}", {at}}}', value))
        for (plan_id, year, level), value in committed.items():
            series.append(
                (
                    f'regia_plan_committed_euros{{plan_id="{plan_id}", fiscal_year="{year}", level="{level}", {at}}}',
                    value,
                )
            )
        for plan_id, title in titles.items():
            series.append((f'regia_plan_info{{plan_id="{plan_id}", plan_title="{title}", {at}}}', 1.0))
    expectations = plan_expectations(
        {
            "pgs-2008": (
                titles["pgs-2008"],
                {"2008": 71_800_000.0, "2009": 1_000.0},
                {"2008": {"REGIONE": 12_000_000.0, "STATO": 3_000_000.0}},
            ),
            "miglio-blu": (titles["miglio-blu"], {"2027": 5_000_000.0}, {"2027": {"REGIONE": 3_000_000.0}}),
        }
    )
    # The figures themselves, so that the expectations are not only derived from the same code.
    (need_q, need), (_, total), (_, gap), _ = expectations
    assert sorted(v for _, v in gap) == [1_000.0, 2_000_000.0, 56_800_000.0]
    assert sorted(v for _, v in total) == [3_000_000.0, 15_000_000.0]
    run_plan_queries_test(promtool, tmp_path, plan_queries_test(series, expectations))
    # And a wrong figure fails: the check is worth something.
    wrong = [(need_q, [(need[0][0], 15_310_000.0), *need[1:]])]
    path = tmp_path / "wrong.yml"
    path.write_text(yaml.safe_dump(plan_queries_test(series, wrong), allow_unicode=True))
    assert run_promtool(promtool, "test", "rules", path).returncode != 0
