"""The live stream: every Regia topic read from its latest offsets by the console's own
consumer (no group: it commits nothing and takes no partition from any service), the last
envelopes kept in memory, and each new one handed to the browsers listening over SSE.

A broker that is down or slow only empties the events page; the rest of the console does
not depend on it, so the consumer retries in the background instead of failing start-up."""

import asyncio
import json
import time
from collections import deque
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer

from regia_shared.observability.logs import get_logger

log = get_logger(__name__)
RETRY_S = 3.0


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
    return {
        "topic": topic,
        "type": str(envelope.get("type", ""))[:100],
        "key": str(envelope.get("key", ""))[:200],
        "occurred_at": str(envelope.get("occurred_at", ""))[:40],
        "producer": str(envelope.get("producer", ""))[:100],
        "event_id": str(envelope.get("event_id", ""))[:40],
        # what the overview needs to put an objective that just went at risk on top
        "status": str(payload.get("status", ""))[:30] if envelope.get("type") == "ObjectiveStatusChanged" else "",
        "objective_id": str(payload.get("objective_id", ""))[:100],
    }


class EventFeed:
    def __init__(self, bootstrap: str, topics: Iterable[str], kept: int = 200) -> None:
        self.bootstrap, self.topics = bootstrap, tuple(topics)
        self.recent: deque[dict] = deque(maxlen=kept)
        self.went_at_risk: dict[str, float] = {}  # objective id → when the console saw it
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

    async def _run(self) -> None:
        while True:
            consumer = AIOKafkaConsumer(
                *self.topics,
                bootstrap_servers=self.bootstrap,
                group_id=None,
                auto_offset_reset="latest",
                enable_auto_commit=False,
                client_id="regia-console",
            )
            try:
                await consumer.start()
                self.connected = True
                async for message in consumer:
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
