"""When digests go out and how waiting alerts are grouped into messages. Pure."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from regia_notifier.domain.digest import next_digest_at, next_weekly_digest_at
from regia_notifier.domain.waiting import Waiting, message_id, messages

ROME = ZoneInfo("Europe/Rome")


def test_the_next_digest_is_the_next_local_time_strictly_after() -> None:
    eight = time(8, 0)
    assert next_digest_at(datetime(2026, 11, 25, 6, 59, tzinfo=UTC), eight, ROME) == datetime(
        2026, 11, 25, 8, 0, tzinfo=ROME
    )  # 07:59 in Rome
    assert next_digest_at(datetime(2026, 11, 25, 7, 0, tzinfo=UTC), eight, ROME) == datetime(
        2026, 11, 26, 8, 0, tzinfo=ROME
    )  # exactly 08:00 in Rome: tomorrow's


def test_digest_time_follows_daylight_saving() -> None:
    summer = next_digest_at(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), time(8, 0), ROME)
    winter = next_digest_at(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), time(8, 0), ROME)
    assert summer.astimezone(UTC).hour == 6 and winter.astimezone(UTC).hour == 7


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)), st.times())
def test_the_next_digest_is_within_a_day_and_after(after: datetime, at: time) -> None:
    due = next_digest_at(after, at, ROME)
    assert after < due and (due - after).total_seconds() <= 25 * 3600


def waiting(email: str, minute: int, cause: uuid.UUID | None = None, rules: tuple[str, ...] = ("r",)) -> Waiting:
    return Waiting(
        cause or uuid.uuid4(),
        email,
        "c",
        "p",
        "Name",
        "it",
        "corr",
        None,
        "status_changed",
        rules,
        f"s{minute}",
        f"t{minute}",
        f"<p>{minute}</p>",
        datetime(2026, 11, 25, 10, minute, tzinfo=UTC),
    )


def test_the_weekly_digest_is_on_its_day_at_the_digest_time_strictly_after() -> None:
    eight, monday = time(8, 0), 0
    # Wednesday 25 November 2026: next Monday, 30 November, 08:00 in Rome.
    assert next_weekly_digest_at(datetime(2026, 11, 25, 12, 0, tzinfo=UTC), eight, monday, ROME) == datetime(
        2026, 11, 30, 8, 0, tzinfo=ROME
    )
    # Monday 08:00 in Rome exactly: the next Monday's.
    assert next_weekly_digest_at(datetime(2026, 11, 30, 7, 0, tzinfo=UTC), eight, monday, ROME) == datetime(
        2026, 12, 7, 8, 0, tzinfo=ROME
    )


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
    st.times(),
    st.integers(0, 6),
)
def test_the_next_weekly_digest_is_within_a_week_and_on_its_day(after: datetime, at: time, weekday: int) -> None:
    due = next_weekly_digest_at(after, at, weekday, ROME)
    assert after < due and (due - after).total_seconds() <= 7 * 24 * 3600 + 3600 and due.weekday() == weekday


def test_one_message_per_address_and_cadence_oldest_alert_first_with_every_rule() -> None:
    a1, a2 = waiting("a@x.it", 5, rules=("r2",)), waiting("A@x.it", 1)
    b = waiting("b@x.it", 3)
    digests = messages([a1, b, a2])
    assert [(d.email, [w.subject for w in d.items]) for d in digests] == [("a@x.it", ["s1", "s5"]), ("b@x.it", ["s3"])]
    assert digests[0].rules == ("r", "r2") and digests[0].latest is a1


def test_the_same_alerts_make_the_same_message_id() -> None:
    c1, c2 = uuid.uuid4(), uuid.uuid4()
    assert message_id("A@x.it", [c1, c2]) == message_id("a@x.it", [c2, c1]) != message_id("a@x.it", [c1])


def test_alerts_queued_together_keep_the_order_they_were_queued_in_whatever_their_ids() -> None:
    # One consumer batch: PARTIALLY_FUNDED → AT_RISK, then AT_RISK → UNFUNDED, same created_at.
    # Read by id, the second could come first and the net change would vanish.
    first, then = waiting("a@x.it", 1), waiting("a@x.it", 1)
    first, then = replace(first, seq=7), replace(then, seq=8)
    for queued in ([first, then], [then, first]):
        [message] = messages(queued)
        assert [w.seq for w in message.items] == [7, 8]
