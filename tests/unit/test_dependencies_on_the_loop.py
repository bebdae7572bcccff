"""Every dependency of every route of the four services runs on the event loop.

FastAPI runs a plain `def` dependency (or endpoint) in a worker thread: a thread hand-off
and two wake-ups of the event loop per request, for what is almost always an attribute
read. In funding's single-event route that was 9 % of the event loop's time
(docs/performance.md, "Issue 21"). So each must be `async def`, or an object whose
`__call__` is (the security schemes); a route that truly blocks says so by awaiting
`run_in_threadpool` itself. The failure lists every offender with the route it was found on."""

import inspect
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from regia_funding.app import create_app as funding_app
from regia_notifier.app import create_app as notifier_app
from regia_objectives.app import create_app as objectives_app
from regia_partners.app import create_app as partners_app
from regia_shared.http.access import api_routes

APPS: dict[str, Callable[[], FastAPI]] = {
    "funding": funding_app,
    "objectives": objectives_app,
    "partners": partners_app,
    "notifier": notifier_app,
}


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def runs_on_the_loop(call: object) -> bool:
    if inspect.isclass(call):  # a class is instantiated: its __init__ runs in a thread
        return False
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return True
    dunder = getattr(call, "__call__", None)  # noqa: B004  (an instance's own __call__)
    return inspect.iscoroutinefunction(dunder) or inspect.isasyncgenfunction(dunder)


def _name(call: object) -> str:
    return f"{getattr(call, '__module__', '?')}.{getattr(call, '__qualname__', type(call).__qualname__)}"


@pytest.mark.parametrize("service", sorted(APPS))
def test_no_route_hands_a_dependency_or_endpoint_to_a_thread(service: str) -> None:
    offenders: set[str] = set()
    for route in api_routes(APPS[service]()):
        where = f"{sorted(route.methods or ())} {route.path_format}"
        dependant = route.dependant
        for call in [dependant.call, *_calls(dependant)]:
            if call is not None and not runs_on_the_loop(call):
                offenders.add(f"{_name(call)} (on {where})")
    assert not offenders, "these run in a worker thread on every request:\n" + "\n".join(sorted(offenders))


def test_the_check_sees_a_plain_def() -> None:
    def plain() -> None: ...

    async def awaited() -> None: ...

    class Scheme:
        async def __call__(self) -> None: ...

    assert not runs_on_the_loop(plain) and not runs_on_the_loop(Scheme)
    assert runs_on_the_loop(awaited) and runs_on_the_loop(Scheme())
