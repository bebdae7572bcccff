"""Sending a delivery as a signed webhook request (httpx).

The body is built from the planned delivery (what happened, and why this partner hears) plus the cause event's
and the delivery's ids; it is signed as sent, byte for byte. Anything but a 2xx reply is
a failed attempt, retried like a refused e-mail.

A partner's endpoint must not be able to hurt the notifier or the other partners, so a
call is bounded in time and in memory. The whole call (looking up the endpoint, connecting,
sending, the reply's headers and an error's first bytes) has one time limit, after which
the connection is dropped and the attempt has failed: httpx's own timeouts are per read,
which a reply trickling in a byte at a time never trips (such a call once outlived its
claim and was sent again alongside). The reply's status decides the outcome; of its body
only the first few KiB of an error are read, for the attempt's error, and the connection
is then closed: an endpoint answering with hundreds of megabytes costs nothing more.
"""

import asyncio
import json
import time
from collections.abc import Sequence

import asyncpg
import httpx

from ..domain.delivery import ClaimedDelivery
from ..domain.signature import sign
from ..domain.webhook_targets import Network, WebhookTargetRefused, check_target, host_of, pinned
from . import webhooks
from .resolver import addresses_of
from .webhooks import SecretBox

REPLY_READ_LIMIT = 4 * 1024  # bytes of an error reply read at most: 200 characters in any UTF-8
ERROR_TEXT_CHARS = 200  # of an error reply's body, kept in the attempt's error


# Adapter-internal, not in domain.errors: a failed call, retried like a network error; no domain rule refuses it.
class WebhookError(Exception):
    """A webhook attempt that failed without a network error: a non-2xx reply, an
    endpoint since removed, or no key to decrypt its secret."""


SEND_ERRORS = (WebhookError, httpx.HTTPError, OSError, TimeoutError)


def body_of(delivery: ClaimedDelivery) -> bytes:
    # The planned body (type, alert, rules, occurred_at and the occurrence under its own
    # key: objective, line or review) with the ids known only now, ids first.
    planned = json.loads(delivery.body)
    return json.dumps(
        {"event_id": str(delivery.cause_event_id), "delivery_id": str(delivery.delivery_id), **planned},
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


class WebhookSender:
    def __init__(
        self, pool: asyncpg.Pool, box: SecretBox | None, timeout_s: float, allowed: Sequence[Network] = ()
    ) -> None:
        self._pool, self._box, self._timeout_s = pool, box, timeout_s
        self._allowed = tuple(allowed)

    async def send(self, delivery: ClaimedDelivery, *, deadline: float | None = None) -> None:
        """One call, over within the time limit, or by `deadline` (event-loop time) if that
        comes first: the dispatcher's claim must outlast the call (see service_layer.dispatching)."""
        loop = asyncio.get_running_loop()
        limit = self._timeout_s if deadline is None else min(self._timeout_s, deadline - loop.time())
        timeout = asyncio.timeout(max(0.0, limit))
        try:
            async with timeout:
                await self._call(delivery)
        except TimeoutError:
            if not timeout.expired():
                raise
            raise WebhookError(f"no complete reply within the {limit:.3g} s time limit") from None

    async def _call(self, delivery: ClaimedDelivery) -> None:
        if self._box is None:
            raise WebhookError("no key to decrypt the signing secret: set REGIA_NOTIFIER_SECRETS_KEY")
        async with self._pool.acquire() as conn:
            found = await webhooks.target(conn, delivery.recipient)
        if found is None:
            raise WebhookError(f"webhook endpoint {delivery.recipient} was removed")
        url, sealed = found
        # Checked again at each call, not only at registration: a name can be made to
        # resolve elsewhere since (and a network allowed then may no longer be).
        host, port = host_of(url)
        addresses = await addresses_of(host, port)
        try:
            check_target(url, addresses, self._allowed)
        except WebhookTargetRefused as refused:
            raise WebhookError(f"not sent: {refused.message}") from None
        try:
            secret = self._box.open(sealed)
        except ValueError as exc:
            raise WebhookError(str(exc)) from None
        body, timestamp = body_of(delivery), int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Regia-Notifier/1",
            # Uncompressed: the few KiB of an error reply read must be its first few
            # KiB, not what a small compressed chunk inflates to.
            "Accept-Encoding": "identity",
            "X-Regia-Delivery-Id": str(delivery.delivery_id),
            "X-Regia-Event-Id": str(delivery.cause_event_id),
            "X-Regia-Timestamp": str(timestamp),
            "X-Regia-Signature": sign(secret, timestamp, body),
        }
        # Connect to an address just checked, not to whatever the name resolves to a moment
        # later (domain.webhook_targets.pinned); the next one if it refuses the connection,
        # as a client would try a name's addresses in turn.
        async with httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False) as client:
            for n, address in enumerate(addresses):
                target = pinned(url, address)
                try:
                    async with client.stream(
                        "POST",
                        target.url,
                        content=body,
                        headers={**headers, "Host": target.host_header},
                        extensions={"sni_hostname": target.server_name},
                    ) as reply:
                        if reply.is_success:
                            return  # the body is not read: leaving the block closes the connection
                        head = await _first_bytes(reply, REPLY_READ_LIMIT)
                        break
                except httpx.ConnectError:
                    if n == len(addresses) - 1:
                        raise
        try:
            text = head.decode(reply.charset_encoding or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know
            text = head.decode("utf-8", errors="replace")
        text = text[:ERROR_TEXT_CHARS]
        raise WebhookError(f"HTTP {reply.status_code} {reply.reason_phrase}: {text}".rstrip(": "))


async def _first_bytes(reply: httpx.Response, limit: int) -> bytes:
    """At most `limit` bytes of the reply's body, as sent (raw: no decompression), reading
    no further: httpx reads the network 64 KiB at a time, so that bounds the memory too."""
    head = bytearray()
    async for chunk in reply.aiter_raw():
        head += chunk[: limit - len(head)]
        if len(head) >= limit:
            break
    return bytes(head)
