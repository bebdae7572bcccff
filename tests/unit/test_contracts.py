"""Contract tests: the checked-in JSON Schemas are the contracts; the code must match them,
and a change to them must not break consumers or replays of old events."""

import copy

import pytest

from regia_shared.contracts import schemas
from regia_shared.contracts.compatibility import breaking_changes
from regia_shared.contracts.events import EVENT_TYPES, Envelope, parse_payload
from regia_shared.contracts.events.funding import FundingRevised

CHECKED_IN = schemas.checked_in()
CURRENT = schemas.current()


def test_every_contract_is_checked_in_as_the_code_defines_it() -> None:
    missing = sorted(set(CURRENT) - set(CHECKED_IN))
    assert not missing, f"run `python -m regia_shared.contracts.schemas` and commit: {missing}"
    for name, schema in CURRENT.items():
        assert schema == CHECKED_IN[name], (
            f"{name} differs from its checked-in schema; if the change is compatible, regenerate it"
        )


@pytest.mark.parametrize("name", sorted(CHECKED_IN))
def test_current_code_is_compatible_with_the_checked_in_contract(name: str) -> None:
    assert name in CURRENT, f"contract {name} was removed; old events of it can still be replayed"
    assert breaking_changes(CHECKED_IN[name], CURRENT[name]) == []


def test_the_checker_catches_breaking_changes() -> None:
    old = CHECKED_IN["FundingRevised.v1.json"]
    removed = copy.deepcopy(old)
    del removed["properties"]["committed_cents"]
    retyped = copy.deepcopy(old)
    retyped["properties"]["fiscal_year"] = {"type": "string"}
    required = copy.deepcopy(old)
    required["properties"]["new_field"] = {"type": "string"}
    required["required"].append("new_field")
    optional = copy.deepcopy(old)
    optional["properties"]["note"] = {"type": "string", "default": ""}

    assert breaking_changes(old, removed) == ["field 'committed_cents' was removed"]
    assert breaking_changes(old, retyped) == ["field 'fiscal_year' changed its type or constraints"]
    assert breaking_changes(old, required) == ["field 'new_field' became required"]
    assert breaking_changes(old, optional) == []


def test_consumers_tolerate_unknown_fields_and_producers_validate() -> None:
    payload = FundingRevised(
        line_id="L",
        institution_id="i",
        level="REGIONE",
        objective_id="o",
        fiscal_year=2027,
        committed_cents=10,
        disbursed_cents=0,
        line_version=2,
        delta_cents=-5,
    )
    envelope = Envelope.wrap(payload, key="o", producer="funding")
    raw = envelope.model_dump(mode="json")
    raw["future_field"] = 1
    raw["payload"]["another_future_field"] = "x"
    parsed = Envelope.model_validate(raw)
    assert parse_payload(parsed) == payload
    with pytest.raises(ValueError):
        FundingRevised(**{**payload.model_dump(), "committed_cents": 1.5})


def test_every_event_type_round_trips_through_the_envelope() -> None:
    assert len(EVENT_TYPES) >= 11
    for name, model in EVENT_TYPES.items():
        assert model.event_type() == name and model.event_version() >= 1
