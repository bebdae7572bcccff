"""The story an alert tells, against the real PostgreSQL, broker, SMTP server and a webhook
receiver: the quick start's cut of Regione Liguria's €4.5M to €3M on the Miglio Blu (need
€5M, at risk under 80 %) says what is missing (€1,000,000 to 80 %, €2,000,000 to 100 %),
who committed what, where the objective sits in its plan, and links to its console page,
in both languages and in the webhook JSON."""

import json
import re

import pytest
from cryptography.fernet import Fernet

from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import (
    CoverageStatus,
    ObjectiveDefined,
    ObjectiveStatusChanged,
    YearNeed,
)

from ..support import kafka
from ..support.objectives_events import coverage_changed
from ..support.smtp import SmtpCapture
from ..support.wait import eventually
from ..support.webhook_receiver import WebhookReceiver, schema_errors
from .test_notifier import JOHN, MARIA, _ready, notifier, settled
from .test_notifier_quiet import consumed
from .test_notifier_webhooks import register

pytestmark = pytest.mark.usefixtures("service_env")

S = CoverageStatus
NEED = 5_000_000_00
LINK = "https://regia.example.org/objectives/miglio-blu"


def defined(objective_id: str, title: str, kind: str, parent_id: str | None) -> Envelope:
    payload = ObjectiveDefined(
        objective_id=objective_id,
        title=title,
        at_risk_threshold_pct=80,
        needs=[YearNeed(fiscal_year=2027, need_cents=NEED)],
        plan_id="liguria-2030",
        parent_id=parent_id,
        kind=kind,
    )
    return Envelope.wrap(payload, key=objective_id, producer="objectives")


def coverage(committed: int, by_level: dict[str, int], status: CoverageStatus) -> Envelope:
    return coverage_changed(committed, need_cents=NEED, status=status, by_level=by_level)


def status(previous: CoverageStatus, now: CoverageStatus, committed: int) -> Envelope:
    payload = ObjectiveStatusChanged(
        objective_id="miglio-blu",
        title="Miglio Blu",
        fiscal_year=2027,
        previous_status=previous,
        status=now,
        coverage_bp=committed * 10_000 // NEED,
        need_cents=NEED,
        committed_cents=committed,
        at_risk_threshold_pct=80,
    )
    return Envelope.wrap(payload, key="miglio-blu", producer="objectives")


async def test_the_cut_tells_the_gap_the_levels_the_path_and_the_link(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_NOTIFIER_GROUP_WAIT_S", "3")  # one cause in one e-mail, even on a loaded machine
    monkeypatch.setenv("REGIA_FUNDING_WINDOW_FIRST_YEAR", "2025")
    monkeypatch.setenv("REGIA_CONSOLE_URL", "https://regia.example.org/")
    monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", Fernet.generate_key().decode())
    with SmtpCapture() as smtp, WebhookReceiver() as receiver:
        async with notifier(broker, smtp, monkeypatch) as admin:
            await register(admin, receiver)
            plan = [
                defined("liguria-2030", "Liguria 2030", "VISION", None),
                defined("mare", "Il mare di tutti", "PROGRAMME", "liguria-2030"),
                defined("miglio-blu", "Miglio Blu", "OBJECTIVE", "mare"),
            ]
            before = coverage(4_500_000_00, {"REGIONE": 4_000_000_00, "STATO": 500_000_00}, S.PARTIALLY_FUNDED)
            await kafka.publish_objectives(broker.bootstrap_servers, [*plan, before])
            await consumed(database, *plan, before)
            cut = [
                coverage(3_000_000_00, {"REGIONE": 2_500_000_00, "STATO": 500_000_00}, S.AT_RISK),
                status(S.PARTIALLY_FUNDED, S.AT_RISK, 3_000_000_00),
            ]
            await kafka.publish_objectives(broker.bootstrap_servers, cut)
            # One cause, one e-mail each to Maria and John; the drop and the status change
            # each to the endpoint (a machine gets every event).
            await settled(admin, 4)
            await eventually(lambda: _ready(receiver.accepted, 2), what="two webhooks")
    mails = {(m["To"], m["Subject"]): m for m in smtp.messages}
    assert len(mails) == 2
    for (to, _), mail in mails.items():
        text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
        if MARIA in to:
            assert mail["Subject"] == "[Regia] Miglio Blu 2027: A RISCHIO, finanziamento in calo del 33,33 %"
            assert re.search(r"Stato: +PARZIALMENTE FINANZIATO → A RISCHIO", text)
            assert re.search(r"Impegnato: +€ 4\.500\.000,00 → € 3\.000\.000,00 \(−€ 1\.500\.000,00, −33,33 %\)", text)
            assert re.search(r"Mancano: +€ 1\.000\.000,00 per la soglia \(80 %\), € 2\.000\.000,00 per il 100 %", text)
            assert re.search(r"Impegnato per livello: +Regione € 2\.500\.000,00; Stato € 500\.000,00", text)
            assert re.search(r"Nel piano: +Liguria 2030 › Il mare di tutti › Miglio Blu", text)
            assert re.search(rf"Nella console: +{re.escape(LINK)}", text)
        else:
            assert JOHN in to
            assert re.search(r"Missing: +€1,000,000\.00 to 80%, €2,000,000\.00 to 100%", text)
            assert re.search(r"Committed by level: +Region €2,500,000\.00; State €500,000\.00", text)
            assert re.search(r"In the plan: +Liguria 2030 › Il mare di tutti › Miglio Blu", text)
            assert re.search(rf"In the console: +{re.escape(LINK)}", text)
        assert f'<a href="{LINK}">{LINK}</a>' in html
    bodies = {json.loads(r.body)["alert"]: json.loads(r.body) for r in receiver.accepted}
    assert set(bodies) == {"status_changed", "funding_dropped"}
    assert schema_errors(receiver.accepted) == []  # the published schema holds, story and all
    for body in bodies.values():
        facts = body["objective"]
        assert facts["objective_id"] == "miglio-blu" and facts["fiscal_year"] == 2027
        assert (facts["gap_to_threshold_cents"], facts["gap_to_full_cents"]) == (1_000_000_00, 2_000_000_00)
        assert facts["committed_by_level"] == {"REGIONE": 2_500_000_00, "STATO": 500_000_00}
        assert [(n["objective_id"], n["kind"]) for n in facts["path"]] == [
            ("liguria-2030", "VISION"),
            ("mare", "PROGRAMME"),
            ("miglio-blu", "OBJECTIVE"),
        ]
        assert facts["console_url"] == LINK
    # What was there before stays as it was.
    assert bodies["funding_dropped"]["objective"]["before_cents"] == 4_500_000_00
    assert bodies["funding_dropped"]["objective"]["at_risk_threshold_pct"] == 80
    assert bodies["status_changed"]["objective"]["previous_status"] == "PARTIALLY_FUNDED"
