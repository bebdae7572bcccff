"""`regia up` keeps the stack up through crashes (issue 22): a service killed with SIGKILL
comes back on its own while the rest keeps running, and when the in-memory broker is killed
while funding accepts events, the services republish what it lost, so the objectives'
projection ends with every line funding accepted, with no `regia outbox replay` by hand.

One real `regia up` (embedded PostgreSQL and broker, the four services, the demo) serves
the whole module: starting it is most of the time these checks take."""

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from ..support.figures import record
from ..support.objective_lines import projected_lines_sync
from ..support.regia_up import RUNNING, RegiaUp, alive, descendants
from ..support.services import REASON_HEADERS

pytestmark = pytest.mark.e2e
TOKEN = "test-admin-token-for-supervision"
ADMIN = {"Authorization": f"Bearer {TOKEN}", **REASON_HEADERS}
OBJECTIVE, YEAR, CENTS = "miglio-blu", 2027, 1_000_00


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RegiaUp]]:
    """Every `regia up` of the module on one data dir; the last one is running."""
    started = [RegiaUp(tmp_path_factory.mktemp("supervised") / "data", demo=True, admin_token=TOKEN)]
    try:
        started[0].wait_for(RUNNING)
        yield started
    finally:
        for running in started:
            running.stop_everything()


@pytest.fixture
def up(runs: list[RegiaUp]) -> RegiaUp:
    return runs[-1]


def pid_of(up: RegiaUp, program: str) -> int:
    return next(pid for pid, cmd in descendants(up.proc.pid).items() if program in cmd)


def until(probe: Callable[[], object], what: str, timeout: float = 120.0) -> object:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except httpx.HTTPError as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.3)
    raise AssertionError(f"{what} not reached within {timeout:.0f}s (last: {last!r})")


def ready(up: RegiaUp, name: str) -> bool:
    return httpx.get(f"{up.url(name)}/health/ready", timeout=5).status_code == 200


def test_a_killed_service_is_restarted_and_the_rest_stays_up(up: RegiaUp) -> None:
    others = {
        pid: cmd
        for pid, cmd in descendants(up.proc.pid).items()  # not funding's DB sessions
        if "regia_funding" not in cmd and not cmd.startswith("postgres: ")
    }
    os.kill(pid_of(up, "regia_funding"), signal.SIGKILL)

    up.wait_for("funding crashed (killed by SIGKILL)", timeout=30)
    assert str(Path(up.data_dir) / "logs" / "funding.log") in up.output, "the line names the log"
    up.wait_for("funding restarted", timeout=30)
    until(lambda: ready(up, "funding"), "funding ready again")
    assert up.proc.poll() is None, f"regia up stopped:\n{up.output}"
    gone = {pid: cmd for pid, cmd in others.items() if not alive(pid)}
    assert not gone, f"a crash of funding took these down too: {gone}"
    assert "crashed" in (Path(up.data_dir) / "logs" / "regia-up.log").read_text()
    record("sigkill a service under regia up: restarted, the rest kept running", faults=1, euros_lost=0)


ACCEPTED: list[str] = []  # every line funding answered 202 to, across the module's tests


def pusher(up: RegiaUp) -> Callable[[range], None]:
    funding = httpx.Client(
        base_url=up.url("funding"), timeout=30, headers={"Authorization": f"Bearer {up.demo_key()}", **REASON_HEADERS}
    )

    def push(lines: range) -> None:
        for n in lines:
            line = f"SUP-{n:03d}"
            event = {
                "type": "commitment",
                "line_id": line,
                "instrument_id": "bilancio-regione-liguria",
                "objective_id": OBJECTIVE,
                "fiscal_year": YEAR,
                "committed_cents": CENTS,
                "reason": "supervision test",
            }
            r = funding.post("/v1/funding-events", json=event, headers={"Idempotency-Key": line})
            assert r.status_code == 202, r.text
            ACCEPTED.append(line)

    return push


def test_the_broker_killed_while_funding_accepts_events_loses_nothing(up: RegiaUp) -> None:
    push = pusher(up)
    until(lambda: ready(up, "funding"), "funding ready")
    push(range(0, 20))  # applied as usual
    objectives = pid_of(up, "regia_objectives")
    os.kill(objectives, signal.SIGSTOP)  # paused, not dead: it cannot read what comes next
    try:
        push(range(20, 50))
        until(lambda: unpublished(up) == 0, "funding published everything to the broker")
        os.kill(pid_of(up, "tansu"), signal.SIGKILL)  # and the broker forgets it all
        push(range(50, 80))  # funding still answers 202: its outbox holds them
    finally:
        os.kill(objectives, signal.SIGCONT)
    up.wait_for("broker crashed (killed by SIGKILL)", timeout=30)
    euros_lost = objectives_has_every_accepted_line(up)
    assert "queued to publish again" in up.output, up.output
    assert up.proc.poll() is None, f"regia up stopped:\n{up.output}"
    record(
        "sigkill the embedded broker under load: republished from the outboxes by itself",
        faults=1,
        requests=80,
        euros_lost=euros_lost,
    )


def test_what_the_last_run_broker_held_unread_is_republished_on_the_next_start(runs: list[RegiaUp]) -> None:
    """A `regia up` that stops ends its in-memory broker: events still unread in it (here
    objectives is paused) must reach objectives after the next `regia up`, by itself."""
    up = runs[-1]
    push = pusher(up)
    until(lambda: ready(up, "funding"), "funding ready")
    objectives = pid_of(up, "regia_objectives")
    os.kill(objectives, signal.SIGSTOP)
    try:
        push(range(100, 120))
        until(lambda: unpublished(up) == 0, "funding published everything to the broker")
        up.proc.send_signal(signal.SIGINT)
    finally:
        os.kill(objectives, signal.SIGKILL)  # it never read them: they leave with the broker
    assert up.proc.wait(60) == 0, up.output

    again = RegiaUp(up.data_dir, admin_token=TOKEN)
    runs.append(again)
    again.wait_for(RUNNING)
    euros_lost = objectives_has_every_accepted_line(again)
    assert "queued to publish again" in again.output, again.output
    record(
        "regia up stopped with events unread in its broker: republished on the next start",
        faults=1,
        requests=20,
        euros_lost=euros_lost,
    )


def objectives_has_every_accepted_line(up: RegiaUp) -> int:
    """Waits for objectives to show every line funding accepted, as the reporter compared
    them, and checks the committed money agrees; returns the euros missing (0)."""

    def mine_in_objectives() -> int:
        lines = projected_lines_sync(up.url("objectives"), OBJECTIVE)
        return sum(1 for line_id in lines if line_id.startswith("SUP-"))

    until(lambda: mine_in_objectives() == len(ACCEPTED), f"the {len(ACCEPTED)} lines in objectives")
    totals = httpx.get(
        f"{up.url('funding')}/v1/totals",
        headers=ADMIN,
        timeout=10,
        params={"objective_id": OBJECTIVE, "fiscal_year": YEAR},
    ).json()
    body = httpx.get(f"{up.url('objectives')}/v1/objectives/{OBJECTIVE}", timeout=10).json()
    year = next(y for y in body["years"] if y["fiscal_year"] == YEAR)
    assert year["committed_cents"] == totals[0]["committed_cents"], (year, totals)
    return (totals[0]["committed_cents"] - year["committed_cents"]) // 100


def unpublished(up: RegiaUp) -> int:
    async def count() -> int:
        conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{up.pg_port}/regia")
        try:
            return await conn.fetchval("SELECT count(*) FROM funding.outbox WHERE published_at IS NULL")
        finally:
            await conn.close()

    return asyncio.run(count())
