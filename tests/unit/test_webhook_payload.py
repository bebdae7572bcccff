"""The webhook payloads have a published JSON Schema, generated from the models the
notifier builds every body from: the checked-in file is the models' schema, and every
kind of body the notifier sends, ids and all, validates against it. Pure."""

import dataclasses
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from regia_notifier.adapters.webhook_sender import body_of
from regia_notifier.domain import webhook_payload
from regia_notifier.domain.delivery import ClaimedDelivery, WebhookTarget
from regia_notifier.domain.occurrences import (
    CurrentState,
    FundingDrop,
    IndicatorBehind,
    LineRevoked,
    MilestoneOverdue,
    Occurrence,
    PlanNode,
    ReviewClosed,
    SingleLevelDependency,
    StatusChange,
    YearState,
)
from regia_notifier.domain.planning import Cause, DigestTimes, plan_alerts, webhook_body
from regia_notifier.entrypoints import payload_schema
from regia_shared.contracts.events.objectives import CoverageStatus as S

PATH = (PlanNode("liguria-2030", "Liguria 2030", "VISION"), PlanNode("città", "Città è mare", None))
# One of each kind, with every optional fact known and not known.
OCCURRENCES: dict[str, list[Occurrence]] = {
    "status_changed": [
        StatusChange("miglio-blu", "Miglio Blu", 2027, S.PARTIALLY_FUNDED, S.AT_RISK, 6000, 500, 300, 80,
                     {"REGIONE": 250, "STATO": 50}, PATH, "http://c/objectives/miglio-blu"),
        StatusChange("miglio-blu", "Miglio Blu", 2027, S.FUNDED, S.NO_NEED, 0, 0, 0, 80),
    ],
    "funding_dropped": [
        FundingDrop("miglio-blu", "Miglio Blu", 2027, 400, 300, 500, 6000, S.AT_RISK, 80, {"REGIONE": 300}, PATH,
                    "http://c/objectives/miglio-blu"),
        FundingDrop("miglio-blu", "Miglio Blu", 2027, 400, 300, 500, 6000, S.AT_RISK),
    ],
    "line_revoked": [
        LineRevoked("line-1", "miglio-blu", "Miglio Blu", "regione-liguria", "Regione Liguria", 2027, 100, "errore"),
        LineRevoked("line-1", "miglio-blu", None, "regione-liguria", None, 2027, 100, None),
    ],
    "review_closed": [
        ReviewClosed("liguria-2030", "Liguria 2030", 2026, 500, 300, 100, 6000, {"FUNDED": 2, "AT_RISK": 1},
                     ("liguria-2030", "miglio-blu")),
        ReviewClosed("liguria-2030", None, 2026, 0, 0, 0, 0, {}, ()),
    ],
    "current_state": [
        CurrentState("miglio-blu", "Miglio Blu",
                     (YearState(2026, S.UNFUNDED, 0, 500, 0), YearState(2027, S.AT_RISK, 6000, 500, 300, {"UE": 300})),
                     80, PATH, "http://c/objectives/miglio-blu"),
        CurrentState("miglio-blu", "Miglio Blu", (YearState(2026, S.NO_NEED, 0, 0, 0),)),
    ],
    "single_level_dependency": [
        SingleLevelDependency("miglio-blu", "Miglio Blu", 2027, "REGIONE", 400, {"REGIONE": 400, "STATO": 50}, 500,
                              8000, S.PARTIALLY_FUNDED, 80, PATH, "http://c/objectives/miglio-blu"),
        SingleLevelDependency("miglio-blu", "Miglio Blu", 2027, "UE", 400, {"UE": 300, "COMUNE": 1}, 0, 10000,
                              S.NO_NEED, 80),
    ],
    "milestone_overdue": [
        MilestoneOverdue("miglio-blu", "Miglio Blu", "bando", "Bando pubblicato", 2027, date(2027, 3, 15),
                         date(2027, 3, 16), PATH, "http://c/objectives/miglio-blu"),
        MilestoneOverdue("miglio-blu", None, "bando", "Bando pubblicato", 2027, date(2027, 3, 15), date(2027, 5, 1)),
    ],
    "indicator_behind": [
        IndicatorBehind("miglio-blu", "Miglio Blu", "posti", "Posti di lavoro", "posti", "INCREASING", 2026,
                        date(2026, 7, 2), "1150", "1150.136986", "1200", "1000", 2024, "0.750000", "0.750685",
                        date(2026, 3, 1), "1120", PATH, "http://c/objectives/miglio-blu"),
        IndicatorBehind("miglio-blu", None, "disoccupazione", "Disoccupazione", "%", "DECREASING", 2026,
                        date(2026, 7, 2), "10.5", "9.5", "8", "12", 2024, "-0.375000", "0.750685", None, None),
    ],
}  # fmt: skip
KINDS = [(kind, i) for kind, found in OCCURRENCES.items() for i in range(len(found))]
CAUSE = Cause(uuid.uuid4(), "ObjectiveStatusChanged", "corr-1", datetime(2027, 3, 1, 9, 30, tzinfo=UTC))
HOOK = WebhookTarget("hook-a", "regione-liguria", None, "https://a.example/h")
SCHEMA = payload_schema.checked_in()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def sent(occurrence: Occurrence, cause: Cause = CAUSE) -> dict[str, Any]:
    """The body of the request the notifier sends for it, as the receiver gets it."""
    [planned] = plan_alerts(
        occurrence,
        {"regione-liguria": ("rule-1",)},
        [],
        [HOOK],
        cause,
        digests=DigestTimes(cause.occurred_at, cause.occurred_at),
    ).deliveries
    claimed = ClaimedDelivery(
        planned.delivery_id, 1, planned.cause_event_id, planned.correlation_id, "webhook", planned.recipient,
        planned.recipient_name, planned.language, planned.subject, planned.body,
    )  # fmt: skip
    body: dict[str, Any] = json.loads(body_of(claimed))
    return body


def test_the_checked_in_schema_is_the_models_schema() -> None:
    assert SCHEMA == payload_schema.current(), (
        "run `python -m regia_notifier.entrypoints.payload_schema` and commit the file "
        "(and say in docs/api.md what changed for receivers)"
    )
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert set(SCHEMA["discriminator"]["mapping"]) == set(OCCURRENCES)


@pytest.mark.parametrize(("kind", "i"), KINDS)
def test_every_kind_of_body_the_notifier_sends_validates_against_the_published_schema(kind: str, i: int) -> None:
    body = sent(OCCURRENCES[kind][i])
    assert body["alert"] == kind
    VALIDATOR.validate(body)
    # ... as exactly its own kind: the same body under another kind's name is refused.
    ref = SCHEMA["discriminator"]["mapping"][kind].rsplit("/", 1)[-1]
    jsonschema.validate(body, {**SCHEMA, "oneOf": [{"$ref": f"#/$defs/{ref}"}]})
    for other in set(OCCURRENCES) - {kind}:
        assert not VALIDATOR.is_valid(body | {"alert": other}), other
    # And pydantic reads it back as the same payload.
    assert webhook_payload.PAYLOAD.validate_json(json.dumps(body)).alert == kind


def test_the_schema_is_exact_a_missing_an_extra_or_a_mistyped_field_is_refused() -> None:
    body = sent(OCCURRENCES["status_changed"][0])
    facts = body["objective"]
    refused = [
        {k: v for k, v in body.items() if k != "delivery_id"},
        body | {"extra": 1},
        body | {"objective": {k: v for k, v in facts.items() if k != "gap_to_full_cents"}},
        body | {"objective": facts | {"status": "at risk"}},
        body | {"objective": facts | {"need_cents": "500"}},
        body | {"occurred_at": "yesterday"},
        body | {"alert": "something_else"},
    ]
    for wrong in refused:
        assert not VALIDATOR.is_valid(wrong), wrong


def test_the_body_keeps_the_fields_order_and_form_it_always_had() -> None:
    body = sent(OCCURRENCES["status_changed"][0])
    assert list(body)[:6] == ["event_id", "delivery_id", "type", "alert", "rules", "occurred_at"]
    assert body["occurred_at"] == "2027-03-01T09:30:00+00:00"
    rome = datetime(2027, 3, 1, 10, 30, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    planned = json.loads(webhook_body(OCCURRENCES["line_revoked"][1], dataclasses.replace(CAUSE, occurred_at=rome), ()))
    assert planned["occurred_at"] == rome.isoformat() and "event_id" not in planned
    assert list(planned) == ["type", "alert", "rules", "occurred_at", "line"]


@dataclass(frozen=True)
class _Grown(StatusChange):
    """An occurrence that gained a fact nobody added to the payload's models."""

    mood: str = "worried"


def test_a_fact_added_to_an_occurrence_but_not_to_the_schema_is_refused_not_sent_undocumented() -> None:
    grown = _Grown(**dataclasses.asdict(OCCURRENCES["status_changed"][1]) | {"path": ()})
    with pytest.raises(ValidationError, match="mood"):
        webhook_body(grown, CAUSE, ())


def test_the_example_payload_in_the_api_docs_conforms() -> None:
    api = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    section = api[api.index("**Webhook payloads**") :]
    example = json.loads(section[section.index("```json") + len("```json") : section.index("```\n")])
    VALIDATOR.validate(example)
    assert example["alert"] == "status_changed"
