"""History money in the objectives service (issue 19), against a real PostgreSQL and
broker: a closed year's history line counts in its year's coverage, every read shows the
history part apart, and the objectives events it causes carry the history marker."""

import httpx
import pytest

from regia_objectives.app import create_app
from regia_shared.contracts import topics

from ..support import kafka
from ..support.funding import line_event
from ..support.services import ADMIN_HEADERS, in_process
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")
NEED = 1_000_000_00


async def define(admin: httpx.AsyncClient, objective_id: str, title: str, years: list[int]) -> None:
    """An objective at risk under 80 %, needing NEED in each of `years`."""
    r = await admin.post(
        "/v1/objectives",
        json={
            "objective_id": objective_id,
            "title": title,
            "at_risk_threshold_pct": 80,
            "needs": [{"fiscal_year": year, "need_cents": NEED} for year in years],
        },
    )
    assert r.status_code == 201, r.text


async def test_history_money_counts_for_its_year_is_shown_apart_and_marks_its_events(service_env, broker) -> None:  # type: ignore[no-untyped-def]
    async with in_process("objectives", create_app) as service, service.client(headers=ADMIN_HEADERS) as admin:
        await define(admin, "porto-2008", "Porto 2008", [2010, 2027])
        await kafka.publish(
            broker.bootstrap_servers,
            topics.FUNDING,
            [
                line_event("commit", "POR-2010", "porto-2008", 600_000_00, 1, year=2010, history=True),
                line_event("commit", "OPEN-2027", "porto-2008", 900_000_00, 1, year=2027),
            ],
        )

        async def years() -> dict | None:
            body = (await admin.get("/v1/objectives/porto-2008")).json()
            found = {y["fiscal_year"]: y for y in body["years"]}
            return found if found.get(2027, {}).get("committed_cents") == 900_000_00 else None

        found = await eventually(years, what="both lines projected")
    closed, open_ = found[2010], found[2027]
    assert (closed["committed_cents"], closed["history_cents"], closed["coverage_bp"]) == (600_000_00, 600_000_00, 6000)
    assert closed["status"] == "AT_RISK"
    assert (open_["committed_cents"], open_["history_cents"]) == (900_000_00, 0)
    events = await kafka.read_all(broker.bootstrap_servers, topics.OBJECTIVES_COVERAGE, expect=6)
    moved = [(e.type, e.payload["fiscal_year"], e.payload.get("history")) for e in events]
    # The definition's first statuses (no cause), then each line's coverage and status.
    assert ("ObjectiveCoverageChanged", 2010, True) in moved and ("ObjectiveStatusChanged", 2010, True) in moved
    assert ("ObjectiveCoverageChanged", 2027, False) in moved and ("ObjectiveStatusChanged", 2027, False) in moved


async def test_a_history_lines_revisions_move_its_history_part_by_what_changed(service_env, broker) -> None:  # type: ignore[no-untyped-def]
    # Coverage is computed from the totals the line upsert keeps (objectives migration
    # 0017): a revision must move the history part by its difference, not add to it, and a
    # line that stops being history must take its money out of the part.
    async with in_process("objectives", create_app) as service, service.client(headers=ADMIN_HEADERS) as admin:
        await define(admin, "darsena-2009", "Darsena 2009", [2010])

        async def after(*events) -> dict:  # type: ignore[no-untyped-def]
            await kafka.publish(broker.bootstrap_servers, topics.FUNDING, list(events))
            want = events[-1].payload

            async def year() -> dict | None:
                body = (await admin.get("/v1/objectives/darsena-2009")).json()
                found = {y["fiscal_year"]: y for y in body["years"]}.get(2010, {})
                return found if found.get("committed_cents") == want["committed_cents"] + 100_000_00 else None

            found: dict = await eventually(year, what=f"line version {want['line_version']} projected")
            return found

        other = line_event("commit", "OPEN-2010", "darsena-2009", 100_000_00, 1, year=2010, institution="comune-genova")
        y = await after(other, line_event("commit", "POR-2010", "darsena-2009", 600_000_00, 1, year=2010, history=True))
        assert (y["committed_cents"], y["history_cents"]) == (700_000_00, 600_000_00)
        y = await after(line_event("revise", "POR-2010", "darsena-2009", 450_000_00, 2, year=2010, history=True))
        assert (y["committed_cents"], y["history_cents"]) == (550_000_00, 450_000_00)
        y = await after(line_event("revise", "POR-2010", "darsena-2009", 500_000_00, 3, year=2010))
        assert (y["committed_cents"], y["history_cents"]) == (600_000_00, 0)
        y = await after(line_event("revise", "POR-2010", "darsena-2009", 300_000_00, 4, year=2010, history=True))
        assert (y["committed_cents"], y["history_cents"]) == (400_000_00, 300_000_00)
