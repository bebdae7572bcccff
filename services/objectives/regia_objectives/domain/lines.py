"""Order tolerance for funding events: only the newest version of each line counts."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from regia_shared.frozen_init import direct_init


@direct_init
@dataclass(frozen=True)
class LineState:
    line_id: str
    objective_id: str
    fiscal_year: int
    level: str
    institution_id: str
    committed_cents: int
    disbursed_cents: int
    line_version: int
    history: bool = False  # funding recorded the line as history (a closed year's money)


def latest_per_line(states: Iterable[LineState]) -> list[LineState]:
    """Keep, for each line, the state with the highest version (events may arrive in any
    order or twice; the version decides, never the arrival)."""
    latest: dict[str, LineState] = {}
    for state in states:
        held = latest.get(state.line_id)
        if held is None or state.line_version > held.line_version:
            latest[state.line_id] = state
    return list(latest.values())


@direct_init
@dataclass(frozen=True)
class LineChange:
    """A line's new state with what the history keeps of the event that brought it: the
    event type (`kind`), the institution's reason, the correlation id and when it happened."""

    state: LineState
    kind: str
    reason: str | None
    correlation_id: str | None
    occurred_at: datetime
