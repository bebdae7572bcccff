"""`regia up`'s restart policy and its memory of what the embedded broker may have lost."""

import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from regia.local.stack import BrokerIncarnations
from regia.local.supervision import CRASH_LOOP, MAX_DELAY_S, QUICK_S, Restarts, how_it_ended
from regia_shared.http.outbox_replay import ReplayRequest


def test_quick_deaths_double_the_wait_up_to_a_cap_and_are_called_a_crash_loop() -> None:
    history = Restarts()
    waits = [history.died(uptime_s=2) for _ in range(10)]
    assert waits[:4] == [1, 2, 4, 8]
    assert max(waits) == MAX_DELAY_S and waits[-1] == MAX_DELAY_S
    assert history.crash_looping and history.quick_deaths == 10 >= CRASH_LOOP


def test_a_child_that_stayed_up_starts_again_from_the_short_wait() -> None:
    history = Restarts()
    for _ in range(5):
        history.died(uptime_s=1)
    assert history.died(uptime_s=QUICK_S + 1) == 1
    assert not history.crash_looping


def test_how_a_child_ended_reads_like_a_shell() -> None:
    assert how_it_ended(-signal.SIGKILL) == "killed by SIGKILL"
    assert how_it_ended(3) == "exit status 3"


def test_the_lost_since_instant_moves_only_once_every_service_republished(tmp_path: Path) -> None:
    marker = tmp_path / "broker-lost-since"
    incarnations = BrokerIncarnations(marker)
    assert incarnations.lost_since() == BrokerIncarnations.EVERYTHING  # a new data dir: all of it
    first = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    incarnations.broker_started(first, ["funding", "objectives"])
    incarnations.republished("funding")
    assert incarnations.lost_since() == BrokerIncarnations.EVERYTHING, "objectives has not answered"
    incarnations.republished("objectives")
    assert incarnations.lost_since() == first
    # The broker dies again before anyone republished: the older instant stays.
    incarnations.broker_started(datetime(2026, 3, 1, 10, 0, tzinfo=UTC), ["funding"])
    assert incarnations.lost_since() == first


def test_a_replay_names_exactly_one_instant() -> None:
    assert ReplayRequest(published_since="2026-03-01T09:30:00+00:00").since is None
    assert ReplayRequest(since="2026-03-01T09:30:00+00:00").published_since is None
    for wrong in ({}, {"since": "2026-03-01T09:30:00+00:00", "published_since": "2026-03-01T09:30:00+00:00"}):
        with pytest.raises(ValidationError, match="exactly one"):
            ReplayRequest(**wrong)
