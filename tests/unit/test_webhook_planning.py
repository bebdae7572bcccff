"""Planning webhook deliveries for a status change: one per endpoint, stable ids."""

import json
import uuid
from datetime import UTC, datetime

from regia_notifier.domain.delivery import WebhookTarget, delivery_id, plan_webhook_alerts
from regia_shared.events.objectives import CoverageStatus, ObjectiveStatusChanged

CHANGE = ObjectiveStatusChanged(
    objective_id="miglio-blu", title="Miglio Blu", fiscal_year=2027,
    previous_status=CoverageStatus.PARTIALLY_FUNDED, status=CoverageStatus.AT_RISK, coverage_bp=4550,
    need_cents=5_000_000_00, committed_cents=2_275_000_00, at_risk_threshold_pct=80)
CAUSE = uuid.uuid4()
AT = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


def plan(endpoints: list[WebhookTarget]):  # type: ignore[no-untyped-def]
    return plan_webhook_alerts(CHANGE, endpoints, cause_event_id=CAUSE, correlation_id="c", occurred_at=AT)


def test_one_delivery_per_endpoint_addressed_to_its_id_with_the_change_as_body() -> None:
    a = WebhookTarget("hook-a", "regione-liguria", None, "https://a.example/h")
    b = WebhookTarget("hook-b", "regione-liguria", "rossi", "https://b.example/h")
    planned = plan([a, b, a])
    assert [(d.channel, d.recipient, d.recipient_name) for d in planned] == [
        ("webhook", "hook-a", "https://a.example/h"), ("webhook", "hook-b", "https://b.example/h")]
    assert planned[1].contact_id == "rossi" and planned[0].partner_id == "regione-liguria"
    body = json.loads(planned[0].body)
    assert body["type"] == "ObjectiveStatusChanged" and body["occurred_at"] == AT.isoformat()
    assert body["objective"]["status"] == "AT_RISK" and body["objective"]["coverage_bp"] == 4550


def test_re_planning_yields_the_same_ids_distinct_from_the_email_channel() -> None:
    a = WebhookTarget("hook-a", "regione-liguria", None, "https://a.example/h")
    assert plan([a])[0].delivery_id == plan([a])[0].delivery_id == delivery_id(CAUSE, "webhook", "hook-a")
    assert plan([a])[0].delivery_id != delivery_id(CAUSE, "email", "hook-a")
    assert plan([]) == []
