"""Fixtures shared by the integration tests of several services."""

import pytest

from ..support.funding_api import running_funding


@pytest.fixture
async def funding(service_env, broker):  # type: ignore[no-untyped-def]
    async for service in running_funding(broker.bootstrap_servers):
        yield service
