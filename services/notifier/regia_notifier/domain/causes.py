"""Why an objective's money moved: the funding event behind an alert. Pure.

The objectives service recomputes coverage when a funding event arrives and publishes
what changed in envelopes that carry the funding event's `correlation_id` (its
`projection.recompute` passes the cause's id on). So an alert's cause is found by that
id: every funding event the notifier recorded under the correlation id of the
objectives event it alerts on.

One correlation id may cover many funding events: a batch request or an import (up to
1,000 events, across objectives and years), a reallocation (one event per line), the
year-end roll-over (every line of the year), or a client that sends the same
X-Correlation-Id on every request. So what an occurrence is told is narrowed to the
events `concerning` it: of its fiscal year, on the objective itself or on a node below it
in the plan (a cut on an action moves its objective, programme and vision too), at most
`MAX_TOLD`, the latest.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from regia_shared.contracts.events.funding import (
    FundingCommitted,
    FundingDisbursed,
    FundingLineChanged,
    FundingReallocated,
    FundingRevised,
    FundingRevoked,
    FundingRolledOver,
)
from regia_shared.frozen_init import direct_init

Kind = Literal["committed", "revised", "revoked", "disbursed", "reallocated", "rolled_over"]

# Each funding event type, and what it did to its line.
KIND_OF: dict[type[FundingLineChanged], Kind] = {
    FundingCommitted: "committed",
    FundingRevised: "revised",
    FundingRevoked: "revoked",
    FundingDisbursed: "disbursed",
    FundingReallocated: "reallocated",
    FundingRolledOver: "rolled_over",
}
KINDS: tuple[Kind, ...] = tuple(KIND_OF.values())
FUNDING_EVENTS: tuple[type[FundingLineChanged], ...] = tuple(KIND_OF)

# Causes told with one occurrence, at most: enough for a reallocation, a roll-over or the
# lines of one objective in a batch; a bulk operation's hundreds are a summary's business.
MAX_TOLD = 100


@direct_init
@dataclass(frozen=True)
class FundingCause:
    """One funding event as a reader needs it: who acted (institution and level), on
    which line, the line's commitment before and after, and the reason the ledger holds.

    `before_cents` is `committed_cents - delta_cents` of the event, `after_cents` its
    `committed_cents`: the line's commitment on either side of this entry, whatever
    arrived before it. `institution_name` is the partner directory's, None while the
    notifier has not heard of the institution (its id then stands in)."""

    event_id: uuid.UUID
    kind: Kind
    institution_id: str
    institution_name: str | None
    level: str  # a GovernmentLevel code: REGIONE, STATO, ...
    line_id: str
    objective_id: str
    fiscal_year: int
    before_cents: int
    after_cents: int
    reason: str | None
    occurred_at: datetime
    # What a payment paid (a disbursement), and the other line of a reallocation or a
    # roll-over: the words of those kinds need them.
    disbursed_delta_cents: int = 0
    counterpart_line_id: str | None = None

    @property
    def delta_cents(self) -> int:
        """The change of the commitment: negative for a cut, a revocation, money moved away."""
        return self.after_cents - self.before_cents

    @property
    def cut(self) -> bool:
        """Whether this event took committed money away from its line."""
        return self.after_cents < self.before_cents

    @property
    def raised(self) -> bool:
        return self.after_cents > self.before_cents


def cause_of(
    event_id: uuid.UUID, payload: FundingLineChanged, occurred_at: datetime, institution_name: str | None = None
) -> FundingCause:
    """The cause a funding event amounts to. A TypeError for a payload that is no kind of
    funding event this version knows (a base FundingLineChanged, say)."""
    kind = KIND_OF.get(type(payload))
    if kind is None:
        raise TypeError(f"no kind of funding cause for {type(payload).__name__}")
    return FundingCause(
        event_id,
        kind,
        payload.institution_id,
        institution_name,
        payload.level.value,
        payload.line_id,
        payload.objective_id,
        payload.fiscal_year,
        payload.committed_cents - payload.delta_cents,
        payload.committed_cents,
        payload.reason,
        occurred_at,
        payload.disbursed_delta_cents,
        payload.counterpart_line_id,
    )


def concerning(
    causes: Iterable[FundingCause],
    objective_id: str,
    fiscal_year: int,
    lineage: Mapping[str, Sequence[str]],
) -> tuple[FundingCause, ...]:
    """The causes that moved this objective-year: of its year, on the objective itself or
    on a node below it. `lineage`: a cause's objective → the ids of its plan's nodes from
    the root down to it, as far as the notifier knows them (a node whose parents it has
    not seen counts only for itself). Oldest first, at most MAX_TOLD, the latest."""
    found = sorted(
        (
            c
            for c in causes
            if c.fiscal_year == fiscal_year
            and (c.objective_id == objective_id or objective_id in lineage.get(c.objective_id, ()))
        ),
        key=lambda c: (c.occurred_at, str(c.event_id)),
    )
    return tuple(found[-MAX_TOLD:])
