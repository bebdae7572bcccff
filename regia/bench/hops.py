"""Where the funding-to-alert time goes: each hop of the chain, read back from the records
the services keep anyway (outbox rows with when they were written and published, the
notifier's inbox rows with when an event was applied, deliveries and their attempts).

Every timestamp is PostgreSQL's: an inbox row's and a publication's are the `now()` of the
transaction that wrote them, so "applied" is when that consumer's transaction began; an
outbox row's `created_at` is when the statement that wrote it began (regia_shared migration
0006), after the writer stamped the event's origin. Objectives keeps no inbox for funding
events (its line versions are their own record), so its hop ends when it wrote the event
it published: the fetch, the projection and the coverage together. Chains are followed
from the alert back: the delivery's cause event (objectives' outbox), its causation
(funding's outbox).
"""

from typing import Any

import asyncpg

HOPS = (
    "funding outbox written",
    "funding event published",
    "objectives wrote its event",
    "objectives event published",
    "notifier applied it",
    "e-mail send started",
    "e-mail accepted",
)

_CHAINS = """
SELECT d.origin_at, f.created_at AS f_out, f.published_at AS f_pub, oo.created_at AS o_out,
       oo.published_at AS o_pub, ni.processed_at AS n_in, a.at AS send_at,
       a.at + make_interval(secs => a.duration_ms / 1000.0) AS sent_at
FROM notifier.deliveries d
JOIN notifier.delivery_attempts a ON a.delivery_id = d.delivery_id AND a.outcome = 'SENT'
JOIN objectives.outbox oo ON oo.event_id = d.cause_event_id
JOIN notifier.inbox ni ON ni.event_id = oo.event_id AND ni.consumer = 'notifier.coverage'
JOIN funding.outbox f ON f.event_id = (oo.body::jsonb ->> 'causation_id')::uuid
WHERE d.channel = 'email' AND d.origin_at >= $1 AND ($2::timestamptz IS NULL OR d.origin_at < $2)
"""


async def hops(conn: asyncpg.Connection, since: Any, until: Any = None) -> dict[str, dict[str, float]]:
    """p50 and p99 in milliseconds of each hop, for the e-mails whose chains began (their
    funding event accepted) in [since, until); until None: any time after `since`."""
    rows = await conn.fetch(_CHAINS, since, until)
    columns = ("origin_at", "f_out", "f_pub", "o_out", "o_pub", "n_in", "send_at", "sent_at")
    found: dict[str, dict[str, float]] = {"chains": {"count": len(rows)}}
    for name, before, after in zip(HOPS, columns[:-1], columns[1:], strict=True):
        spans = sorted((r[after] - r[before]).total_seconds() * 1000 for r in rows)
        if spans:
            found[name] = {
                "p50_ms": round(spans[len(spans) // 2], 1),
                "p99_ms": round(spans[min(len(spans) - 1, int(len(spans) * 0.99))], 1),
            }
    return found
