"""When digests go out. Pure.

A digest is sent at a set local time (Europe/Rome by default: the plan's time zone, so
"daily" follows the recipients' day, daylight saving included); a weekly digest at that
time on a set day of the week (Monday by default).
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def next_digest_at(after: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The first digest time strictly after `after` (an aware datetime)."""
    local = after.astimezone(zone)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=zone)
    return candidate


def next_weekly_digest_at(after: datetime, at: time, weekday: int, zone: ZoneInfo) -> datetime:
    """The first weekly digest time strictly after `after`: `weekday` 0 is Monday."""
    local = after.astimezone(zone)
    days = (weekday - local.weekday()) % 7
    candidate = datetime.combine(local.date() + timedelta(days=days), at, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(candidate.date() + timedelta(days=7), at, tzinfo=zone)
    return candidate


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()
