"""How much money an objective-year still lacks: to its at-risk threshold and to 100 % of
its need. Pure, in exact integer cents.

The threshold's share of the need is rounded up to the cent, so a gap is never
understated: with a need of €0.05 and a threshold of 80 %, €0.04 reaches it, €0.03 does not.
A year with no need declared (NO_NEED) has no gap at all, not a gap of zero.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Gap:
    to_threshold_cents: int  # what is missing to the at-risk threshold; 0 once reached
    to_full_cents: int  # what is missing to 100 % of the need; 0 once reached
    threshold_pct: int


def threshold_cents(need_cents: int, threshold_pct: int) -> int:
    """The threshold's share of the need, rounded up to the cent."""
    return -(-need_cents * threshold_pct // 100)


def gap(need_cents: int, committed_cents: int, threshold_pct: int | None) -> Gap | None:
    """None when there is no need (nothing to fund) or the threshold is not known."""
    if need_cents <= 0 or threshold_pct is None:
        return None
    return Gap(
        max(threshold_cents(need_cents, threshold_pct) - committed_cents, 0),
        max(need_cents - committed_cents, 0),
        threshold_pct,
    )
