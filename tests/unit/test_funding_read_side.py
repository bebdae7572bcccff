"""Pure parts of funding's read side (issue 18): what `as_of=` means, and the Idempotency-Key
fingerprint of a command, which the new `cup` field must not change for requests without it."""

import hashlib
import json
from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from regia_funding.domain.as_of import instant
from regia_funding.domain.commands import FundingCommand, wire
from regia_funding.domain.errors import InvalidQuery

COMMANDS = TypeAdapter(FundingCommand)
COMMITMENT = {
    "type": "commitment",
    "line_id": "LIG-2027-001",
    "instrument_id": "bilancio-regione-liguria",
    "objective_id": "miglio-blu",
    "fiscal_year": 2027,
    "committed_cents": 450000000,
}


def test_a_date_is_the_whole_day_in_rome() -> None:
    # 1 March 2027 ends at 23:00 UTC (Rome is UTC+1 in winter) ...
    assert instant("2027-03-01").astimezone(UTC) == datetime(2027, 3, 1, 22, 59, 59, 999999, UTC)
    # ... and 1 July 2027 at 22:00 UTC (UTC+2 in summer).
    assert instant("2027-07-01").astimezone(UTC) == datetime(2027, 7, 1, 21, 59, 59, 999999, UTC)


def test_a_date_time_is_that_instant_and_rome_time_without_offset() -> None:
    assert instant("2027-03-01T10:00:00Z") == datetime(2027, 3, 1, 10, tzinfo=UTC)
    assert instant("2027-03-01T10:00:00").astimezone(UTC) == datetime(2027, 3, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize("text", ["yesterday", "2027-02-30", "2027-3-1", "01/03/2027", ""])
def test_anything_else_is_refused_naming_as_of(text: str) -> None:
    with pytest.raises(InvalidQuery) as refused:
        instant(text)
    assert refused.value.field == "query.as_of" and refused.value.status == 422


def test_a_commitment_without_cup_keeps_the_fingerprint_it_had_before_cup_existed() -> None:
    command = COMMANDS.validate_python(COMMITMENT)
    # The JSON the fingerprint hashed before issue 18: every field but `cup`.
    before = {**COMMITMENT, "reason": None, "currency": "EUR", "expected_version": None}
    assert wire(command) == before
    digest = hashlib.sha256(json.dumps([wire(command)], sort_keys=True).encode()).hexdigest()
    assert digest == hashlib.sha256(json.dumps([before], sort_keys=True).encode()).hexdigest()
    with_cup = COMMANDS.validate_python({**COMMITMENT, "cup": "D41B19000120007"})
    assert wire(with_cup) == {**before, "cup": "D41B19000120007"}  # a different request


@pytest.mark.parametrize("cup", ["D41B1900012000", "D41B190001200077", "d41b19000120007", "D41B-9000120007", 12])
def test_a_bad_cup_is_refused_saying_what_a_cup_is(cup: object) -> None:
    with pytest.raises(ValidationError) as refused:
        COMMANDS.validate_python({**COMMITMENT, "cup": cup})
    (error,) = refused.value.errors()
    assert error["loc"][-1] == "cup"
    assert isinstance(cup, int) or "Codice Unico di Progetto" in error["msg"]
