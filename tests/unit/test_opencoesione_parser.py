"""Reading OpenCoesione's projects file: amounts to exact cents, totals checked, every
refusal in plain words naming its column, on files encoded exactly as published."""

import io
from pathlib import Path

import pytest

from regia.operator.opencoesione.amounts import AmountError, parse_cents
from regia.operator.opencoesione.reader import HeaderError, ProjectFinancing, RejectedRow, read_projects
from regia_shared.contracts.levels import GovernmentLevel as L

FIXTURES = Path(__file__).parent.parent / "fixtures" / "opencoesione"
HEADER = (
    "COD_LOCALE_PROGETTO;CUP;OC_TITOLO_PROGETTO;FINANZ_UE;FINANZ_STATO_FONDO_DI_ROTAZIONE;"
    "FINANZ_STATO_FSC;FINANZ_REGIONE;FINANZ_PROVINCIA;FINANZ_COMUNE;FINANZ_ALTRO_PUBBLICO;"
    "FINANZ_STATO_ESTERO;FINANZ_PRIVATO;FINANZ_TOTALE_PUBBLICO;IMPEGNI;TOT_PAGAMENTI"
)


def rows_of(path: Path) -> list:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(read_projects(stream))


def one(line: str, header: str = HEADER):
    [row] = list(read_projects(io.StringIO(f"{header}\r\n{line}\r\n", newline="")))
    return row


@pytest.mark.parametrize(
    "cell, cents",
    [
        ("1.234.567,89", 123456789),
        ("1234567,89", 123456789),
        ("1234567", 123456700),
        ("0,5", 50),
        ("0,00", 0),
        ("", 0),
        ("  42,10 ", 4210),
        ("1.000", 100000),
    ],
)
def test_italian_amounts_become_exact_cents(cell: str, cents: int) -> None:
    assert parse_cents(cell) == cents


@pytest.mark.parametrize(
    "cell, words",
    [
        ("1234,567", "3 decimals"),
        ("-5,00", "negative"),
        ("n.d.", "not an amount"),
        ("1.5", "not an amount"),
        ("1,234.56", "not an amount"),
        ("12.34.567", "not an amount"),
        ("10,00:::20,00", "several values"),
        ("999999999999999", "larger than"),
    ],
)
def test_anything_else_is_refused_with_the_reason(cell: str, words: str) -> None:
    with pytest.raises(AmountError, match=words):
        parse_cents(cell)


def test_the_published_file_reads_into_cents_by_level() -> None:
    rows = rows_of(FIXTURES / "progetti_good.csv")
    assert all(isinstance(r, ProjectFinancing) for r in rows), rows
    waterfront = rows[0]
    assert waterfront.project_code == "1LIFESR-4.1.1-0007" and waterfront.cup == "D41B19000120007"
    assert dict(waterfront.cents_by_level) == {
        L.EU: 150_000_000,
        L.STATO: 105_000_000,
        L.REGIONE: 45_000_000,
        L.PROVINCIA: 0,
        L.COMUNE: 30_000_000,
        L.PRIVATE: 0,
    }
    assert (waterfront.public_total_cents, waterfront.commitments_cents, waterfront.payments_cents) == (
        330_000_000,
        298_050_000,
        123_456_789,
    )


def test_stato_adds_up_every_state_column_but_not_a_foreign_state() -> None:
    polo, mare = rows_of(FIXTURES / "progetti_good.csv")[1], rows_of(FIXTURES / "progetti_good.csv")[4]
    assert polo.cents_by_level[L.STATO] == 80_000_000 + 15_000_050  # FSC + altri provvedimenti
    assert mare.cents_by_level[L.STATO] == 15_000_000 and mare.foreign_state_cents == 7_500_000
    assert mare.cents_by_level[L.PRIVATE] == 10_000_000


def test_several_values_in_a_cell_keep_the_first_cup_and_join_titles() -> None:
    rows = rows_of(FIXTURES / "progetti_good.csv")
    assert rows[1].title == "POLO NAUTICO DEL MIGLIO BLU / LABORATORI DI FORMAZIONE"
    assert rows[2].cup == "D42F18000090009"


def test_a_quoted_title_may_hold_a_semicolon_and_a_line_break() -> None:
    rows = rows_of(FIXTURES / "progetti_good.csv")
    assert rows[4].title == "MA.R.E. - MARITTIMO; RETE PER IL LAVORO SECONDA ANNUALITA'"
    assert [r.line_number for r in rows] == [2, 3, 4, 5, 6]


def test_every_bad_row_is_rejected_with_its_line_column_and_reason() -> None:
    rows = rows_of(FIXTURES / "progetti_bad.csv")
    rejected = {r.project_code: (r.line_number, " ".join(r.reasons)) for r in rows if isinstance(r, RejectedRow)}
    assert [r.project_code for r in rows if isinstance(r, ProjectFinancing)] == [
        "1LIFESR-4.1.1-0007",
        "1LIFESR-1.2.4-0042",
    ]
    expected = {
        "1LIFESR-BAD-TOTALE": (3, ["add up to € 600.000,00", "FINANZ_TOTALE_PUBBLICO says € 650.000,00"]),
        "1LIFESR-BAD-TESTO": (4, ["FINANZ_UE 'n.d.' is not an amount"]),
        "1LIFESR-BAD-DECIMALI": (5, ["FINANZ_REGIONE '1234,567' has 3 decimals"]),
        "1LIFESR-BAD-NEGATIVO": (6, ["FINANZ_COMUNE is negative", "FINANZ_TOTALE_PUBBLICO is negative"]),
        "1LIFESR-BAD-MULTI": (7, ["FINANZ_UE holds several values"]),
        "1LIFESR-BAD-PAGAMENTI": (8, ["TOT_PAGAMENTI € 10.000,01 exceeds the € 10.000,00"]),
        "1LIFESR-BAD-CELLE": (9, ["5 cells where the header has 32 columns"]),
    }
    assert set(rejected) == set(expected)
    for code, (line, words) in expected.items():
        assert rejected[code][0] == line, code
        for word in words:
            assert word in rejected[code][1], (code, rejected[code][1])


def test_a_header_without_required_columns_is_one_error_for_the_file() -> None:
    with (FIXTURES / "progetti_missing_column.csv").open(encoding="utf-8-sig", newline="") as stream:
        with pytest.raises(HeaderError) as refused:
            read_projects(stream)  # refused at once, before any row is read
    assert "FINANZ_TOTALE_PUBBLICO, IMPEGNI" in str(refused.value)


def test_a_header_needs_a_state_column_and_no_column_twice() -> None:
    no_state = HEADER.replace(";FINANZ_STATO_FONDO_DI_ROTAZIONE;FINANZ_STATO_FSC", "")
    with pytest.raises(HeaderError, match=r"FINANZ_STATO_\*"):
        read_projects(io.StringIO(no_state + "\r\n"))
    with pytest.raises(HeaderError, match="repeats column"):
        read_projects(io.StringIO(HEADER + ";CUP\r\n"))
    with pytest.raises(HeaderError):
        read_projects(io.StringIO(""))


def test_a_bom_left_in_the_text_does_not_hide_the_first_column() -> None:
    raw = (FIXTURES / "progetti_good.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # as published
    rows = list(read_projects(io.StringIO(raw.decode("utf-8"), newline="")))  # BOM still there
    assert rows[0].project_code == "1LIFESR-4.1.1-0007"


def test_public_parts_include_other_public_sources() -> None:
    row = one("P1;C1;T;100,00;50,00;0;0;0;0;25,00;10,00;5,00;175,00;0;190,00")
    assert isinstance(row, ProjectFinancing) and row.other_public_cents == 2500
    # Payments may reach public + private + foreign state (175 + 5 + 10), not beyond.
    over = one("P1;C1;T;100,00;50,00;0;0;0;0;25,00;10,00;5,00;175,00;0;190,01")
    assert isinstance(over, RejectedRow) and "TOT_PAGAMENTI" in over.reasons[0]


def test_a_project_code_must_be_one_value_and_not_empty() -> None:
    assert "several values" in one("P1:::P2;C;T;0;0;0;0;0;0;0;0;0;0;0;0").reasons[0]
    assert "COD_LOCALE_PROGETTO is empty" in one(";C;T;0;0;0;0;0;0;0;0;0;0;0;0").reasons[0]
