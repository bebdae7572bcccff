"""How far an indicator, a node and a subtree of the plan have come. Pure rules, no I/O.

An indicator's progress for a period is (actual − baseline) / (target − baseline), with the
latest actual value measured by a date: 0 at the baseline, 1 on target, whichever way the
indicator improves (unemployment from 12 % to 8 %, now 10 %: (10 − 12) / (8 − 12) = 0.5).
It is kept raw (overshooting gives more than 1, going backwards less than 0) and clamped to
[0, 1]. Arithmetic is on fractions, exact, so roll-ups add up to the last digit and are
rounded only when shown (`as_decimal`).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from .indicators import Indicator, Measurement


@dataclass(frozen=True)
class Progress:
    raw: Fraction | None
    clamped: Fraction | None
    reason: str | None = None  # why it is undefined

    @classmethod
    def of(cls, raw: Fraction) -> "Progress":
        return cls(raw, min(max(raw, Fraction(0)), Fraction(1)))

    @classmethod
    def undefined(cls, reason: str) -> "Progress":
        return cls(None, None, reason)

    @property
    def defined(self) -> bool:
        return self.raw is not None


def as_decimal(value: Fraction, places: int = 6) -> Decimal:
    """Round half to even at `places`, exactly (no float, no Decimal context in the way)."""
    return Decimal(round(value * 10**places)).scaleb(-places)


def latest(measurements: Iterable[Measurement], as_of: date) -> Measurement | None:
    """The value in force on `as_of`: the latest measured on or before it. Measurements come
    in the order they were recorded, so of two on one date the later recorded one wins."""
    found = None
    for m in measurements:
        if m.measured_on <= as_of and (found is None or m.measured_on >= found.measured_on):
            found = m
    return found


def indicator_progress(baseline: Decimal, target: Decimal | None, actual: Decimal | None) -> Progress:
    if actual is None:
        return Progress.undefined("no actual value yet")
    if target is None:
        return Progress.undefined("no target for the period")
    if target == baseline:
        return Progress.undefined("the target equals the baseline: there is no distance to cover")
    return Progress.of(Fraction(actual - baseline) / Fraction(target - baseline))


def progress_in(
    indicator: Indicator,
    targets: Mapping[int, Decimal],
    measurements: Sequence[Measurement],
    fiscal_year: int,
    as_of: date,
) -> Progress:
    """Progress towards the target of `fiscal_year`, by the latest value as of `as_of`."""
    actual = latest(measurements, as_of)
    if actual is None and measurements:
        return Progress.undefined(f"no actual value measured by {as_of}")
    if targets.get(fiscal_year) is None:
        return Progress.undefined(f"no target for {fiscal_year}")
    return indicator_progress(indicator.baseline_value, targets[fiscal_year], actual.value if actual else None)


def end_of(fiscal_year: int) -> date:
    """Italian public bodies' fiscal year is the calendar year."""
    return date(fiscal_year, 12, 31)


@dataclass(frozen=True)
class NodeProgress:
    node_id: str
    progress: Progress
    indicators_counted: int = 0
    indicators_left_out: int = 0  # own indicators with undefined progress
    children_counted: int = 0
    children_left_out: int = 0  # children with undefined progress


def _mean(members: Sequence[tuple[Fraction, Progress]]) -> Progress:
    total = raw = clamped = Fraction(0)
    for w, p in members:
        # node_progress passes only defined progress, and Progress.of sets both figures.
        assert p.raw is not None and p.clamped is not None
        total += w
        raw += w * p.raw
        clamped += w * p.clamped
    return Progress(raw / total, clamped / total)


def node_progress(node_id: str, own: Sequence[Progress], children: Sequence[tuple[int, Progress]]) -> NodeProgress:
    """The weighted mean of the children's progress by their `weight`, and the mean of the
    node's own indicators counting as one more child of the counted children's mean weight
    (so a vision's own indicator neither drowns nor is drowned by its programmes, whatever
    scale the weights are written in). Raw and clamped are averaged separately: a child far
    over target lifts the raw figure but cannot make up for a lagging sibling when clamped.
    Undefined members are left out, and counted."""
    own_ok = [p for p in own if p.defined]
    kids = [(Fraction(w), p) for w, p in children if p.defined]
    members = list(kids)
    if own_ok:
        weight = sum((w for w, _ in kids), Fraction(0)) / len(kids) if kids else Fraction(1)
        members.append((weight, _mean([(Fraction(1), p) for p in own_ok])))
    if members:
        progress = _mean(members)
    elif not own and not children:
        progress = Progress.undefined("no indicators and no children")
    else:
        progress = Progress.undefined(
            f"none of its {len(own)} indicators and {len(children)} children has progress for the period"
        )
    return NodeProgress(node_id, progress, len(own_ok), len(own) - len(own_ok), len(kids), len(children) - len(kids))


def roll_up(
    root: str, parent_of: Mapping[str, str | None], weights: Mapping[str, int], own: Mapping[str, Sequence[Progress]]
) -> dict[str, NodeProgress]:
    """Progress of `root` and of every node under it, children before parents. `parent_of`
    may hold the whole plan; a node missing from `weights` weighs 1."""
    children_of: dict[str, list[str]] = {}
    for node, parent in sorted(parent_of.items()):
        if parent is not None:
            children_of.setdefault(parent, []).append(node)
    order, seen = [root], {root}
    for node in order:  # breadth first: the list grows as the walk goes down
        for child in children_of.get(node, []):
            if child not in seen:  # cycles are refused on write; never loop here either
                seen.add(child)
                order.append(child)
    done: dict[str, NodeProgress] = {}
    for node in reversed(order):
        kids = [c for c in children_of.get(node, []) if c in done]
        done[node] = node_progress(node, own.get(node, ()), [(weights.get(c, 1), done[c].progress) for c in kids])
    return done


# The one JSON shape of an indicator against its target, shared by the HTTP API and the
# annual review's frozen copy, so a live figure and a closed year's read the same.
def decimal_text(value: Decimal) -> str:
    """'8.5' for numeric's 8.500000: the shortest exact form, never an exponent."""
    return "0" if value == 0 else format(value.normalize(), "f")


def progress_figures(p: Progress) -> dict[str, str | None]:
    return {
        "raw": str(as_decimal(p.raw)) if p.raw is not None else None,
        "clamped": str(as_decimal(p.clamped)) if p.clamped is not None else None,
        "reason": p.reason,
    }


def indicator_figures(
    i: Indicator, fiscal_year: int, target: Decimal | None, actual: Measurement | None, progress: Progress
) -> dict[str, object]:
    return {
        "indicator_id": i.indicator_id,
        "objective_id": i.objective_id,
        "name": i.name,
        "unit": i.unit,
        "direction": i.direction.value,
        "baseline": {"value": decimal_text(i.baseline_value), "year": i.baseline_year},
        "fiscal_year": fiscal_year,
        "target": decimal_text(target) if target is not None else None,
        "actual": None
        if actual is None
        else {
            "measured_on": actual.measured_on.isoformat(),
            "value": decimal_text(actual.value),
            "source": actual.source,
            "comment": actual.comment,
        },
        "progress": progress_figures(progress),
    }


# The target path: where an indicator should be on a given day to reach the year's target.
def expected_share(baseline_year: int, fiscal_year: int, on: date) -> Fraction:
    """The share of the way from baseline to the target of `fiscal_year` the path expects
    by `on`: a straight line in days from the baseline, which stands at the end of its
    year, to the target, due at the end of `fiscal_year`; 0 until the baseline year ends,
    1 from the target's due date on. A target set for the baseline year itself is expected
    whole all that year (the path has no length)."""
    start, due = end_of(baseline_year), end_of(fiscal_year)
    if due <= start:
        return Fraction(1)
    return min(max(Fraction((on - start).days, (due - start).days), Fraction(0)), Fraction(1))


@dataclass(frozen=True)
class PathCheck:
    """One measurement against the target path of the year it falls in."""

    measurement: Measurement
    fiscal_year: int
    target: Decimal
    progress: Fraction  # raw: (value − baseline) / (target − baseline)
    expected: Fraction  # what the path expects by the day measured, 0 to 1
    expected_value: Fraction  # the value on the path that day

    @property
    def behind(self) -> bool:
        """Less progress than the path expects, exactly (no tolerance: a value one unit
        short of the path is behind it)."""
        return self.progress < self.expected


def on_path(indicator: Indicator, targets: Mapping[int, Decimal], m: Measurement) -> PathCheck | None:
    """`m` against the path to its year's target; None when its progress is undefined (no
    target for the year, or a target equal to the baseline: no way to cover), so it is
    neither behind nor on track."""
    year = m.measured_on.year
    target = targets.get(year)
    progress = indicator_progress(indicator.baseline_value, target, m.value)
    if target is None or progress.raw is None:
        return None
    expected = expected_share(indicator.baseline_year, year, m.measured_on)
    baseline = Fraction(indicator.baseline_value)
    return PathCheck(m, year, target, progress.raw, expected, baseline + (Fraction(target) - baseline) * expected)


@dataclass(frozen=True)
class FellBehind:
    check: PathCheck
    previous: Measurement | None  # the value in force before it; None if it is the first


def fell_behind(
    indicator: Indicator, targets: Mapping[int, Decimal], measurements: Sequence[Measurement], m: Measurement
) -> FellBehind | None:
    """Whether recording `m` (already among `measurements`) puts the indicator behind its
    target path when the value in force before it was not behind: on track, undefined, or
    none at all. Only a measurement that becomes the value in force can: one dated before
    the latest corrects history, and the indicator's present is what it was. Each value is
    judged against the path of its own year, with the targets as they stand now."""
    if any(other.measured_on > m.measured_on for other in measurements):
        return None
    check = on_path(indicator, targets, m)
    if check is None or not check.behind:
        return None
    previous = latest((o for o in measurements if o.measured_on < m.measured_on), m.measured_on)
    before = on_path(indicator, targets, previous) if previous is not None else None
    if before is not None and before.behind:
        return None  # already behind: said when it fell behind, not on every value since
    return FellBehind(check, previous)
