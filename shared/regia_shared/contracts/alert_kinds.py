"""The kinds of alert a person can choose to hear of, and how often. Pure.

The one list of kinds: the partners service validates preferences against it, the
notifier's triggers are its members (a unit test holds them together), and the console
and the e-mails read their words from `words.TRIGGER_WORDS`. A new kind of alert is added
here, with its words, and nowhere else has to learn it: events and APIs carry kinds as
plain strings, so adding one changes no contract.

The cadence is how a person gets a kind of alert by e-mail: each one as it happens, in the
daily digest, in the weekly digest, or not at all (`off`). Webhooks have no cadence: a
machine has no use for a digest, and a person's `off` is about their mailbox, not about
the systems their organisation connected (those follow `event_kinds`).
"""

from typing import Literal, get_args

ALERT_KINDS: tuple[str, ...] = (
    "status_changed",
    "funding_dropped",
    "line_revoked",
    "review_closed",
    "single_level_dependency",
    "milestone_overdue",
    "indicator_behind",
)

Cadence = Literal["immediate", "daily_digest", "weekly_digest"]
KindCadence = Literal["immediate", "daily_digest", "weekly_digest", "off"]
CADENCES: tuple[Cadence, ...] = get_args(Cadence)
KIND_CADENCES: tuple[KindCadence, ...] = get_args(KindCadence)


def alert_kind(value: str) -> str:
    """`value` if it is a kind of alert; otherwise a ValueError that lists the kinds."""
    if value not in ALERT_KINDS:
        raise ValueError(f"unknown kind of alert {value[:100]!r}: one of {', '.join(ALERT_KINDS)}")
    return value
