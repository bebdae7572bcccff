"""Splitting an amount of cents in proportion to weights, exactly.

Largest remainder (Hamilton's method): everyone gets the floor of their exact quota, and
the cents left over go one each to the largest remainders, ties to the earlier item. The
shares add up to the total to the cent, each is within one cent of its exact quota, a zero
weight gets nothing, and when the total does not exceed the sum of the weights no share
exceeds its weight (so a payment spread over lines never pays a line more than it has).
"""

from collections.abc import Sequence


def split_proportionally(total: int, weights: Sequence[int]) -> list[int]:
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("total and weights must not be negative")
    whole = sum(weights)
    if whole == 0:
        if total == 0:
            return [0] * len(weights)
        raise ValueError(f"cannot split {total} over weights that add up to zero")
    quotas = [divmod(total * w, whole) for w in weights]  # integers only: no float rounding
    shares = [q for q, _ in quotas]
    left_over = total - sum(shares)  # fewer than len(weights), since each remainder < whole
    by_remainder = sorted(range(len(weights)), key=lambda i: (-quotas[i][1], i))
    for i in by_remainder[:left_over]:
        shares[i] += 1
    return shares
