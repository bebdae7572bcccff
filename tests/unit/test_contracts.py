"""Contract tests: the checked-in JSON Schemas are the contracts; the code must match them,
and a change to them must not break consumers or replays of old events."""

import copy

import pytest

from regia_shared.contracts import schemas
from regia_shared.contracts.compatibility import WIDENED, breaking_changes, changes
from regia_shared.contracts.events import EVENT_TYPES, Envelope, parse_payload
from regia_shared.contracts.events.funding import FundingRevised
from regia_shared.contracts.events.registry import read_typed
from regia_shared.contracts.levels import GovernmentLevel
from regia_shared.contracts.widenings import REVIEWED_WIDENINGS, unreviewed

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
    assert unreviewed(changes(CHECKED_IN[name], CURRENT[name])) == []


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
    payload = _revised()
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


def _status_changed(version: int, status: str, previous: str | None = "UNFUNDED") -> Envelope:
    payload = {
        "objective_id": "o",
        "title": "t",
        "fiscal_year": 2027,
        "previous_status": previous,
        "status": status,
        "coverage_bp": 10_000,
        "need_cents": 0,
        "committed_cents": 0,
        "at_risk_threshold_pct": 80,
    }
    return Envelope.model_validate(
        {
            "event_id": "00000000-0000-0000-0000-000000000001",
            "type": "ObjectiveStatusChanged",
            "version": version,
            "key": "o",
            "occurred_at": "2026-12-05T00:00:00Z",
            "producer": "objectives",
            "correlation_id": "c",
            "payload": payload,
        }
    )


def test_no_need_is_a_new_allowed_value_so_the_coverage_events_went_up_a_version() -> None:
    """A consumer of version 1 would refuse NO_NEED: the checker calls the wider set of
    statuses breaking, so the two events carrying a status are at version 2, and their
    version 1 schemas stay checked in, as published."""
    for name in ("ObjectiveStatusChanged", "ObjectiveCoverageChanged"):
        assert EVENT_TYPES[name].event_version() == 2
        v1, v2 = CHECKED_IN[f"{name}.v1.json"], CHECKED_IN[f"{name}.v2.json"]
        assert "NO_NEED" not in v1["$defs"]["CoverageStatus"]["enum"]
        assert "NO_NEED" in v2["$defs"]["CoverageStatus"]["enum"]
        # A widening, and one never reviewed: hence the new version.
        assert breaking_changes(v1, v2) == [f"definition 'CoverageStatus' {WIDENED} (adds NO_NEED)"]
        assert unreviewed(changes(v1, v2)) == breaking_changes(v1, v2)


def test_version_1_status_events_are_still_read_and_become_the_current_model() -> None:
    parsed = parse_payload(_status_changed(1, "FUNDED"))
    assert type(parsed) is EVENT_TYPES["ObjectiveStatusChanged"]
    assert parsed.model_dump()["status"] == "FUNDED"
    assert parse_payload(_status_changed(2, "NO_NEED")).model_dump()["status"] == "NO_NEED"
    # Version 1 never carried NO_NEED: such a record breaks its contract (dead letter).
    with pytest.raises(ValueError):
        parse_payload(_status_changed(1, "NO_NEED"))
    with pytest.raises(ValueError, match="version 3 is not supported"):
        parse_payload(_status_changed(3, "FUNDED"))


def _without(schema: dict, definition: str, values: frozenset[str]) -> dict:
    """The schema as it was before `values` were added to `definition`'s enum."""
    before = copy.deepcopy(schema)
    enum = before["$defs"][definition]["enum"]
    before["$defs"][definition]["enum"] = [v for v in enum if v not in values]
    return before


def test_an_enum_that_only_gains_values_is_widened_not_breaking_and_passes_only_when_reviewed() -> None:
    old = CHECKED_IN["FundingCommitted.v1.json"]
    levels = old["$defs"]["GovernmentLevel"]["enum"]
    wider = copy.deepcopy(old)
    wider["$defs"]["GovernmentLevel"]["enum"] = [*levels, "MARS"]
    narrower = copy.deepcopy(old)
    narrower["$defs"]["GovernmentLevel"]["enum"] = levels[1:]
    wider_and_retyped = copy.deepcopy(wider)
    wider_and_retyped["$defs"]["GovernmentLevel"]["type"] = "integer"

    found = changes(old, wider)
    assert [(c.kind, c.name, c.added) for c in found] == [("widened", "GovernmentLevel", frozenset({"MARS"}))]
    assert breaking_changes(old, wider) == [f"definition 'GovernmentLevel' {WIDENED} (adds MARS)"]
    assert unreviewed(found) == breaking_changes(old, wider), "MARS was never reviewed"
    assert [c.kind for c in changes(old, narrower)] == ["breaking"]  # a value gone breaks replays
    assert [c.kind for c in changes(old, wider_and_retyped)] == ["breaking"]
    # A field's own enum (a Literal) widens the same way.
    literal = {"properties": {"kind": {"enum": ["a"], "type": "string"}}}
    wider_literal = {"properties": {"kind": {"enum": ["a", "b"], "type": "string"}}}
    assert breaking_changes(literal, wider_literal) == [f"field 'kind' {WIDENED} (adds b)"]


def test_the_two_new_levels_are_a_reviewed_widening_of_every_contract_that_carries_a_level() -> None:
    """OTHER_PUBLIC and FOREIGN_STATE did not take a new version of the events that carry a
    level: the contracts as published before them differ from today's by a widening, which
    the allow-list names with its reason (and docs/operations.md gives the upgrade order)."""
    new = frozenset({GovernmentLevel.OTHER_PUBLIC.value, GovernmentLevel.FOREIGN_STATE.value})
    carrying = [name for name, schema in CURRENT.items() if "GovernmentLevel" in schema.get("$defs", {})]
    assert {"FundingCommitted.v1.json", "PartnerRegistered.v1.json"} <= set(carrying)
    for name in carrying:
        assert new <= set(CURRENT[name]["$defs"]["GovernmentLevel"]["enum"]), name
        found = changes(_without(CURRENT[name], "GovernmentLevel", new), CURRENT[name])
        assert [(c.kind, c.added) for c in found] == [("widened", new)], name
        assert unreviewed(found) == [], name
    assert all(w.reason.strip() and w.added for w in REVIEWED_WIDENINGS)
    # The review covers these two values, not the next one added to the levels.
    one_more = _without(CURRENT["FundingCommitted.v1.json"], "GovernmentLevel", new)
    later = copy.deepcopy(CURRENT["FundingCommitted.v1.json"])
    later["$defs"]["GovernmentLevel"]["enum"].append("MOON")
    assert unreviewed(changes(one_more, later)) != []


def _revised(line_version: int = 2) -> FundingRevised:
    return FundingRevised(
        line_id="L",
        institution_id="i",
        level="REGIONE",
        objective_id="o",
        fiscal_year=2027,
        committed_cents=10,
        disbursed_cents=0,
        line_version=line_version,
        delta_cents=-5,
    )


def test_a_built_envelope_is_serialised_once_and_a_copy_with_other_fields_is_serialised_again() -> None:
    envelope = Envelope.wrap(_revised(), key="o", producer="funding")
    kept = envelope.to_json()
    assert kept is envelope.to_json()  # the text checked when it was built, not a new one
    assert kept == envelope.__pydantic_serializer__.to_json(envelope)
    assert envelope == Envelope.from_json(kept)  # the kept text is no field: equality is the fields'
    moved = envelope.model_copy(update={"key": "p"})
    assert b'"key":"p"' in moved.to_json() and b'"key":"o"' in envelope.to_json()
    # event ids are UUIDv7: ordered by when they were made (indexes keyed by them grow at the end)
    later = Envelope.wrap(_revised(), key="o", producer="funding")
    assert envelope.event_id.version == 7 and envelope.event_id < later.event_id


def test_one_pass_reading_gives_what_two_passes_give_and_leaves_every_other_case_to_them() -> None:
    envelope = Envelope.wrap(_revised(), key="o", producer="funding")
    raw = envelope.to_json()
    read = read_typed(raw, "FundingRevised")
    assert read is not None
    one_pass, payload = read
    assert payload == parse_payload(Envelope.from_json(raw)) == _revised()
    assert one_pass.payload is payload and one_pass.event_id == envelope.event_id
    assert one_pass.model_dump(mode="json") == Envelope.from_json(raw).model_dump(mode="json")
    # Whatever one pass cannot read as the header says goes to the two-pass reading, which
    # names the fault: another type inside, an unknown type, an earlier version, a broken payload.
    assert read_typed(raw, "FundingCommitted") is None
    assert read_typed(raw, "NoSuchEvent") is None
    assert read_typed(_status_changed(1, "FUNDED").model_dump_json().encode(), "ObjectiveStatusChanged") is None
    broken = raw.replace(b'"committed_cents":10', b'"committed_cents":-10')
    assert read_typed(broken, "FundingRevised") is None
    with pytest.raises(ValueError, match="committed_cents"):
        parse_payload(Envelope.from_json(broken))
