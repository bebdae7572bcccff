"""`POST /v1/imports/funding-events/bulk` on the real funding service (PostgreSQL, broker):
each submission decided as the single import decides it, the whole request one
transaction, and the run's record moved in it."""

import json

import pytest

from ..support.funding_api import commitment
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS

pytestmark = pytest.mark.usefixtures("service_env")
BULK = "/v1/imports/funding-events/bulk"


def submission(key: str, *events: dict, institution: str = "regione-liguria", **tally: int) -> dict:
    return {"institution_id": institution, "idempotency_key": key, "events": list(events), "tally": tally or None}


async def test_submissions_stand_alone_in_one_request_and_the_run_adds_up(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        # Sent once singly: the same submission in bulk is the same request, and replays.
        single = await admin.post(
            "/v1/imports/funding-events",
            json={"institution_id": "regione-liguria", "channel": "import:opencoesione", "events": [commitment("B-1")]},
            headers={"Idempotency-Key": "row-1"},
        )
        assert single.status_code == 202, single.text
        body = {
            "channel": "import:opencoesione",
            "run": {"id": "run-a", "source": "progetti.csv", "through": 3},
            "submissions": [
                submission("row-1", commitment("B-1"), FINANZ_UE=100_000_00),
                submission("row-2", commitment("B-2", 250_00), FINANZ_UE=250_00, TOT_PAGAMENTI=0),
                # An unknown objective: refused alone, its tally counted as refused.
                submission("row-3", commitment("B-3", objective_id="sconosciuto"), FINANZ_UE=999),
            ],
        }
        r = await admin.post(BULK, json=body)
        assert r.status_code == 200, r.text
        answer = r.json()
        assert [x["status"] for x in answer["results"]] == ["replayed", "accepted", "refused"]
        refused = answer["results"][2]
        assert refused["code"] == "batch_refused" and refused["details"][0]["field"] == "objective_id"
        run = answer["run"]
        assert (run["id"], run["through"], run["accepted"], run["replayed"], run["refused"]) == ("run-a", 3, 1, 1, 1)
        assert run["tally"] == {"FINANZ_UE": 100_250_00, "TOT_PAGAMENTI": 0}
        # The refused submission's cents, apart: what a resumed run reconciles its refusals from.
        assert run["refused_tally"] == {"FINANZ_UE": 999}
        assert run["started_by"] == "admin" and run["channel"] == "import:opencoesione"
        assert (await admin.get("/v1/funding-lines/B-3")).status_code == 404
        line = (await admin.get("/v1/funding-lines/B-2")).json()
        assert line["committed_cents"] == 250_00 and line["history"][0]["channel"] == "import:opencoesione"

        # The same request again (a client killed before it read the answer): everything
        # replays, the tally counts the replays again, and `through` stays where it was.
        again = await admin.post(BULK, json={**body, "run": {**body["run"], "through": 2}})
        assert [x["status"] for x in again.json()["results"]] == ["replayed", "replayed", "refused"]
        assert again.json()["run"]["through"] == 3

        stored = (await admin.get("/v1/imports/runs/run-a")).json()
        assert stored == again.json()["run"]
        assert (await admin.get("/v1/imports/runs/no-such-run")).status_code == 404
        listed = (await admin.get("/v1/imports/runs", params={"limit": 1})).json()
        assert [x["id"] for x in listed["items"]] == ["run-a"] and listed["next_cursor"] is None
        # Who did it is in the audit trail as for any admin write.
        audited = await database.fetchval(
            "funding", "SELECT count(*) FROM audit_log WHERE path = $1 AND actor = 'admin'", BULK
        )
        assert audited >= 1


async def test_a_history_channel_is_passed_on_and_bad_bodies_change_nothing(funding, database: Database) -> None:  # type: ignore[no-untyped-def]
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        entries = await database.fetchval("funding", "SELECT count(*) FROM ledger_entries")
        for bad, field in (
            ({"channel": "http", "submissions": [submission("k", commitment("C-1"))]}, "channel"),
            ({"channel": "import", "submissions": []}, "submissions"),
            ({"channel": "import", "submissions": [submission("k", commitment("C-1"), FINANZ_UE=-1)]}, "tally"),
            (
                {
                    "channel": "import",
                    "run": {"id": "x", "source": "f.csv", "through": -1},
                    "submissions": [submission("k", commitment("C-1"))],
                },
                "through",
            ),
        ):
            r = await admin.post(BULK, json=bad)
            assert r.status_code == 422, r.text
            assert field in r.text
        assert await database.fetchval("funding", "SELECT count(*) FROM ledger_entries") == entries
        assert await database.fetchval("funding", "SELECT count(*) FROM import_runs") == 0
        unauthenticated = await admin.post(
            BULK,
            json={"channel": "import", "submissions": [submission("k", commitment("C-1"))]},
            headers={"Authorization": "Bearer nope"},
        )
        assert unauthenticated.status_code == 401

        # The bulk route holds the history rules as the single import does: an open year is
        # refused, in its own submission, and a closed year's money is recorded as history.
        open_year, closed_year = commitment("H-1"), commitment("H-2012", fiscal_year=2012)
        r = await admin.post(
            BULK,
            json={
                "channel": "history:opencoesione",
                "submissions": [submission("h-open", open_year), submission("h-closed", closed_year)],
            },
        )
        assert r.status_code == 200, r.text
        assert r.json()["run"] is None
        refused, accepted = r.json()["results"]
        assert (refused["status"], accepted["status"]) == ("refused", "accepted"), r.text
        assert "fiscal_year" in json.dumps(refused) and "use an import channel" in json.dumps(refused)
        assert (await admin.get("/v1/funding-lines/H-1")).status_code == 404
        line = (await admin.get("/v1/funding-lines/H-2012")).json()
        assert line["is_history"] is True
        assert line["history"][0]["channel"] == "history:opencoesione"
