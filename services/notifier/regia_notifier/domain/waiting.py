"""Alerts waiting for their message, and the messages they make. Pure.

Every e-mail alert is queued for its person with a cadence: `immediate` (sent when the
person's grouping window closes, domain.grouping), `daily_digest` or `weekly_digest` (sent
at the digest time). A message carries all of one person's alerts of one cadence that are
due, and its id is derived from the alerts it carries, so putting the same message
together twice (a crash between planning it and marking its alerts) yields one delivery.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from .messages.grouped import Cadence, Carried
from .messages.wording import Language
from .occurrences import Occurrence

_NAMESPACE = uuid.UUID("0b6f0f7e-2f8e-4c52-8d1e-4d1f0c7a9b3e")  # the digests' ids keep theirs


@dataclass(frozen=True)
class Waiting:
    """An alert waiting for its message (as stored)."""

    cause_event_id: uuid.UUID
    email: str
    contact_id: str
    partner_id: str
    recipient_name: str
    language: Language  # stored as text, written only from a validated language
    correlation_id: str
    objective_id: str | None
    trigger: str
    rules: tuple[str, ...]
    subject: str
    section_text: str  # its section as rendered when queued (what older rows show)
    section_html: str
    created_at: datetime  # when it was queued: the grouping window's clock
    cadence: Cadence = "daily_digest"
    occurrence: Occurrence | None = None  # None: queued before occurrences were kept
    origin_at: datetime | None = None
    # The order it was queued in: alerts of one consumer batch share `created_at`, and the
    # net change of an objective-year is read from its first alert to its last.
    seq: int = 0

    @property
    def carried(self) -> Carried:
        return Carried(
            self.occurrence,
            str(self.cause_event_id),
            self.correlation_id,
            self.subject,
            self.section_text,
            self.section_html,
        )


@dataclass(frozen=True)
class Message:
    """One person's due alerts of one cadence, oldest first."""

    message_id: uuid.UUID
    email: str
    cadence: Cadence
    items: list[Waiting]

    @property
    def latest(self) -> Waiting:
        """Name, language and contact come from the newest alert: the person's current ones."""
        return max(self.items, key=lambda w: w.created_at)

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(sorted({r for w in self.items for r in w.rules}))

    @property
    def triggers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w.trigger for w in self.items))

    @property
    def objective_id(self) -> str | None:
        """The one objective (or plan) it is about, if only one."""
        ids = {w.objective_id for w in self.items}
        return ids.pop() if len(ids) == 1 else None

    @property
    def origin_at(self) -> datetime | None:
        """When the earliest chain it carries started: its funding-to-alert time is the
        longest of those it carries."""
        return min((w.origin_at for w in self.items if w.origin_at is not None), default=None)


def message_id(email: str, cause_event_ids: list[uuid.UUID]) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, email.lower() + "|" + ",".join(sorted(map(str, cause_event_ids))))


def messages(waiting: list[Waiting]) -> list[Message]:
    """One message per address and cadence, its alerts in the order they were queued."""
    by_person: dict[tuple[str, str], list[Waiting]] = {}
    for w in sorted(waiting, key=lambda w: (w.created_at, w.seq)):
        by_person.setdefault((w.email.lower(), w.cadence), []).append(w)
    # Addressed as the person's newest alert writes the address: its domain is matched
    # without case, but its local part belongs to the receiving server ("José" stays José).
    return [
        Message(message_id(email, [w.cause_event_id for w in items]), items[-1].email, items[0].cadence, items)
        for (email, _), items in by_person.items()
    ]
