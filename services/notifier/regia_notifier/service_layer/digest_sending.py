"""Sending daily digests: each person's waiting alerts become one e-mail delivery, which
the dispatcher then sends like any other (retries, attempt log, dead letters).

Turning alerts into a digest is one transaction: the digest delivery is planned and its
alerts marked as carried by it together, so a crash between the two cannot lose an alert
nor put it in two digests.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import asyncpg

from ..adapters import deliveries, digests
from ..domain.delivery import NewDelivery
from ..domain.digest import Digest, group, local_day
from ..domain.messages import DigestSection, render_digest
from ..domain.preference_links import PreferenceLinks


async def send_digests(
    pool: asyncpg.Pool,
    zone: ZoneInfo,
    *,
    now: datetime,
    due_only: bool = True,
    contact_id: str | None = None,
    links: PreferenceLinks | None = None,
) -> int:
    """Plan the digests due by `now` (or, with due_only False, every waiting alert: the
    administrator's "send now"); returns how many digests were planned. With `links`,
    each digest's footer links its reader's preferences page."""
    async with pool.acquire() as conn, conn.transaction():
        waiting = await digests.lock_waiting(conn, due_by=now if due_only else None, contact_id=contact_id)
        planned = group(waiting)
        for digest in planned:
            await digests.mark_sent(conn, digest.digest_id, digest.items)
        await deliveries.add(conn, [_delivery(d, local_day(now, zone), links) for d in planned])
    return len(planned)


def _delivery(digest: Digest, day: date, links: PreferenceLinks | None) -> NewDelivery:
    person = digest.latest
    message = render_digest(
        [DigestSection(w.subject, w.section_text, w.section_html) for w in digest.items],
        language=person.language,
        name=person.recipient_name,
        day=day,
        preferences_url=links.preferences_page(person.contact_id, day) if links else None,
    )
    return NewDelivery(
        digest.digest_id,
        digest.digest_id,
        person.correlation_id,
        None,
        "email",
        digest.email,
        person.recipient_name,
        person.contact_id,
        person.partner_id,
        person.language,
        message.subject,
        message.text,
        body_html=message.html,
        kind="digest",
        rules=digest.rules,
    )
