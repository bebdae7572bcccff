"""Each default alert rule against the real parts: partner and objective events in over the
broker, e-mails out over a real SMTP server and signed webhooks to a real HTTP receiver
that verifies them. Only the people the rule names hear, each once, in their language."""

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date
from email.message import EmailMessage

import httpx
import pytest

from regia_notifier.app import create_app
from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope, EventPayload
from regia_shared.contracts.events.objectives import (
    ObjectiveDefined,
    YearNeed,
)
from regia_shared.contracts.events.partners import (
    ContactAdded,
    ContactPreferencesChanged,
    NetworkFormed,
    NetworkMemberJoined,
    NetworkMemberLeft,
    ObjectiveLeadAssigned,
    ObjectiveRole,
    ObjectiveRoleAssigned,
    PartnerKind,
    PartnerRegistered,
)
from regia_shared.contracts.events.plans import AnnualReviewClosed
from regia_shared.contracts.levels import GovernmentLevel

from ..support import kafka
from ..support.funding import line_event
from ..support.notifier_state import known_before_its_lead
from ..support.objectives_events import coverage_changed
from ..support.services import ADMIN_HEADERS, in_process
from ..support.smtp import SmtpCapture
from ..support.wait import eventually
from ..support.webhook_receiver import WebhookReceiver, schema_errors
from .test_notifier import status_changed

pytestmark = pytest.mark.usefixtures("service_env")

ROSSI, SMITH = "maria.rossi@regione.liguria.it", "john.smith@regione.liguria.it"
BIANCHI = "anna.bianchi@comune.sp.it"
VERDI = "luca.verdi@mit.gov.it"
NERI, GIALLI, BLU = "paolo.neri@cpi.sp.it", "sara.gialli@unige.it", "ex.membro@coop.it"


def _event(payload: EventPayload, key: str) -> Envelope:
    return Envelope.wrap(payload, key=key, producer="partners")


def directory() -> list[Envelope]:
    """Liguria leads the Miglio Blu; the Comune funds it; the Ministry's line will be revoked;
    the Rete per il lavoro is formed around the plan's 'lavoro' objective, one member left."""
    events: list[Envelope] = []

    def partner(
        pid: str, name: str, kind: PartnerKind, level: GovernmentLevel | None, *contacts: tuple[str, str, str, str]
    ) -> None:
        events.append(_event(PartnerRegistered(partner_id=pid, name=name, kind=kind, level=level), pid))
        for cid, person, email, language in contacts:
            events.append(
                _event(ContactAdded(partner_id=pid, contact_id=cid, name=person, email=email, language=language), pid)
            )  # type: ignore[arg-type]

    partner(
        "regione-liguria",
        "Regione Liguria",
        PartnerKind.INSTITUTION,
        GovernmentLevel.REGIONE,
        ("rossi", "Maria Rossi", ROSSI, "it"),
        ("smith", "John Smith", SMITH, "en"),
    )
    partner(
        "comune-spezia",
        "Comune della Spezia",
        PartnerKind.INSTITUTION,
        GovernmentLevel.COMUNE,
        ("bianchi", "Anna Bianchi", BIANCHI, "it"),
    )
    partner(
        "mit",
        "Ministero delle Infrastrutture",
        PartnerKind.INSTITUTION,
        GovernmentLevel.STATO,
        ("verdi", "Luca Verdi", VERDI, "it"),
    )
    partner(
        "cpi-spezia", "Centro per l'impiego", PartnerKind.EMPLOYMENT_AGENCY, None, ("neri", "Paolo Neri", NERI, "it")
    )
    partner("unige", "Università di Genova", PartnerKind.UNIVERSITY, None, ("gialli", "Sara Gialli", GIALLI, "it"))
    partner("coop", "Cooperativa", PartnerKind.ASSOCIATION, None, ("blu", "Ex Membro", BLU, "it"))
    # Luca reads English, whatever the contact record said.
    events.append(
        _event(
            ContactPreferencesChanged(
                partner_id="mit",
                contact_id="verdi",
                channels=["email"],
                language="en",
                cadence="immediate",
                event_kinds=["line_revoked", "review_closed"],
            ),
            "mit",
        )
    )
    events.append(_event(ObjectiveLeadAssigned(objective_id="miglio-blu", partner_id="regione-liguria"), "miglio-blu"))
    events.append(
        _event(
            ObjectiveRoleAssigned(objective_id="miglio-blu", partner_id="comune-spezia", role=ObjectiveRole.FUNDER),
            "miglio-blu",
        )
    )
    events.append(
        _event(
            NetworkFormed(
                network_id="rete-lavoro", name="Rete per il lavoro", founded_on=date(2019, 1, 1), objective_id="lavoro"
            ),
            "rete-lavoro",
        )
    )
    for member in ("cpi-spezia", "unige", "coop"):
        events.append(
            _event(
                NetworkMemberJoined(network_id="rete-lavoro", partner_id=member, joined_on=date(2019, 2, 1)),
                "rete-lavoro",
            )
        )
    events.append(
        _event(NetworkMemberLeft(network_id="rete-lavoro", partner_id="coop", left_on=date(2021, 6, 30)), "rete-lavoro")
    )
    return events


async def _projected(admin: httpx.AsyncClient) -> bool:
    blu = (await admin.get("/v1/objectives/miglio-blu/audience")).json()["audiences"]
    lavoro = (await admin.get("/v1/objectives/lavoro/audience")).json()
    return (
        blu["LEAD"] == ["regione-liguria"]
        and blu["FUNDER"] == ["comune-spezia"]
        and lavoro["audiences"]["NETWORK_MEMBERS"] == ["cpi-spezia", "unige"]
        and lavoro["plan_id"] == "piano-2030"
        and len((await admin.get("/v1/objectives/miglio-blu/recipients")).json()["contacts"]) == 2
    )


@contextlib.asynccontextmanager
async def notifier(
    broker,
    smtp: SmtpCapture,
    receiver: WebhookReceiver,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    hook_partner: str,
) -> AsyncIterator[httpx.AsyncClient]:
    """The notifier with the directory projected and a webhook of `hook_partner` registered."""
    monkeypatch.setenv("REGIA_SMTP_PORT", str(smtp.port))
    await kafka.publish(broker.bootstrap_servers, topics.PARTNERS, directory())
    await kafka.publish_objectives(
        broker.bootstrap_servers,
        [
            Envelope.wrap(
                ObjectiveDefined(
                    objective_id="lavoro",
                    title="Lavoro di qualità",
                    at_risk_threshold_pct=80,
                    needs=[YearNeed(fiscal_year=2027, need_cents=100)],
                    plan_id="piano-2030",
                ),
                key="lavoro",
                producer="objectives",
            ),
        ],
    )
    async with in_process("notifier", create_app) as service, service.client(headers=ADMIN_HEADERS) as admin:
        await eventually(lambda: _projected(admin), what="partner and objective events projected")
        await known_before_its_lead(broker.bootstrap_servers)  # the lead has nothing to be briefed on
        r = await admin.post("/v1/webhooks", json={"partner_id": hook_partner, "url": receiver.url})
        assert r.status_code == 201, r.text
        receiver.secret = r.json()["secret"]
        yield admin


async def delivered(
    admin: httpx.AsyncClient, smtp: SmtpCapture, receiver: WebhookReceiver, emails: int
) -> tuple[list[dict], dict[str, EmailMessage]]:
    async def probe() -> list[dict] | None:
        found = (await admin.get("/v1/deliveries", params={"status": "DELIVERED"})).json()["items"]
        return found if len(found) == emails + 1 and len(smtp.messages) == emails and receiver.accepted else None

    done = await eventually(probe, what=f"{emails} e-mails and a webhook delivered")
    return done, {m["To"].addresses[0].addr_spec: m for m in smtp.messages}


def _plain(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def _webhook(receiver: WebhookReceiver) -> dict:
    [request] = receiver.accepted
    assert request.verified and not receiver.rejected
    assert schema_errors([request]) == []  # every kind conforms to the published schema
    return json.loads(request.body)


async def test_a_worsened_status_reaches_the_lead_by_email_and_webhook(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture() as smtp, WebhookReceiver() as receiver:
        async with notifier(broker, smtp, receiver, monkeypatch, "regione-liguria") as admin:
            cause = status_changed()
            await kafka.publish_objectives(broker.bootstrap_servers, [cause])
            done, mails = await delivered(admin, smtp, receiver, emails=2)
    assert sorted(mails) == sorted([ROSSI, SMITH])  # the funder and everyone else: not told
    assert {tuple(d["rules"]) for d in done} == {("status-worsened-lead",)}
    body = _webhook(receiver)
    assert body["alert"] == "status_changed" and body["event_id"] == str(cause.event_id)
    assert body["objective"]["status"] == "AT_RISK"


async def test_a_funding_drop_over_the_share_reaches_the_lead_and_a_small_one_nobody(
    broker, database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    coverage = coverage_changed

    with SmtpCapture() as smtp, WebhookReceiver() as receiver:
        async with notifier(broker, smtp, receiver, monkeypatch, "regione-liguria") as admin:
            # 800k → 760k is a 5 % drop (no alert); 760k → 570k is 25 % (alert).
            await kafka.publish_objectives(
                broker.bootstrap_servers,
                [coverage(800_000_00), coverage(760_000_00), coverage(570_000_00)],
            )
            done, mails = await delivered(admin, smtp, receiver, emails=2)
    assert sorted(mails) == sorted([ROSSI, SMITH])
    assert "25,00 %" in str(mails[ROSSI]["Subject"]) and "25.00%" in str(mails[SMITH]["Subject"])
    assert "€ 760.000,00" in _plain(mails[ROSSI]) and "€ 570.000,00" in _plain(mails[ROSSI])
    assert "€760,000.00" in _plain(mails[SMITH]) and "partially funded" in _plain(mails[SMITH])
    assert {tuple(d["rules"]) for d in done} == {("funding-dropped-lead",)}
    body = _webhook(receiver)
    assert body["alert"] == "funding_dropped"
    assert (body["objective"]["before_cents"], body["objective"]["after_cents"]) == (760_000_00, 570_000_00)


async def test_a_revoked_line_reaches_its_institution_and_the_objectives_funders(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture() as smtp, WebhookReceiver() as receiver:
        async with notifier(broker, smtp, receiver, monkeypatch, "mit") as admin:
            revoked = line_event(
                "revoke",
                "mit-2027-001",
                "miglio-blu",
                0,
                2,
                institution="mit",
                level=GovernmentLevel.STATO,
                delta=-1_500_000_00,
            )
            await kafka.publish(broker.bootstrap_servers, topics.FUNDING, [revoked])
            done, mails = await delivered(admin, smtp, receiver, emails=2)
    assert sorted(mails) == sorted([VERDI, BIANCHI])  # the line's institution and the funder, not the lead
    assert "revoked" in str(mails[VERDI]["Subject"]) and "revocata" in str(mails[BIANCHI]["Subject"])
    assert "€1,500,000.00" in _plain(mails[VERDI]) and "Ministero delle Infrastrutture" in _plain(mails[VERDI])
    assert "€ 1.500.000,00" in _plain(mails[BIANCHI])
    rules = {d["recipient"]: d["rules"] for d in done}
    assert rules[VERDI] == rules[BIANCHI] == ["line-revoked-funders"]
    body = _webhook(receiver)
    assert body["alert"] == "line_revoked" and body["line"]["line_id"] == "mit-2027-001"


async def test_a_closed_review_reaches_the_current_members_of_the_plans_network(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with SmtpCapture() as smtp, WebhookReceiver() as receiver:
        async with notifier(broker, smtp, receiver, monkeypatch, "cpi-spezia") as admin:
            closed = Envelope.wrap(
                AnnualReviewClosed(
                    plan_id="piano-2030",
                    fiscal_year=2026,
                    need_cents=10_000_000_00,
                    committed_cents=7_500_000_00,
                    disbursed_cents=2_000_000_00,
                    coverage_bp=7500,
                    nodes_by_status={"FUNDED": 3, "AT_RISK": 1},
                ),
                key="piano-2030",
                producer="objectives",
            )
            await kafka.publish_objectives(broker.bootstrap_servers, [closed])
            done, mails = await delivered(admin, smtp, receiver, emails=2)
    assert sorted(mails) == sorted([NERI, GIALLI])  # the member who left in 2021 is not told
    assert "Riesame annuale 2026" in str(mails[NERI]["Subject"])
    assert all(d["rules"] == ["review-closed-network"] and d["objective_id"] == "piano-2030" for d in done)
    body = _webhook(receiver)
    assert body["alert"] == "review_closed" and body["review"]["plan_id"] == "piano-2030"


async def test_rules_are_data_an_administrator_changes(broker, database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Disable the lead's rule and make a new one for funders: the same kind of event then
    reaches other people, without a deployment. A meaningless rule is refused whole."""
    with SmtpCapture() as smtp, WebhookReceiver() as receiver:
        async with notifier(broker, smtp, receiver, monkeypatch, "comune-spezia") as admin:
            lead_rule = (await admin.get("/v1/rules/status-worsened-lead")).json()
            r = await admin.put(
                "/v1/rules/status-worsened-lead",
                json={**{k: v for k, v in lead_rule.items() if k != "rule_id"}, "enabled": False},
            )
            assert r.status_code == 200 and r.json()["enabled"] is False
            r = await admin.put(
                "/v1/rules/status-any-funders",
                json={"trigger": "status_changed", "audience": ["FUNDER"], "description": "funders hear it all"},
            )
            assert r.status_code == 201, r.text
            bad = await admin.put(
                "/v1/rules/broken", json={"trigger": "line_revoked", "audience": ["LEAD"], "direction": "worsened"}
            )
            assert bad.status_code == 422 and "direction applies" in bad.text
            assert (await admin.get("/v1/rules/broken")).status_code == 404
            assert (
                await admin.put("/v1/rules/a,b", json={"trigger": "status_changed", "audience": ["LEAD"]})
            ).status_code == 422
            await kafka.publish_objectives(broker.bootstrap_servers, [status_changed()])
            done, mails = await delivered(admin, smtp, receiver, emails=1)
            ids = [r["rule_id"] for r in (await admin.get("/v1/rules")).json()["items"]]
            anonymous = await admin.get("/v1/rules", headers={"Authorization": "Bearer nope"})
    assert list(mails) == [BIANCHI] and {tuple(d["rules"]) for d in done} == {("status-any-funders",)}
    assert "status-any-funders" in ids and "status-worsened-lead" in ids
    assert anonymous.status_code == 401
    assert uuid.UUID(done[0]["delivery_id"])
