"""The overview's summary (GET /v1/summary) and the list's word search (`q=`), against a
real PostgreSQL and broker: the summary's figures are kept by triggers in the projection's
transaction, so they are checked by hand, against the list and against coverage itself,
after money arrives, after a rebuild and after a node moves."""

import asyncio

import pytest

from regia_objectives.adapters import reads as read_adapter
from regia_objectives.adapters import summary_slots
from regia_objectives.adapters.planfile import write_plan
from regia_objectives.domain.plan_file import PlanFile
from regia_objectives.domain.tree import Plan
from regia_shared.contracts import topics
from regia_shared.contracts.levels import GovernmentLevel

from ..support import kafka
from ..support.funding import line_event
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, RunningService
from .test_objectives_reads import MILLION, YAML, committed_becomes, define, plan_nodes

pytestmark = pytest.mark.usefixtures("service_env")
LEVELS = tuple(level.value for level in GovernmentLevel)  # every level, 0 where none
STATUSES = ("FUNDED", "PARTIALLY_FUNDED", "AT_RISK", "UNFUNDED", "NO_NEED")


@pytest.fixture
async def objectives(service_env):  # type: ignore[no-untyped-def]
    from regia_objectives.app import create_app

    from ..support.services import in_process

    async with in_process("objectives", create_app) as service:
        yield service


async def summary(service: RunningService, **params: object) -> dict:
    async with service.client() as client:
        r = await client.get("/v1/summary", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def counts(**given: int) -> dict[str, int]:
    return {s: given.get(s, 0) for s in STATUSES}


def levels(**given: int) -> dict[str, int]:
    return {level: given.get(level, 0) for level in LEVELS}


async def every_objective(service: RunningService, **params: object) -> list[dict]:
    found: list[dict] = []
    cursor = None
    async with service.client() as client:
        while True:
            r = await client.get(
                "/v1/objectives", params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
            )
            assert r.status_code == 200, r.text
            found += r.json()["items"]
            cursor = r.json()["next_cursor"]
            if cursor is None:
                return found


async def agrees_with_coverage(database: Database) -> None:
    """The kept tables equal what counting coverage (and objectives) gives."""
    conn = await database.connect("objectives")
    try:
        kept = await conn.fetch(
            "SELECT scope, fiscal_year, status, sum(objective_years), sum(need_cents), sum(committed_cents),"
            " sum(counted_cents), sum(disbursed_cents) FROM coverage_summary GROUP BY 1, 2, 3"
            " HAVING sum(objective_years) <> 0 ORDER BY 1, 2, 3"
        )
        counted = await conn.fetch(
            "SELECT coalesce(o.plan_id, '') AS scope, c.fiscal_year, c.status, count(*) AS objective_years,"
            " coalesce(sum(c.need_cents) FILTER (WHERE o.parent_id IS NULL), 0) AS need_cents,"
            " coalesce(sum(c.committed_cents) FILTER (WHERE o.parent_id IS NULL), 0) AS committed_cents,"
            " coalesce(sum(least(coalesce(c.counted_cents, c.committed_cents), c.need_cents))"
            " FILTER (WHERE o.parent_id IS NULL), 0) AS counted_cents,"
            " coalesce(sum(c.disbursed_cents) FILTER (WHERE o.parent_id IS NULL), 0) AS disbursed_cents"
            " FROM coverage c JOIN objectives o USING (objective_id) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        )
        assert [tuple(r) for r in kept] == [tuple(r) for r in counted]
        by_level = await conn.fetch(
            "SELECT scope, fiscal_year, level, sum(committed_cents) FROM coverage_summary_levels"
            " GROUP BY 1, 2, 3 HAVING sum(committed_cents) <> 0 ORDER BY 1, 2, 3"
        )
        levels_counted = await conn.fetch(
            "SELECT coalesce(o.plan_id, ''), c.fiscal_year, l.key, sum(l.value::numeric) FROM coverage c"
            " JOIN objectives o USING (objective_id), jsonb_each_text(c.committed_by_level) l"
            " WHERE o.parent_id IS NULL GROUP BY 1, 2, 3 HAVING sum(l.value::numeric) <> 0 ORDER BY 1, 2, 3"
        )
        assert [tuple(r) for r in by_level] == [tuple(r) for r in levels_counted]
        kept_counts = await conn.fetch(
            "SELECT scope, sum(objectives) FROM objective_counts GROUP BY scope HAVING sum(objectives) <> 0"
        )
        assert dict(kept_counts) == dict(
            await conn.fetch("SELECT coalesce(plan_id, ''), count(*) FROM objectives GROUP BY 1")
        )
    finally:
        await conn.close()


async def test_objectives_defined_together_do_not_wait_on_each_others_count(  # type: ignore[no-untyped-def]
    objectives, database: Database
):
    # The count of a scope's objectives was one row that every definition updated and held
    # until it committed, so definitions sent together ran one at a time. Two writers on
    # backends of different slots (migration 0014) now each write their own row.
    conns = [await database.connect("objectives") for _ in range(8)]
    try:
        slot = {c: await c.fetchval("SELECT pg_backend_pid() % 64") for c in conns}
        first = conns[0]
        second = next(c for c in conns[1:] if slot[c] != slot[first])
        await second.execute("SET lock_timeout = '5s'")
        async with first.transaction():
            await first.execute(
                "INSERT INTO objectives (objective_id, title, at_risk_threshold_pct) VALUES ('c-one', 'Uno', 80)"
            )
            async with second.transaction():  # would wait for `first` to end, then time out
                await second.execute(
                    "INSERT INTO objectives (objective_id, title, at_risk_threshold_pct) VALUES ('c-two', 'Due', 80)"
                )
        assert await first.fetchval("SELECT sum(objectives) FROM objective_counts WHERE scope = ''") == 2
    finally:
        for c in conns:
            await c.close()
    assert (await summary(objectives))["objectives"] == 2


async def test_coverage_written_together_does_not_wait_on_the_summary_or_the_plan_version(  # type: ignore[no-untyped-def]
    objectives, database: Database
):
    # The summary held one row per scope, year and status, and a plan one coverage version:
    # every write of coverage updated them and held them until it committed, so two writers
    # on objectives of one scope and year (two replicas on two partitions, a definition
    # beside the projection) ran one at a time. Writers on backends of different slots
    # (migration 0015) now each write their own rows.
    conns = [await database.connect("objectives") for _ in range(8)]
    try:
        first = conns[0]
        await first.execute(
            "INSERT INTO plans (plan_id, title, territory, first_year, last_year, at_risk_threshold_pct,"
            " single_level_warning_pct) VALUES ('p-slots', 'Piano', 'Spezia', 2027, 2027, 80, 90)"
        )
        for objective_id, plan_id in (("s-one", None), ("s-two", None), ("p-one", "p-slots"), ("p-two", "p-slots")):
            await first.execute(
                "INSERT INTO objectives (objective_id, title, at_risk_threshold_pct, plan_id) VALUES ($1, $1, 80, $2)",
                objective_id,
                plan_id,
            )
            await first.execute(
                "INSERT INTO coverage (objective_id, fiscal_year, need_cents, committed_cents, disbursed_cents,"
                " committed_by_level, coverage_bp, status) VALUES ($1, 2027, 1000, 0, 0, '{}', 0, 'UNFUNDED')",
                objective_id,
            )
        slot = {c: await c.fetchval("SELECT pg_backend_pid() % 64") for c in conns}
        second = next(c for c in conns[1:] if slot[c] != slot[first])
        await second.execute("SET lock_timeout = '5s'")
        version = "SELECT sum(version) FROM plan_versions WHERE plan_id = 'p-slots'"
        before = await first.fetchval(version)
        raise_to = (
            "UPDATE coverage SET committed_cents = $2::bigint, coverage_bp = $2::bigint * 10, committed_by_level = $3::jsonb,"
            " status = 'PARTIALLY_FUNDED' WHERE objective_id = ANY($1::text[]) AND fiscal_year = 2027"
        )
        async with first.transaction():
            await first.execute(raise_to, ["s-one", "p-one"], 400, '{"REGIONE": 400}')
            async with second.transaction():  # would wait for `first` to end, then time out
                await second.execute(raise_to, ["s-two", "p-two"], 300, '{"COMUNE": 300}')
        summed = await first.fetch(
            "SELECT scope, status, sum(objective_years) AS n, sum(committed_cents) AS committed"
            " FROM coverage_summary WHERE fiscal_year = 2027 GROUP BY 1, 2 HAVING sum(objective_years) <> 0"
            " ORDER BY 1, 2"
        )
        assert [tuple(r) for r in summed] == [("", "PARTIALLY_FUNDED", 2, 700), ("p-slots", "PARTIALLY_FUNDED", 2, 700)]
        assert await first.fetchval(version) == before + 2  # each write moved the plan's version
    finally:
        for c in conns:
            await c.close()
    await agrees_with_coverage(database)


async def test_the_slots_fold_back_into_one_row_per_key_and_every_sum_stays(  # type: ignore[no-untyped-def]
    objectives, database: Database
):
    # Slots spread over the months (a backend's pid modulo 64): migration 0016's fold adds
    # them into slot 0, so the reads stay a few rows per key, and no sum moves.
    conns = [await database.connect("objectives") for _ in range(8)]
    try:
        first = conns[0]
        slot = {c: await c.fetchval("SELECT pg_backend_pid() % 64") for c in conns}
        # The second writer's rows are never in slot 0: the fold has to move them.
        writers = [first, next(c for c in conns[1:] if slot[c] not in (slot[first], 0))]
        await first.execute(
            "INSERT INTO plans (plan_id, title, territory, first_year, last_year, at_risk_threshold_pct,"
            " single_level_warning_pct) VALUES ('p-fold', 'Piano', 'Spezia', 2027, 2027, 80, 90)"
        )
        for n, conn in enumerate(writers):
            for objective_id, plan_id in ((f"fold-s{n}", None), (f"fold-p{n}", "p-fold")):
                await conn.execute(
                    "INSERT INTO objectives (objective_id, title, at_risk_threshold_pct, plan_id)"
                    " VALUES ($1, $1, 80, $2)",
                    objective_id,
                    plan_id,
                )
                await conn.execute(
                    "INSERT INTO coverage (objective_id, fiscal_year, need_cents, committed_cents, disbursed_cents,"
                    " committed_by_level, coverage_bp, status)"
                    " VALUES ($1, 2027, 1000, 250, 0, '{\"REGIONE\": 250}', 2500, 'PARTIALLY_FUNDED')",
                    objective_id,
                )
            await conn.execute(
                "UPDATE coverage SET committed_cents = 300, committed_by_level = '{\"REGIONE\": 300}',"
                " coverage_bp = 3000 WHERE objective_id = $1",
                f"fold-p{n}",
            )
        sums = (
            "SELECT (SELECT array_agg(x ORDER BY x) FROM (SELECT (scope, fiscal_year, status, sum(objective_years),"
            " sum(committed_cents))::text AS x FROM coverage_summary GROUP BY scope, fiscal_year, status) a),"
            " (SELECT array_agg(x ORDER BY x) FROM (SELECT (scope, fiscal_year, level, sum(committed_cents))::text"
            " AS x FROM coverage_summary_levels GROUP BY scope, fiscal_year, level) b),"
            " (SELECT sum(version) FROM plan_versions WHERE plan_id = 'p-fold'),"
            " (SELECT array_agg(x ORDER BY x) FROM (SELECT (scope, sum(objectives))::text AS x"
            " FROM objective_counts GROUP BY scope) c)"
        )
        slotted = (
            "SELECT (SELECT count(*) FROM coverage_summary WHERE slot <> 0)"
            " + (SELECT count(*) FROM coverage_summary_levels WHERE slot <> 0)"
            " + (SELECT count(*) FROM plan_versions WHERE slot <> 0)"
            " + (SELECT count(*) FROM objective_counts WHERE slot <> 0)"
        )
        assert await first.fetchval(slotted) > 0

        # A writer holding rows of its slot: the fold waits for its commit and folds it too.
        other = writers[1]
        async with other.transaction():
            await other.execute(
                "UPDATE coverage SET committed_cents = 1000, committed_by_level = '{\"COMUNE\": 1000}',"
                " coverage_bp = 10000, status = 'FUNDED' WHERE objective_id = 'fold-s1'"
            )
            folding = asyncio.create_task(summary_slots.fold(first))
            await asyncio.sleep(0.3)
            assert not folding.done()  # waiting on the writer's rows
        assert await folding > 0
        # A row the writer inserted (the status it entered) was not there when the fold began:
        # the next fold takes it.
        assert await first.fetchval(slotted) <= 2
        await summary_slots.fold(first)
        assert await first.fetchval(slotted) == 0
        await agrees_with_coverage(database)

        # Written again in a slot, folded again: no sum moves.
        await other.execute(
            "UPDATE coverage SET committed_cents = 400, committed_by_level = '{\"REGIONE\": 400}',"
            " coverage_bp = 4000 WHERE objective_id = 'fold-p1'"
        )
        before = await first.fetchrow(sums)
        assert await first.fetchval(slotted) > 0
        assert await summary_slots.fold(first) > 0
        assert await first.fetchval(slotted) == 0
        assert await first.fetchrow(sums) == before
    finally:
        for c in conns:
            await c.close()
    await agrees_with_coverage(database)
    assert (await summary(objectives))["objectives"] >= 4


async def test_the_summary_counts_objective_years_and_top_level_money(  # type: ignore[no-untyped-def]
    objectives, broker, database: Database
):
    plan = Plan("pgs", "Piano", "La Spezia", 92461, 2026, 2028, 80, 70)
    async with objectives.client(headers=YAML) as admin:
        r = await admin.post("/v1/plans/import", content=write_plan(PlanFile(plan, plan_nodes(), {})).encode())
        assert r.status_code == 200, r.text
    await define(objectives, "s-one", "Scogliera", 2 * MILLION)  # 2027, €200k of €2M: AT_RISK
    await define(objectives, "s-two", "Sentiero", MILLION, year=2028)  # nothing: UNFUNDED
    await kafka.publish(
        broker.bootstrap_servers,
        topics.FUNDING,
        [
            line_event("commit", "A1-1", "a1", 808 * MILLION // 100, 1, disbursed=MILLION),
            line_event("commit", "A3-1", "a3", MILLION, 1, level=GovernmentLevel.COMUNE, institution="comune"),
            line_event("commit", "S1-1", "s-one", 20 * MILLION // 100, 1, level=GovernmentLevel.EU, institution="fesr"),
        ],
    )
    await committed_becomes(objectives, "v", 908 * MILLION // 100)
    await committed_becomes(objectives, "s-one", 20 * MILLION // 100)

    # The plan in 2027: a1 FUNDED (€8.08M for €1M), a2 UNFUNDED, a3 FUNDED, p AT_RISK (a1
    # counted up to its need: 50 %), p2 FUNDED, v AT_RISK (€2M of €3M counted). Money is
    # the root's: all of the subtree's, each euro once.
    in_plan = await summary(objectives, fiscal_year=2027, plan_id="pgs")
    assert in_plan == {
        "fiscal_years": [2027],  # the years with figures: the plan's needs and money are all in 2027
        "fiscal_year": 2027,
        "objectives": 6,
        "counts": counts(FUNDED=3, AT_RISK=2, UNFUNDED=1),
        "need_cents": 3 * MILLION,
        "committed_cents": 908 * MILLION // 100,
        "counted_cents": 2 * MILLION,
        "disbursed_cents": MILLION,
        "committed_by_level": levels(REGIONE=808 * MILLION // 100, COMUNE=MILLION),
        "by_year": [
            {
                "fiscal_year": 2027,
                "need_cents": 3 * MILLION,
                "committed_cents": 908 * MILLION // 100,
                "counted_cents": 2 * MILLION,
                "disbursed_cents": MILLION,
                "committed_by_level": levels(REGIONE=808 * MILLION // 100, COMUNE=MILLION),
                "counts": counts(FUNDED=3, AT_RISK=2, UNFUNDED=1),
            }
        ],
    }
    everything = await summary(objectives, fiscal_year=2027)
    assert everything["objectives"] == 7  # the plan's six and s-one (s-two has no 2027)
    assert everything["counts"] == counts(FUNDED=3, AT_RISK=3, UNFUNDED=1)
    assert (everything["need_cents"], everything["committed_cents"], everything["counted_cents"]) == (
        5 * MILLION,
        928 * MILLION // 100,
        220 * MILLION // 100,
    )
    assert everything["committed_by_level"] == levels(
        REGIONE=808 * MILLION // 100, COMUNE=MILLION, EU=20 * MILLION // 100
    )
    # Without a year: every objective, every year; counts are those of the list's years.
    whole = await summary(objectives)
    listed = await every_objective(objectives)
    assert whole["objectives"] == len(listed) == 8
    assert whole["fiscal_year"] is None and whole["fiscal_years"] == [2027, 2028]
    assert [y["fiscal_year"] for y in whole["by_year"]] == [2027, 2028]
    for status in STATUSES:
        assert whole["counts"][status] == sum(y["status"] == status for o in listed for y in o["years"])
    assert whole["by_year"][1]["need_cents"] == MILLION  # 2028: s-two's need alone
    assert whole["by_year"][1]["counts"] == counts(UNFUNDED=1)
    assert whole["need_cents"] == 6 * MILLION and whole["counts"] == counts(FUNDED=3, AT_RISK=3, UNFUNDED=2)
    await agrees_with_coverage(database)

    # Money for a2: the plan is FUNDED all through, and the figures move in the same
    # transaction as coverage.
    await kafka.publish(broker.bootstrap_servers, topics.FUNDING, [line_event("commit", "A2-1", "a2", MILLION, 1)])
    await committed_becomes(objectives, "v", 1008 * MILLION // 100)
    after = await summary(objectives, fiscal_year=2027, plan_id="pgs")
    assert after["counts"] == counts(FUNDED=6)
    assert (after["committed_cents"], after["counted_cents"]) == (1008 * MILLION // 100, 3 * MILLION)
    assert after["committed_by_level"]["REGIONE"] == 908 * MILLION // 100
    await agrees_with_coverage(database)

    # A rebuild deletes and rewrites coverage: the summary comes out the same.
    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post("/v1/admin/rebuild/coverage")
        assert r.status_code == 200, r.text
    assert await summary(objectives, fiscal_year=2027, plan_id="pgs") == after
    await agrees_with_coverage(database)

    # A standalone objective taken into the plan under p2: it counts in the plan now.
    conn = await database.connect("objectives")
    try:
        await conn.execute("UPDATE objectives SET plan_id = 'pgs', parent_id = 'p2' WHERE objective_id = 's-one'")
    finally:
        await conn.close()
    moved = await summary(objectives, fiscal_year=2027, plan_id="pgs")
    assert moved["objectives"] == 7 and moved["counts"]["AT_RISK"] == 1
    assert moved["committed_cents"] == 1008 * MILLION // 100  # v's own figures were not recomputed
    await agrees_with_coverage(database)

    async with objectives.client() as client:
        refused = await client.get("/v1/summary", params={"as_of": "2027-01-01"})
        assert (refused.status_code, refused.json()["field"]) == (422, "query.as_of")
        missing = await client.get("/v1/summary", params={"plan_id": "nowhere"})
        assert (missing.status_code, missing.json()["field"]) == (404, "plan_id")
        bad_year = await client.get("/v1/summary", params={"fiscal_year": "next"})
        assert (bad_year.status_code, bad_year.json()["field"]) == (422, "query.fiscal_year")


@pytest.mark.parametrize("few_enough", [5_000, 0], ids=["ids-from-the-index", "words-tested-per-objective"])
async def test_search_matches_word_prefixes_of_id_and_title_ignoring_case_and_accents(  # type: ignore[no-untyped-def]
    objectives, monkeypatch: pytest.MonkeyPatch, few_enough: int
):
    # Both ways of answering `q` (the matching ids read off the index, or each objective's
    # words tested while walking the list's order) must give the same answers.
    monkeypatch.setattr(read_adapter, "SEARCH_IDS", few_enough)
    await define(objectives, "porto-mirabello", "Città della Spezia: Porto Mirabello", MILLION)
    await define(objectives, "darsena-pagliari", "Darsena Pagliari", MILLION)
    await define(objectives, "wf-2027-001", "Waterfront, lotto 1", MILLION)
    await define(objectives, "sentiero", "Sentiero dell'Arsenale", MILLION)

    async with objectives.client() as client:

        async def found(q: str, **params: object) -> list[str]:
            r = await client.get("/v1/objectives", params={"q": q, **params})
            assert r.status_code == 200, r.text
            return [o["objective_id"] for o in r.json()["items"]]

        assert await found("citta") == ["porto-mirabello"]  # the accent folded away
        assert await found("CITTÀ spez") == ["porto-mirabello"]  # every word, each a prefix
        assert await found("mira") == ["porto-mirabello"]
        assert await found("irabello") == []  # inside a word: not a match
        assert await found("porto darsena") == []  # both words required
        assert await found("wf-2027") == ["wf-2027-001"]  # a hyphenated id, whole
        assert await found("2027") == ["wf-2027-001"]  # and its parts
        assert await found("arsenale") == ["sentiero"]  # after an apostrophe
        assert await found("d") == ["darsena-pagliari", "porto-mirabello", "sentiero"]
        assert await found("%") == [] and await found("  ") == []
        assert await found("d", limit=2) == ["darsena-pagliari", "porto-mirabello"]
        assert await found("d", sort="gap", fiscal_year=2027) == ["darsena-pagliari", "porto-mirabello", "sentiero"]
