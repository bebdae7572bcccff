"""What `as_of=` means on a read: an instant, from an ISO date or date-time. Pure.

A date is the whole of that day in Italian time (the plan's, see
regia_shared.contracts.fiscal): `as_of=2027-03-01` is how things stood at the end of 1
March in Rome, everything recorded that day included. A date-time without an offset is
Rome's time too; one with an offset (`Z`, `+01:00`) is that instant."""

from datetime import date, datetime, time, timedelta

from regia_shared.contracts.fiscal import ZONE

from .errors import InvalidQuery

_FIELD = "query.as_of"


def instant(text: str) -> datetime:
    """The last instant `text` covers, timezone-aware; InvalidQuery naming `as_of` otherwise."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            # The next midnight in Rome, less the database's resolution (one microsecond):
            # `recorded_at <= it` holds for everything recorded on that day and nothing after.
            return datetime.combine(day + timedelta(days=1), time(0), ZONE) - timedelta(microseconds=1)
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidQuery(
            f"as_of must be an ISO date (2027-03-01) or date-time (2027-03-01T18:00:00+01:00), not {text!r}", _FIELD
        ) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZONE)
