"""Which fiscal years have ended. Italian public bodies keep their accounts by calendar year
in Italian time, so a fiscal year Y ends at midnight of 1 January Y+1 in Europe/Rome,
whatever zone a server runs in (at 23:30 UTC on 31 December it is already the new year in
Rome). Funding's year-end roll-over and the objectives' annual review both close a year,
and both may do so only once it has ended.

`today` takes a pinned date (a setting, `REGIA_TODAY`, for tests and drills) so that a
check of "not yet" does not depend on the real date; a service reads it through its
settings, never the clock directly."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Rome")


def today(pinned: date | None = None, now: datetime | None = None) -> date:
    """The date in Rome: `pinned` if set, else the date of `now` (default: the clock)."""
    if pinned is not None:
        return pinned
    return (now or datetime.now(UTC)).astimezone(ZONE).date()


def has_ended(year: int, on: date) -> bool:
    return on.year > year
