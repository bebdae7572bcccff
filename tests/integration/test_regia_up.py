"""`regia up` as an operator runs it: a real process that starts embedded PostgreSQL, the
broker, the SMTP catcher and the four services, answers until a signal, and then leaves
nothing running behind it."""

import contextlib
import email
import email.policy
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from regia.operator.demo_history import ILLUSTRATIVE, history_lines, plan_objectives, submissions

from ..support.regia_up import RUNNING, SERVICES, RegiaUp, alive, descendants
from ..support.services import REASON_HEADERS


@pytest.fixture
def regia_up(tmp_path: Path):  # type: ignore[no-untyped-def]
    started: list[RegiaUp] = []

    def start(**kwargs: object) -> RegiaUp:
        running = RegiaUp(tmp_path / "data", **kwargs)  # type: ignore[arg-type]
        started.append(running)
        return running

    yield start
    for running in started:
        children = descendants(running.proc.pid)
        running.kill()
        for pid in children:  # never leave a test's PostgreSQL or broker behind
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_up_serves_every_service_then_stops_everything_on_ctrl_c(regia_up) -> None:  # type: ignore[no-untyped-def]
    up = regia_up()
    up.wait_for(RUNNING)
    for name in SERVICES:
        assert httpx.get(f"{up.url(name)}/health/ready", timeout=5).status_code == 200, name
        metrics = httpx.get(f"{up.url(name)}/metrics", timeout=5)
        assert metrics.status_code == 200 and "regia_" in metrics.text, name
        assert up.url(name) in up.output, f"the table does not show where {name} listens"
    token = up.output.split("export REGIA_ADMIN_TOKEN='", 1)[1].split("'", 1)[0]
    assert up.output.count(token) == 1, "the generated admin token is printed exactly once"
    admin = httpx.get(
        f"{up.url('funding')}/v1/institutions",
        timeout=5,
        headers={"Authorization": f"Bearer {token}", **REASON_HEADERS},
    )
    assert admin.status_code == 200, "the services accept the token regia up printed"
    # The first administrator's account, its password printed once: it logs in to the console.
    password = up.output.split("login admin", 1)[1].split("password ", 1)[1].split()[0]
    assert up.output.count(password) == 1
    with httpx.Client(base_url=up.url("console"), timeout=10) as browser:
        login = browser.post("/login", data={"login": "admin", "password": password})
        assert login.status_code == 303, login.text
        assert 'data-role="administrator"' in browser.get("/accounts").text

    children = descendants(up.proc.pid)
    commands = " ".join(children.values())
    for program in ("postgres", "tansu", *(f"regia_{name}" for name in SERVICES)):
        assert program in commands, f"{program} is not running under regia up"
    for pid in children:
        environ = Path(f"/proc/{pid}/environ").read_bytes() if alive(pid) else b""
        assert token.encode() not in environ, f"the clear admin token reached {children[pid]}"

    assert up.stop(signal.SIGINT) == 0, up.output
    assert "stopped." in up.output
    left = {pid: cmd for pid, cmd in children.items() if alive(pid)}
    assert not left, f"still running after regia up stopped: {left}"


def test_demo_seed_works_and_survives_a_restart_on_the_same_data_dir(regia_up) -> None:  # type: ignore[no-untyped-def]
    admin = {"Authorization": "Bearer test-admin-token-for-regia-up", **REASON_HEADERS}
    keys: list[str] = []
    histories: list[dict] = []
    for run in range(2):
        # A grouping window of 3 s instead of 30: the same rule, sooner.
        up = regia_up(
            demo=True, admin_token=admin["Authorization"].split()[1], env={"REGIA_NOTIFIER_GROUP_WAIT_S": "3"}
        )
        up.wait_for(RUNNING)
        assert "Demo loaded" in up.output and "warning" not in up.output, up.output
        keys.append(up.output.split("export REGIA_DEMO_KEY='", 1)[1].split("'", 1)[0])
        histories.append(the_2008_plan_shows_its_history_money(up, admin))
        if run == 1:
            # The re-run replays every history submission: not a line nor a cent more.
            assert histories[1] == histories[0], histories
            assert f"{sum(len(sent) for _, sent in submissions())} submissions replayed" in up.output, up.output
        if run == 0:
            # Loading the demo (four plans, leads handed over, a network) tells each person
            # at most once: one summary.
            [demo_mail] = wait_for_mails(up, 1)
            time.sleep(4)  # a window more: nothing else comes
            assert len(mails_of(up)) == 1 and demo_mail["To"].addresses[0].addr_spec == LEAD_CONTACT
            assert not about_history(demo_mail), demo_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        commitment = {
            "type": "commitment",
            "line_id": "LIG-2027-001",
            "instrument_id": "bilancio-regione-liguria",
            "objective_id": "miglio-blu",
            "fiscal_year": 2027,
            "committed_cents": 450_000_000,
            "reason": "DGR",
        }
        pushed = httpx.post(
            f"{up.url('funding')}/v1/funding-events",
            json=commitment,
            timeout=10,
            headers={"Authorization": f"Bearer {keys[-1]}", "Idempotency-Key": "demo-1", **REASON_HEADERS},
        )
        assert pushed.status_code == 202, pushed.text  # the second run replays the first answer
        if run == 0:
            wait_for_mails(up, 2)  # the commitment's, before the cut
            cut_to_at_risk_and_receive_the_mail(up, keys[-1])
        if run == 1:
            stale = httpx.get(
                f"{up.url('funding')}/v1/funding-lines/LIG-2027-001",
                timeout=10,
                headers={"Authorization": f"Bearer {keys[0]}", **REASON_HEADERS},
            )
            assert stale.status_code == 401, "the previous demo key is revoked by the re-run"
            # The README's OpenCoesione walk-through, on the demo as re-seeded: a stack
            # already running, so it costs seconds rather than a start of its own.
            run_the_readme_import_walk_through(up, admin["Authorization"].split()[1])
        assert up.stop(signal.SIGTERM) == 0, up.output


REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"


def readme_import_commands() -> list[tuple[list[str], list[str]]]:
    """The README's import walk-through, read from README.md so that it cannot drift: each
    ```text block of its section that starts with `$ ./regia.sh import opencoesione`, as
    (argv, the output shown below the command)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Importing OpenCoesione", 1)[1].split("\n## ", 1)[0]
    found = []
    for block in re.findall(r"```text\n(.*?)```", section, flags=re.DOTALL):
        lines = block.splitlines()
        if not lines[0].startswith("$ ./regia.sh import opencoesione"):
            continue
        command = []
        while True:
            line = lines.pop(0)
            command.append(line.removesuffix("\\"))
            if not line.endswith("\\"):
                break
        found.append((shlex.split(" ".join(command).removeprefix("$ ")), lines))
    return found


def same_text(printed: str, shown: list[str]) -> bool:
    """Equal line by line, modulo runs of spaces and blank lines."""

    def lines(text_lines: list[str]) -> list[str]:
        return [" ".join(line.split()) for line in text_lines if line.strip()]

    return lines(printed.splitlines()) == lines(shown)


def run_the_readme_import_walk_through(up: RegiaUp, token: str) -> None:
    """The README's two commands, as written (`./regia.sh` is this venv's `regia`): the first
    refuses to start with the message shown, the second records the file and prints the
    summary and the reconciliation shown, every column equal to the cent, and exits 0."""
    (refused, refused_shows), (recorded, recorded_shows) = readme_import_commands()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGIA_")}
    env |= {"REGIA_ADMIN_TOKEN": token, "REGIA_FUNDING_URL": up.url("funding"), "COLUMNS": "200"}

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        assert argv[0] == "./regia.sh", argv
        return subprocess.run(
            [sys.executable, "-m", "regia", *argv[1:]], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )

    first = run(refused)
    assert first.returncode == 1, first.stdout + first.stderr
    assert same_text(first.stderr, refused_shows), first.stderr
    second = run(recorded)
    assert second.returncode == 0, second.stdout + second.stderr
    assert same_text(second.stdout, recorded_shows), second.stdout
    table = [line for line in second.stdout.splitlines() if line.startswith(("FINANZ_", "TOT_"))]
    assert len(table) == 14 and all(line.endswith("  none") for line in table), table
    lines = httpx.get(
        f"{up.url('funding')}/v1/funding-lines",
        params={"cup": "D49J17000560007"},
        headers={"Authorization": f"Bearer {token}", **REASON_HEADERS},
        timeout=10,
    ).json()["items"]
    assert len(lines) == 5 and "OC-1LIINTERREG-MARE-0001-FOREIGN_STATE-2027" in [i["line_id"] for i in lines]


def cut_to_at_risk_and_receive_the_mail(up: RegiaUp, key: str) -> None:
    """The README's story: a revision cuts the line below the threshold, the objective goes
    AT_RISK and its lead's contact gets an e-mail in the data dir."""
    revision = {
        "type": "revision",
        "line_id": "LIG-2027-001",
        "committed_cents": 300_000_000,
        "reason": "Assestamento di bilancio",
    }
    cut = httpx.post(
        f"{up.url('funding')}/v1/funding-events",
        json=revision,
        timeout=10,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "demo-2", **REASON_HEADERS},
    )
    assert cut.status_code == 202, cut.text
    deadline = time.monotonic() + 90
    status, mails = None, []
    while time.monotonic() < deadline and not (status == "AT_RISK" and mails):
        objective = httpx.get(f"{up.url('objectives')}/v1/objectives/miglio-blu", timeout=10).json()
        status = next((y["status"] for y in objective["years"] if y["fiscal_year"] == 2027), None)
        mails = list((up.data_dir / "mail").glob("*.eml"))
        time.sleep(0.5)
    assert status == "AT_RISK", objective
    assert mails, f"no mail reached {up.data_dir / 'mail'}; output:\n{up.output}"
    up.wait_for("mail  to piano.strategico@comune.laspezia.example", timeout=10)
    # The cut is exactly one e-mail, to the lead, that says who cut, why, what is missing
    # and where to look.
    cut_mail = wait_for_mails(up, 3)[-1]
    time.sleep(4)  # a window more: nothing else comes
    assert len(mails_of(up)) == 3
    assert not any(about_history(mail) for mail in mails_of(up)), "an e-mail about the 2008 plan's history money"
    text = cut_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert cut_mail["Subject"] == (
        "[Regia] Il Miglio Blu – La Spezia per la Nautica 2027: A RISCHIO, finanziamento in calo del 33,33 %"
    )
    assert "Regione Liguria (Regione) ha ridotto la linea LIG-2027-001" in text
    assert "Motivo: «Assestamento di bilancio»" in text
    assert "€ 1.000.000,00 per la soglia (80 %), € 2.000.000,00 per il 100 %" in text
    assert f"{up.url('console')}/objectives/miglio-blu" in text


LEAD_CONTACT = "piano.strategico@comune.laspezia.example"
PLAN_2008 = "piano-generale-di-sviluppo-2008"


def the_2008_plan_shows_its_history_money(up: RegiaUp, admin: dict[str, str]) -> dict:
    """The demo records the 2008 plan's closed years as history: each year of the plan, and
    each objective-year, has money, all of it history, and funding holds only history lines
    for it. Returns funding's history totals, to compare a re-run's with."""
    expected: dict[int, int] = {}
    for line in history_lines():
        expected[line.fiscal_year] = expected.get(line.fiscal_year, 0) + line.committed_cents
    deadline = time.monotonic() + 90
    shown: dict[int, tuple[int, int]] = {}
    while time.monotonic() < deadline:  # the objectives service learns the money from events
        plan = httpx.get(f"{up.url('objectives')}/v1/plans/{PLAN_2008}", timeout=10, headers=admin).json()
        shown = {y["fiscal_year"]: (y["committed_cents"], y["history_cents"]) for y in plan["years"]}
        if shown == {year: (cents, cents) for year, cents in expected.items()}:
            break
        time.sleep(0.5)
    assert shown == {year: (cents, cents) for year, cents in expected.items()}, shown
    rows = [row for root in plan["nodes"] for row in walk(root)]
    objectives = {o.node_id for o in plan_objectives()}
    for row in rows:
        if row["node_id"] in objectives:
            assert {y["fiscal_year"] for y in row["years"] if y["history_cents"] > 0} == set(expected), row
    assert len([r for r in rows if r["node_id"] in objectives]) == len(objectives)
    statuses = {y["status"] for r in rows if r["node_id"] in objectives for y in r["years"]}
    assert statuses == {"FUNDED", "PARTIALLY_FUNDED", "AT_RISK"}, statuses
    line = httpx.get(f"{up.url('funding')}/v1/funding-lines/{history_lines()[0].line_id}", timeout=10, headers=admin)
    assert line.json()["is_history"], line.text
    assert [(e["kind"], e["channel"]) for e in line.json()["history"]] == [
        ("COMMITMENT", history_lines()[0].source.channel),
        ("DISBURSEMENT", history_lines()[0].source.channel),
    ]
    assert all(e["reason"].endswith(ILLUSTRATIVE) for e in line.json()["history"]), line.text
    totals = httpx.get(f"{up.url('funding')}/v1/totals", params={"by": "history"}, timeout=10, headers=admin).json()
    [history] = [t for t in totals if t["history"]]
    assert (history["lines"], history["committed_cents"]) == (len(history_lines()), sum(expected.values()))
    return history


def walk(row: dict) -> list[dict]:
    return [row, *(r for child in row.get("children", []) for r in walk(child))]


def about_history(mail: EmailMessage) -> bool:
    """Whether an e-mail speaks of the 2008 plan's history money (it never should)."""
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return ILLUSTRATIVE in text or "PGS2008-" in text or "2007–2013" in text


def mails_of(up: RegiaUp) -> list[EmailMessage]:
    """The e-mails `regia up`'s catcher saved, oldest first."""
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in sorted((up.data_dir / "mail").glob("*.eml"))
    ]


def wait_for_mails(up: RegiaUp, count: int, timeout: float = 60) -> list[EmailMessage]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = mails_of(up)
        if len(found) >= count:
            return found
        time.sleep(0.25)
    raise AssertionError(f"{count} e-mails not saved within {timeout:.0f}s; output:\n{up.output}")


# A child that dies once everything is ready is restarted and the rest keeps running:
# tests/faults/test_regia_up_supervises.py.


def test_a_child_that_dies_before_the_stack_is_ready_stops_everything_with_an_error(regia_up) -> None:  # type: ignore[no-untyped-def]
    """Once running, a crashed child is restarted (tests/faults/test_regia_up_supervises.py);
    before the stack is ready, a child that dies is a start-up failure that no restart
    cures (here a setting the notifier refuses): regia up says which child and where its
    log is, stops what it started, and exits 1."""
    up = regia_up(env={"REGIA_NOTIFIER_LEASE_S": "1", "REGIA_SMTP_TIMEOUT_S": "30"})
    assert up.proc.wait(240) == 1, up.output
    assert "notifier exited unexpectedly" in up.output
    assert "notifier.log" in up.output, "the report points at the dead child's log"
    assert "REGIA_NOTIFIER_LEASE_S must exceed REGIA_SMTP_TIMEOUT_S" in up.output, "the log's end says why"
    assert "stopped after an error." in up.output
    # regia up is gone, so its children can no longer be found as its descendants: what it
    # started must no longer answer on any of its ports (PostgreSQL's included).
    listening = []
    for name, port in {**up.ports, "postgres": up.pg_port}.items():
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            listening.append(name)
    assert not listening, f"still listening after regia up gave up: {listening}"
