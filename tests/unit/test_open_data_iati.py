"""The open-data builders: the IATI file funding writes (domain/exports/iati_xml.py) is valid
against the official IATI 2.03 schema (tests/fixtures/iati) and its figures are the
ledger's; the objectives service's CSV (domain/open_data.py) is one row per objective-year
that a spreadsheet opens safely."""

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
from lxml import etree

from regia_funding.domain.exports.entries import ExportEntry, euro
from regia_funding.domain.exports.iati_xml import (
    IATI_TAIL,
    ORGANISATION_TYPES,
    Activity,
    Funder,
    Publisher,
    activity_close,
    activity_open,
    activity_status,
    iati_head,
    transactions,
)
from regia_objectives.domain.open_data import ObjectiveYear, objective_row, objectives_csv_head
from regia_shared.contracts.levels import GovernmentLevel

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "iati"
PUBLISHER = Publisher("IT-CF-00211160114", "Comune della Spezia")
AT = datetime(2027, 3, 31, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def iati_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / "iati-activities-schema.xsd")))


def activity(objective_id: str = "miglio-blu", **overrides: object) -> Activity:
    values: dict = {
        "objective_id": objective_id,
        "title": "Il Miglio Blu – La Spezia per la Nautica & <porto>",
        "kind": "OBJECTIVE",
        "plan_id": "spezia-2019",
        "parent_id": "vision",
        "depth": 2,
        "updated_at": AT,
        "children": ["banchina"],
        "needs": [(2026, 100_000_00), (2027, 250_000_00)],
        "funders": [Funder("regione-liguria", "Regione Liguria", "REGIONE"), Funder("ue-fesr", None, "EU")],
        "line_years": [2027],
    }
    return Activity(**(values | overrides))


def change(entry_id: int, committed: int, disbursed: int, reason: str | None = "DGR 123/2027") -> ExportEntry:
    return ExportEntry(
        entry_id=entry_id,
        line_id="LIG-2027-001",
        line_version=entry_id,
        kind="COMMITMENT",
        committed_delta_cents=committed,
        disbursed_delta_cents=disbursed,
        committed_after=0,
        disbursed_after=0,
        reason=reason,
        pushed_by="regione-liguria",
        channel="http",
        event_id=uuid4(),
        recorded_at=AT,
        institution_id="regione-liguria",
        level="REGIONE",
        objective_id="miglio-blu",
        fiscal_year=2027,
        instrument_id="por-fesr-liguria",
        institution_name="Regione Liguria",
        cup="D41B19000010006",
    )


def document(*parts: tuple[Activity, list[ExportEntry]]) -> bytes:
    text = iati_head(AT)
    for a, changes in parts:
        text += activity_open(a, PUBLISHER, date(2027, 6, 1))
        text += "".join(transactions(c) for c in changes)
        text += activity_close(a, PUBLISHER)
    return (text + IATI_TAIL).encode()


def test_the_file_is_valid_iati_2_03_with_every_optional_part(iati_schema: etree.XMLSchema) -> None:
    changes = [
        change(1, 1_500_000_00, 0),
        change(2, -200_000_00, 0, reason="=cmd|' /C calc'!A0 & <script>"),  # a cut, hostile text
        change(3, 0, 300_000_12, reason=None),
        change(4, 10, 10, reason="bell \x07 and \x00 nul"),  # characters XML cannot carry
    ]
    xml = document(
        (activity(), changes),
        (activity("vision", parent_id=None, depth=1, children=["miglio-blu"], funders=[]), []),
        (activity("standalone", plan_id=None, children=[], needs=[], line_years=[]), []),
    )
    tree = etree.fromstring(xml)
    assert iati_schema.validate(tree), iati_schema.error_log
    first = tree.find("iati-activity")
    assert first is not None
    assert first.findtext("iati-identifier") == "IT-CF-00211160114-miglio-blu"
    assert first.find("reporting-org").get("ref") == PUBLISHER.ref
    roles = [(p.get("ref"), p.get("role"), p.get("type")) for p in first.findall("participating-org")]
    assert roles == [("regione-liguria", "1", "11"), ("ue-fesr", "1", "40"), ("IT-CF-00211160114", "3", "11")]
    assert first.findtext("participating-org/narrative") == "Regione Liguria"
    by_type: dict[str, Decimal] = {}
    for t in first.findall("transaction"):
        code = t.find("transaction-type").get("code")
        by_type[code] = by_type.get(code, Decimal(0)) + Decimal(t.findtext("value"))
    # The transactions add up to the line's commitment and payments, to the cent.
    assert by_type == {"2": Decimal("1300000.10"), "3": Decimal("300000.22")}
    budgets = [(b.find("period-start").get("iso-date"), b.findtext("value")) for b in first.findall("budget")]
    assert budgets == [("2026-01-01", "100000.00"), ("2027-01-01", "250000.00")]
    related = [(r.get("ref"), r.get("type")) for r in first.findall("related-activity")]
    assert related == [("IT-CF-00211160114-vision", "1"), ("IT-CF-00211160114-banchina", "2")]
    described = [t.findtext("description/narrative") for t in first.findall("transaction")]
    assert described[1] == "LIG-2027-001 (2027, CUP D41B19000010006): =cmd|' /C calc'!A0 & <script>"  # kept
    assert described[2] == "LIG-2027-001 (2027, CUP D41B19000010006): COMMITMENT"  # no reason: the kind
    provider = first.find("transaction/provider-org")
    assert (provider.get("ref"), provider.get("provider-activity-id")) == ("regione-liguria", "por-fesr-liguria")


def test_an_invalid_document_is_refused_by_the_schema(iati_schema: etree.XMLSchema) -> None:
    """The schema check can fail: an activity without its participating-org is refused."""
    xml = document((activity(), []))
    tree = etree.fromstring(xml)
    for org in tree.iter("participating-org"):
        org.getparent().remove(org)
    assert not iati_schema.validate(tree)


def test_a_transaction_is_dated_by_its_act_where_the_source_gave_one(iati_schema: etree.XMLSchema) -> None:
    paid = replace(change(1, 0, 300_000_00), act_date=date(2019, 3, 14))
    xml = document((activity(), [paid, change(2, 10, 0)]))
    tree = etree.fromstring(xml)
    assert iati_schema.validate(tree), iati_schema.error_log
    days = [t.find("transaction-date").get("iso-date") for t in tree.iter("transaction")]
    assert days == ["2019-03-14", AT.date().isoformat()]


def test_a_change_that_moves_nothing_writes_no_transaction() -> None:
    assert transactions(change(1, 0, 0)) == ""


def test_activity_status_follows_the_years() -> None:
    assert activity_status(activity(line_years=[2030, 2032], needs=[]), date(2027, 1, 1)) == "1"
    assert activity_status(activity(), date(2027, 1, 1)) == "2"
    assert activity_status(activity(line_years=[2001, 2012], needs=[]), date(2027, 1, 1)) == "4"
    assert activity_status(activity(line_years=[], needs=[]), date(2027, 1, 1)) == "1"


def test_every_level_has_its_iati_organisation_type() -> None:
    assert set(ORGANISATION_TYPES) == set(GovernmentLevel)


def test_euro_is_exact() -> None:
    assert [euro(c) for c in (0, 5, -5, 123456, -123456, 10**17 + 1)] == [
        "0.00",
        "0.05",
        "-0.05",
        "1234.56",
        "-1234.56",
        "1000000000000000.01",
    ]


def test_objectives_csv_is_one_row_per_year_and_spreadsheet_safe() -> None:
    row = ObjectiveYear(
        objective_id="miglio-blu",
        title='=HYPERLINK("x")',
        kind="OBJECTIVE",
        plan_id="spezia-2019",
        plan_title="Il Miglio Blu, 2019",
        territory="La Spezia",
        parent_id="vision",
        lead="comune-spezia",
        illustrative=False,
        at_risk_threshold_pct=80,
        fiscal_year=2027,
        need_cents=250_000_00,
        committed_cents=150_000_00,
        counted_cents=150_000_00,
        disbursed_cents=30_000_00,
        coverage_bp=6000,
        status="AT_RISK",
        committed_by_level={"REGIONE": 100_000_00, "EU": 50_000_00},
    )
    empty = ObjectiveYear("lonely", "Lonely", "OBJECTIVE", None, None, None, None, None, True, 80)
    rows = list(csv.DictReader(io.StringIO(objectives_csv_head() + objective_row(row) + objective_row(empty))))
    assert rows[0]["title"] == '\'=HYPERLINK("x")'
    assert rows[0]["plan_title"] == "Il Miglio Blu, 2019"
    assert (rows[0]["need_eur"], rows[0]["coverage_pct"], rows[0]["status"]) == ("250000.00", "60.00", "AT_RISK")
    assert (rows[0]["committed_regione_cents"], rows[0]["committed_comune_cents"]) == ("10000000", "0")
    assert rows[1]["fiscal_year"] == rows[1]["need_cents"] == rows[1]["committed_eu_cents"] == ""
    assert rows[1]["illustrative"] == "true"
