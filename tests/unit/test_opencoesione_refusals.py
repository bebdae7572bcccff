"""The funding service's refusals of an import request, turned into report reasons that
name the event's type and line and the field at fault."""

from regia.operator.opencoesione.refusals import refusal_reasons

EVENTS = [
    {"type": "commitment", "line_id": "OC-P1-COMUNE-2027"},
    {"type": "disbursement", "line_id": "OC-P1-COMUNE-2027"},
]


def test_a_batch_refusal_names_each_refused_event() -> None:
    body = {
        "error": "batch_refused",
        "message": "2 of the batch's events were refused",
        "details": [
            {"index": 0, "error": "unknown_reference", "field": "objective_id", "message": "unknown objective 'x'"},
            {"index": 1, "error": "invalid_change", "field": None, "message": "nothing committed to pay from"},
        ],
    }
    assert refusal_reasons(422, body, EVENTS) == [
        "commitment of OC-P1-COMUNE-2027: objective_id: unknown objective 'x'",
        "disbursement of OC-P1-COMUNE-2027: nothing committed to pay from",
    ]


def test_a_validation_failure_is_traced_back_to_its_event() -> None:
    body = {
        "error": "validation_failed",
        "message": "...",
        "details": [
            {"field": "events.1.amount_cents", "message": "Input should be greater than 0"},
            {"field": "institution_id", "message": "String should have at most 100 characters"},
        ],
    }
    assert refusal_reasons(422, body, EVENTS) == [
        "disbursement of OC-P1-COMUNE-2027: amount_cents: Input should be greater than 0",
        "institution_id: String should have at most 100 characters",
    ]


def test_without_details_the_message_or_the_status_is_kept() -> None:
    assert refusal_reasons(409, {"error": "conflict", "message": "line exists", "details": []}, EVENTS) == [
        "409 line exists"
    ]
    assert refusal_reasons(403, {"detail": "forbidden"}, EVENTS) == ["403 forbidden"]
    assert refusal_reasons(400, ["not", "a", "dict"], EVENTS) == ["400 refused without a reason"]
    assert refusal_reasons(422, {"details": [{"index": 7, "message": "out of range"}]}, EVENTS) == ["out of range"]
