"""The widenings of a contract that were reviewed and accepted without a new version.

A widened set of allowed values (see `compatibility`) keeps every old event valid, but a
consumer still on the old contract refuses an event carrying a new value. Bumping the
event's version would not spare it that (it refuses the unknown version just the same),
and would make every producer and consumer carry two versions: so a widening may instead
be accepted here, once reviewed, with the reason it is safe and the condition it needs.
The condition is always the same: every consumer of the contract is deployed with the new
values before any producer sends one (docs/operations.md, "Upgrading past a widened
contract").

An entry covers the definition (or field) it names and exactly the values it lists: a
later widening of the same enum is a new change, to be reviewed again.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from .compatibility import Change


@dataclass(frozen=True)
class ReviewedWidening:
    name: str  # the `$defs` definition (or the field) whose enum grew
    added: frozenset[str]
    reason: str


REVIEWED_WIDENINGS: tuple[ReviewedWidening, ...] = (
    ReviewedWidening(
        "GovernmentLevel",
        frozenset({"OTHER_PUBLIC", "FOREIGN_STATE"}),
        "Public data funds projects from bodies no level named (OpenCoesione's FINANZ_ALTRO_PUBBLICO: "
        "a port authority, a chamber of commerce, a university; FINANZ_STATO_ESTERO: a foreign state), "
        "and an import must record every euro at a level that says what it is (issue 19). Old events "
        "keep their six levels and replay unchanged. Every consumer of a level (funding, objectives, "
        "notifier, console) reads it as a string or from this enum and ships in the same release, so "
        "deploying them before the partners and funding producers is enough: no producer sends the "
        "new levels until an institution of one is registered.",
    ),
)


def unreviewed(found: Iterable[Change]) -> list[str]:
    """The changes a contract may not make: every breaking one, and every widening that no
    entry above covers."""
    return [
        c.text
        for c in found
        if c.kind == "breaking"
        or not any(w.name == c.name and c.added <= w.added and w.reason.strip() for w in REVIEWED_WIDENINGS)
    ]
