"""A funding service ready for tests: institutions and objectives projected from their
events, instruments declared, and helpers to talk to it."""

from collections.abc import AsyncIterator

from regia_funding.app import create_app
from regia_shared.contracts import topics
from regia_shared.contracts.levels import GovernmentLevel

from . import kafka
from .infra import Database
from .partners import institution_registered, objective_defined
from .services import ADMIN_HEADERS, REASON_HEADERS, RunningService, in_process
from .wait import eventually

INSTRUMENTS = (
    {
        "instrument_id": "por-fesr-liguria",
        "institution_id": "regione-liguria",
        "name": "POR FESR Liguria",
        "kind": "programme",
    },
    {
        "instrument_id": "bilancio-regionale",
        "institution_id": "regione-liguria",
        "name": "Bilancio regionale",
        "kind": "budget",
    },
    {
        "instrument_id": "bilancio-comunale",
        "institution_id": "comune-spezia",
        "name": "Bilancio comunale",
        "kind": "budget",
    },
)


async def running_funding(bootstrap: str) -> AsyncIterator[RunningService]:
    await kafka.publish(
        bootstrap,
        topics.PARTNERS,
        [
            institution_registered("regione-liguria", "Regione Liguria", GovernmentLevel.REGIONE),
            institution_registered("comune-spezia", "Comune della Spezia", GovernmentLevel.COMUNE),
        ],
    )
    await kafka.publish(
        bootstrap, topics.OBJECTIVES, [objective_defined("miglio-blu"), objective_defined("rete-lavoro")]
    )
    async with in_process("funding", create_app) as service:
        async with service.client(headers=ADMIN_HEADERS) as admin:

            async def known() -> bool:
                r = await admin.get("/v1/institutions")
                o = await admin.get("/v1/objectives/rete-lavoro")
                return len(r.json()) == 2 and o.status_code == 200

            await eventually(known, what="institutions and objectives projected from their events")
            for instrument in INSTRUMENTS:
                assert (await admin.post("/v1/instruments", json=instrument)).status_code == 201
        yield service


async def issue_key(service: RunningService, institution: str, **body: object) -> dict[str, str]:
    async with service.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post(f"/v1/institutions/{institution}/keys", json={"label": "test", **body})
        assert r.status_code == 201, r.text
        return {"Authorization": f"Bearer {r.json()['key']}", **REASON_HEADERS}


def commitment(line_id: str = "LIG-2027-1", amount: int = 100_000_00, **changes: object) -> dict:
    return {
        "type": "commitment",
        "line_id": line_id,
        "instrument_id": "por-fesr-liguria",
        "objective_id": "miglio-blu",
        "fiscal_year": 2027,
        "committed_cents": amount,
        "reason": "DGR 1/2026",
        **changes,
    }


async def counts(database: Database) -> tuple[int, int, int]:
    """Lines, ledger entries and outbox events held by funding."""
    lines = await database.fetchval("funding", "SELECT count(*) FROM funding_lines")
    entries = await database.fetchval("funding", "SELECT count(*) FROM ledger_entries")
    events = await database.fetchval("funding", "SELECT count(*) FROM outbox")
    return lines, entries, events  # type: ignore[return-value]
