"""`regia import opencoesione` as an operator runs it: a real process sending over HTTP to
a real local receiver that answers like the funding service's admin import endpoint
(202 with results, 422 batch_refused, a replay for a known Idempotency-Key, 401)."""

import asyncio
import csv
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

from regia_funding.domain.commands import FundingCommand

from ..support.services import in_process

FIXTURES = Path(__file__).parent.parent / "fixtures" / "opencoesione"
REPO = Path(__file__).resolve().parent.parent.parent
TOKEN = "import-test-admin-token"
LEVELS = [
    "--level",
    "EU=regione-liguria:por-fesr-liguria",
    "--level",
    "STATO=stato-mef:fondo-rotazione",
    "--level",
    "REGIONE=regione-liguria:bilancio-regionale",
    "--level",
    "COMUNE=comune-spezia:bilancio",
    "--level",
    "PROVINCIA=provincia-spezia:bilancio",
    "--level",
    "PRIVATE=cantieri-spezia:cofinanziamento",
    "--level",
    "FOREIGN_STATE=stato-francese:contributo-interreg",
]


@dataclass
class Receiver:
    """Records every request; answers as the import endpoint would."""

    refuse: set[str] = field(default_factory=set)  # institutions whose events are refused
    fail_from: int | None = None  # from this request on, answer 503 as a service in trouble would
    requests: list[dict] = field(default_factory=list)
    recorded: dict[str, dict] = field(default_factory=dict)  # Idempotency-Key -> answer

    def app(self, *, with_endpoint: bool = True) -> FastAPI:
        app = FastAPI()
        if not with_endpoint:
            return app

        @app.post("/v1/imports/funding-events")
        async def post(request: Request) -> JSONResponse:
            key, body = request.headers.get("idempotency-key", ""), await request.json()
            self.requests.append({"key": key, "body": body})
            if self.fail_from is not None and len(self.requests) >= self.fail_from:
                return JSONResponse({"error": "error", "message": "database unavailable"}, 503)
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return JSONResponse({"error": "unauthorized", "message": "invalid admin credentials"}, 401)
            if key in self.recorded:
                return JSONResponse(self.recorded[key], 202, headers={"Idempotent-Replayed": "true"})
            if body["institution_id"] in self.refuse:
                return JSONResponse(
                    {
                        "error": "batch_refused",
                        "message": "1 of the batch's events were refused",
                        "field": None,
                        "details": [
                            {
                                "index": 0,
                                "error": "unknown_objective",
                                "field": "objective_id",
                                "message": "no objective 'miglio-blu' is known",
                            }
                        ],
                    },
                    422,
                )
            self.recorded[key] = {"results": [{"line_id": e["line_id"], "type": e["type"]} for e in body["events"]]}
            return JSONResponse(self.recorded[key], 202)

        return app


async def regia_import(url: str, *args: str, token: str = TOKEN) -> tuple[int, str, str]:
    env = {"REGIA_FUNDING_URL": url, "REGIA_ADMIN_TOKEN": token, "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "regia",
        "import",
        "opencoesione",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def good_file(*extra: str) -> list[str]:
    return [
        str(FIXTURES / "progetti_good.csv"),
        "--fiscal-year",
        "2027",
        "--objective-map",
        str(FIXTURES / "objective_map.csv"),
        *LEVELS,
        *extra,
    ]


async def test_one_request_per_row_and_institution_and_a_rerun_only_replays(tmp_path: Path) -> None:
    receiver = Receiver()
    async with in_process("receiver", receiver.app) as service:
        status, out, err = await regia_import(service.url, *good_file("--report", str(tmp_path / "r.csv")))
        assert status == 0, err
        assert "accepted:      5" in out and "requests sent: 13 (0 replayed" in out
        first = list(receiver.requests)

        status, out, err = await regia_import(service.url, *good_file())
        assert status == 0, err
        assert "requests sent: 13 (13 replayed: already recorded)" in out
    assert len(receiver.recorded) == 13  # the second run recorded nothing new
    assert [r["key"] for r in receiver.requests[13:]] == [r["key"] for r in first]

    commands = TypeAdapter(FundingCommand)
    paid: dict[str, int] = defaultdict(int)
    institutions: dict[str, list[str]] = defaultdict(list)
    for request in first:
        body = request["body"]
        assert body["channel"] == "import:opencoesione"
        assert re.fullmatch(r"oc-[A-Za-z0-9._:-]+-[A-Z+]+-[0-9a-f]{32}", request["key"]), request["key"]
        project = body["events"][0]["line_id"].rsplit("-", 2)[0]  # OC-<project>-<LEVEL>-<year>
        institutions[project].append(body["institution_id"])
        for event in body["events"]:
            commands.validate_python(event)
            if event["type"] == "disbursement":
                paid[event["line_id"].rsplit("-", 2)[0]] += event["amount_cents"]
    assert institutions["OC-1LIFESR-4.1.1-0007"] == ["regione-liguria", "stato-mef", "comune-spezia"]
    assert institutions["OC-1LIINTERREG-MARE-0001"] == [
        "regione-liguria",
        "stato-mef",
        "provincia-spezia",
        "cantieri-spezia",
    ]
    assert paid["OC-1LIFESR-4.1.1-0007"] == 123_456_789  # TOT_PAGAMENTI 1.234.567,89, to the cent
    assert paid["OC-1LIINTERREG-MARE-0001"] == 110_000_000


async def test_a_refusal_by_the_service_becomes_the_rows_rejection(tmp_path: Path) -> None:
    receiver, report = Receiver(refuse={"comune-spezia"}), tmp_path / "rejected.csv"
    async with in_process("receiver", receiver.app) as service:
        status, out, err = await regia_import(service.url, *good_file("--report", str(report)))
    assert status == 3, err
    assert "accepted:      3" in out and "rejected:      2" in out
    rows = list(csv.DictReader(report.open()))
    assert [(r["line"], r["project"]) for r in rows] == [("2", "1LIFESR-4.1.1-0007"), ("3", "2LIFSC-PSC-0113")]
    assert (
        "the funding service refused the events for comune-spezia: commitment of "
        "OC-1LIFESR-4.1.1-0007-COMUNE-2027: objective_id: no objective 'miglio-blu' is known"
    ) in rows[0]["reasons"]
    assert "the events for regione-liguria, stato-mef were recorded" in rows[0]["reasons"]


async def test_a_dry_run_sends_nothing() -> None:
    receiver = Receiver()
    async with in_process("receiver", receiver.app) as service:
        status, out, _ = await regia_import(service.url, *good_file("--dry-run"))
    assert status == 0 and "dry run" in out and receiver.requests == []


async def test_a_wrong_token_stops_at_the_first_request() -> None:
    receiver = Receiver()
    async with in_process("receiver", receiver.app) as service:
        status, _, err = await regia_import(service.url, *good_file(), token="not-the-token")
    assert status == 1 and "refused the admin token" in err
    assert len(receiver.requests) == 1 and "not-the-token" not in err


async def test_a_service_without_the_import_endpoint_stops_the_import() -> None:
    receiver = Receiver()
    async with in_process("receiver", lambda: receiver.app(with_endpoint=False)) as service:
        status, _, err = await regia_import(service.url, *good_file())
    assert status == 1 and "POST /v1/imports/funding-events" in err and "answered 404" in err


async def test_a_server_error_stops_the_import_and_says_where(tmp_path: Path) -> None:
    receiver = Receiver(fail_from=6)  # rows 1 and 2 take five requests; row 3 meets the failure
    async with in_process("receiver", receiver.app) as service:
        status, out, err = await regia_import(service.url, *good_file("--report", str(tmp_path / "r.csv")))
        assert status == 1 and "answered 503: database unavailable" in err
        assert "stopped at row 3; before it 2 accepted, 0 rejected" in err
        receiver.fail_from = None
        status, out, _ = await regia_import(service.url, *good_file())  # run again: it goes on
    assert status == 0 and "requests sent: 13 (5 replayed" in out
