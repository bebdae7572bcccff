"""Issue 6's metrics, scraped over HTTP from running services: a funding commitment goes
through funding, objectives and the notifier to an e-mail, and each service's /metrics
shows what it did (events by type and outcome, batch timings, lag back to 0, money,
statuses, the funding-to-alert time); a poison record shows as a dead letter."""

import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from regia_notifier.app import create_app as notifier_app
from regia_objectives.app import create_app as objectives_app
from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.partners import ContactAdded, ObjectiveLeadAssigned

from ..support import kafka
from ..support.funding_api import commitment, issue_key
from ..support.services import ADMIN_HEADERS, RunningService, in_process
from ..support.smtp import SmtpCapture
from ..support.wait import eventually
from ..unit.test_deploy_prometheus import KNOWN_METRICS

NEED = 100_000_00  # the commitment covers it all: UNFUNDED → FUNDED, an "improved" alert


@pytest.fixture(autouse=True)
def fast_refresh(service_env, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_METRICS_REFRESH_S", "0.5")


async def scrape(service: RunningService) -> dict[tuple[str, frozenset], float]:
    async with httpx.AsyncClient(base_url=service.url, timeout=10) as client:
        text = (await client.get("/metrics")).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def declared(service: RunningService) -> set[str]:
    """The metric names a service declares (its HELP lines), with samples or not yet."""
    async with httpx.AsyncClient(base_url=service.url, timeout=10) as client:
        text = (await client.get("/metrics")).text
    return {line.split()[2] for line in text.splitlines() if line.startswith("# HELP ")}


def value(samples: dict, name: str, **labels: str) -> float | None:
    """Sum of the samples of `name` whose labels include `labels`; None if there is none."""
    found = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls]
    return sum(found) if found else None


async def until(target: RunningService, name: str, expected: float, **labels: str) -> dict:
    async def probe() -> dict | None:
        samples = await scrape(target)
        return samples if value(samples, name, **labels) == expected else None

    return await eventually(probe, what=f"{target.name}: {name}{labels} == {expected}")


def lead_and_contact() -> list[Envelope]:
    return [
        Envelope.wrap(
            ContactAdded(
                partner_id="regione-liguria",
                contact_id="rossi",
                name="Maria Rossi",
                email="maria.rossi@regione.liguria.it",
                language="it",
            ),
            key="regione-liguria",
            producer="partners",
        ),
        Envelope.wrap(
            ObjectiveLeadAssigned(objective_id="miglio-blu", partner_id="regione-liguria"),
            key="miglio-blu",
            producer="partners",
        ),
    ]


async def test_a_commitment_moves_every_services_metrics(funding, broker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bootstrap = broker.bootstrap_servers
    with SmtpCapture() as smtp:
        monkeypatch.setenv("REGIA_SMTP_PORT", str(smtp.port))
        async with (
            in_process("objectives", objectives_app) as objectives,
            in_process("notifier", notifier_app) as notifier,
        ):
            async with objectives.client(headers=ADMIN_HEADERS) as admin:
                r = await admin.post(
                    "/v1/objectives",
                    json={
                        "objective_id": "miglio-blu",
                        "title": "Il Miglio Blu",
                        "at_risk_threshold_pct": 80,
                        "needs": [{"fiscal_year": 2027, "need_cents": NEED}],
                    },
                )
                assert r.status_code == 201, r.text
            # The objective's first status (UNFUNDED) reaches the notifier before anyone
            # leads it, so the only alert of the test is the one the funding event causes.
            await until(
                notifier,
                "regia_events_consumed_total",
                1.0,
                consumer="notifier.coverage",
                type="ObjectiveStatusChanged",
                outcome="applied",
            )
            lead = lead_and_contact()
            await kafka.publish(bootstrap, topics.PARTNERS, [*lead, lead[-1]])  # the lead twice
            async with notifier.client(headers=ADMIN_HEADERS) as admin:

                async def projected() -> bool:
                    body = (await admin.get("/v1/objectives/miglio-blu/recipients")).json()
                    return len(body["contacts"]) == 1

                await eventually(projected, what="the lead's contact projected")

            accepted = time.time()
            key = await issue_key(funding, "regione-liguria")
            async with funding.client(headers=key) as client:
                r = await client.post(
                    "/v1/funding-events", json=commitment(amount=NEED), headers={"Idempotency-Key": "metrics-1"}
                )
                assert r.status_code == 202, r.text
            await eventually(lambda: _ready(smtp.messages), what="the e-mail alert")
            alerted = await until(notifier, "regia_funding_to_alert_seconds_count", 1.0, channel="email")
            took = value(alerted, "regia_funding_to_alert_seconds_sum", channel="email")
            assert took is not None and 0 < took < time.time() - accepted + 1

            # Funding: published by type, money by level and year.
            funded = await until(
                funding, "regia_funding_committed_euros", NEED / 100, level="REGIONE", fiscal_year="2027"
            )
            assert (
                value(
                    funded,
                    "regia_events_published_total",
                    service="funding",
                    topic=topics.FUNDING,
                    type="FundingCommitted",
                )
                == 1
            )
            assert value(funded, "regia_funding_disbursed_euros", level="REGIONE", fiscal_year="2027") == 0

            # Objectives: consumed by type and outcome, statuses, batches timed, lag caught up.
            seen = await until(objectives, "regia_objectives", 1.0, status="FUNDED", fiscal_year="2027")
            assert value(seen, "regia_objectives", status="UNFUNDED", fiscal_year="2027") == 0
            assert (
                value(
                    seen,
                    "regia_events_consumed_total",
                    consumer="objectives.funding",
                    topic=topics.FUNDING,
                    type="FundingCommitted",
                    outcome="applied",
                )
                == 1
            )
            assert (
                value(
                    seen,
                    "regia_events_consumed_total",
                    consumer="objectives.partners",
                    type="ObjectiveLeadAssigned",
                    outcome="applied",
                )
                == 1
            )
            assert (
                value(
                    seen,
                    "regia_events_consumed_total",
                    consumer="objectives.partners",
                    type="ObjectiveLeadAssigned",
                    outcome="duplicate",
                )
                == 1
            )
            assert (
                value(
                    seen,
                    "regia_events_consumed_total",
                    consumer="objectives.partners",
                    type="ContactAdded",
                    outcome="ignored",
                )
                == 1
            )
            assert value(seen, "regia_consumer_batch_duration_seconds_count", consumer="objectives.funding") >= 1
            assert value(seen, "regia_consumer_failures_total", consumer="objectives.funding") is None
            assert value(seen, "regia_events_published_total", type="ObjectiveStatusChanged") == 2
            assert value(seen, "regia_dead_letters", consumer="objectives.partners") == 0
            # Lag is the consumer group's (one a service), per topic it reads.
            for service, group, topic in (
                (objectives, "objectives", topics.FUNDING),
                (notifier, "notifier", topics.OBJECTIVES),
                (notifier, "notifier", topics.OBJECTIVES_COVERAGE),
                (funding, "funding", topics.PARTNERS),
            ):
                await until(service, "regia_consumer_lag_messages", 0.0, consumer=group, topic=topic)

            # A poison record is set aside by each consumer of the topic, and counted.
            await kafka.publish(bootstrap, topics.PARTNERS, [b"{not an envelope"], key=b"poison")
            poisoned = await until(
                notifier, "regia_dead_letters", 1.0, service="notifier", consumer="notifier.partners"
            )
            assert (
                value(
                    poisoned,
                    "regia_events_consumed_total",
                    consumer="notifier.partners",
                    type="unknown",
                    outcome="dead_lettered",
                )
                == 1
            )
            assert value(poisoned, "regia_alerts_dead", channel="email") == 0
            await until(notifier, "regia_consumer_lag_messages", 0.0, consumer="notifier", topic=topics.PARTNERS)
            exported = set().union(*[await declared(s) for s in (funding, objectives, notifier)])

    # Every metric the alert rules and dashboards in deploy/ query is one a service declares:
    # a misspelt name is valid PromQL that is silently empty.
    queried = {name.removesuffix("_bucket") for name in KNOWN_METRICS if name != "up"}
    assert queried <= exported, sorted(queried - exported)


async def _ready(messages: list) -> list | None:  # type: ignore[type-arg]
    return messages if len(messages) == 1 else None
