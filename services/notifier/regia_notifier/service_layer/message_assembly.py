"""Putting waiting alerts together into messages: each person's alerts of a closed
grouping window, or of a due digest, become one e-mail delivery, which the dispatcher then
sends like any other (retries, attempt log, dead letters).

A message is one transaction: its delivery is planned and its alerts marked as carried by
it together, so a crash between the two cannot lose an alert nor put it in two messages
(and the message's id, derived from the alerts it carries, makes a second try the same
delivery). Alerts whose changes all cancelled out are marked settled, and no message goes.
"""

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from regia_shared.statements import write_together

from ..adapters import deliveries, waiting_alerts
from ..domain.delivery import NewDelivery
from ..domain.digest import local_day
from ..domain.grouping import GroupingPolicy, Pending, due_now
from ..domain.messages.grouped import render_message
from ..domain.occurrences import FundingDrop, StatusChange
from ..domain.preference_links import PreferenceLinks
from ..domain.waiting import Message, Waiting, messages
from .occurrence_lookup import causes_of


@dataclass(frozen=True)
class Assembled:
    messages: int  # deliveries planned
    settled: int  # messages not sent: everything in them cancelled out
    next_look: datetime | None  # when the next grouping window may close (None: none open)


async def assemble_due(
    pool: asyncpg.Pool,
    policy: GroupingPolicy,
    zone: ZoneInfo,
    *,
    now: datetime,
    links: PreferenceLinks | None = None,
) -> Assembled:
    """The messages due by `now`: closed grouping windows, then due digests. With `links`,
    each message's footer links its reader's preferences page."""
    async with pool.acquire() as conn, conn.transaction():
        groups = await waiting_alerts.open_groups(conn)
        closing = [g.address for g in groups if g.next_look(policy) <= now]
        waiting = await waiting_alerts.lock_immediate(conn, closing) if closing else []
        due = _due_of_windows(waiting, policy, now)
        due += await waiting_alerts.lock_digests(conn, due_by=now)
        sent, settled = await _write(conn, messages(await _with_causes(conn, due)), local_day(now, zone), links)
        still_open = await waiting_alerts.open_groups(conn) if closing else groups
    looks = [g.next_look(policy) for g in still_open]
    return Assembled(sent, settled, min(looks, default=None))


async def send_digests_now(
    pool: asyncpg.Pool, zone: ZoneInfo, *, now: datetime, contact_id: str | None, links: PreferenceLinks | None = None
) -> int:
    """The administrator's "send now": every waiting alert (of one person, or all), whatever
    its cadence, in one message per person and cadence; returns how many were planned."""
    async with pool.acquire() as conn, conn.transaction():
        waiting = await waiting_alerts.lock_digests(conn, due_by=None, contact_id=contact_id)
        sent, _ = await _write(conn, messages(await _with_causes(conn, waiting)), local_day(now, zone), links)
    return sent


def _due_of_windows(waiting: list[Waiting], policy: GroupingPolicy, now: datetime) -> list[Waiting]:
    by_person: dict[str, list[Waiting]] = {}
    for w in waiting:
        by_person.setdefault(w.email.lower(), []).append(w)
    due: list[Waiting] = []
    for items in by_person.values():
        positions = due_now([Pending(w.correlation_id, w.created_at) for w in items], policy, now)
        due += [items[i] for i in positions]
    return due


async def _with_causes(conn: asyncpg.Connection, waiting: list[Waiting]) -> list[Waiting]:
    """Each status change and drop with its causes: those the funding events recorded under
    its correlation id say. Looked up again now, for the alerts planned before their funding
    event reached the notifier (the two come on different topics, in no set order); by the
    time a window closes, it has."""
    missing = [
        (i, w.occurrence)
        for i, w in enumerate(waiting)
        if isinstance(w.occurrence, StatusChange | FundingDrop) and not w.occurrence.causes
    ]
    if not missing:
        return waiting
    found = await causes_of(conn, [(waiting[i].correlation_id, o.objective_id, o.fiscal_year) for i, o in missing])
    completed = list(waiting)
    for (i, occurrence), causes in zip(missing, found, strict=True):
        if causes:
            completed[i] = dataclasses.replace(waiting[i], occurrence=dataclasses.replace(occurrence, causes=causes))
    return completed


async def _write(
    conn: asyncpg.Connection, planned: list[Message], day: date, links: PreferenceLinks | None
) -> tuple[int, int]:
    new: list[NewDelivery] = []
    carried: list[tuple[UUID, list[Waiting], bool]] = []
    for message in planned:
        delivery = _delivery(message, day, links)
        carried.append((message.message_id, message.items, delivery is None))
        if delivery is not None:
            new.append(delivery)
    # Every message's alerts marked and its delivery added in one round trip.
    writes = ([waiting_alerts.marking_carried(carried)] if carried else []) + ([deliveries.adding(new)] if new else [])
    if writes:
        await write_together(conn, writes)
    return len(new), len(carried) - len(new)


def _delivery(message: Message, day: date, links: PreferenceLinks | None) -> NewDelivery | None:
    person = message.latest
    rendered = render_message(
        [w.carried for w in message.items],
        language=person.language,
        name=person.recipient_name,
        cadence=message.cadence,
        day=day,
        preferences_url=links.preferences_page(person.contact_id, day) if links else None,
    )
    if rendered is None:
        return None
    first = message.items[0]
    digest = message.cadence != "immediate"
    # The kind it is filed under when it carries one kind only; several kinds are none, and
    # its one-click unsubscribe then stops every kind, as a digest's does.
    triggers = message.triggers
    trigger = triggers[0] if len(triggers) == 1 else None
    return NewDelivery(
        message.message_id,
        # A digest is its own cause; a window's message names its first alert's event, so
        # the funding-to-alert chain can be followed back from it.
        message.message_id if digest else first.cause_event_id,
        first.correlation_id,
        None if digest else message.objective_id,
        "email",
        message.email,
        person.recipient_name,
        person.contact_id,
        person.partner_id,
        person.language,
        rendered.subject,
        rendered.text,
        body_html=rendered.html,
        kind="digest" if digest else "alert",
        trigger=trigger,
        rules=message.rules,
        origin_at=None if digest else message.origin_at,
    )
