"""When a send's end wakes the dispatcher for another look (`Dispatch.changed`).

Each look is a claim and a read of the next due time: two round trips to PostgreSQL. A
send that went, or failed for good, leaves nothing due, so it must not call for one; a
failure that will be retried, a slot a claim was waiting for, and an outcome that could
not be recorded must. The claim, the mailer and the recording are stand-ins here: what is
under test is only the decision to wake (the sends themselves are in tests/integration
and tests/faults)."""

import asyncio
import uuid
from typing import Any

import aiosmtplib
import pytest

from regia_notifier.domain.delivery import ClaimedDelivery
from regia_notifier.domain.errors import UnusableAddress
from regia_notifier.domain.retry import RetryPolicy
from regia_notifier.service_layer.dispatching import Dispatch


def delivery() -> ClaimedDelivery:
    return ClaimedDelivery(
        delivery_id=uuid.uuid4(),
        attempt=1,
        cause_event_id=uuid.uuid4(),
        correlation_id="c",
        channel="email",
        recipient="maria.rossi@regione.liguria.it",
        recipient_name="Maria Rossi",
        language="it",
        subject="oggetto",
        body="testo",
    )


class Mailer:
    sender = "regia@example.org"

    def __init__(self, fails: BaseException | None = None) -> None:
        self.fails = fails
        self.sent = 0
        self.release = asyncio.Event()

    async def send(self, recipient: str, message: Any, *, deadline: float | None = None) -> None:
        await self.release.wait()
        if self.fails is not None:
            raise self.fails
        self.sent += 1

    async def close(self) -> None:
        pass


class Outcomes:
    def __init__(self, fails: bool = False) -> None:
        self.fails = fails
        self.recorded: list[Any] = []

    async def submit(self, tried: Any) -> None:
        if self.fails:
            raise ConnectionError("the database went away")
        self.recorded.append(tried)


def dispatch(
    mailer: Mailer, *, due: int = 1, batch: int = 4, outcomes: Outcomes | None = None
) -> tuple[Dispatch, list[int]]:
    """A dispatcher with `batch` slots and `due` deliveries waiting, and the limits it claimed with."""
    work = Dispatch(None, mailer, RetryPolicy(5, 1.0, 60.0), lease_s=60, batch=batch)  # type: ignore[arg-type]
    claims: list[int] = []
    queue = [delivery() for _ in range(due)]

    async def claim(limit: int) -> tuple[list[ClaimedDelivery], bool]:
        claims.append(limit)
        taken, queue[:] = queue[:limit], queue[limit:]
        return taken, len(taken) == limit  # all it asked for: more may be due

    async def reap_expired() -> list:
        return []

    work.claim = claim  # type: ignore[method-assign]
    work.reap_expired = reap_expired  # type: ignore[method-assign]
    work._outcomes = outcomes or Outcomes()  # type: ignore[assignment]
    return work, claims


async def one_send(work: Dispatch, mailer: Mailer) -> bool:
    """Claim what is due and let the sends end: whether that called for another look."""
    more = await work.run_once()
    work.changed.clear()
    mailer.release.set()
    await asyncio.gather(*list(work._tasks))
    assert more is False  # one delivery, four slots: nothing left behind
    return work.changed.is_set()


@pytest.mark.parametrize("fails", [None, UnusableAddress("an address that cannot be written")])
async def test_a_send_that_went_or_failed_for_good_calls_for_no_look(fails: BaseException | None) -> None:
    mailer = Mailer(fails)
    work, claims = dispatch(mailer)
    assert await one_send(work, mailer) is False
    assert claims == [4]


async def test_a_failure_to_be_retried_calls_for_a_look_at_the_next_due_time() -> None:
    mailer = Mailer(aiosmtplib.SMTPResponseException(451, "try again later"))
    work, _ = dispatch(mailer)
    assert await one_send(work, mailer) is True


async def test_a_slot_freed_while_due_work_waits_for_one_calls_for_a_claim() -> None:
    mailer = Mailer()
    work, claims = dispatch(mailer, due=4, batch=4)
    assert await work.run_once() is True  # took all four it asked for: more may be due
    assert work.free_slots == 0 and work.waiting_for_slots
    work.changed.clear()
    assert await work.run_once() is False  # no slot: waits for one
    mailer.release.set()
    await asyncio.gather(*list(work._tasks))
    assert work.changed.is_set()
    assert claims == [4]


async def test_an_outcome_not_recorded_calls_for_a_look() -> None:
    mailer = Mailer()
    work, _ = dispatch(mailer, outcomes=Outcomes(fails=True))
    assert await one_send(work, mailer) is True
