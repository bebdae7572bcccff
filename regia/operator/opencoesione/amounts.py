"""Euro amounts as OpenCoesione writes them, read into exact integer cents.

OpenCoesione publishes amounts with a decimal comma and, in some extracts, dots between
thousands: `1.234.567,89`, `1234567,89`, `1234567`. The digits are read as integers (as
exact as Decimal, never a float, and cheap enough for a million rows), and anything that
is not exactly such an amount is refused with a reason instead of guessed at: `1.5` (a
decimal point, or a thousands dot?), three decimals (a cent cannot be split), a sign,
several values in one cell, or text.
"""

import re

from regia_shared.contracts.money import MAX_CENTS, format_euro

MULTI_VALUE_SEPARATOR = ":::"

_GROUPED_WHOLE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+")


class AmountError(ValueError):
    """Why a cell is not an amount. The message names no column: the caller knows it."""


def parse_cents(cell: str) -> int:
    """The amount in cents; an empty cell is zero (OpenCoesione leaves unused sources blank)."""
    text = cell.strip()
    if not text:
        return 0
    whole, comma, decimals = text.partition(",")
    if "." in whole and _GROUPED_WHOLE.fullmatch(whole):
        whole = whole.replace(".", "")
    if not (_digits(whole) and (_digits(decimals) or not comma)):
        raise AmountError(_why_not(text))
    if len(decimals) > 2:
        raise AmountError(f"{_short(text)} has {len(decimals)} decimals; euro amounts have at most 2 (cents)")
    cents = int(whole) * 100 + int(decimals.ljust(2, "0"))
    if cents > MAX_CENTS:
        raise AmountError(f"{_short(text)} is larger than the {format_euro(MAX_CENTS)} Regia accepts")
    return cents


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()  # isdigit alone would let '²' or '٣' in


def _why_not(text: str) -> str:
    if MULTI_VALUE_SEPARATOR in text:
        return f"holds several values separated by ':::' ({_short(text)}); an amount must be a single number"
    if text[0] in "-−":
        return f"is negative ({_short(text)}); a source of funding cannot be below zero"
    return f"{_short(text)} is not an amount written as 1234567,89 or 1.234.567,89"


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")
