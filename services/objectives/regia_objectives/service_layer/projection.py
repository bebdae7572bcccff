"""The coverage projection: funding events in, coverage and status out, rolled up the tree.

Runs inside the caller's transaction (the consumer's, whose record of what it applied is
each line's version held, with no inbox row; or an API use case's), so the projection, the
events it publishes and the offsets committed after it can never disagree after a crash.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import asyncpg

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope, EventPayload
from regia_shared.contracts.events.funding import FundingLineChanged
from regia_shared.contracts.events.objectives import (
    FundingNarrowedToOneLevel,
    ObjectiveCoverageChanged,
    ObjectiveStatusChanged,
)
from regia_shared.contracts.events.plans import SingleLevelDependencyDetected
from regia_shared.frozen_init import direct_init
from regia_shared.messaging import outbox
from regia_shared.messaging.consumer import Received
from regia_shared.statements import write_together

from ..adapters import allocations, coverage, objectives
from ..adapters.objectives import ObjectiveRecord
from ..domain.coverage import (
    YearCoverage,
    dominant_level,
    gap_to_threshold_cents,
    narrowed_to_one_level,
    roll_up,
    within_bounds,
    year_coverage,
)
from ..domain.lines import LineChange, LineState, latest_per_line
from ..domain.tree import ancestors

PRODUCER = "objectives"
Key = tuple[str, int]


@direct_init
@dataclass(frozen=True)
class Cause:
    correlation_id: str
    causation_id: str | None = None
    # When the chain started (the funding event's acceptance), carried on so the notifier
    # can measure funding-to-alert time; None for changes made here, which start a chain.
    origin_at: datetime | None = None
    # The history row (allocation_changes.id) of the line change that moved the figures,
    # kept on each coverage row it recomputes (ancestors included) as its `last_change`.
    change_id: int | None = None
    # The line change was history (funding's FundingLineChanged.history): the events it
    # causes carry the marker, and the notifier tells nobody of them.
    history: bool = False


@dataclass(frozen=True)
class Projected:
    """What a batch of funding events did: the types of the events whose line version was
    applied (a redelivered, late or superseded one changed nothing and is not among them),
    and the events written to the outbox."""

    applied_types: list[str]
    published: list[Envelope]


async def apply_funding_events(conn: asyncpg.Connection, events: Sequence[Received]) -> Projected:
    """Apply a batch of funding events: newest line versions win, then every objective-year
    whose money moved, and its ancestors, is recomputed once for the whole batch.

    Idempotent by itself, so its consumer keeps no inbox (`consumer.idempotent_effect`): a
    version no newer than the one held changes nothing, decided in the upsert against the
    locked row."""
    changes, causes = newest_of_batch(events)
    applied = await allocations.apply_newer(conn, changes)
    touched = applied.last_change
    causes = {key: replace(cause, change_id=touched.get(key)) for key, cause in causes.items()}
    published = await recompute(conn, sorted(touched), causes)
    return Projected([c.kind for c in applied.changes], published)


def newest_of_batch(events: Sequence[Received]) -> tuple[list[LineChange], dict[Key, Cause]]:
    """The newest state of each line in the batch (whatever the order the events came in,
    repeats included), and for each objective-year the cause to carry on: the event that
    brought the winning state of one of its lines (the last such in the batch), so an alert
    traces back to the version that counted, not to an older one delivered after it."""
    by_state: dict[LineState, Received] = {}
    for event in events:
        p = event.payload
        assert isinstance(p, FundingLineChanged)
        state = LineState(
            p.line_id,
            p.objective_id,
            p.fiscal_year,
            p.level.value,
            p.institution_id,
            p.committed_cents,
            p.disbursed_cents,
            p.line_version,
            p.history,
        )
        by_state.setdefault(state, event)
    states = latest_per_line(by_state)
    winners = {by_state[s].envelope.event_id for s in states}
    changes = []
    for s in states:
        envelope, p = by_state[s].envelope, by_state[s].payload
        assert isinstance(p, FundingLineChanged)
        changes.append(LineChange(s, envelope.type, p.reason, envelope.correlation_id, envelope.occurred_at))
    causes: dict[Key, Cause] = {}
    for event in events:  # in batch order: the last winner of a key is its cause
        p = event.payload
        if event.envelope.event_id in winners:
            assert isinstance(p, FundingLineChanged)
            causes[(p.objective_id, p.fiscal_year)] = Cause(
                event.envelope.correlation_id, str(event.envelope.event_id), event.envelope.origin, history=p.history
            )
    return changes, causes


async def recompute(conn: asyncpg.Connection, keys: Sequence[Key], causes: Mapping[Key, Cause]) -> list[Envelope]:
    """Recompute coverage for (node, year) pairs and for every ancestor of those nodes,
    deepest first so a parent sums children already brought up to date; publish what
    changed and return the events written."""
    parent_of = await objectives.ancestry(conn, sorted({k[0] for k in keys}))
    wanted: dict[Key, Cause | None] = {}
    for node, year in keys:
        cause = causes.get((node, year))
        for key in [(node, year)] + [(a, year) for a in ancestors(node, parent_of)]:
            held_cause = wanted.get(key)
            # An ancestor moved by several lines of the batch keeps the latest change as its
            # last_change (history ids grow in the order changes came).
            if held_cause is None or (cause and (cause.change_id or 0) > (held_cause.change_id or 0)):
                wanted[key] = cause
            else:
                wanted[key] = held_cause
    defined = await objectives.known(conn, sorted({k[0] for k in wanted}))
    wanted = {k: c for k, c in wanted.items() if k[0] in defined}  # money for an unknown node waits
    depth = {node: len(ancestors(node, parent_of)) for node, _ in wanted}
    held = await coverage.held(conn, list(wanted))
    envelopes: list[Envelope] = []
    changed: list[coverage.Saved] = []
    for level in sorted(set(depth.values()), reverse=True):
        # A level's rows are saved before the level above reads them as its children's.
        await coverage.save(conn, changed)
        keys_here = [k for k in wanted if depth[k[0]] == level]
        money = await allocations.for_keys(conn, keys_here)
        below = await coverage.of_children(conn, keys_here)
        changed = []
        for key in keys_here:
            record = defined[key[0]]
            own = year_coverage(
                key[0], key[1], record.needs.get(key[1], 0), record.at_risk_threshold_pct, money.get(key, [])
            )
            now = within_bounds(roll_up(own, below.get(key, []), record.at_risk_threshold_pct))
            before = held.get(key)
            if before is None and now.need_cents == now.committed_cents == now.disbursed_cents == 0:
                continue  # a year with no need and no money has no status to tell anyone about
            dominant = dominant_level(now, record.single_level_warning_pct)
            now = replace(now, dominant_level=dominant[0] if dominant else None)
            if now.same_figures(before) and (before and before.dominant_level) == now.dominant_level:
                continue
            cause = wanted[key]
            gap = gap_to_threshold_cents(now.need_cents, now.effective_cents, record.at_risk_threshold_pct)
            changed.append(coverage.Saved(now, gap, cause.change_id if cause else None))
            envelopes.extend(_events(record, now, before, dominant, cause))
    # The top level's rows and every event in one round trip: nothing reads them after.
    writes = ([coverage.saving(changed)] if changed else []) + (
        [outbox.appended(topics.OBJECTIVES_COVERAGE, envelopes)] if envelopes else []
    )
    if writes:
        await write_together(conn, writes)
    return envelopes


def _events(
    node: ObjectiveRecord,
    now: YearCoverage,
    before: YearCoverage | None,
    dominant: tuple[str, int] | None,
    cause: Cause | None,
) -> list[Envelope]:
    def wrap(payload: EventPayload) -> Envelope:
        return Envelope.wrap(
            payload,
            key=now.objective_id,
            producer=PRODUCER,
            correlation_id=cause.correlation_id if cause else None,
            causation_id=cause.causation_id if cause else None,
            origin_at=cause.origin_at if cause else None,
        )

    # Caused by history funding: the cause's line change was history; or, with no cause (a
    # coverage rebuild), a year whose money is all history, which nobody can act on.
    history = cause.history if cause is not None else 0 < now.committed_cents == now.history_cents
    events = []
    if not now.same_figures(before):
        events.append(
            wrap(
                ObjectiveCoverageChanged(
                    objective_id=now.objective_id,
                    title=node.title,
                    fiscal_year=now.fiscal_year,
                    need_cents=now.need_cents,
                    committed_cents=now.committed_cents,
                    disbursed_cents=now.disbursed_cents,
                    committed_by_level=now.committed_by_level,
                    coverage_bp=now.coverage_bp,
                    status=now.status,
                    history=history,
                )
            )
        )
    if before is None or before.status != now.status:
        events.append(
            wrap(
                ObjectiveStatusChanged(
                    objective_id=now.objective_id,
                    title=node.title,
                    fiscal_year=now.fiscal_year,
                    previous_status=before.status if before else None,
                    status=now.status,
                    coverage_bp=now.coverage_bp,
                    need_cents=now.need_cents,
                    committed_cents=now.committed_cents,
                    at_risk_threshold_pct=node.at_risk_threshold_pct,
                    history=history,
                )
            )
        )
    sole = narrowed_to_one_level(before, now)
    if sole is not None and before is not None:
        # Two levels or more before, one now: said once, when it happens (the notifier's
        # `single_level_dependency`), with the split it had so the reader sees who left.
        events.append(
            wrap(
                FundingNarrowedToOneLevel(
                    objective_id=now.objective_id,
                    title=node.title,
                    fiscal_year=now.fiscal_year,
                    level=sole,
                    committed_cents=now.committed_cents,
                    previous_committed_by_level={k: v for k, v in before.committed_by_level.items() if v > 0},
                    need_cents=now.need_cents,
                    coverage_bp=now.coverage_bp,
                    status=now.status,
                    at_risk_threshold_pct=node.at_risk_threshold_pct,
                    history=history,
                )
            )
        )
    if dominant is not None and (before is None or before.dominant_level != dominant[0]):
        # Raised when the dependence starts (or moves to another level), not on every change.
        events.append(
            wrap(
                SingleLevelDependencyDetected(
                    objective_id=now.objective_id,
                    title=node.title,
                    fiscal_year=now.fiscal_year,
                    level=dominant[0],
                    share_bp=dominant[1],
                    warning_pct=node.single_level_warning_pct,
                    committed_cents=now.committed_cents,
                    history=history,
                )
            )
        )
    return events
