"""Input streams of the fault tests, each with the state a fault-free run ends in, computed
from the stream itself (not from a run), and the checks that compare the system with it."""

import json
import random
from collections import Counter
from dataclasses import dataclass, field

import httpx

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.funding import FundingRevoked
from regia_shared.contracts.events.objectives import CoverageStatus, ObjectiveDefined, ObjectiveStatusChanged, YearNeed
from regia_shared.contracts.events.partners import ContactAdded, ObjectiveLeadAssigned, PartnerKind, PartnerRegistered
from regia_shared.contracts.levels import GovernmentLevel

from ..support.faults import Message
from ..support.funding import line_event
from ..support.infra import Database
from ..support.objective_lines import projected_lines
from ..support.services import ADMIN_HEADERS
from ..support.smtp import SmtpCapture
from ..support.wait import eventually

YEAR, NEED = 2027, 100_000_000


# --- objectives: funding line events move coverage; lead assignments set leads --------


@dataclass
class CoverageStream:
    """Line events of `lines` lines over `objectives` objectives: a commitment, then
    revisions with growing line versions. Final state: the newest version of each line."""

    events: list[Envelope]
    final: dict[str, int]  # line -> committed cents
    objective_of: dict[str, str]

    def coverage(self, objective: str) -> int:
        return sum(v for line, v in self.final.items() if self.objective_of[line] == objective)

    @property
    def objectives(self) -> list[str]:
        return sorted(set(self.objective_of.values()))


def coverage_stream(
    total: int, objectives: int = 6, lines_per: int = 4, seed: int = 7, institution: str = "regione-liguria"
) -> CoverageStream:
    rng = random.Random(seed)
    objective_of = {f"LIG-{o}-{n}": f"obj-{o}" for o in range(objectives) for n in range(lines_per)}
    version: Counter[str] = Counter()
    final: dict[str, int] = {}
    events = []
    lines = sorted(objective_of)
    for i in range(total):
        line = lines[i] if i < len(lines) else rng.choice(lines)
        version[line] += 1
        amount = rng.randrange(1, 5_000) * 100
        kind = "commit" if version[line] == 1 else "revise"
        events.append(
            line_event(
                kind,
                line,
                objective_of[line],
                amount,
                version[line],
                delta=amount - final.get(line, 0),
                institution=institution,
            )
        )
        final[line] = amount
    return CoverageStream(events, final, objective_of)


def lead_stream(total: int, objectives: list[str], seed: int = 11) -> tuple[list[Envelope], dict[str, str]]:
    rng = random.Random(seed)
    leads: dict[str, str] = {}
    events = []
    for i in range(total):
        objective = objectives[i % len(objectives)]
        leads[objective] = f"partner-{rng.randrange(20)}"
        events.append(
            Envelope.wrap(
                ObjectiveLeadAssigned(objective_id=objective, partner_id=leads[objective]),
                key=objective,
                producer="partners",
            )
        )
    return events, leads


async def define_objectives(objectives_url: str, ids: list[str]) -> None:
    async with httpx.AsyncClient(headers=ADMIN_HEADERS, timeout=10) as admin:
        for objective in ids:
            r = await admin.post(
                f"{objectives_url}/v1/objectives",
                json={
                    "objective_id": objective,
                    "title": f"Objective {objective}",
                    "needs": [{"fiscal_year": YEAR, "need_cents": NEED}],
                },
            )
            assert r.status_code == 201, r.text


async def assert_coverage(objectives_url: str, stream: CoverageStream) -> None:
    """Coverage per objective-year and the lines behind it, exactly the stream's finals."""
    async with httpx.AsyncClient(timeout=10) as client:
        for objective in stream.objectives:
            body = (await client.get(f"{objectives_url}/v1/objectives/{objective}")).json()
            years = {y["fiscal_year"]: y["committed_cents"] for y in body["years"]}
            assert years == {YEAR: stream.coverage(objective)}, (objective, years)
            assert await projected_lines(client, objectives_url, objective) == {
                line: v for line, v in stream.final.items() if stream.objective_of[line] == objective
            }


async def assert_ledger(database: Database, final: dict[str, int], entries: int) -> None:
    """The ledger's deltas of every line add up to its final amount, one entry per command."""
    rows = await database.fetch(
        "funding", "SELECT line_id, sum(delta_cents) AS total, count(*) AS n FROM ledger_entries GROUP BY line_id"
    )
    assert {r["line_id"]: r["total"] for r in rows} == final
    assert sum(r["n"] for r in rows) == entries


# --- funding: institutions and objectives it learns, commands over Kafka ---------------


async def prepare_funding(
    funding_url: str, objectives_url: str, objectives: list[str], instrument: str = "por-fesr-liguria"
) -> str:
    """Objectives defined, funding told of them and of Regione Liguria (whose registration
    the caller published), an instrument; returns Liguria's API key."""
    await define_objectives(objectives_url, objectives)
    async with httpx.AsyncClient(base_url=funding_url, headers=ADMIN_HEADERS, timeout=10) as admin:

        async def references_known() -> bool:
            known = [(await admin.get(f"/v1/objectives/{o}")).status_code for o in objectives]
            return known == [200] * len(known) and bool((await admin.get("/v1/institutions")).json())

        await eventually(references_known, what="funding learned the institution and objectives")
        r = await admin.post(
            "/v1/instruments",
            json={
                "instrument_id": instrument,
                "institution_id": "regione-liguria",
                "name": "POR FESR Liguria",
                "kind": "programme",
            },
        )
        assert r.status_code == 201, r.text
        return (await admin.post("/v1/institutions/regione-liguria/keys")).json()["key"]


def renamed_institutions(total: int, seed: int = 13) -> tuple[list[Envelope], dict[str, str]]:
    rng = random.Random(seed)
    names: dict[str, str] = {}
    events = []
    for i in range(total):
        pid = f"inst-{i % 15}"
        names[pid] = f"Ente {pid} #{rng.randrange(10_000)}"
        events.append(
            Envelope.wrap(
                PartnerRegistered(
                    partner_id=pid, name=names[pid], kind=PartnerKind.INSTITUTION, level=GovernmentLevel.COMUNE
                ),
                key=pid,
                producer="partners",
            )
        )
    return events, names


def retitled_objectives(total: int, seed: int = 17) -> tuple[list[Envelope], dict[str, str]]:
    rng = random.Random(seed)
    titles: dict[str, str] = {}
    events = []
    for i in range(total):
        oid = f"ref-{i % 15}"
        titles[oid] = f"Riferimento {oid} #{rng.randrange(10_000)}"
        events.append(
            Envelope.wrap(
                ObjectiveDefined(
                    objective_id=oid,
                    title=titles[oid],
                    at_risk_threshold_pct=80,
                    needs=[YearNeed(fiscal_year=YEAR, need_cents=NEED)],
                ),
                key=oid,
                producer="objectives",
            )
        )
    return events, titles


def inbound_commands(stream: CoverageStream, key: str, instrument: str) -> list[Message]:
    """The coverage stream as an institution sends it on the inbound topic."""
    messages = []
    for i, event in enumerate(stream.events):
        p = event.payload
        command = (
            {
                "type": "commitment",
                "line_id": p["line_id"],
                "objective_id": p["objective_id"],
                "instrument_id": instrument,
                "fiscal_year": p["fiscal_year"],
                "committed_cents": p["committed_cents"],
            }
            if event.type == "FundingCommitted"
            else {"type": "revision", "line_id": p["line_id"], "committed_cents": p["committed_cents"]}
        )
        messages.append(
            Message(
                topics.FUNDING_INBOUND,
                p["line_id"].encode(),
                json.dumps(command).encode(),
                (
                    ("authorization", f"Bearer {key}".encode()),
                    ("idempotency-key", f"in-{i}".encode()),
                    ("x-regia-reason", b"Prova di guasto: revisione dall'ente"),
                ),
            )
        )
    return messages


# --- notifier: a directory, status changes and revocations become deliveries ----------

LIGURIA_CONTACTS = ("maria.rossi@regione.liguria.it", "john.smith@regione.liguria.it")


def liguria_directory(alert_objectives: list[str]) -> list[Envelope]:
    """Regione Liguria, two contacts, lead of the objectives whose alerts the test counts."""
    events = [
        Envelope.wrap(
            PartnerRegistered(
                partner_id="regione-liguria",
                name="Regione Liguria",
                kind=PartnerKind.INSTITUTION,
                level=GovernmentLevel.REGIONE,
            ),
            key="regione-liguria",
            producer="partners",
        )
    ]
    for n, email in enumerate(LIGURIA_CONTACTS):
        events.append(
            Envelope.wrap(
                ContactAdded(
                    partner_id="regione-liguria",
                    contact_id=f"liguria-c{n}",
                    name=f"Contact {n}",
                    email=email,
                    language="it",
                ),
                key="regione-liguria",
                producer="partners",
            )
        )
    events += [
        Envelope.wrap(ObjectiveLeadAssigned(objective_id=o, partner_id="regione-liguria"), key=o, producer="partners")
        for o in alert_objectives
    ]
    return events


def briefed(directory: list[Envelope]) -> list[Envelope]:
    """The lead assignments of `liguria_directory`: each reaches the notifier before any
    status of its objective, so its lead is owed a briefing, told (both contacts, the
    assignment its cause) once the objective's first status arrives."""
    return [
        e
        for e in directory
        if e.type == ObjectiveLeadAssigned.event_type() and e.payload["partner_id"] == "regione-liguria"
    ]


def partner_directory_stream(partners: int) -> tuple[list[Envelope], dict[str, set[str]]]:
    """Per partner: registered, three contacts, lead of its own objective `q-<n>`.
    (A contact id is unique across partners.)"""
    events, recipients = [], {}
    for n in range(partners):
        pid = f"p-{n}"
        events.append(
            Envelope.wrap(
                PartnerRegistered(partner_id=pid, name=f"Partner {n}", kind=PartnerKind.ASSOCIATION),
                key=pid,
                producer="partners",
            )
        )
        emails = {f"c{c}.p{n}@partners.example.org" for c in range(3)}
        for c, email in enumerate(sorted(emails)):
            events.append(
                Envelope.wrap(
                    ContactAdded(
                        partner_id=pid, contact_id=f"{pid}-c{c}", name=f"Contact {c} of {n}", email=email, language="en"
                    ),
                    key=pid,
                    producer="partners",
                )
            )
        events.append(
            Envelope.wrap(
                ObjectiveLeadAssigned(objective_id=f"q-{n}", partner_id=pid), key=f"q-{n}", producer="partners"
            )
        )
        recipients[f"q-{n}"] = emails
    return events, recipients


def status_changes(total: int, objectives: list[str]) -> list[Envelope]:
    """Each objective goes back and forth between partially funded and at risk."""
    events = []
    for i in range(total):
        objective = objectives[i % len(objectives)]
        worse = (i // len(objectives)) % 2 == 0
        previous, status = (
            (CoverageStatus.PARTIALLY_FUNDED, CoverageStatus.AT_RISK)
            if worse
            else (CoverageStatus.AT_RISK, CoverageStatus.PARTIALLY_FUNDED)
        )
        events.append(
            Envelope.wrap(
                ObjectiveStatusChanged(
                    objective_id=objective,
                    title=f"Objective {objective}",
                    fiscal_year=YEAR,
                    previous_status=previous,
                    status=status,
                    coverage_bp=7000 if worse else 9000,
                    need_cents=NEED,
                    committed_cents=NEED * (70 if worse else 90) // 100,
                    at_risk_threshold_pct=80,
                ),
                key=objective,
                producer="objectives",
            )
        )
    return events


def revocations(total: int, objectives: list[str]) -> list[Envelope]:
    events = []
    for i in range(total):
        objective = objectives[i % len(objectives)]
        events.append(
            Envelope.wrap(
                FundingRevoked(
                    line_id=f"REV-{i}",
                    institution_id="regione-liguria",
                    level=GovernmentLevel.REGIONE,
                    objective_id=objective,
                    fiscal_year=YEAR,
                    committed_cents=0,
                    disbursed_cents=0,
                    line_version=2,
                    delta_cents=-100_000 * (i + 1),
                    reason=f"revoked {i}",
                ),
                key=objective,
                producer="funding",
            )
        )
    return events


@dataclass
class DeliveryReport:
    deliveries: int
    duplicate_mails: int
    abandoned_attempts: int
    extra: dict = field(default_factory=dict)


async def all_alerts_delivered(database: Database, alerts: int) -> bool:
    """At least `alerts` e-mail alerts queued, none still waiting for its message, and every
    message delivered: what a fault test waits for before it checks the books."""
    queued = await database.fetchval("notifier", "SELECT count(*) FROM waiting_alerts")
    waiting = await database.fetchval("notifier", "SELECT count(*) FROM waiting_alerts WHERE message_id IS NULL")
    unsent = await database.fetchval("notifier", "SELECT count(*) FROM deliveries WHERE status <> 'DELIVERED'")
    return queued >= alerts and waiting == 0 and unsent == 0


async def assert_deliveries(
    database: Database, smtp: SmtpCapture, causes: list[Envelope], recipients: tuple[str, ...] = LIGURIA_CONTACTS
) -> DeliveryReport:
    """One alert per (cause, recipient), each carried by exactly one message (or settled:
    its changes cancelled out within the window), each message DELIVERED and e-mailed; an
    e-mail sent twice is only ever one whose attempt the kill cut short (its claim ran out)."""
    alerts = await database.fetch("notifier", "SELECT cause_event_id, email, message_id, settled FROM waiting_alerts")
    pairs = Counter((str(r["cause_event_id"]), r["email"].lower()) for r in alerts)
    expected = Counter((str(e.event_id), to.lower()) for e in causes for to in recipients)
    assert pairs == expected, (sorted((pairs - expected).items())[:5], sorted((expected - pairs).items())[:5])
    assert all(r["message_id"] is not None for r in alerts)
    rows = await database.fetch(
        "notifier", "SELECT delivery_id, recipient, status FROM deliveries WHERE channel = 'email'"
    )
    carried = {r["message_id"] for r in alerts if not r["settled"]}
    assert {r["delivery_id"] for r in rows} == carried
    assert {r["status"] for r in rows} == {"DELIVERED"}
    mailed = Counter(m["Message-ID"].strip("<>").split("@")[0] for m in smtp.messages)
    assert set(mailed) == {str(r["delivery_id"]) for r in rows}
    duplicates = sum(n - 1 for n in mailed.values())
    abandoned = await database.fetchval(
        "notifier", "SELECT count(*) FROM delivery_attempts WHERE outcome = 'ABANDONED'"
    )
    assert duplicates <= abandoned, f"{duplicates} e-mails sent twice, only {abandoned} attempts cut by the kill"
    return DeliveryReport(len(rows), duplicates, abandoned)  # type: ignore[arg-type]
