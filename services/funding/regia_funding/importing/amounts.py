"""Euro amounts as OpenCoesione writes them, read into exact integer cents.

OpenCoesione publishes amounts with a decimal comma and, in some extracts, dots between
thousands: `1.234.567,89`, `1234567,89`, `1234567`. They are read with Decimal, never
float, and anything that is not exactly such an amount is refused with a reason instead of
guessed at: `1.5` (a decimal point, or a thousands dot?), three decimals (a cent cannot be
split), a sign, several values in one cell, or text.
"""

import re
from decimal import Decimal

from regia_shared.money import MAX_CENTS, format_euro

MULTI_VALUE_SEPARATOR = ":::"

_PLAIN = re.compile(r"[0-9]+(?:,[0-9]+)?")
_GROUPED = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?")


class AmountError(ValueError):
    """Why a cell is not an amount. The message names no column: the caller knows it."""


def parse_cents(cell: str) -> int:
    """The amount in cents; an empty cell is zero (OpenCoesione leaves unused sources blank)."""
    text = cell.strip()
    if not text:
        return 0
    if MULTI_VALUE_SEPARATOR in text:
        raise AmountError(f"holds several values separated by ':::' ({_short(text)}); "
                          "an amount must be a single number")
    if text[0] in "-−":
        raise AmountError(f"is negative ({_short(text)}); a source of funding cannot be below zero")
    if not (_PLAIN.fullmatch(text) or _GROUPED.fullmatch(text)):
        raise AmountError(f"{_short(text)} is not an amount written as 1234567,89 or 1.234.567,89")
    whole, _, decimals = text.replace(".", "").partition(",")
    if len(decimals) > 2:
        raise AmountError(f"{_short(text)} has {len(decimals)} decimals; euro amounts have at most "
                          "2 (cents)")
    cents = Decimal(f"{whole}.{decimals or '0'}").scaleb(2)
    if cents > MAX_CENTS:
        raise AmountError(f"{_short(text)} is larger than the {format_euro(MAX_CENTS)} Regia accepts")
    return int(cents)


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")
