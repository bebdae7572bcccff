"""`regia plan` and `regia demo load` without the real services: a file's problems are shown
with their paths before anything is sent; against stand-in services on real sockets, the
file goes as YAML in one request (the service applies its leads and roles with the plan),
and the service's refusal is shown in full."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from regia.cli import app
from regia.local.embedded.process import free_port
from regia_objectives.adapters.planfile import demo_plans, read_plan

runner = CliRunner()
TOKEN = "a-secret-admin-token"
VALID = (
    "id: p\ntitle: Piano\nterritory: Comune della Spezia\nfirst_year: 2020\nlast_year: 2021\n"
    "nodes:\n  - id: v\n    kind: VISION\n    title: Visione\n    lead: comune-spezia\n    children:\n"
    "      - id: o\n        kind: OBJECTIVE\n        title: Obiettivo\n        lead: regione-liguria\n"
)


class StandIn(BaseHTTPRequestHandler):
    """Answers as the objectives and partners services would, and records what it got."""

    received: ClassVar[list[tuple[str, str, str, str]]] = []
    refuse_import: ClassVar[bool] = False
    partners_unknown_for: ClassVar[int] = 0  # imports refused for partners not yet heard of

    def _answer(self, status: int, body: object, content_type: str = "application/json") -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self) -> str:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        self.received.append((self.command, self.path, self.headers.get("Content-Type", ""), body))
        assert self.headers["Authorization"] == f"Bearer {TOKEN}"
        return body

    def do_POST(self) -> None:  # the names are http.server's
        body = self._record()
        if self.path == "/v1/partners":
            return self._answer(201, json.loads(body))
        if self.path == "/v1/plans/import" and StandIn.partners_unknown_for > 0:
            StandIn.partners_unknown_for -= 1
            problem = {"field": "nodes[0].lead", "message": "no partner registered as 'comune-spezia': … (line 10)"}
            return self._answer(422, {"error": "plan_invalid", "message": "…", "details": [problem]})
        if self.refuse_import:
            return self._answer(
                422,
                {
                    "error": "plan_invalid",
                    "message": "…",
                    "field": "v",
                    "details": [
                        {"field": "v", "message": "this id is already used by plan 'other'"},
                        {"field": "o", "message": "cannot be removed: 1 funding line(s) point at it"},
                    ],
                },
            )
        plan_id = read_plan(body).plan.plan_id
        return self._answer(200, {"plan_id": plan_id, "created": 2, "updated": 0, "unchanged": 0, "removed": 0})

    def do_PUT(self) -> None:
        body = json.loads(self._record())
        if body["partner_id"] == "nobody":
            return self._answer(404, {"error": "partner_not_found", "message": "no partner 'nobody'"})
        return self._answer(200, {"objective_id": self.path.split("/")[3], **body})

    def do_GET(self) -> None:
        self._record()
        return self._answer(200, VALID, "application/yaml")

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[StandIn]]:
    StandIn.received, StandIn.refuse_import, StandIn.partners_unknown_for = [], False, 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("REGIA_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("REGIA_OBJECTIVES_URL", url)
    monkeypatch.setenv("REGIA_PARTNERS_URL", url)
    yield StandIn
    server.shutdown()
    server.server_close()


def test_an_invalid_file_is_refused_locally_with_every_problem_and_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REGIA_ADMIN_TOKEN", raising=False)  # nothing is sent, so no token is needed
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        VALID.replace("first_year: 2020", "first_year: 2020\nfoo: 1").replace(
            "        title: Obiettivo\n", "        title: Obiettivo\n        needs: {2020: 1.5, 2031: 5}\n"
        )
    )
    result = runner.invoke(app, ["plan", "import", str(plan)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"error: {plan} is not a valid plan file (3 problems):",
        "  foo: unknown field; the fields are id, title, territory, population, first_year, last_year, "
        "at_risk_threshold_pct, single_level_warning_pct, description, nodes (line 5)",
        "  nodes[0].children[0].needs.2020: should be a valid integer (line 16)",
        "  nodes[0].children[0]: need for 2031 is outside the plan's years 2020..2021 (line 13)",
    ]


@pytest.mark.parametrize("args", [["plan", "import", "FILE"], ["plan", "export", "p"], ["demo", "load"]])
def test_without_a_token_the_commands_say_which_variable_to_set(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REGIA_ADMIN_TOKEN", raising=False)
    (tmp_path / "plan.yaml").write_text(VALID)
    result = runner.invoke(app, [str(tmp_path / "plan.yaml") if a == "FILE" else a for a in args])
    assert result.exit_code == 1
    assert "REGIA_ADMIN_TOKEN is not set" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("args", [["plan", "import", "FILE"], ["plan", "export", "p"]])
def test_an_unreachable_service_is_named_and_the_token_never_shown(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGIA_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("REGIA_OBJECTIVES_URL", f"http://127.0.0.1:{free_port()}")
    (tmp_path / "plan.yaml").write_text(VALID)
    result = runner.invoke(app, [str(tmp_path / "plan.yaml") if a == "FILE" else a for a in args])
    assert result.exit_code == 1
    assert "cannot reach the objectives service" in result.output and "REGIA_OBJECTIVES_URL" in result.output
    assert TOKEN not in result.output


def test_a_missing_or_binary_file_is_a_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", "import", str(tmp_path / "nowhere.yaml")])
    assert result.exit_code == 1 and "cannot read" in result.output and "No such file" in result.output
    (tmp_path / "latin1.yaml").write_bytes("title: città".encode("latin-1"))
    result = runner.invoke(app, ["plan", "import", str(tmp_path / "latin1.yaml")])
    assert result.exit_code == 1 and "is not UTF-8 text" in result.output


def test_import_sends_the_file_as_yaml_once_and_nothing_to_partners(services: type[StandIn], tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(VALID)
    result = runner.invoke(app, ["plan", "import", str(tmp_path / "plan.yaml")])
    assert result.exit_code == 0, result.output
    assert "plan p imported (2 created, 0 updated, 0 unchanged, 0 removed) with 2 leads and 0 roles" in result.output
    assert services.received == [("POST", "/v1/plans/import", "application/yaml", VALID)]


def test_a_file_refused_only_for_partners_not_yet_heard_of_is_sent_again(
    services: type[StandIn], tmp_path: Path
) -> None:
    services.partners_unknown_for = 2  # a partner registered a moment ago, not yet projected
    (tmp_path / "plan.yaml").write_text(VALID)
    result = runner.invoke(app, ["plan", "import", str(tmp_path / "plan.yaml")])
    assert result.exit_code == 0, result.output
    assert [r[1] for r in services.received] == ["/v1/plans/import"] * 3


def test_a_partner_still_unknown_is_reported_with_its_line(
    services: type[StandIn], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("regia.operator.plans.PARTNERS_HEARD_WITHIN_S", 0.0)
    services.partners_unknown_for = 1
    (tmp_path / "plan.yaml").write_text(VALID)
    result = runner.invoke(app, ["plan", "import", str(tmp_path / "plan.yaml")])
    assert result.exit_code == 1
    assert "nodes[0].lead: no partner registered as 'comune-spezia': … (line 10)" in result.output


def test_the_services_refusal_is_shown_with_every_problem(services: type[StandIn], tmp_path: Path) -> None:
    services.refuse_import = True
    (tmp_path / "plan.yaml").write_text(VALID)
    result = runner.invoke(app, ["plan", "import", str(tmp_path / "plan.yaml")])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"error: the objectives service says {tmp_path / 'plan.yaml'} is not a valid plan file (2 problems):",
        "  v: this id is already used by plan 'other'",
        "  o: cannot be removed: 1 funding line(s) point at it",
    ]
    assert [r[0] for r in services.received] == ["POST"]


def test_export_writes_the_file_or_stdout(services: type[StandIn], tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", "export", "p/../x"])
    assert result.exit_code == 0 and result.stdout == VALID
    assert services.received[-1][:2] == ("GET", "/v1/plans/p%2F..%2Fx/export")
    result = runner.invoke(app, ["plan", "export", "p", "-o", str(tmp_path / "out.yaml")])
    assert result.exit_code == 0 and (tmp_path / "out.yaml").read_text() == VALID


def test_demo_load_registers_the_partners_then_imports_every_demo_plan(services: type[StandIn]) -> None:
    result = runner.invoke(app, ["demo", "load"])
    assert result.exit_code == 0, result.output
    partners = [json.loads(body) for _, path, _, body in services.received if path == "/v1/partners"]
    assert [body["partner_id"] for body in partners] == ["comune-spezia", "provincia-spezia", "regione-liguria"]
    imported = [body for method, path, _, body in services.received if path == "/v1/plans/import"]
    assert imported == list(demo_plans().values())
    assert not [r for r in services.received if r[0] == "PUT"], "the import applies the leads, not the CLI"
    for name in demo_plans():
        assert f"{name}: plan " in result.output
