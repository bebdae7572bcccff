"""`regia import opencoesione` as an operator runs it: a real process sending over HTTP to
a real local receiver that answers like the funding service's admin import endpoint
(202 with results, 422 batch_refused, a replay for a known Idempotency-Key, 401)."""

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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
    """Answers as the funding service's bulk import would, for what a real service cannot be
    made to do on demand (fail with a 503 from a given request on, lack the endpoint)."""

    fail_from: int | None = None  # from this bulk request on, answer 503 as a service in trouble would
    earlier: dict | None = None  # an earlier attempt's run record, answered for any run id not yet seen
    requests: list[dict] = field(default_factory=list)
    runs: dict[str, dict] = field(default_factory=dict)

    def app(self, *, with_endpoint: bool = True) -> FastAPI:
        app = FastAPI()
        if not with_endpoint:
            return app

        def authorised(request: Request) -> bool:
            return request.headers.get("authorization") == f"Bearer {TOKEN}"

        @app.get("/v1/imports/runs/{run_id}")
        async def run(request: Request, run_id: str) -> JSONResponse:
            if not authorised(request):
                return JSONResponse({"error": "unauthorized", "message": "invalid admin credentials"}, 401)
            if run_id not in self.runs and self.earlier is not None:
                self.runs[run_id] = {"id": run_id, **self.earlier}
            if run_id not in self.runs:
                return JSONResponse({"detail": f"no import run {run_id!r} has recorded anything"}, 404)
            return JSONResponse(self.runs[run_id])

        @app.post("/v1/imports/funding-events/bulk")
        async def bulk(request: Request) -> JSONResponse:
            body = await request.json()
            self.requests.append(body)
            if self.fail_from is not None and len(self.requests) >= self.fail_from:
                return JSONResponse({"error": "error", "message": "database unavailable"}, 503)
            if not authorised(request):
                return JSONResponse({"error": "unauthorized", "message": "invalid admin credentials"}, 401)
            given = body["run"]
            run = self.runs.setdefault(given["id"], {"id": given["id"], "through": 0, "tally": {}, "refused": 0})
            run["through"] = max(run["through"], given["through"])
            for submission in body["submissions"]:
                for label, cents in (submission["tally"] or {}).items():
                    run["tally"][label] = run["tally"].get(label, 0) + cents
            return JSONResponse({"results": [{"status": "accepted"} for _ in body["submissions"]], "run": run})

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


async def test_a_dry_run_sends_nothing() -> None:
    receiver = Receiver()
    async with in_process("receiver", receiver.app) as service:
        status, out, _ = await regia_import(service.url, *good_file("--dry-run"))
    assert status == 0 and "dry run" in out and receiver.requests == []
    assert "every column reconciles to the cent" in out


async def test_a_wrong_token_stops_before_anything_is_sent() -> None:
    receiver = Receiver()
    async with in_process("receiver", receiver.app) as service:
        status, _, err = await regia_import(service.url, *good_file(), token="not-the-token")
    assert status == 1 and "refused the admin token" in err
    assert receiver.requests == [] and "not-the-token" not in err


async def test_a_service_without_the_import_endpoint_stops_the_import() -> None:
    receiver = Receiver()
    async with in_process("receiver", lambda: receiver.app(with_endpoint=False)) as service:
        status, _, err = await regia_import(service.url, *good_file())
    assert status == 1 and "/v1/imports/runs/{id}" in err and "answered 404" in err


async def test_a_server_error_stops_the_import_and_a_new_start_resumes_after_the_last_row_recorded(
    tmp_path: Path,
) -> None:
    receiver = Receiver(fail_from=2)  # rows 1 and 2 go in the first request; rows 3 and 4 meet the failure
    async with in_process("receiver", receiver.app) as service:
        status, out, err = await regia_import(
            service.url, *good_file("--rows-per-request", "2", "--report", str(tmp_path / "r.csv"))
        )
        assert status == 1 and "answered 503: database unavailable" in err
        assert "stopped at row 4; before it 2 accepted, 0 rejected" in err
        receiver.fail_from = None
        status, out, err = await regia_import(service.url, *good_file("--rows-per-request", "2"))
    assert status == 0, out + err
    assert "resuming at row 3 (2 rows already recorded)" in err
    assert [r["run"]["through"] for r in receiver.requests] == [2, 4, 4, 5]  # the failed one, then on
    assert "accepted:      5 (2 sent by an earlier attempt)" in out
    assert "every column reconciles to the cent" in out


async def test_a_resumed_run_reconciles_refusals_from_the_run_record_and_exits_4_when_money_is_unaccounted() -> None:
    # An earlier attempt sent the whole file: rows 1-4 recorded, the MA.R.E. row (5) refused.
    mare = {
        "FINANZ_UE": 850_000_00,
        "FINANZ_STATO_FONDO_DI_ROTAZIONE": 150_000_00,
        "FINANZ_PROVINCIA": 25_000_00,
        "FINANZ_STATO_ESTERO": 75_000_00,
        "FINANZ_PRIVATO": 100_000_00,
        "TOT_PAGAMENTI": 1_100_000_00,
    }
    totals = {
        "FINANZ_UE": 2_500_000_00,
        "FINANZ_STATO_FONDO_DI_ROTAZIONE": 1_305_000_00,
        "FINANZ_STATO_FSC": 800_000_00,
        "FINANZ_STATO_ALTRI_PROVVEDIMENTI": 150_000_50,
        "FINANZ_REGIONE": 495_000_00,
        "FINANZ_PROVINCIA": 25_000_00,
        "FINANZ_COMUNE": 349_999_50,
        "FINANZ_STATO_ESTERO": 75_000_00,
        "FINANZ_PRIVATO": 100_000_00,
        "TOT_PAGAMENTI": 2_847_901_22,
    }
    recorded = {c: v - mare.get(c, 0) for c, v in totals.items()}
    earlier = {"through": 5, "tally": recorded, "refused": 3, "refused_tally": mare}
    receiver = Receiver(earlier=earlier)
    async with in_process("receiver", receiver.app) as service:
        status, out, err = await regia_import(service.url, *good_file())
    assert status == 3, out + err
    assert receiver.requests == [] and "resuming at row 6" in err
    ue = next(line for line in out.splitlines() if line.startswith("FINANZ_UE "))
    assert "refused by the funding service in an earlier attempt of this run: € 850.000,00" in ue
    assert "every column reconciles to the cent" in out
    assert "sent by an earlier attempt; the service refused 3 of its submissions, in the table below" in out

    # The same record without the refused cents (a service before refused_tally, or money
    # lost): counting refusals is not proving them, so the run does not reconcile.
    receiver = Receiver(earlier={**earlier, "refused_tally": {}})
    async with in_process("receiver", receiver.app) as service:
        status, out, err = await regia_import(service.url, *good_file())
    assert status == 4, out + err
    ue = next(line for line in out.splitlines() if line.startswith("FINANZ_UE "))
    assert "UNEXPLAINED: € 850.000,00" in ue and "THE FILE DOES NOT RECONCILE" in out
