"""What one webhook endpoint may take: the settings that bound it, and the bounded read of
an error reply (the integration of both is in tests/faults/test_webhook_endpoint_misbehaves)."""

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError

from regia_notifier.adapters.webhook_sender import _first_bytes
from regia_notifier.config import NotifierSettings


def settings(**env: str) -> NotifierSettings:
    return NotifierSettings(**{"REGIA_DATABASE_URL": "postgresql://x@localhost/x", **env})  # type: ignore[arg-type]


def test_the_defaults_bound_an_endpoint_to_a_few_slots_and_a_call_well_inside_its_claim() -> None:
    s = settings()
    assert s.webhook_concurrency == 4 < s.concurrency
    assert s.webhook_timeout_s <= s.lease_s * 0.75


def test_a_webhook_time_limit_without_a_margin_before_the_lease_is_refused() -> None:
    with pytest.raises(
        ValidationError,
        match="REGIA_NOTIFIER_WEBHOOK_TIMEOUT_S must be at most three quarters of REGIA_NOTIFIER_LEASE_S",
    ):
        settings(REGIA_NOTIFIER_LEASE_S="40", REGIA_NOTIFIER_WEBHOOK_TIMEOUT_S="35")
    assert settings(REGIA_NOTIFIER_LEASE_S="40", REGIA_NOTIFIER_WEBHOOK_TIMEOUT_S="30").lease_s == 40
    with pytest.raises(ValidationError, match="REGIA_NOTIFIER_WEBHOOK_CONCURRENCY"):
        settings(REGIA_NOTIFIER_WEBHOOK_CONCURRENCY="0")


async def test_only_the_first_bytes_of_a_reply_are_read() -> None:
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            yield b"x" * 1000

    class Body(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in endless():
                yield chunk

    reply = httpx.Response(500, stream=Body())
    head = await _first_bytes(reply, 4096)
    assert head == b"x" * 4096 and pulled == 5  # and not one chunk more
