"""The dispatcher's use cases: claim due deliveries, attempt them, and record the outcomes.

Sending is a pipeline, not rounds: a delivery is claimed when a sending slot is free and
sent at once, so a slow recipient holds up only its own slot (in rounds of sends awaited
together, every round waited for its slowest send, which capped the rate far below what
the SMTP server took). Outcomes that arrive together are recorded together, in one
transaction (regia_shared.messaging.batching): the attempt rows, the deliveries' new statuses and,
for those that ended, AlertDelivered / AlertFailed in the outbox, each with one statement.
Recorded one by one, each outcome cost a transaction of five round trips.

One partner's webhook endpoint cannot take the others' turn: a claim gives an endpoint at
most `per_endpoint` calls under way (deliveries.claim_due), so a slow one holds a few
slots, not all of them, and its backlog is passed over rather than claimed to wait.

The claim outlasts the send. A delivery's claim (its lease) is what stops another replica,
or this one's reaper, from taking it again: once it runs out, the delivery is retried.
A send still open then would be sent twice at once, so every send, a webhook call or an
e-mail, must be over a quarter of the lease before the claim ends
(domain.retry.SEND_SHARE_OF_LEASE), counted from before the claim was asked for; the
quarter left is the margin for recording the outcome. A webhook call's own time limit is
shorter still (the settings require it). An e-mail's REGIA_SMTP_TIMEOUT_S bounds each SMTP
step, not the exchange, so a server slow at every step is cut at that deadline: a failed
attempt, retried with back-off (why cutting an SMTP exchange is safe: adapters.smtp).
"""

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import asyncpg

from regia_shared.messaging.batching import Batcher
from regia_shared.observability.logs import get_logger

from ..adapters import deliveries, smtp, webhook_sender
from ..adapters.smtp import SmtpMailer, compose, describe
from ..adapters.webhook_sender import WebhookError, WebhookSender
from ..domain.delivery import ClaimedDelivery, Concluded
from ..domain.errors import Undeliverable
from ..domain.preference_links import PreferenceLinks, unsubscribe_kinds
from ..domain.retry import SEND_SHARE_OF_LEASE, AttemptOutcome, RetryPolicy
from . import outcome_recording
from .outcome_recording import Tried

log = get_logger(__name__)
# Expired claims appear only a lease after their dispatcher died; looking for them once
# a second, not every round, keeps a transaction off the busy path.
REAP_EVERY_S = 1.0


class Dispatch:
    def __init__(
        self,
        pool: asyncpg.Pool,
        mailer: SmtpMailer,
        policy: RetryPolicy,
        *,
        lease_s: float,
        batch: int,
        rand: Callable[[], float] = random.random,
        webhooks: WebhookSender | None = None,
        per_endpoint: int | None = None,
        on_concluded: Callable[[Concluded], None] = lambda _: None,
        links: PreferenceLinks | None = None,
    ) -> None:
        self._pool, self._mailer, self._policy = pool, mailer, policy
        self._links = links  # None: e-mails go without a one-click unsubscribe (no key set)
        self._webhooks = webhooks
        self._lease_s, self.batch, self._rand = lease_s, batch, rand
        self._per_endpoint = batch if per_endpoint is None else per_endpoint
        self._on_concluded = on_concluded
        self._reaped_at = float("-inf")
        self._sending = 0  # sends under way: what the slots bound
        self._tasks: set[asyncio.Task] = set()  # each delivery until its outcome is recorded
        self._outcomes: Batcher[Tried] = Batcher(self._record, name="notifier:outcomes")
        self.changed = asyncio.Event()  # a slot freed that a claim wants, or more became due
        # Whether the last look left due work behind for want of a slot (all slots, or an
        # endpoint's, were taken): only then does a send ending call for another look.
        self._wants_slot = False

    @property
    def free_slots(self) -> int:
        return self.batch - self._sending

    @property
    def waiting_for_slots(self) -> bool:
        """Too few slots free to be worth a claim: claims are batched, so with most slots
        busy the next claim waits for a quarter of them to free."""
        return self._sending > 0 and self.free_slots < max(1, self.batch // 4)

    async def reap_expired(self) -> list[Concluded]:
        """Conclude, as abandoned, the attempts whose claim ran out."""
        if time.monotonic() - self._reaped_at < REAP_EVERY_S:
            return []
        async with self._pool.acquire() as conn, conn.transaction():
            expired = await deliveries.lock_expired(conn, self.batch)
            error = f"no outcome within the {self._lease_s:g} s claim: the dispatcher stopped mid-attempt"
            now = datetime.now(UTC)
            done = await outcome_recording.record(
                conn, [Tried(d, AttemptOutcome.ABANDONED, error, now, None) for d in expired], self._policy, self._rand
            )
        # Only a reap that found nothing waits a second: a full one may have left more.
        if len(expired) < self.batch:
            self._reaped_at = time.monotonic()
        return done

    async def claim(self, limit: int) -> tuple[list[ClaimedDelivery], bool]:
        """The deliveries claimed, and whether more may be due now."""
        async with self._pool.acquire() as conn:
            return await deliveries.claim_due(conn, limit, self._lease_s, self._per_endpoint)

    async def attempt(self, delivery: ClaimedDelivery, deadline: float | None = None) -> Tried:
        """Send once, over by `deadline` (event-loop time); never raises (a failure is an
        outcome to record)."""
        started_at, clock = datetime.now(UTC), time.perf_counter()
        permanent = False
        try:
            await self._send(delivery, deadline)
            outcome, error = AttemptOutcome.SENT, None
        except Undeliverable as exc:  # no retry can cure it: dead now, saying why
            outcome, error, permanent = AttemptOutcome.FAILED, describe(exc), True
        except smtp.SEND_ERRORS + webhook_sender.SEND_ERRORS as exc:
            outcome, error = AttemptOutcome.FAILED, describe(exc)
        except Exception as exc:
            # A bug (say, a message that cannot be composed) is still a failed attempt on
            # record, retried and in the end DEAD, not a claim left to expire unexplained.
            log.exception("delivery attempt crashed", delivery_id=str(delivery.delivery_id))
            outcome, error = AttemptOutcome.FAILED, f"internal error: {describe(exc)}"
        return Tried(delivery, outcome, error, started_at, int((time.perf_counter() - clock) * 1000), permanent)

    async def _send(self, delivery: ClaimedDelivery, deadline: float | None) -> None:
        if delivery.channel == "webhook":
            if self._webhooks is None:
                raise WebhookError("this dispatcher sends no webhooks")
            await self._webhooks.send(delivery, deadline=deadline)
        else:
            message = compose(delivery, self._mailer.sender, self._unsubscribe_url(delivery))
            await self._mailer.send(delivery.recipient, message, deadline=deadline)

    def _unsubscribe_url(self, delivery: ClaimedDelivery) -> str | None:
        """The one-click unsubscribe of an e-mail to a contact, dated the day it is sent
        (so a retry days later still carries a fresh link)."""
        if self._links is None or delivery.contact_id is None:
            return None
        kinds = unsubscribe_kinds(delivery.kind, delivery.trigger)
        return self._links.unsubscribe(delivery.contact_id, kinds, datetime.now(UTC).date())

    async def run_once(self) -> bool:
        """Reap, then claim as many due deliveries as there are free slots and start
        sending them. True when more may be due: it took all it asked for, or passed over
        due calls to an endpoint it filled up."""
        for concluded in await self.reap_expired():
            self._on_concluded(concluded)
        if self.waiting_for_slots:
            self._wants_slot = True
            return False
        asked = self.free_slots
        # Taken before the claim is asked for, so the claim's lease (counted by the
        # database from a later instant) surely ends after the send's deadline.
        deadline = asyncio.get_running_loop().time() + self._lease_s * SEND_SHARE_OF_LEASE
        claimed, more = await self.claim(asked)
        self._wants_slot = more
        self._sending += len(claimed)
        for delivery in claimed:
            task = asyncio.create_task(self._deliver(delivery, deadline), name=f"notifier:send:{delivery.delivery_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return more

    async def _deliver(self, delivery: ClaimedDelivery, deadline: float) -> None:
        try:
            tried = await self.attempt(delivery, deadline)
        finally:
            # The slot is free once the send is over: recording the outcome (grouped with
            # others, below) must not hold up the next send, and the claim keeps the row.
            self._sending -= 1
            if self._wants_slot:
                self.changed.set()
        try:
            await self._outcomes.submit(tried)
        except Exception as exc:
            # Recording failed (the database went away): the claim expires and is retried.
            log.warning("delivery outcome not recorded", delivery_id=str(delivery.delivery_id), error=repr(exc))
            self.changed.set()
            return
        # A failure recorded is a retry due soon, which the dispatcher, asleep until the
        # next due time it read while this row was still claimed, must look at again. A
        # send that went, or failed for good, leaves nothing due: waking for it cost a claim
        # and a look at the next due time that found nothing, twice a delivery (four of the
        # six statements the dispatcher made for each e-mail at a steady rate).
        if tried.outcome is not AttemptOutcome.SENT and not tried.permanent:
            self.changed.set()

    async def _record(self, tried: Sequence[Tried]) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            concluded = await outcome_recording.record(conn, tried, self._policy, self._rand)
        for c in concluded:  # after the commit: a rolled-back outcome is not counted
            self._on_concluded(c)

    async def pause(self, longest_s: float) -> float:
        """How long to sleep before the next round if nothing wakes us sooner."""
        async with self._pool.acquire() as conn:
            due_in = await deliveries.seconds_until_next_due(conn)
        # A small floor: a due row locked by another replica must not make us spin.
        return longest_s if due_in is None else min(longest_s, max(0.05, due_in))

    async def close(self) -> None:
        """Stop sending: an attempt cut short keeps its claim, which expires and is retried."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._mailer.close()
