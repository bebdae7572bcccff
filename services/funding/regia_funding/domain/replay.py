"""Rebuilding every line's amounts from the ledger alone, to prove the two agree.

The ledger is the source of truth: folding its entries in order must give exactly the
amounts and versions the lines table holds. Any difference is a bug or a tampered row.
"""

from collections.abc import Iterable


def fold(entries: Iterable[tuple[str, int, int, int]]) -> dict[str, tuple[int, int, int]]:
    """(line, version, committed delta, disbursed delta) in ledger order ->
    line -> (committed, disbursed, version)."""
    lines: dict[str, tuple[int, int, int]] = {}
    for line_id, version, committed_delta, disbursed_delta in entries:
        committed, disbursed, _ = lines.get(line_id, (0, 0, 0))
        lines[line_id] = (committed + committed_delta, disbursed + disbursed_delta, version)
    return lines


def differences(rebuilt: dict[str, tuple[int, int, int]], held: dict[str, tuple[int, int, int]]) -> list[dict]:
    return [
        {"line_id": line_id, "from_ledger": rebuilt.get(line_id), "held": held.get(line_id)}
        for line_id in sorted(set(rebuilt) | set(held))
        if rebuilt.get(line_id) != held.get(line_id)
    ]
