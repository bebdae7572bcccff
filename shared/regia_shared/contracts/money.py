"""Money is an integer number of euro cents, never a float.

`Cents` is the annotated type for every amount that crosses a boundary: strict (a JSON
float or a numeric string is refused, not rounded) and bounded, so an amount can never
overflow a PostgreSQL BIGINT or silently lose precision in a JavaScript console.

How an amount or a share reads is here too, once, for every place people read one (the
console, the notifier's e-mails, the CLI's messages): Italian by default, English on request.
"""

from typing import Annotated

from pydantic import Field, StrictInt

# A trillion euro: larger than any public budget Regia will ever hold, far below 2**53.
MAX_CENTS = 100_000_000_000_000

Cents = Annotated[StrictInt, Field(ge=0, le=MAX_CENTS, description="Amount in euro cents")]
SignedCents = Annotated[StrictInt, Field(ge=-MAX_CENTS, le=MAX_CENTS, description="Signed amount in euro cents")]


def format_euro(cents: int, language: str = "it") -> str:
    """Cents as a euro amount as the reader's language writes it, exactly (never through a
    float): 123456789 -> '€ 1.234.567,89' in Italian, '€1,234,567.89' in English."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    grouped = f"{whole:,}"
    if language == "it":
        return f"{sign}€ {grouped.replace(',', '.')},{frac:02d}"
    return f"{sign}€{grouped}.{frac:02d}"


def format_percent(basis_points: int, language: str = "it") -> str:
    """Basis points as a percentage with two decimals: 3333 -> '33,33 %' in Italian,
    '33.33%' in English."""
    sign = "-" if basis_points < 0 else ""
    whole, frac = divmod(abs(basis_points), 100)
    return f"{sign}{whole},{frac:02d} %" if language == "it" else f"{sign}{whole}.{frac:02d}%"
