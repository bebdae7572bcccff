"""Ledger exports, pure: standard CSV with cents and euro side by side, and IATI-style
transactions (2 Outgoing Commitment with the signed change, 3 Disbursement with the amount
paid), both complete documents however they are chunked."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from regia_funding.adapters.ledger_export import ExportFilter, export_query
from regia_funding.domain.exports.entries import ExportEntry, euro, render
from regia_funding.domain.exports.iati import iati_document, transaction
from regia_funding.domain.exports.ledger_csv import COLUMNS, CSV

ROME = timezone(timedelta(hours=1))


def entry(kind: str = "COMMITMENT", committed: int = 450_000_000, disbursed: int = 0, **kwargs) -> ExportEntry:  # type: ignore[no-untyped-def]
    values = dict(
        entry_id=1,
        line_id="LIG-2027-001",
        line_version=1,
        kind=kind,
        committed_delta_cents=committed,
        disbursed_delta_cents=disbursed,
        committed_after=450_000_000,
        disbursed_after=0,
        reason="DGR Regione Liguria: cofinanziamento Miglio Blu 2027",
        pushed_by="regione-liguria",
        channel="http",
        event_id=UUID("12345678-1234-5678-1234-567812345678"),
        recorded_at=datetime(2027, 1, 1, 0, 30, tzinfo=ROME),
        institution_id="regione-liguria",
        institution_name="Regione Liguria",
        level="REGIONE",
        objective_id="miglio-blu",
        fiscal_year=2027,
        instrument_id="por-fesr-liguria",
    )
    return ExportEntry(**(values | kwargs))


def csv_rows(entries: list[ExportEntry]) -> list[dict]:
    return list(csv.DictReader(io.StringIO("".join(render(CSV, entries)), newline="")))


@pytest.mark.parametrize(
    "cents, text",
    [(0, "0.00"), (5, "0.05"), (100, "1.00"), (-123_456, "-1234.56"), (450_000_000, "4500000.00"), (-1, "-0.01")],
)
def test_euro_is_rendered_exactly_from_cents(cents: int, text: str) -> None:
    assert euro(cents) == text


def test_csv_has_a_header_and_amounts_in_cents_and_euro() -> None:
    text = "".join(render(CSV, [entry(), entry("REVISION", -150_000_000, entry_id=2, line_version=2)]))
    assert text.splitlines()[0] == ",".join(COLUMNS) and text.endswith("\r\n")
    first, cut = csv_rows([entry(), entry("REVISION", -150_000_000, entry_id=2)])
    assert (first["committed_delta_cents"], first["committed_delta_eur"]) == ("450000000", "4500000.00")
    assert (cut["committed_delta_cents"], cut["committed_delta_eur"]) == ("-150000000", "-1500000.00")
    assert first["recorded_at"] == "2027-01-01T00:30:00+01:00" and first["instrument_id"] == "por-fesr-liguria"
    assert first["event_id"] == "12345678-1234-5678-1234-567812345678"


def test_csv_keeps_awkward_text_and_defuses_formulas() -> None:
    tricky = 'Assestamento, "variazione" n. 3\nseconda riga'
    [row] = csv_rows([entry(reason=tricky)])
    assert row["reason"] == tricky
    [row] = csv_rows([entry(reason='=HYPERLINK("http://x")', institution_name="@SUM(A1)")])
    assert row["reason"].startswith("'=") and row["institution_name"] == "'@SUM(A1)"
    [row] = csv_rows([entry(reason=None, instrument_id=None, institution_name=None)])
    assert row["reason"] == row["instrument_id"] == row["counterpart_line_id"] == ""


def test_a_commitment_is_an_outgoing_commitment_from_the_funder() -> None:
    tx = transaction(entry())
    assert tx["transaction-type"] == {"code": "2"}
    assert tx["value"] == {"currency": "EUR", "value-date": "2026-12-31", "value": "4500000.00"}  # in UTC
    assert tx["transaction-date"] == {"iso-date": "2026-12-31"}
    assert tx["provider-org"] == {
        "ref": "regione-liguria",
        "narrative": [{"text": "Regione Liguria"}],
        "provider-activity-id": "por-fesr-liguria",
    }
    assert tx["receiver-org"] == {"receiver-activity-id": "miglio-blu"}
    assert tx["description"] == {"narrative": [{"text": "DGR Regione Liguria: cofinanziamento Miglio Blu 2027"}]}
    assert tx["ref"] == "12345678-1234-5678-1234-567812345678"
    assert tx["regia:ledger"]["value-cents"] == 450_000_000 and tx["regia:ledger"]["fiscal-year"] == 2027


@pytest.mark.parametrize(
    "kind, committed, disbursed, code, value",
    [
        ("REVISION", -150_000_000, 0, "2", "-1500000.00"),
        ("REVOCATION", -300_000_000, 0, "2", "-3000000.00"),
        ("REALLOCATION_OUT", -5_000_000, 0, "2", "-50000.00"),
        ("REALLOCATION_IN", 5_000_000, 0, "2", "50000.00"),
        ("ROLLOVER_OUT", -7_00, 0, "2", "-7.00"),
        ("ROLLOVER_IN", 7_00, 0, "2", "7.00"),
        ("DISBURSEMENT", 0, 123_456_789, "3", "1234567.89"),
    ],
)
def test_each_kind_maps_to_its_transaction_type_and_signed_value(
    kind: str, committed: int, disbursed: int, code: str, value: str
) -> None:
    tx = transaction(entry(kind, committed, disbursed))
    assert (tx["transaction-type"]["code"], tx["value"]["value"]) == (code, value)


def test_without_reason_instrument_or_name_the_transaction_stays_valid() -> None:
    tx = transaction(entry(reason=None, instrument_id=None, institution_name=None))
    assert "description" not in tx and "provider-activity-id" not in tx["provider-org"]
    assert tx["provider-org"]["narrative"] == [{"text": "regione-liguria"}]


def test_the_iati_document_is_one_json_object_however_many_transactions() -> None:
    document = iati_document(datetime(2027, 3, 1, tzinfo=UTC), {"fiscal_year": 2027})
    parsed = json.loads("".join(render(document, [entry(entry_id=i) for i in range(1, 4)])))
    assert parsed["iati-version"] == "2.03" and parsed["default-currency"] == "EUR"
    assert parsed["filters"] == {"fiscal_year": 2027}
    assert [t["regia:ledger"]["entry-id"] for t in parsed["transactions"]] == [1, 2, 3]
    assert json.loads("".join(render(document, [])))["transactions"] == []


def test_filters_are_bound_parameters_never_spliced_into_sql() -> None:
    sql, args = export_query(ExportFilter("x'; DROP TABLE ledger_entries; --", None, 2027))
    assert "DROP" not in sql and args == ["x'; DROP TABLE ledger_entries; --", 2027]
    assert "l.institution_id = $1 AND l.fiscal_year = $2" in sql and sql.endswith("ORDER BY e.entry_id")
    sql, args = export_query(ExportFilter())
    assert "WHERE" not in sql and args == []
    assert ExportFilter(objective_id="mare").as_dict() == {"objective_id": "mare"}
