"""asyncpg adapter for the causes of alerts: every funding event the notifier consumed,
kept under its envelope's correlation id (`funding_causes`), which the objectives events it
brings about carry too (see domain.causes).

`claim` runs in the consumer's transaction and is its record of what it applied, in place
of the inbox (regia_shared.messaging.consumer, `claim`): a cause is one row per funding
event, keyed by the event's id, so an id it holds already is a redelivery, and the event
is recorded once without a second row per event in the inbox. `of_correlations` reads a
whole batch's causes in one statement."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from uuid import UUID

import asyncpg

from regia_shared.messaging.consumer import Received

from ..domain.causes import FUNDING_EVENTS, FundingCause, Kind, cause_of

# The causes read for one correlation id, at most: every event of the largest batch request
# funding takes (1,000), and a bound on what a correlation id a client reuses on every
# request can cost. The newest are kept: an alert's cause has just been recorded.
PER_CORRELATION = 1_000


async def claim(conn: asyncpg.Connection, events: Sequence[Received]) -> set[UUID]:
    """Record each funding event of the batch as a cause, in one statement, and return the
    ids of those not recorded before; events of other types are passed over (and never
    new). An event recorded already (a redelivery, a replay) is left as it is."""
    found = [
        (e.envelope.correlation_id, cause_of(e.envelope.event_id, e.payload, e.envelope.occurred_at))
        for e in events
        if isinstance(e.payload, FUNDING_EVENTS)
    ]
    if not found:
        return set()
    causes = [c for _, c in found]
    recorded = await conn.fetch(
        "INSERT INTO funding_causes (event_id, correlation_id, kind, institution_id, level, line_id,"
        " objective_id, fiscal_year, before_cents, after_cents, disbursed_delta_cents, counterpart_line_id,"
        " reason, occurred_at)"
        " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
        " $7::text[], $8::int[], $9::bigint[], $10::bigint[], $11::bigint[], $12::text[], $13::text[],"
        " $14::timestamptz[])"
        " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        [c.event_id for c in causes],
        [correlation_id for correlation_id, _ in found],
        [c.kind for c in causes],
        [c.institution_id for c in causes],
        [c.level for c in causes],
        [c.line_id for c in causes],
        [c.objective_id for c in causes],
        [c.fiscal_year for c in causes],
        [c.before_cents for c in causes],
        [c.after_cents for c in causes],
        [c.disbursed_delta_cents for c in causes],
        [c.counterpart_line_id for c in causes],
        [c.reason for c in causes],
        [c.occurred_at for c in causes],
    )
    return {r["event_id"] for r in recorded}


async def of_correlations(
    conn: asyncpg.Connection, correlation_ids: Iterable[str], *, per_correlation: int = PER_CORRELATION
) -> dict[str, list[FundingCause]]:
    """Correlation id → the funding events recorded under it, oldest first (at most
    `per_correlation`, the newest), each with its institution's name if the partner
    directory knows it; one statement for all of them. A correlation id with no cause
    recorded (no funding event behind it, or not consumed yet) is not in the result.

    These are all the causes of a correlation id: what an objective-year is told of them
    is `domain.causes.concerning`."""
    ids = sorted(set(correlation_ids))
    if not ids:
        return {}
    rows = await conn.fetch(
        "SELECT c.*, p.name AS institution_name FROM unnest($1::text[]) AS k(correlation_id)"
        " CROSS JOIN LATERAL (SELECT * FROM funding_causes f WHERE f.correlation_id = k.correlation_id"
        " ORDER BY f.occurred_at DESC, f.event_id DESC LIMIT $2) c"
        " LEFT JOIN partners p ON p.partner_id = c.institution_id"
        " ORDER BY c.correlation_id, c.occurred_at, c.event_id",
        ids,
        per_correlation,
    )
    found: dict[str, list[FundingCause]] = defaultdict(list)
    for r in rows:
        found[r["correlation_id"]].append(_cause(r))
    return dict(found)


def _cause(r: asyncpg.Record) -> FundingCause:
    kind: Kind = r["kind"]
    return FundingCause(
        r["event_id"],
        kind,
        r["institution_id"],
        r["institution_name"],
        r["level"],
        r["line_id"],
        r["objective_id"],
        r["fiscal_year"],
        r["before_cents"],
        r["after_cents"],
        r["reason"],
        r["occurred_at"],
        r["disbursed_delta_cents"],
        r["counterpart_line_id"],
    )
