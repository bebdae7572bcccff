"""What people search a funding line by besides its CUP, and when its acts were made (issue
19), pure: the commitment's `source_ref` and `source_status`, the commitment's and the
payment's `act_date`. Each is optional, refused with a message naming it when malformed,
absent from the Idempotency-Key fingerprint when not given, kept where it belongs (the line,
the entry), carried by the events and exported."""

import csv
import io
import json
from datetime import UTC, date, datetime
from uuid import UUID

import pytest
from pydantic import TypeAdapter, ValidationError

from regia_funding.domain import rules
from regia_funding.domain.commands import (
    CommitFunding,
    DisburseFunding,
    FundingCommand,
    ReallocateFunding,
    ReviseFunding,
    wire,
)
from regia_funding.domain.exports.entries import ExportEntry, render
from regia_funding.domain.exports.iati import transaction
from regia_funding.domain.exports.ledger_csv import COLUMNS, CSV
from regia_funding.domain.line import EntryKind
from regia_funding.service_layer.recording import _event
from regia_shared.contracts.events import parse_payload
from regia_shared.contracts.events.funding import FundingCommitted, FundingDisbursed
from regia_shared.contracts.levels import GovernmentLevel

COMMANDS = TypeAdapter(FundingCommand)
COMMITMENT = {
    "type": "commitment",
    "line_id": "LIG-2027-001",
    "instrument_id": "por-fesr",
    "objective_id": "miglio-blu",
    "fiscal_year": 2027,
    "committed_cents": 450_000_000,
}
DISBURSEMENT = {"type": "disbursement", "line_id": "LIG-2027-001", "amount_cents": 100}
IDS = {"source_ref": "1LIG2027-FESR-0042", "source_status": "In corso", "act_date": "2027-03-01"}
WINDOW = rules.Window(2025, 2031)
POR = rules.Instrument("por-fesr", "liguria", GovernmentLevel.REGIONE)


def test_a_commitment_names_its_source_code_status_and_act_date_and_a_payment_its_date() -> None:
    command = COMMANDS.validate_python({**COMMITMENT, **IDS})
    assert isinstance(command, CommitFunding)
    assert (command.source_ref, command.source_status, command.act_date) == (
        "1LIG2027-FESR-0042",
        "In corso",
        date(2027, 3, 1),
    )
    # From JSON too (the HTTP body, a Kafka record), and with Unicode a source writes.
    sent = COMMANDS.validate_json(json.dumps({**COMMITMENT, "source_status": "Liquidato – in verifica"}))
    assert isinstance(sent, CommitFunding) and sent.source_status == "Liquidato – in verifica"
    payment = COMMANDS.validate_python({**DISBURSEMENT, "act_date": "2100-12-31"})
    assert isinstance(payment, DisburseFunding) and payment.act_date == date(2100, 12, 31)
    # A payment has no project code of its own: the line has it.
    with pytest.raises(ValidationError, match="source_ref"):
        COMMANDS.validate_python({**DISBURSEMENT, "source_ref": "X"})


def test_without_the_new_fields_a_request_keeps_the_fingerprint_it_had_before_them() -> None:
    before = {**COMMITMENT, "reason": None, "currency": "EUR", "expected_version": None}
    assert wire(COMMANDS.validate_python(COMMITMENT)) == before
    assert wire(COMMANDS.validate_python(DISBURSEMENT)) == {
        **DISBURSEMENT,
        "reason": None,
        "currency": "EUR",
        "expected_version": None,
    }
    # Given, they are part of the request: the same key with another date is another request.
    assert wire(COMMANDS.validate_python({**COMMITMENT, **IDS})) == {**before, **IDS}


@pytest.mark.parametrize(
    "field, value, says",
    [
        ("act_date", "2027-02-30", "not a day of the calendar"),
        ("act_date", "2027-3-1", "ISO date, YYYY-MM-DD"),
        ("act_date", "01/03/2027", "ISO date, YYYY-MM-DD"),
        ("act_date", "2027-03-01T10:00:00", "ISO date, YYYY-MM-DD"),
        ("act_date", 20270301, "ISO date, YYYY-MM-DD"),
        ("act_date", "1989-12-31", "between 1990-01-01 and 2100-12-31"),
        ("act_date", "2101-01-01", "between 1990-01-01 and 2100-12-31"),
        ("act_date", "", "ISO date, YYYY-MM-DD"),
        ("source_ref", "X" * 101, "at most 100 characters"),
        ("source_ref", "1LIG\x00042", "printable"),
        ("source_ref", "1LIG\n042", "printable"),
        ("source_ref", "   ", "empty or only blanks"),
        ("source_ref", 42, "string"),
        ("source_status", "In corso\t", "printable"),
        ("source_status", "C" * 101, "at most 100 characters"),
        ("source_status", "", "empty or only blanks"),
    ],
)
def test_a_malformed_identifier_or_date_is_refused_naming_its_field(field: str, value: object, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        COMMANDS.validate_python({**COMMITMENT, field: value})
    (error,) = refused.value.errors()
    assert error["loc"][-1] == field and says in error["msg"], error
    if field == "act_date":
        with pytest.raises(ValidationError) as refused:
            COMMANDS.validate_python({**DISBURSEMENT, field: value})
        assert refused.value.errors()[0]["loc"][-1] == field


def test_the_line_keeps_the_source_ids_through_its_roll_over_and_each_entry_its_own_act_date() -> None:
    command = COMMANDS.validate_python({**COMMITMENT, **IDS, "fiscal_year": 2025})
    assert isinstance(command, CommitFunding)
    opened = rules.open_line(command, "liguria", None, POR, True, None, WINDOW)
    assert (opened.line.source_ref, opened.line.source_status, opened.act_date) == (
        "1LIG2027-FESR-0042",
        "In corso",
        date(2027, 3, 1),
    )
    paid = rules.disburse(
        opened.line,
        DisburseFunding(type="disbursement", line_id=opened.line.line_id, amount_cents=5, act_date=date(2027, 6, 30)),
        "liguria",
        None,
        WINDOW,
    )
    assert paid.act_date == date(2027, 6, 30) and paid.line.source_ref == "1LIG2027-FESR-0042"
    revised = rules.revise(
        paid.line,
        ReviseFunding(type="revision", line_id=opened.line.line_id, committed_cents=400_000_000),
        "liguria",
        None,
        WINDOW,
    )
    assert revised.act_date is None and revised.line.source_status == "In corso"
    out, into = rules.roll_over(revised.line, None, "LIG-2027-001.2026", "year end")  # type: ignore[misc]
    assert (into.line.source_ref, into.line.source_status, into.act_date) == ("1LIG2027-FESR-0042", "In corso", None)
    # Money moved to another objective is no longer the source's project.
    moved = ReallocateFunding(
        type="reallocation", line_id=opened.line.line_id, amount_cents=10, to_line_id="M", to_objective_id="p"
    )
    _, target = rules.reallocate(opened.line, None, moved, "liguria", None, True, WINDOW)
    assert (target.line.source_ref, target.line.source_status) == (None, None)


def test_the_events_carry_them_and_events_from_before_them_still_read() -> None:
    command = COMMANDS.validate_python({**COMMITMENT, **IDS})
    assert isinstance(command, CommitFunding)
    entry = rules.open_line(command, "liguria", None, POR, True, None, rules.Window(2025, 2031))
    committed = parse_payload(_event(entry, "c-1"))
    assert isinstance(committed, FundingCommitted)
    assert (committed.source_ref, committed.source_status, committed.act_date) == (
        "1LIG2027-FESR-0042",
        "In corso",
        date(2027, 3, 1),
    )
    assert committed.model_dump(mode="json")["act_date"] == "2027-03-01"
    old = {k: v for k, v in committed.model_dump(mode="json").items() if k not in IDS}
    assert FundingDisbursed.model_validate(old).act_date is None
    assert FundingCommitted.model_validate(old).source_ref is None


def exported(**line: object) -> ExportEntry:
    return ExportEntry(
        entry_id=1,
        line_id="LIG-2027-001",
        line_version=2,
        kind=EntryKind.DISBURSEMENT.value,
        committed_delta_cents=0,
        disbursed_delta_cents=100_00,
        committed_after=450_000_000,
        disbursed_after=100_00,
        reason=None,
        pushed_by="regione-liguria",
        channel="http",
        event_id=UUID("12345678-1234-5678-1234-567812345678"),
        recorded_at=datetime(2027, 7, 4, 9, 0, tzinfo=UTC),
        institution_id="regione-liguria",
        level="REGIONE",
        objective_id="miglio-blu",
        fiscal_year=2027,
        **line,  # type: ignore[arg-type]
    )


def test_the_exports_show_the_cup_the_source_ids_and_the_act_date() -> None:
    paid = exported(cup="D41B19000120007", source_ref="=1LIG", source_status="In corso", act_date=date(2027, 6, 30))
    # After the columns a reader of the earlier export counts on, in this order.
    added = COLUMNS[COLUMNS.index("event_id") + 1 :]
    assert added[:4] == ("cup", "source_ref", "source_status", "act_date")
    [row, bare] = csv.DictReader(io.StringIO("".join(render(CSV, [paid, exported()])), newline=""))
    assert (row["cup"], row["source_ref"], row["source_status"], row["act_date"]) == (
        "D41B19000120007",
        "'=1LIG",  # a formula is defused, as every free text of the export is
        "In corso",
        "2027-06-30",
    )
    assert bare["cup"] == bare["source_ref"] == bare["source_status"] == bare["act_date"] == ""
    tx = transaction(paid)
    # IATI's transaction date is the payment's, when known; the day recorded stays alongside.
    assert tx["transaction-date"] == {"iso-date": "2027-06-30"}
    ledger = tx["regia:ledger"]
    assert isinstance(ledger, dict)
    assert (ledger["recorded-date"], ledger["cup"], ledger["source-ref"], ledger["source-status"]) == (
        "2027-07-04",
        "D41B19000120007",
        "=1LIG",
        "In corso",
    )
    assert transaction(exported())["transaction-date"] == {"iso-date": "2027-07-04"}
