"""Fixtures shared by the integration tests of several services."""

import pytest

from ..support.funding_api import running_funding


@pytest.fixture
async def funding(service_env, broker, monkeypatch):  # type: ignore[no-untyped-def]
    # Pinned, so that the tests closing the window's first year do not depend on the real
    # date: January 2026, with the window opening on 2025, a year that has ended.
    monkeypatch.setenv("REGIA_TODAY", "2026-01-15")
    monkeypatch.setenv("REGIA_FUNDING_WINDOW_FIRST_YEAR", "2025")
    async for service in running_funding(broker.bootstrap_servers):
        yield service
