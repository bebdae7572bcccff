"""The three alerts a lead asked for, end to end on the real parts: the objectives service
(plan imported over HTTP, funding events consumed from the broker, milestones and
indicators written over HTTP, its sweep running on its own clock) publishes the moment,
the notifier tells the objective's lead: e-mails in Italian and English on a real SMTP
server, and a signed webhook to a real receiver whose body the published schema accepts.
Each is said once, on the transition: what follows it without a new transition is quiet.

- money from one level only: Regione Liguria and the State fund the Miglio Blu, the State
  revokes its line, and the Region's money is all there is;
- a milestone overdue: the call for tenders due on 15 March is not published by the 16th,
  then moved to 30 April and missed again; one already overdue when defined is not told;
- an indicator behind: jobs on the path in March, behind it in July, still behind after."""

import contextlib
import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage

import httpx
import pytest
from cryptography.fernet import Fernet

from regia_objectives.adapters.planfile import write_plan
from regia_objectives.app import create_app
from regia_objectives.domain.plan_file import PlanFile
from regia_objectives.domain.tree import Node, NodeKind, Plan
from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.levels import GovernmentLevel

from ..support import kafka
from ..support.funding import line_event
from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, in_process
from ..support.smtp import SmtpCapture
from ..support.wait import eventually
from ..support.webhook_receiver import WebhookReceiver, schema_errors
from .test_notifier import JOHN, MARIA, deliveries, notifier
from .test_notifier_webhooks import register

pytestmark = pytest.mark.usefixtures("service_env")

LINK = "https://regia.example.org/objectives/miglio-blu"
PLAN = Plan("liguria-2030", "Liguria 2030", "Liguria", None, 2025, 2030, 80, 75)
NODES = [
    Node("mare", "liguria-2030", None, NodeKind.VISION, "Il mare di tutti"),
    Node("miglio-blu", "liguria-2030", "mare", NodeKind.OBJECTIVE, "Miglio Blu", needs={2027: 5_000_000_00}),
]
# The objectives events the notifier reads (others it skips without recording them).
READ = (
    "ObjectiveDefined",
    "ObjectiveCoverageChanged",
    "ObjectiveStatusChanged",
    "FundingNarrowedToOneLevel",
    "MilestoneWentOverdue",
    "IndicatorFellBehind",
)


@dataclass
class Stack:
    notifier: httpx.AsyncClient  # with the admin token
    objectives: httpx.AsyncClient  # with the admin token
    smtp: SmtpCapture
    receiver: WebhookReceiver
    today: list[date]  # the objectives service's clock: today[0]


@contextlib.asynccontextmanager
async def stack(broker, monkeypatch, today: date) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    """The notifier (Liguria leads the Miglio Blu, with an Italian and an English contact,
    and a webhook endpoint) and the objectives service on a clock the test moves, with the
    Liguria 2030 plan imported: the Miglio Blu needs €5M in 2027, under the vision 'Il mare
    di tutti'."""
    monkeypatch.setenv("REGIA_FUNDING_WINDOW_FIRST_YEAR", "2025")
    monkeypatch.setenv("REGIA_CONSOLE_URL", "https://regia.example.org/")
    monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("REGIA_MILESTONE_SWEEP_S", "0.2")
    clock = [today]
    with SmtpCapture() as smtp, WebhookReceiver() as receiver:
        async with (
            notifier(broker, smtp, monkeypatch) as admin,
            in_process("objectives", lambda: create_app(today=lambda: clock[0])) as objectives,
            objectives.client(headers=ADMIN_HEADERS) as planner,
        ):
            await register(admin, receiver)
            r = await planner.post(
                "/v1/plans/import",
                content=write_plan(PlanFile(PLAN, NODES, {})).encode(),
                headers={"Content-Type": "application/yaml"},
            )
            assert r.status_code == 200, r.text
            yield Stack(admin, planner, smtp, receiver, clock)


async def told(s: Stack, trigger: str, emails: int, webhooks: int) -> list[dict]:
    """The deliveries of `trigger` once that many are delivered, e-mails and webhook calls."""

    async def probe() -> list[dict] | None:
        found = [d for d in await deliveries(s.notifier, status="DELIVERED") if d["trigger"] == trigger]
        by_channel = [sum(d["channel"] == c for d in found) for c in ("email", "webhook")]
        return found if by_channel == [emails, webhooks] else None

    return await eventually(probe, what=f"{emails} e-mails and {webhooks} webhooks of {trigger}")


async def all_read(database: Database, funding: Sequence[Envelope] = ()) -> None:
    """Wait until the notifier has applied every event the objectives service published
    for it: what a rule could make of them is planned by then (in the same transaction).
    `funding`: events just put on the funding topic, which objectives must have applied
    first; without them the wait could end before objectives has read anything (its outbox
    still empty), and a later event could then land in the same batch as these."""
    if funding:

        async def objectives_applied() -> bool:
            # objectives keeps no inbox for funding lines: an event is taken in once its
            # line's version, or a newer one, is held.
            found = await database.fetchval(
                "objectives",
                "SELECT count(*) FROM unnest($1::text[], $2::int[]) AS e(line_id, line_version)"
                " JOIN line_allocations l USING (line_id) WHERE l.line_version >= e.line_version",
                [e.payload["line_id"] for e in funding],
                [e.payload["line_version"] for e in funding],
            )
            return found == len(funding)

        await eventually(objectives_applied, what="the funding events applied by objectives")

    async def probe() -> bool:
        ids = await database.fetch(
            "objectives",
            "SELECT event_id FROM outbox WHERE type = ANY($1::text[]) AND published_at IS NOT NULL",
            list(READ),
        )
        unpublished = await database.fetchval("objectives", "SELECT count(*) FROM outbox WHERE published_at IS NULL")
        applied = await database.fetchval(
            "notifier",
            "SELECT count(*) FROM inbox WHERE consumer IN ('notifier.objectives', 'notifier.coverage') AND event_id = ANY($1::uuid[])",
            [r["event_id"] for r in ids],
        )
        return unpublished == 0 and applied == len(ids)

    await eventually(probe, what="every objectives event read by the notifier")


async def published(database: Database, event_type: str) -> list[dict]:
    rows = await database.fetch("objectives", "SELECT body FROM outbox WHERE type = $1 ORDER BY id", event_type)
    return [json.loads(r["body"])["payload"] for r in rows]


def mails_of(s: Stack, subject_part: str) -> dict[str, EmailMessage]:
    """The e-mails whose subject has `subject_part`, by recipient address."""
    return {m["To"].addresses[0].addr_spec: m for m in s.smtp.messages if subject_part in m["Subject"]}


def text_of(mail: EmailMessage) -> str:
    return mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def fact(text: str, label: str) -> str:
    found = re.search(rf"^{re.escape(label)}: +(.*)$", text, re.MULTILINE)
    assert found, f"no {label!r} in\n{text}"
    return found.group(1)


def bodies(s: Stack, alert: str) -> list[dict]:
    return [json.loads(r.body) for r in s.receiver.accepted if json.loads(r.body)["alert"] == alert]


def assert_placed(italian: str, english: str) -> None:
    """Where the objective sits and where to look, in both languages."""
    assert fact(italian, "Nel piano") == fact(english, "In the plan") == "Il mare di tutti › Miglio Blu"
    assert fact(italian, "Nella console") == fact(english, "In the console") == LINK


async def test_money_come_from_one_level_only_is_told_once_to_the_lead(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The revocation's own alert comes from the funding topic, the narrowing from the
    # coverage topic, through two consumers: a window of 3 s keeps them in one e-mail even
    # on a loaded machine.
    monkeypatch.setenv("REGIA_NOTIFIER_GROUP_WAIT_S", "3")
    async with stack(broker, monkeypatch, date(2027, 2, 1)) as s:
        region = line_event("commit", "LIG-1", "miglio-blu", 4_600_000_00, 1)
        state = line_event(
            "commit", "MIT-1", "miglio-blu", 200_000_00, 1, level=GovernmentLevel.STATO, institution="mit"
        )
        await kafka.publish(broker.bootstrap_servers, topics.FUNDING, [region, state])
        await all_read(database, funding=[region, state])
        assert await published(database, "FundingNarrowedToOneLevel") == []  # two levels: nothing to say
        # The State revokes its €200,000 (4 % of the money: no funding drop worth an alert).
        revoked = line_event(
            "revoke", "MIT-1", "miglio-blu", 0, 2, level=GovernmentLevel.STATO, institution="mit", delta=-200_000_00
        )
        await kafka.publish(broker.bootstrap_servers, topics.FUNDING, [revoked])
        # The lead's partner funds the objective: the revocation and the narrowing are one
        # cause, so one e-mail each to Maria and John carries both.
        done = await told(s, "single_level_dependency", emails=0, webhooks=1)

        async def both_mailed() -> bool:
            return len(mails_of(s, "")) == 2

        await eventually(both_mailed, what="one e-mail each to Maria and John")
        # The Region trims its own line: still one level, so nothing more is said.
        trimmed = line_event("revise", "LIG-1", "miglio-blu", 4_500_000_00, 2, delta=-100_000_00)
        await kafka.publish(broker.bootstrap_servers, topics.FUNDING, [trimmed])
        await eventually(
            lambda: database.fetchval(
                "objectives", "SELECT committed_cents = 450000000 FROM coverage WHERE objective_id = 'miglio-blu'"
            ),
            what="the trim applied",
        )
        await all_read(database)
        planned = [d for d in await deliveries(s.notifier) if d["trigger"] == "single_level_dependency"]
        narrowed = await published(database, "FundingNarrowedToOneLevel")
    assert len(planned) == 1 and {d["objective_id"] for d in done} == {"miglio-blu"}
    # Said for the objective and, as its money rolls up, for the vision above it (whose
    # lead nobody is yet: kept among the alerts nobody received).
    assert sorted((e["objective_id"], e["level"]) for e in narrowed) == [("mare", "REGIONE"), ("miglio-blu", "REGIONE")]
    mails = mails_of(s, "")
    assert sorted(mails) == sorted([MARIA, JOHN])
    assert "Miglio Blu 2027: finanziato da un solo livello (Regione)" in text_of(mails[MARIA])
    assert "Miglio Blu 2027: funded by one level only (Region)" in text_of(mails[JOHN])
    italian, english = text_of(mails[MARIA]), text_of(mails[JOHN])
    assert fact(italian, "Unico livello") == "Regione € 4.600.000,00"
    assert fact(italian, "Prima, per livello") == "Regione € 4.600.000,00; Stato € 200.000,00"
    assert re.search(r"^Mancano: +€ 0,00 per la soglia \(80 %\), € 400\.000,00 per il 100 %$", italian, re.M), italian
    assert "altro livello di governo" in fact(italian, "Per rimediare")
    assert fact(english, "Sole level") == "Region €4,600,000.00"
    assert "a cut or a revocation at that level would fall on the objective whole" in english
    assert_placed(italian, english)
    [body] = bodies(s, "single_level_dependency")
    assert schema_errors(s.receiver.accepted) == []
    assert body["type"] == "FundingNarrowedToOneLevel" and body["rules"] == ["single-level-dependency-lead"]
    facts = body["objective"]
    assert (facts["level"], facts["committed_cents"], facts["previous_committed_by_level"]) == (
        "REGIONE",
        4_600_000_00,
        {"REGIONE": 4_600_000_00, "STATO": 200_000_00},
    )
    assert (facts["gap_to_threshold_cents"], facts["gap_to_full_cents"]) == (0, 400_000_00)
    assert facts["console_url"] == LINK and [n["objective_id"] for n in facts["path"]] == ["mare", "miglio-blu"]


async def test_a_milestone_gone_overdue_is_told_once_per_due_date_it_misses(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async with stack(broker, monkeypatch, date(2027, 3, 10)) as s:
        for milestone in (
            {"milestone_id": "bando", "title": "Bando per i cantieri pubblicato", "due_on": "2027-03-15"},
            # Recorded late, already overdue: history, not news.
            {"milestone_id": "protocollo", "title": "Protocollo d'intesa firmato", "due_on": "2027-03-01"},
        ):
            r = await s.objectives.post("/v1/objectives/miglio-blu/milestones", json=milestone)
            assert r.status_code == 201, r.text
        s.today[0] = date(2027, 3, 16)  # the sweep runs every 0.2 s: the day after the due date
        first = await told(s, "milestone_overdue", emails=2, webhooks=1)
        # Moved on to the end of April: due again, and missed again.
        r = await s.objectives.patch("/v1/milestones/bando", json={"due_on": "2027-04-30"})
        assert r.status_code == 200 and r.json()["status"] == "DUE", r.text
        s.today[0] = date(2027, 5, 1)
        both = await told(s, "milestone_overdue", emails=4, webhooks=2)
        await all_read(database)
        announced = await published(database, "MilestoneWentOverdue")
        held = await database.fetch("objectives", "SELECT milestone_id, overdue_announced_for FROM milestones")
    # Many sweeps ran in between; each due date was announced once, by the one that saw it.
    assert [(e["milestone_id"], e["due_on"], e["noticed_on"]) for e in announced] == [
        ("bando", "2027-03-15", "2027-03-16"),
        ("bando", "2027-04-30", "2027-05-01"),
    ]
    assert {r["milestone_id"]: r["overdue_announced_for"] for r in held} == {
        "bando": date(2027, 4, 30),
        "protocollo": date(2027, 3, 1),
    }
    assert len({d["cause_event_id"] for d in both}) == 2 and len(first) == 3
    mails = mails_of(s, "traguardo scaduto") | mails_of(s, "milestone overdue")
    assert sorted(mails) == sorted([MARIA, JOHN])  # the last of each, by address
    italian = [text_of(m) for m in s.smtp.messages if "traguardo scaduto" in m["Subject"]]
    english = [text_of(m) for m in s.smtp.messages if "milestone overdue" in m["Subject"]]
    assert sorted(fact(t, "Previsto per") for t in italian) == ["15/03/2027", "30/04/2027"]
    assert sorted(fact(t, "Due on") for t in english) == ["2027-03-15", "2027-04-30"]
    assert mails[MARIA]["Subject"] == "[Regia] Miglio Blu: traguardo scaduto – Bando per i cantieri pubblicato"
    assert fact(italian[0], "Scaduto da") == "1 giorno" and fact(english[0], "Overdue for") == "1 day"
    assert "nuova data prevista" in fact(italian[0], "Per rimediare")
    assert_placed(italian[0], english[0])
    hooks = bodies(s, "milestone_overdue")
    assert schema_errors(s.receiver.accepted) == []
    assert [(b["type"], b["milestone"]["milestone_id"], b["milestone"]["due_on"]) for b in hooks] == [
        ("MilestoneWentOverdue", "bando", "2027-03-15"),
        ("MilestoneWentOverdue", "bando", "2027-04-30"),
    ]
    assert hooks[0]["milestone"]["objective_title"] == "Miglio Blu" and hooks[0]["milestone"]["console_url"] == LINK


async def test_an_indicator_falling_behind_its_path_is_told_once(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async with stack(broker, monkeypatch, date(2026, 7, 10)) as s:
        # 1,000 jobs at the end of 2024, 1,200 targeted for the end of 2026: the path is a
        # straight line between, so 1,120 on 14 March 2026 and about 1,150.14 on 2 July.
        r = await s.objectives.post(
            "/v1/objectives/miglio-blu/indicators",
            json={
                "indicator_id": "posti",
                "name": "Posti di lavoro nel Miglio Blu",
                "unit": "posti",
                "direction": "INCREASING",
                "baseline": {"value": "1000", "year": 2024},
                "targets": [{"fiscal_year": 2026, "value": "1200"}],
            },
        )
        assert r.status_code == 201, r.text
        for measured_on, value in (("2026-03-14", "1120"), ("2026-07-02", "1150"), ("2026-07-09", "1151")):
            r = await s.objectives.post(
                "/v1/indicators/posti/measurements", json={"measured_on": measured_on, "value": value, "source": "INPS"}
            )
            assert r.status_code == 201, r.text
        done = await told(s, "indicator_behind", emails=2, webhooks=1)
        await all_read(database)
        planned = [d for d in await deliveries(s.notifier) if d["trigger"] == "indicator_behind"]
        behind = await published(database, "IndicatorFellBehind")
    # On the path in March; behind it on 2 July (said); still behind on 9 July (not again).
    assert len(planned) == 3 and len({d["cause_event_id"] for d in done}) == 1
    assert [(e["measured_on"], e["value"], e["expected_value"], e["previous_value"]) for e in behind] == [
        ("2026-07-02", "1150", "1150.136986", "1120")
    ]
    mails = mails_of(s, "in ritardo sul percorso") | mails_of(s, "behind its path")
    assert sorted(mails) == sorted([MARIA, JOHN])
    assert (
        mails[JOHN]["Subject"]
        == "[Regia] Miglio Blu: Posti di lavoro nel Miglio Blu behind its path to the 2026 target"
    )
    italian, english = text_of(mails[MARIA]), text_of(mails[JOHN])
    assert fact(italian, "Misurato") == "1.150 posti (02/07/2026)"
    assert fact(italian, "Atteso sul percorso") == "1.150,14 posti"
    assert fact(italian, "Target") == "1.200 posti entro il 31/12/2026"
    assert fact(italian, "Misura precedente") == "1.120 posti (14/03/2026)"
    assert fact(english, "Progress") == "75.00% of the way, 75.06% expected"
    assert "unless the gap is made up, the target will be missed" in english
    assert "riportino l'indicatore sul percorso" in fact(italian, "Per rimediare")
    assert_placed(italian, english)
    [body] = bodies(s, "indicator_behind")
    assert schema_errors(s.receiver.accepted) == []
    assert body["type"] == "IndicatorFellBehind" and body["rules"] == ["indicator-behind-lead"]
    facts = body["indicator"]
    assert (facts["indicator_id"], facts["value"], facts["expected_value"], facts["target_value"]) == (
        "posti",
        "1150",
        "1150.136986",
        "1200",
    )
    assert (facts["progress"], facts["expected_progress"], facts["previous_measured_on"]) == (
        "0.750000",
        "0.750685",
        "2026-03-14",
    )
    assert facts["console_url"] == LINK and facts["objective_title"] == "Miglio Blu"
