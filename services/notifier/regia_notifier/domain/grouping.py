"""When a person's waiting alerts become one message, and what changed in the end. Pure.

Every e-mail alert waits before it is sent, so that one cause is one message and a burst of
causes is one message too, as Alertmanager groups alerts (its group_wait and
group_interval). What a person has waiting goes out as one message when:

- **it has gone quiet**: no new alert for them in the grouping window (`wait`, 30 s by
  default). A funding event that cuts an objective's money, changes its status and moves
  its programme and its vision produces its alerts within milliseconds of each other, from
  two topics and several partitions: the window is what puts them back together.
- **or the oldest has waited `longest`** (10 min by default) while alerts kept coming: then
  the causes that have gone quiet go, and a cause still producing alerts (a bulk import,
  a year-end roll-over: one correlation id over thousands of events) stays whole for a
  later message. One cause is never split over two messages while it is still going on.

A message states the *net* change of each objective-year from the first state to the last:
cut and restored within the window is no change at all, and says nothing. Digests (daily,
weekly) are folded the same way, so a digest never lists a state since superseded.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from regia_shared.contracts.events.objectives import CoverageStatus

from .causes import FundingCause
from .coverage_gap import Gap, gap
from .occurrences import FundingDrop, Occurrence, PlanNode, StatusChange, Trigger


@dataclass(frozen=True)
class GroupingPolicy:
    wait: timedelta  # quiet time after a person's last alert before their message goes
    longest: timedelta  # the longest an alert waits while alerts of other causes keep coming

    def __post_init__(self) -> None:
        if self.wait < timedelta(0) or self.longest < self.wait:
            raise ValueError("the grouping window is at least 0 and at most the longest wait")


@dataclass(frozen=True)
class Pending:
    """One waiting alert, as far as deciding when it goes is concerned."""

    correlation_id: str  # its cause: every event a request, an import or a roll-over caused
    queued_at: datetime


def due_now(pending: Sequence[Pending], policy: GroupingPolicy, now: datetime) -> list[int]:
    """Of one person's waiting alerts, the positions of those to send now, in one message."""
    if not pending:
        return []
    last_of_cause: dict[str, datetime] = {}
    for p in pending:
        last_of_cause[p.correlation_id] = max(p.queued_at, last_of_cause.get(p.correlation_id, p.queued_at))
    if max(last_of_cause.values()) + policy.wait <= now:
        return list(range(len(pending)))
    if min(p.queued_at for p in pending) + policy.longest <= now:
        return [i for i, p in enumerate(pending) if last_of_cause[p.correlation_id] + policy.wait <= now]
    return []


@dataclass(frozen=True)
class OpenGroup:
    """One person's waiting alerts, summed up: enough to say when they may next be due."""

    address: str
    first_queued: datetime  # the oldest waiting alert
    last_queued: datetime  # the newest
    quietest_cause_last: datetime  # the newest alert of the cause that has been quiet longest

    def next_look(self, policy: GroupingPolicy) -> datetime:
        """The earliest moment `due_now` may send something: when the whole group has gone
        quiet, or, past the longest wait, when its quietest cause has."""
        return min(
            self.last_queued + policy.wait,
            max(self.first_queued + policy.longest, self.quietest_cause_last + policy.wait),
        )


@dataclass(frozen=True)
class NetChange:
    """What happened to one objective-year over the alerts of one message: its first known
    state and its last. `committed_before` is None when no alert said what was committed
    before (a status change alone does not)."""

    objective_id: str
    title: str
    fiscal_year: int
    status_before: CoverageStatus | None
    status: CoverageStatus
    committed_before: int | None
    committed: int
    need_cents: int
    coverage_bp: int
    at_risk_threshold_pct: int | None
    committed_by_level: dict[str, int] | None
    path: tuple[PlanNode, ...]
    console_url: str | None
    triggers: tuple[Trigger, ...]  # the kinds of alert folded into it, in order
    causes: tuple[FundingCause, ...] = ()  # the funding events behind it, oldest first, each once

    @property
    def gap(self) -> Gap | None:
        return gap(self.need_cents, self.committed, self.at_risk_threshold_pct)

    @property
    def previous(self) -> CoverageStatus | None:
        """The status before, if it changed."""
        return self.status_before if self.status_before is not None and self.status_before is not self.status else None

    @property
    def status_changed(self) -> bool:
        return self.previous is not None

    @property
    def dropped_cents(self) -> int:
        """How much less is committed than before (0 if not less, or not known)."""
        return max((self.committed_before or 0) - self.committed, 0) if self.committed_before is not None else 0

    @property
    def drop_bp(self) -> int:
        if not self.committed_before or self.dropped_cents == 0:
            return 0
        return self.dropped_cents * 10_000 // self.committed_before

    @property
    def changed(self) -> bool:
        """Whether anything is different from the first state: the status, or the money."""
        return self.status_changed or (self.committed_before is not None and self.committed_before != self.committed)


@dataclass(frozen=True)
class Folded:
    changes: list[NetChange]  # objective-years that changed, in the order first heard of
    others: list[Occurrence]  # every other alert, as it came
    settled: int  # objective-years whose changes cancelled out


def fold(occurrences: Sequence[Occurrence]) -> Folded:
    """The net change of each objective-year among `occurrences` (oldest first): the state
    before the first of its alerts and after the last. Other alerts are kept as they are."""
    years: dict[tuple[str, int], NetChange] = {}
    others: list[Occurrence] = []
    for o in occurrences:
        if not isinstance(o, StatusChange | FundingDrop):
            others.append(o)
            continue
        key = (o.objective_id, o.fiscal_year)
        seen = years.get(key)
        years[key] = _first(o) if seen is None else _then(seen, o)
    changes = [c for c in years.values() if c.changed]
    return Folded(changes, others, len(years) - len(changes))


def _first(o: StatusChange | FundingDrop) -> NetChange:
    if isinstance(o, StatusChange):
        return NetChange(
            o.objective_id,
            o.title,
            o.fiscal_year,
            o.previous_status,
            o.status,
            None,
            o.committed_cents,
            o.need_cents,
            o.coverage_bp,
            o.at_risk_threshold_pct,
            o.committed_by_level,
            o.path,
            o.console_url,
            (o.trigger,),
            o.causes,
        )
    # A drop alone does not say the status before; it is the status after unless a status
    # change says otherwise (see _then).
    return NetChange(
        o.objective_id,
        o.title,
        o.fiscal_year,
        o.status,
        o.status,
        o.before_cents,
        o.after_cents,
        o.need_cents,
        o.coverage_bp,
        o.at_risk_threshold_pct,
        o.committed_by_level,
        o.path,
        o.console_url,
        (o.trigger,),
        o.causes,
    )


def _then(seen: NetChange, o: StatusChange | FundingDrop) -> NetChange:
    """`seen`, then `o`: the first state stays, the last is `o`'s."""
    threshold: int | None
    if isinstance(o, StatusChange):
        # The status before is the one before the first status change; a drop heard first
        # stood for "unchanged" and gives way to it.
        before = o.previous_status if StatusChange.trigger not in seen.triggers else seen.status_before
        committed, threshold = o.committed_cents, o.at_risk_threshold_pct
        committed_before = seen.committed_before
    else:
        before = seen.status_before
        committed = o.after_cents
        threshold = o.at_risk_threshold_pct if o.at_risk_threshold_pct is not None else seen.at_risk_threshold_pct
        # What was committed before the first alert that said so.
        committed_before = seen.committed_before if seen.committed_before is not None else o.before_cents
    return NetChange(
        seen.objective_id,
        o.title,
        seen.fiscal_year,
        before,
        o.status,
        committed_before,
        committed,
        o.need_cents,
        o.coverage_bp,
        threshold,
        o.committed_by_level,
        o.path or seen.path,
        o.console_url or seen.console_url,
        seen.triggers + ((o.trigger,) if o.trigger not in seen.triggers else ()),
        _merged(seen.causes, o.causes),
    )


def _merged(first: tuple[FundingCause, ...], then: tuple[FundingCause, ...]) -> tuple[FundingCause, ...]:
    """Both, each funding event once, oldest first."""
    by_event = {c.event_id: c for c in (*first, *then)}
    return tuple(sorted(by_event.values(), key=lambda c: (c.occurred_at, str(c.event_id))))
