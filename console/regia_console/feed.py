"""The live stream: every Regia topic read from its latest offsets by the console's own
consumer (no group: it commits nothing and takes no partition from any service), the last
envelopes kept in memory, and each new one handed to the browsers listening over SSE.

A broker that is down or slow only empties the events page; the rest of the console does
not depend on it, so the consumer retries in the background instead of failing start-up.

With the topics' owners' keys (REGIA_EVENT_SIGNING_KEYS) the feed shows only what each
topic's owner signed: a forged event (one an outsider wrote to a topic, which no service
applies: regia_shared.messaging.signing) never reaches an administrator's screen either;
it is logged and counted instead. The console holds those keys only to verify: it has no
producer, and the broker lets its user write nothing."""

import asyncio
import json
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer

from regia_shared.messaging import signing
from regia_shared.messaging.security import PLAINTEXT, KafkaSecurity
from regia_shared.observability.logs import get_logger

log = get_logger(__name__)
RETRY_S = 3.0


# Payload fields the events page words its lines with. Only these are kept: never a
# recipient's address, a contact's name or anything else personal from the payload.
_TEXT_FIELDS = (
    "objective_id",
    "title",
    "line_id",
    "institution_id",
    "level",
    "instrument_id",
    "status",
    "previous_status",
    "channel",
    "error",
    "milestone_id",
    "indicator_id",
    "name",
    "unit",
    "value",
    "target_value",
    "due_on",
    "reached_on",
    "partner_id",
    "network_id",
    "counterpart_line_id",
    "role",
    "plan_id",
)
_INT_FIELDS = (
    "fiscal_year",
    "committed_cents",
    "disbursed_cents",
    "need_cents",
    "delta_cents",
    "disbursed_delta_cents",
    "coverage_bp",
    "at_risk_threshold_pct",
    "attempts",
    "days_late",
    "share_bp",
)
_PARTNER_NAMED = ("PartnerRegistered",)  # an institution's own name: public, and what the lines need


def summary(topic: str, value: bytes | None) -> dict | None:
    """What the page shows of an envelope; None when it is not one (never the payload's
    personal data: addresses stay in the notifier's admin API)."""
    try:
        envelope = json.loads(value or b"")
    except ValueError:
        return None
    if not isinstance(envelope, dict) or "type" not in envelope:
        return None
    given = envelope.get("payload")
    payload = given if isinstance(given, dict) else {}
    kind = str(envelope.get("type", ""))[:100]
    facts: dict[str, object] = {}
    for name in _TEXT_FIELDS:
        if isinstance(payload.get(name), str) and (
            name != "name" or kind in _PARTNER_NAMED or "Indicator" in kind or kind == "NetworkFormed"
        ):
            facts[name] = payload[name][:300]
    for name in _INT_FIELDS:
        number = payload.get(name)
        if isinstance(number, int) and not isinstance(number, bool):
            facts[name] = number
    return {
        "topic": topic,
        "type": kind,
        "key": str(envelope.get("key", ""))[:200],
        "occurred_at": str(envelope.get("occurred_at", ""))[:40],
        "producer": str(envelope.get("producer", ""))[:100],
        "event_id": str(envelope.get("event_id", ""))[:40],
        "correlation_id": str(envelope.get("correlation_id", ""))[:200],
        # what the overview needs to put an objective that just went at risk on top
        "status": str(payload.get("status", ""))[:30] if kind == "ObjectiveStatusChanged" else "",
        "objective_id": str(payload.get("objective_id", ""))[:100],
        "facts": facts,
    }


NAMES_KEPT = 10_000


def remember(store: dict, key: str, value: object, kept: int = NAMES_KEPT) -> None:
    """Put `key` in a bounded dict, dropping the oldest entry when it is full."""
    store.pop(key, None)
    if len(store) >= kept:
        store.pop(next(iter(store)))
    store[key] = value


class EventFeed:
    def __init__(
        self,
        bootstrap: str,
        topics: Iterable[str],
        kept: int = 200,
        security: KafkaSecurity = PLAINTEXT,
        keys: signing.EventKeys | None = None,
    ) -> None:
        self.bootstrap, self.topics, self.security = bootstrap, tuple(topics), security
        self.keys = keys  # None: events are shown unverified
        self.forged = 0  # events left out as forged, since start
        self.recent: deque[dict] = deque(maxlen=kept)
        self.went_at_risk: dict[str, float] = {}  # objective id → when the console saw it
        # Names the events page words its lines with, learnt from the events themselves
        # (objective events carry the title, PartnerRegistered the name); the page asks
        # the services for the ones it has not seen. Bounded: ids are chosen by others.
        self.titles: dict[str, str] = {}
        self.names: dict[str, str] = {}
        # The funding change that started a chain (by correlation id): a status change
        # with the same correlation id is worded with its cause.
        self.causes: dict[str, dict] = {}
        self.awaiting: dict[str, list[dict]] = {}  # status changes whose cause has not come yet
        self.listeners: set[asyncio.Queue] = set()
        self.connected = False
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="console-feed")

    def end_streams(self) -> None:
        """Every SSE stream ends: a server stopping must not wait on browsers that never hang up."""
        for queue in list(self.listeners):
            while queue.full():
                queue.get_nowait()
            queue.put_nowait(None)

    async def stop(self) -> None:
        self.end_streams()
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def listen(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=500)
        self.listeners.add(queue)
        return queue

    def unlisten(self, queue: asyncio.Queue) -> None:
        self.listeners.discard(queue)

    def add(self, event: dict) -> None:
        facts = event.get("facts") or {}
        correlation = event.get("correlation_id")
        if event["type"].startswith("Funding") and correlation:
            remember(self.causes, correlation, event)
            # The topics are read in no set order across each other: a status change may
            # have come before the funding change that caused it. It gets its cause now.
            for waiting in self.awaiting.pop(correlation, []):
                waiting.setdefault("cause", event)
        elif event["type"] == "ObjectiveStatusChanged" and correlation:
            if correlation in self.causes:
                event["cause"] = self.causes[correlation]
            else:
                remember(self.awaiting, correlation, [*self.awaiting.get(correlation, [])[-9:], event])
        if isinstance(facts.get("title"), str) and event.get("objective_id") and event["type"].startswith("Objective"):
            remember(self.titles, event["objective_id"], facts["title"])
        if event["type"] == "PartnerRegistered" and facts.get("partner_id") and facts.get("name"):
            remember(self.names, str(facts["partner_id"]), str(facts["name"]))
        self.recent.append(event)
        if event["type"] == "ObjectiveStatusChanged":
            if event["status"] == "AT_RISK":
                self.went_at_risk[event["objective_id"]] = time.time()
            else:
                self.went_at_risk.pop(event["objective_id"], None)
        for queue in list(self.listeners):
            if queue.full():  # a browser that does not read loses events, the console does not stall
                continue
            queue.put_nowait(event)

    def genuine(self, message: Any) -> bool:
        """Whether the record is its topic owner's (always, without keys to tell)."""
        if self.keys is None:
            return True
        forged = self.keys.verify(
            message.topic, message.key, message.value or b"", signing.record_signature(message.headers)
        )
        if forged is None:
            return True
        self.forged += 1
        log.warning("forged event left out of the live page", topic=message.topic, error=forged.error)
        return False

    async def _run(self) -> None:
        while True:
            consumer = AIOKafkaConsumer(
                *self.topics,
                bootstrap_servers=self.bootstrap,
                group_id=None,
                auto_offset_reset="latest",
                enable_auto_commit=False,
                client_id="regia-console",
                **self.security.client_kwargs(),
            )
            try:
                await consumer.start()
                self.connected = True
                async for message in consumer:
                    if not self.genuine(message):
                        continue
                    event = summary(message.topic, message.value)
                    if event is not None:
                        self.add(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker went away: say so once, retry later
                log.warning("event feed interrupted", error=str(exc) or type(exc).__name__)
            finally:
                self.connected = False
                await consumer.stop()
            await asyncio.sleep(RETRY_S)
