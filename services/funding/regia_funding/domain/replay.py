"""Rebuilding every line's amounts from the ledger alone, to prove the two agree.

The ledger is the source of truth: folding its entries in order must give exactly the
amounts and versions the lines table holds. Any difference is a bug or a tampered row.
And the money must never have changed owner on its way (`owner_changes`).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypedDict


def fold(entries: Iterable[tuple[str, int, int, int]]) -> dict[str, tuple[int, int, int]]:
    """(line, version, committed delta, disbursed delta) in ledger order ->
    line -> (committed, disbursed, version)."""
    lines: dict[str, tuple[int, int, int]] = {}
    for line_id, version, committed_delta, disbursed_delta in entries:
        committed, disbursed, _ = lines.get(line_id, (0, 0, 0))
        lines[line_id] = (committed + committed_delta, disbursed + disbursed_delta, version)
    return lines


class Difference(TypedDict):
    """A line whose amounts the ledger and the lines table disagree on."""

    line_id: str
    from_ledger: tuple[int, int, int] | None
    held: tuple[int, int, int] | None


def differences(rebuilt: dict[str, tuple[int, int, int]], held: dict[str, tuple[int, int, int]]) -> list[Difference]:
    return [
        {"line_id": line_id, "from_ledger": rebuilt.get(line_id), "held": held.get(line_id)}
        for line_id in sorted(set(rebuilt) | set(held))
        if rebuilt.get(line_id) != held.get(line_id)
    ]


# Money never changes owner (rules.py): the two sides of a reallocation share institution,
# instrument and fiscal year; the two sides of a roll-over share institution, instrument
# and objective, one year apart. Lines never change those, so the lines as held now say
# what each side was when the money moved.
_OUT_IN = {"REALLOCATION_OUT": "REALLOCATION_IN", "ROLLOVER_OUT": "ROLLOVER_IN"}
_IN_OUT = {v: k for k, v in _OUT_IN.items()}
MOVE_KINDS = (*_OUT_IN, *_IN_OUT)


@dataclass(frozen=True)
class Owner:
    """Whose money a line holds, and for what."""

    institution_id: str
    instrument_id: str
    objective_id: str
    fiscal_year: int


class OwnerChange(TypedDict):
    """Money that changed owner, as `owner_changes` reports it."""

    entry_id: int
    kind: str | None
    line_id: str
    counterpart_line_id: str | None
    problem: str


@dataclass(frozen=True)
class Move:
    """One side of a reallocation or roll-over, as the ledger recorded it."""

    entry_id: int
    kind: str
    line_id: str
    counterpart_line_id: str | None
    committed_delta_cents: int


def owner_changes(
    moves: Iterable[Move], owners: Mapping[str, Owner], pushed_by_another: Iterable[tuple[int, str, str, str]] = ()
) -> list[OwnerChange]:
    """Money that changed owner: a move whose two sides are not the same institution (or
    instrument, or, for a roll-over, objective and consecutive years; for a reallocation,
    year), a move whose two sides do not balance, and entries an institution pushed on
    another's line ((entry, line, pusher, owner)). Empty when the ledger is sound."""
    found: list[OwnerChange] = []
    balance: dict[tuple[str, str, str], tuple[int, int]] = {}  # (kind, from, to) -> (sum, first entry)
    for move in moves:
        out = move.kind in _OUT_IN
        kind = move.kind if out else _IN_OUT[move.kind]
        other = move.counterpart_line_id or ""
        pair = (kind, move.line_id, other) if out else (kind, other, move.line_id)
        total, first = balance.get(pair, (0, move.entry_id))
        balance[pair] = (total + move.committed_delta_cents, first)
        if out:
            problem = _crossing(kind, owners.get(move.line_id), owners.get(other))
            if problem:
                found.append(_change(move.entry_id, move.kind, move.line_id, move.counterpart_line_id, problem))
    for (kind, source, target), (total, first) in balance.items():
        if total != 0:
            found.append(
                _change(
                    first, kind, source, target, f"the two sides do not balance: {total:+d} cents appeared or vanished"
                )
            )
    for entry_id, line_id, pusher, owner in pushed_by_another:
        found.append(_change(entry_id, None, line_id, None, f"pushed by {pusher!r} on a line of {owner!r}"))
    return sorted(found, key=lambda c: c["entry_id"])


def _crossing(kind: str, source: Owner | None, target: Owner | None) -> str | None:
    if source is None or target is None:
        return "a side of the move is not a line"
    if source.institution_id != target.institution_id:
        return f"money moved from {source.institution_id!r} to {target.institution_id!r}"
    if source.instrument_id != target.instrument_id:
        return f"money moved from instrument {source.instrument_id!r} to {target.instrument_id!r}"
    if kind == "REALLOCATION_OUT" and source.fiscal_year != target.fiscal_year:
        return f"money moved from fiscal year {source.fiscal_year} to {target.fiscal_year}"
    if kind == "ROLLOVER_OUT" and source.objective_id != target.objective_id:
        return f"a roll-over moved money from objective {source.objective_id!r} to {target.objective_id!r}"
    if kind == "ROLLOVER_OUT" and target.fiscal_year != source.fiscal_year + 1:
        return f"a roll-over moved money from fiscal year {source.fiscal_year} to {target.fiscal_year}"
    return None


def _change(entry_id: int, kind: str | None, line_id: str, counterpart: str | None, problem: str) -> OwnerChange:
    counterpart = counterpart or None
    return {
        "entry_id": entry_id,
        "kind": kind,
        "line_id": line_id,
        "counterpart_line_id": counterpart,
        "problem": problem,
    }
