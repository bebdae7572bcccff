"""An occurrence as JSON, to wait with its alert until the message is put together. Pure.

A waiting alert keeps its occurrence, not its rendered text: the message that carries it
is written when the grouping window closes (or the digest is due), from the net change of
all it carries, in the recipient's language of that moment. pydantic validates each kind
of occurrence back from its JSON, nested dataclasses, enums and dates included, so a new
kind needs only its entry in `_KINDS`.
"""

from typing import Any

from pydantic import TypeAdapter

from .occurrences import (
    CurrentState,
    FundingDrop,
    IndicatorBehind,
    LineRevoked,
    MilestoneOverdue,
    Occurrence,
    ReviewClosed,
    SingleLevelDependency,
    StatusChange,
)

_KINDS: dict[str, TypeAdapter[Any]] = {
    kind.__name__: TypeAdapter(kind)
    for kind in (
        StatusChange,
        FundingDrop,
        LineRevoked,
        ReviewClosed,
        CurrentState,
        SingleLevelDependency,
        MilestoneOverdue,
        IndicatorBehind,
    )
}


def encode(occurrence: Occurrence) -> dict[str, Any]:
    adapter = _KINDS[type(occurrence).__name__]
    return {"kind": type(occurrence).__name__, "facts": adapter.dump_python(occurrence, mode="json")}


def decode(stored: dict[str, Any] | None) -> Occurrence | None:
    """The occurrence back; None if nothing was stored (an alert queued before occurrences
    were kept) or its kind is unknown to this version (it is then shown as rendered)."""
    if not stored or stored.get("kind") not in _KINDS:
        return None
    occurrence: Occurrence = _KINDS[stored["kind"]].validate_python(stored["facts"])
    return occurrence
