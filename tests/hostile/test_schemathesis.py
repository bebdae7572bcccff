"""Schemathesis against every service's OpenAPI document, served live by the service.

For every operation, requests generated from the schema (valid ones, and invalid ones:
wrong types, out-of-range values, missing fields) never get a 5xx; a response conforms
to the schema the operation declares; and a write request answered 4xx changed no row of
the service's tables (counted before and after each one; the audit log excepted, which
records refusals by design).

Schemathesis is synchronous: it runs in a worker thread while the service, in-process,
serves from the test's event loop. REGIA_VERIFY_LONG=1 tries many more examples."""

import asyncio
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from ..support.figures import record
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, RunningService
from .conftest import rows

pytestmark = pytest.mark.usefixtures("service_env")

LONG = os.environ.get("REGIA_VERIFY_LONG") == "1"
EXAMPLES = 60 if LONG else 6
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Fuzzed:
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    refused_writes: int = 0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


def fuzz(
    service: RunningService,
    headers: dict[str, str],
    database: Database,
    schema_name: str,
    loop: asyncio.AbstractEventLoop,
    skip: tuple[str, ...] = (),
) -> Fuzzed:
    """Every operation, positive then negative examples; runs in a worker thread."""
    found = Fuzzed()
    schema = schemathesis.openapi.from_url(f"{service.url}/openapi.json")

    def counted() -> dict[str, int]:
        return asyncio.run_coroutine_threadsafe(rows(database, (schema_name,)), loop).result(30)

    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in skip:
            continue

        def examples(operation: Any, mode: GenerationMode) -> Callable[[], None]:
            """The hypothesis test of one operation in one mode (its source, which seeds the
            derandomized examples, is as it was when it sat in the loop)."""

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def one(case: Any) -> None:
                write = case.method.upper() in WRITES
                before = counted() if write else None
                response = case.call(base_url=service.url, headers=headers, timeout=15)
                found.statuses[response.status_code] += 1
                where = f"{case.method.upper()} {case.formatted_path} ({mode.value})"
                try:
                    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - findings, reported together
                    found.failures.append(f"{where} -> {response.status_code}: {str(exc)[:600]}")
                if write and 400 <= response.status_code < 500:
                    found.refused_writes += 1
                    after = counted()
                    changed = {t: (before.get(t), n) for t, n in after.items() if before.get(t) != n}  # type: ignore[union-attr]
                    if changed:
                        found.failures.append(f"{where} -> {response.status_code} wrote {changed}")

            return one

        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            test = examples(operation, mode)
            try:
                test()
            except Unsatisfiable:  # nothing to make invalid: an operation without parameters
                continue
    return found


async def run(
    service: RunningService, headers: dict[str, str], database: Database, schema_name: str, check: str, **kw: Any
) -> None:
    loop = asyncio.get_running_loop()
    found = await asyncio.to_thread(fuzz, service, headers, database, schema_name, loop, **kw)
    record(check, inputs=found.requests, requests=found.requests, errors=len(found.failures), euros_lost=0)
    assert found.requests > 0
    assert not found.failures, "\n".join(
        [f"{len(found.failures)} findings; statuses {dict(found.statuses)}", *dict.fromkeys(found.failures)][:40]
    )


async def test_funding_api_as_an_institution(funding, institution, database) -> None:  # type: ignore[no-untyped-def]
    await run(funding, institution, database, "funding", "schemathesis: funding (institution key)")


async def test_funding_api_as_an_administrator(funding, database) -> None:  # type: ignore[no-untyped-def]
    await run(funding, ADMIN_HEADERS, database, "funding", "schemathesis: funding (administrator)")


async def test_objectives_api(objectives, database) -> None:  # type: ignore[no-untyped-def]
    await run(objectives, ADMIN_HEADERS, database, "objectives", "schemathesis: objectives")


async def test_partners_api(partners, database) -> None:  # type: ignore[no-untyped-def]
    await run(partners, ADMIN_HEADERS, database, "partners", "schemathesis: partners")


async def test_notifier_api(notifier, database) -> None:  # type: ignore[no-untyped-def]
    await run(notifier, ADMIN_HEADERS, database, "notifier", "schemathesis: notifier")
