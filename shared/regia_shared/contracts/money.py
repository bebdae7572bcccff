"""Money is an integer number of euro cents, never a float.

`Cents` is the annotated type for every amount that crosses a boundary: strict (a JSON
float or a numeric string is refused, not rounded) and bounded, so an amount can never
overflow a PostgreSQL BIGINT or silently lose precision in a JavaScript console.
"""

from typing import Annotated

from pydantic import Field, StrictInt

# A trillion euro: larger than any public budget Regia will ever hold, far below 2**53.
MAX_CENTS = 100_000_000_000_000

Cents = Annotated[StrictInt, Field(ge=0, le=MAX_CENTS, description="Amount in euro cents")]
SignedCents = Annotated[StrictInt, Field(ge=-MAX_CENTS, le=MAX_CENTS, description="Signed amount in euro cents")]


def format_euro(cents: int) -> str:
    """Render cents as an Italian-style euro amount: 1234567 -> '€ 12.345,67'."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", ".")
    return f"{sign}€ {grouped},{frac:02d}"
