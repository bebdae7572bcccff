"""The broker restarts and loses every message, topic and committed offset (the embedded
broker keeps them in memory), while the objectives service was down and had not read the
last funding events yet. The operator's runbook (README, "When the broker loses messages")
is `regia outbox replay`: the services re-create their topics and publish again what they
wrote since before the loss. Coverage and alert deliveries end exactly as in the same
story without the fault: the lost cut still alerts the lead, once, and the events replayed
although already applied change nothing."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from regia.local.embedded.broker import EmbeddedBroker

from ..support.figures import record
from ..support.infra import Database, fresh_database, start_broker
from ..support.objective_lines import projected_lines
from ..support.partners import objectives_known
from ..support.services import ADMIN_HEADERS, ADMIN_TOKEN, REASON_HEADERS, base_env
from ..support.smtp import SmtpCapture
from ..support.system import System, running_system
from ..support.wait import eventually

pytestmark = pytest.mark.e2e
NEED = 5_000_000_00
OBJECTIVE = "miglio-blu"
# (line, event) in order: the first two before the fault, the rest while objectives is
# down and the broker then forgets them.
BEFORE = [
    (
        "LIG-1",
        {
            "type": "commitment",
            "line_id": "LIG-1",
            "objective_id": OBJECTIVE,
            "instrument_id": "bilancio",
            "fiscal_year": 2027,
            "committed_cents": 4_000_000_00,
        },
    ),
    (
        "LIG-2",
        {
            "type": "commitment",
            "line_id": "LIG-2",
            "objective_id": OBJECTIVE,
            "instrument_id": "bilancio",
            "fiscal_year": 2027,
            "committed_cents": 1_000_000_00,
        },
    ),
]
LOST = [
    (
        "LIG-1",
        {"type": "revision", "line_id": "LIG-1", "committed_cents": 2_500_000_00, "reason": "DGR 202/2026: budget cut"},
    ),
    (
        "LIG-3",
        {
            "type": "commitment",
            "line_id": "LIG-3",
            "objective_id": OBJECTIVE,
            "instrument_id": "bilancio",
            "fiscal_year": 2027,
            "committed_cents": 250_000_00,
        },
    ),
    ("LIG-2", {"type": "revision", "line_id": "LIG-2", "committed_cents": 750_000_00}),
]
FINAL = {"LIG-1": 2_500_000_00, "LIG-2": 750_000_00, "LIG-3": 250_000_00}  # 70 %: at risk


async def test_broker_losing_its_messages_is_rebuilt_from_the_outboxes(
    database: Database, broker: EmbeddedBroker, tmp_path: Path
):  # type: ignore[no-untyped-def]
    # The fault-free run on its own database and broker, beside the faulted one (each in its
    # own thread and event loop, as starting a process blocks): what the faulted run must equal.
    clean_db = await fresh_database(database.server)
    clean_broker = start_broker(tmp_path / "clean")
    try:
        expected, got = await asyncio.gather(
            asyncio.to_thread(asyncio.run, story(clean_db, clean_broker, tmp_path / "clean", fault=False)),
            asyncio.to_thread(asyncio.run, story(database, broker, tmp_path / "faulted", fault=True)),
        )
    finally:
        clean_broker.stop()

    assert got["coverage"] == expected["coverage"] == ("AT_RISK", sum(FINAL.values()))
    assert got["lines"] == expected["lines"] == FINAL
    assert got["alerts"] == expected["alerts"] and all(carried for *_, carried in got["alerts"])
    assert {d[-1] for d in got["deliveries"]} == {d[-1] for d in expected["deliveries"]} == {"DELIVERED"}
    assert got["at_risk_mails"] == expected["at_risk_mails"] == 1
    rows = await database.fetch(
        "funding", "SELECT line_id, sum(delta_cents) AS total FROM ledger_entries GROUP BY line_id"
    )
    assert {r["line_id"]: r["total"] for r in rows} == FINAL
    record(
        "broker restarted, messages lost, replayed from outboxes",
        faults=1,
        inputs=len(BEFORE) + len(LOST),
        requests=len(BEFORE) + len(LOST),
        euros_lost=0,
        alerts_duplicated=len(got["alerts"]) - len(expected["alerts"]),
    )


async def story(database: Database, broker: EmbeddedBroker, log_dir: Path, *, fault: bool) -> dict:
    env = base_env(database.dsn, broker.bootstrap_servers)
    with SmtpCapture() as smtp, running_system({**env, "REGIA_SMTP_PORT": str(smtp.port)}, log_dir) as system:
        for name in ("partners", "funding", "objectives", "notifier"):
            system.start(name)
        since = await database.fetchval("public", "SELECT now()")  # before anything was written
        key = await set_up(system)
        lines: dict[str, int] = {}
        for line, event in BEFORE:  # each applied before the next: the same statuses every run
            await send(system, key, line, event)
            lines[line] = event["committed_cents"]
            await eventually(lambda: committed_is(system, sum(lines.values())), what=f"{line} applied")
        await eventually(lambda: coverage_is(system, ("FUNDED", NEED)), what="the objective funded")

        def funded() -> list:
            return [m for m in smtp.messages if str(m["Subject"]).endswith(": FINANZIATO")]

        # Its grouping window closed before the cut, in both runs: the cut is a message of its own.
        await eventually(_async(funded), timeout=30, what="the funded e-mail")

        if fault:
            system.kill("objectives")  # it will not read the cut before the broker forgets it
        for line, event in LOST:  # all keep the objective at risk, applied one by one or together
            await send(system, key, line, event)
            lines[line] = event["committed_cents"]
            if not fault:
                await eventually(lambda: committed_is(system, sum(lines.values())), what=f"{line} applied")
        if fault:

            async def relayed() -> bool:
                return await database.fetchval("funding", "SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL")  # type: ignore[return-value]

            await eventually(relayed, what="funding published the cut to the broker")
            broker.stop()  # memory storage: every topic, message and offset is gone
            broker.start()
            system.start("objectives")
            await replay(system, since)

        await eventually(
            lambda: coverage_is(system, ("AT_RISK", sum(FINAL.values()))),
            timeout=60,
            what="coverage rebuilt to the final amounts",
        )

        def at_risk() -> list:
            return [m for m in smtp.messages if "A RISCHIO" in str(m["Subject"])]

        await eventually(_async(at_risk), timeout=30, what="the at-risk e-mail")
        notifier = system.services["notifier"]

        async def settled() -> list[dict] | None:
            async with httpx.AsyncClient(headers=ADMIN_HEADERS, timeout=10) as admin:
                rows = (await admin.get(f"{notifier.url}/v1/deliveries", params={"limit": 500})).json()["items"]
            return rows if rows and all(r["status"] in ("DELIVERED", "DEAD") for r in rows) else None

        await eventually(settled, timeout=30, what="every delivery finished")
        await asyncio.sleep(2)  # time for a duplicate, if any, to show up
        deliveries = await settled()
        assert deliveries is not None
        objective = await read_objective(system)
        lines_projected = await lines_of(system)  # while the system still runs
        # Every alert once, each carried by a message: how the alerts fell into grouping
        # windows depends on timing (a broker restart takes longer than a window), what was
        # said does not.
        alerts = await database.fetch(
            "notifier",
            "SELECT objective_id, trigger, email, subject, message_id IS NOT NULL AS carried FROM waiting_alerts",
        )
    return {
        "alerts": sorted(tuple(r.values()) for r in alerts),
        "coverage": (objective["years"][0]["status"], objective["years"][0]["committed_cents"]),
        "lines": lines_projected,
        "deliveries": sorted(
            (
                d["objective_id"] or "",
                d["kind"] or "",
                d["trigger"] or "",
                d["channel"],
                d["recipient"],
                d["subject"] or "",
                d["status"],
            )
            for d in deliveries
        ),
        "at_risk_mails": len(at_risk()),
    }


async def replay(system: System, since: object) -> None:
    """The runbook, as an operator types it: `regia outbox replay --service all --since ...`."""
    env = {
        **os.environ,
        "REGIA_ADMIN_TOKEN": ADMIN_TOKEN,
        **{f"REGIA_{name.upper()}_URL": s.url for name, s in system.services.items()},
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "regia", "outbox", "replay", "--service", "all", "--since", since.isoformat()],  # type: ignore[attr-defined]
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    print(done.stdout, done.stderr)
    assert done.returncode == 0, done.stderr
    assert "funding: " in done.stdout and "events queued" in done.stdout


async def set_up(system: System) -> str:
    partners, funding = system.services["partners"], system.services["funding"]
    objectives = system.services["objectives"]
    async with httpx.AsyncClient(headers=ADMIN_HEADERS, timeout=10) as admin:
        for body in (
            {"partner_id": "regione-liguria", "name": "Regione Liguria", "kind": "INSTITUTION", "level": "REGIONE"},
            {"partner_id": "comune-spezia", "name": "Comune della Spezia", "kind": "INSTITUTION", "level": "COMUNE"},
        ):
            assert (await admin.post(f"{partners.url}/v1/partners", json=body)).status_code == 201
        r = await admin.post(
            f"{partners.url}/v1/partners/comune-spezia/contacts",
            json={"name": "Ufficio Piano Strategico", "email": "piano@comune.sp.it", "language": "it"},
        )
        assert r.status_code == 201, r.text
        r = await admin.post(
            f"{objectives.url}/v1/objectives",
            json={
                "objective_id": OBJECTIVE,
                "title": "Il Miglio Blu",
                "at_risk_threshold_pct": 80,
                "needs": [{"fiscal_year": 2027, "need_cents": NEED}],
            },
        )
        assert r.status_code == 201, r.text

        # A lead goes only on an objective the partners service knows (issue 20).
        await objectives_known(admin, "", OBJECTIVE, announce=False, base_url=partners.url)
        r = await admin.put(f"{partners.url}/v1/objectives/{OBJECTIVE}/lead", json={"partner_id": "comune-spezia"})
        assert r.status_code == 200, r.text
        notifier = system.services["notifier"]

        async def lead_known() -> bool:  # else whether the first status alerts is a race
            body = (await admin.get(f"{notifier.url}/v1/objectives/{OBJECTIVE}/recipients")).json()
            return body["lead"] == "comune-spezia" and bool(body["contacts"])

        await eventually(lead_known, what="the notifier learned the lead and its contact")

        async def briefed() -> bool:  # the new lead's briefing (the objective is unfunded) is out
            deliveries = (await admin.get(f"{notifier.url}/v1/deliveries", params={"objective_id": OBJECTIVE})).json()[
                "items"
            ]
            return any(d["status"] == "DELIVERED" for d in deliveries)

        # Before any money moves, so that the alerts of the money are mails of their own, not
        # grouped with the briefing.
        await eventually(briefed, what="the new lead's briefing delivered")

        async def references_known() -> bool:
            listed = (await admin.get(f"{funding.url}/v1/institutions")).json()
            known = (await admin.get(f"{funding.url}/v1/objectives/{OBJECTIVE}")).status_code == 200
            return known and any(i["institution_id"] == "regione-liguria" for i in listed)

        await eventually(references_known, what="funding learned the funder and the objective")
        r = await admin.post(
            f"{funding.url}/v1/instruments",
            json={
                "instrument_id": "bilancio",
                "institution_id": "regione-liguria",
                "name": "Bilancio regionale",
                "kind": "budget",
            },
        )
        assert r.status_code == 201, r.text
        return (await admin.post(f"{funding.url}/v1/institutions/regione-liguria/keys")).json()["key"]


async def send(system: System, key: str, line: str, event: dict) -> None:
    async with httpx.AsyncClient(
        base_url=system.services["funding"].url,
        timeout=10,
        headers={"Authorization": f"Bearer {key}", **REASON_HEADERS},
    ) as region:
        r = await region.post(
            "/v1/funding-events",
            json=event,
            headers={"Idempotency-Key": f"{line}-{event['type']}-{event['committed_cents']}"},
        )
        assert r.status_code == 202, r.text


async def read_objective(system: System) -> dict:
    async with httpx.AsyncClient(timeout=10) as client:
        return (await client.get(f"{system.services['objectives'].url}/v1/objectives/{OBJECTIVE}")).json()


async def lines_of(system: System) -> dict[str, int]:
    async with httpx.AsyncClient(timeout=10) as client:
        return await projected_lines(client, system.services["objectives"].url, OBJECTIVE)


async def coverage_is(system: System, wanted: tuple[str, int]) -> bool:
    body = await read_objective(system)
    years = body.get("years") or []
    return bool(years) and (years[0]["status"], years[0]["committed_cents"]) == wanted


async def committed_is(system: System, cents: int) -> bool:
    years = (await read_objective(system)).get("years") or []
    return bool(years) and years[0]["committed_cents"] == cents


def _async(fn):  # type: ignore[no-untyped-def]
    async def probe():  # type: ignore[no-untyped-def]
        return fn()

    return probe
