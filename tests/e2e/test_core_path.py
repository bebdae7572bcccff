"""The core path of docs/architecture.md with every service as its own process: a region cuts its
commitment, the objective falls below its threshold, and the lead reads it in an e-mail
delivered to a real SMTP server, within seconds."""

import re
from pathlib import Path

import httpx
import pytest

from ..support.infra import Database
from ..support.partners import objectives_known
from ..support.services import ADMIN_HEADERS, REASON_HEADERS
from ..support.smtp import SmtpCapture
from ..support.system import running_system
from ..support.wait import eventually

pytestmark = pytest.mark.e2e
NEED = 5_000_000_00  # € 5 million: Il Miglio Blu


def metric(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels` (Prometheus text format)."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{name}(?:\{{(.*)\}})? (\S+)$", line)
        if not match:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(2))
    return total


async def test_a_cut_below_threshold_reaches_the_lead_by_email(service_env, database: Database, tmp_path: Path):  # type: ignore[no-untyped-def]
    with SmtpCapture() as smtp, running_system({**service_env, "REGIA_SMTP_PORT": str(smtp.port)}, tmp_path) as system:
        partners = system.start("partners")
        funding = system.start("funding")
        objectives = system.start("objectives")
        notifier = system.start("notifier")

        async with httpx.AsyncClient(headers=ADMIN_HEADERS, timeout=10) as admin:
            for body in (
                {"partner_id": "regione-liguria", "name": "Regione Liguria", "kind": "INSTITUTION", "level": "REGIONE"},
                {
                    "partner_id": "comune-spezia",
                    "name": "Comune della Spezia",
                    "kind": "INSTITUTION",
                    "level": "COMUNE",
                },
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
                    "objective_id": "miglio-blu",
                    "title": "Il Miglio Blu – La Spezia per la Nautica",
                    "at_risk_threshold_pct": 80,
                    "needs": [{"fiscal_year": 2027, "need_cents": NEED}],
                },
            )
            assert r.status_code == 201, r.text
            # A lead goes only on an objective the partners service knows (issue 20).
            await objectives_known(admin, "", "miglio-blu", announce=False, base_url=partners.url)
            r = await admin.put(f"{partners.url}/v1/objectives/miglio-blu/lead", json={"partner_id": "comune-spezia"})
            assert r.status_code == 200, r.text

            async def lead_known() -> bool:  # before any money moves: the alerts go to the lead
                body = (await admin.get(f"{notifier.url}/v1/objectives/miglio-blu/recipients")).json()
                return body.get("lead") == "comune-spezia" and bool(body.get("contacts"))

            await eventually(lead_known, what="the notifier learned the lead and its contact")

            async def briefed() -> bool:  # the new lead's briefing (the objective is unfunded) is out
                deliveries = (
                    await admin.get(f"{notifier.url}/v1/deliveries", params={"objective_id": "miglio-blu"})
                ).json()["items"]
                return any(d["status"] == "DELIVERED" for d in deliveries)

            # Before any money moves, so that the alerts of the money are mails of their own, not
            # grouped with the briefing.
            await eventually(briefed, what="the new lead's briefing delivered")

            async def funder_known() -> bool:
                listed = (await admin.get(f"{funding.url}/v1/institutions")).json()
                return any(i["institution_id"] == "regione-liguria" for i in listed)

            await eventually(funder_known, what="funding learned Regione Liguria from partner events")
            r = await admin.post(
                f"{funding.url}/v1/instruments",
                json={
                    "instrument_id": "bilancio-regione-liguria",
                    "institution_id": "regione-liguria",
                    "name": "Bilancio regionale",
                    "kind": "budget",
                },
            )
            assert r.status_code == 201, r.text

            async def objective_known() -> bool:
                return (await admin.get(f"{funding.url}/v1/objectives/miglio-blu")).status_code == 200

            await eventually(objective_known, what="funding learned the objective from its events")
            key = (await admin.post(f"{funding.url}/v1/institutions/regione-liguria/keys")).json()["key"]

        async with httpx.AsyncClient(
            base_url=funding.url, timeout=10, headers={"Authorization": f"Bearer {key}", **REASON_HEADERS}
        ) as region:
            r = await region.post(
                "/v1/funding-events",
                headers={"Idempotency-Key": "dgr-2026-101"},
                json={
                    "type": "commitment",
                    "line_id": "LIG-2027-001",
                    "objective_id": "miglio-blu",
                    "instrument_id": "bilancio-regione-liguria",
                    "fiscal_year": 2027,
                    "committed_cents": NEED,
                    "reason": "DGR 101/2026",
                },
            )
            assert r.status_code == 202, r.text

            async def funded() -> bool:
                return await coverage(objectives.url) == ("FUNDED", NEED)

            await eventually(funded, what="the objective fully funded")

            r = await region.post(
                "/v1/funding-events",
                headers={"Idempotency-Key": "dgr-2026-202", "X-Correlation-Id": "cut-2027"},
                json={
                    "type": "revision",
                    "line_id": "LIG-2027-001",
                    "committed_cents": 3_000_000_00,
                    "reason": "DGR 202/2026: budget cut",
                },
            )
            assert r.status_code == 202, r.text

        def at_risk_mail() -> list:
            return [m for m in smtp.messages if "A RISCHIO" in str(m["Subject"])]

        mails = await eventually(_async(at_risk_mail), timeout=30, what="the at-risk e-mail")
        assert len(mails) == 1
        mail = mails[0]
        assert mail["To"] == "piano@comune.sp.it" or "piano@comune.sp.it" in str(mail["To"])
        text = mail.get_body(("plain",)).get_content()
        assert "Il Miglio Blu" in text and "60" in text  # coverage 60 %
        assert await coverage(objectives.url) == ("AT_RISK", 3_000_000_00)

        async with httpx.AsyncClient(headers=ADMIN_HEADERS, timeout=10) as admin:
            deliveries = (
                await admin.get(f"{notifier.url}/v1/deliveries", params={"objective_id": "miglio-blu"})
            ).json()["items"]
            delivered = [d for d in deliveries if d["status"] == "DELIVERED"]
            assert delivered and all(d["recipient"] == "piano@comune.sp.it" for d in delivered)

            # Every service counted the event on its side of the path.
            scraped = {
                name: (await admin.get(f"{service.url}/metrics")).text for name, service in system.services.items()
            }
        assert metric(scraped["funding"], "regia_funding_events_accepted_total", type="revision") == 1
        assert metric(scraped["funding"], "regia_outbox_published_events_total") >= 2
        assert (
            metric(scraped["objectives"], "regia_objectives_funding_events_applied_total", type="FundingRevised") == 1
        )
        assert metric(scraped["objectives"], "regia_objectives_status_changes_total", status="AT_RISK") == 1
        assert metric(scraped["notifier"], "regia_alerts_delivered_total", channel="email") >= 1
        assert metric(scraped["partners"], "regia_partners_registered_total") == 2
        assert metric(scraped["objectives"], "faststream_received_messages_total") >= 2

    # The alert is traceable to the request that caused it, through every service.
    cause = await database.fetchval("objectives", "SELECT count(*) FROM outbox WHERE correlation_id = 'cut-2027'")
    assert cause >= 2  # coverage changed + status changed


async def coverage(objectives_url: str) -> tuple[str, int] | None:
    async with httpx.AsyncClient(timeout=10) as client:
        body = (await client.get(f"{objectives_url}/v1/objectives/miglio-blu")).json()
    year = next((y for y in body.get("years", []) if y["fiscal_year"] == 2027), None)
    return (year["status"], year["committed_cents"]) if year else None


def _async(fn):  # type: ignore[no-untyped-def]
    async def probe():  # type: ignore[no-untyped-def]
        return fn()

    return probe
