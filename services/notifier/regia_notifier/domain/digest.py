"""Daily digests: when a person's waiting alerts go out, and how they are grouped. Pure.

A digest is sent at a set local time (Europe/Rome by default: the plan's time zone, so
"daily" follows the recipients' day, daylight saving included). Its id is derived from
the alerts it carries, so planning the same digest twice yields one delivery.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .messages.wording import Language

_NAMESPACE = uuid.UUID("0b6f0f7e-2f8e-4c52-8d1e-4d1f0c7a9b3e")


def next_digest_at(after: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The first digest time strictly after `after` (an aware datetime)."""
    local = after.astimezone(zone)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=zone)
    return candidate


@dataclass(frozen=True)
class Waiting:
    """An alert waiting in a digest (as stored)."""

    cause_event_id: uuid.UUID
    email: str
    contact_id: str
    partner_id: str
    recipient_name: str
    language: Language  # stored as text, written only from a validated language
    correlation_id: str
    rules: tuple[str, ...]
    subject: str
    section_text: str
    section_html: str
    created_at: datetime


@dataclass(frozen=True)
class Digest:
    digest_id: uuid.UUID
    email: str
    items: list[Waiting]

    @property
    def latest(self) -> Waiting:
        """Name, language and contact come from the newest alert: the person's current ones."""
        return max(self.items, key=lambda w: w.created_at)

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(sorted({r for w in self.items for r in w.rules}))


def digest_id(email: str, cause_event_ids: list[uuid.UUID]) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, email.lower() + "|" + ",".join(sorted(map(str, cause_event_ids))))


def group(waiting: list[Waiting]) -> list[Digest]:
    """One digest per address, its alerts oldest first."""
    by_address: dict[str, list[Waiting]] = {}
    for w in sorted(waiting, key=lambda w: (w.created_at, str(w.cause_event_id))):
        by_address.setdefault(w.email.lower(), []).append(w)
    return [
        Digest(digest_id(email, [w.cause_event_id for w in items]), email, items) for email, items in by_address.items()
    ]


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()
