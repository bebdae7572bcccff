"""Sending a delivery as a signed webhook request (httpx).

The body is built from the planned delivery (what happened, and why this partner hears) plus the cause event's
and the delivery's ids; it is signed as sent, byte for byte. Anything but a 2xx reply is
a failed attempt, retried like a refused e-mail.
"""

import json
import time

import asyncpg
import httpx

from ..domain.delivery import ClaimedDelivery
from ..domain.signature import sign
from . import webhooks
from .webhooks import SecretBox


class WebhookError(Exception):
    """A webhook attempt that failed without a network error: a non-2xx reply, an
    endpoint since removed, or no key to decrypt its secret."""


SEND_ERRORS = (WebhookError, httpx.HTTPError, OSError, TimeoutError)


def body_of(delivery: ClaimedDelivery) -> bytes:
    # The planned body (type, alert, rules, occurred_at and the occurrence under its own
    # key: objective, line or review) with the ids known only now, ids first.
    planned = json.loads(delivery.body)
    return json.dumps({"event_id": str(delivery.cause_event_id), "delivery_id": str(delivery.delivery_id),
                       **planned}, separators=(",", ":"), ensure_ascii=False).encode()


class WebhookSender:
    def __init__(self, pool: asyncpg.Pool, box: SecretBox | None, timeout_s: float) -> None:
        self._pool, self._box, self._timeout_s = pool, box, timeout_s

    async def send(self, delivery: ClaimedDelivery) -> None:
        if self._box is None:
            raise WebhookError("no key to decrypt the signing secret: set REGIA_NOTIFIER_SECRETS_KEY")
        async with self._pool.acquire() as conn:
            found = await webhooks.target(conn, delivery.recipient)
        if found is None:
            raise WebhookError(f"webhook endpoint {delivery.recipient} was removed")
        url, sealed = found
        try:
            secret = self._box.open(sealed)
        except ValueError as exc:
            raise WebhookError(str(exc)) from None
        body, timestamp = body_of(delivery), int(time.time())
        headers = {"Content-Type": "application/json", "User-Agent": "Regia-Notifier/1",
                   "X-Regia-Delivery-Id": str(delivery.delivery_id),
                   "X-Regia-Event-Id": str(delivery.cause_event_id),
                   "X-Regia-Timestamp": str(timestamp),
                   "X-Regia-Signature": sign(secret, timestamp, body)}
        async with httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False) as client:
            reply = await client.post(url, content=body, headers=headers)
        if not reply.is_success:
            raise WebhookError(f"HTTP {reply.status_code} {reply.reason_phrase}: "
                               f"{reply.text[:200]}".rstrip(": "))
