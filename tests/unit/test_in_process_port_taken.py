"""A test's in-process service whose port another server took between the pick and the
bind starts again on another port, instead of failing the test at set-up (CI saw uvicorn
exit with "address already in use" once in 1,502 tests)."""

import socket

import httpx
import pytest
from fastapi import FastAPI

from regia.local.embedded.process import free_port

from ..support import services


def app() -> FastAPI:
    made = FastAPI()

    @made.get("/ping")
    async def ping() -> dict:
        return {"ok": True}

    return made


async def test_a_taken_port_is_given_up_for_another(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        picks = iter([busy, free_port()])
        monkeypatch.setattr(services, "free_port", lambda: next(picks))
        async with services.in_process("stand-in", app) as running:
            assert running.port != busy
            async with httpx.AsyncClient() as client:
                assert (await client.get(f"{running.url}/ping")).json() == {"ok": True}


async def test_a_port_taken_every_time_fails_saying_so(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        monkeypatch.setattr(services, "free_port", lambda: busy)
        with pytest.raises(services.PortTaken, match=f"port {busy} taken"):
            async with services.in_process("stand-in", app):
                pass
