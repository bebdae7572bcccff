"""`regia import opencoesione` without a funding service: its options are checked before
anything is read, a dry run maps every row and reports the refused ones, and the exit
status says whether every row made it."""

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from regia.cli import app

FIXTURES = Path(__file__).parent.parent / "fixtures" / "opencoesione"
LEVELS = [
    "--level",
    "EU=regione-liguria:por-fesr-liguria",
    "--level",
    "STATO=stato-mef:fondo-rotazione",
    "--level",
    "REGIONE=regione-liguria:bilancio-regionale",
    "--level",
    "COMUNE=comune-spezia:bilancio",
    "--level",
    "PROVINCIA=provincia-spezia:bilancio",
    "--level",
    "PRIVATO=cantieri-spezia:cofinanziamento",
    "--level",
    "FOREIGN_STATE=stato-francese:contributo-interreg",
]
runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["import", "opencoesione", *args], catch_exceptions=False)


def test_help_names_the_options() -> None:
    result = runner.invoke(app, ["import", "opencoesione", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for text in (
        "--fiscal-year",
        "--objective-map",
        "--level",
        "--dry-run",
        "--report",
        "LEVEL=INSTITUTION:INSTRUMENT",
        "Exit status",
    ):
        assert text in result.output


def test_a_dry_run_of_the_published_file_accepts_every_row(tmp_path: Path) -> None:
    result = run(
        str(FIXTURES / "progetti_good.csv"),
        "--fiscal-year",
        "2027",
        "--objective-map",
        str(FIXTURES / "objective_map.csv"),
        *LEVELS,
        "--dry-run",
        "--report",
        str(tmp_path / "r.csv"),
    )
    assert result.exit_code == 0, result.output
    assert "rows read:     5" in result.stdout and "rejected:      0" in result.stdout
    assert "dry run: nothing was sent" in result.stdout
    assert list(csv.reader((tmp_path / "r.csv").open())) == [["line", "project", "reasons"]]


def test_rejected_rows_go_to_the_report_and_exit_3(tmp_path: Path) -> None:
    report = tmp_path / "rejected.csv"
    result = run(
        str(FIXTURES / "progetti_bad.csv"),
        "--fiscal-year",
        "2027",
        "--objective",
        "miglio-blu",
        *LEVELS,
        "--dry-run",
        "--report",
        str(report),
    )
    assert result.exit_code == 3, result.output
    assert "accepted:      2" in result.stdout and "rejected:      7" in result.stdout
    rows = list(csv.DictReader(report.open()))
    assert [(r["line"], r["project"]) for r in rows] == [
        ("3", "1LIFESR-BAD-TOTALE"),
        ("4", "1LIFESR-BAD-TESTO"),
        ("5", "1LIFESR-BAD-DECIMALI"),
        ("6", "1LIFESR-BAD-NEGATIVO"),
        ("7", "1LIFESR-BAD-MULTI"),
        ("8", "1LIFESR-BAD-PAGAMENTI"),
        ("9", "1LIFESR-BAD-CELLE"),
    ]
    assert "FINANZ_REGIONE '1234,567' has 3 decimals" in rows[2]["reasons"]


def test_without_a_report_the_first_rejections_are_shown(tmp_path: Path) -> None:
    result = run(
        str(FIXTURES / "progetti_bad.csv"),
        "--fiscal-year",
        "2027",
        "--objective",
        "miglio-blu",
        *LEVELS,
        "--dry-run",
    )
    assert result.exit_code == 3
    assert "line 4, project 1LIFESR-BAD-TESTO: FINANZ_UE 'n.d.' is not an amount" in result.stderr


def test_money_that_no_level_would_record_stops_the_import_before_it_starts() -> None:
    result = run(
        str(FIXTURES / "progetti_good.csv"),
        "--fiscal-year",
        "2027",
        "--objective",
        "miglio-blu",
        "--level",
        "EU=regione-liguria:por-fesr-liguria",
    )  # no REGIA_ADMIN_TOKEN either: refused before anything would be sent
    assert result.exit_code == 1
    assert "does not start (nothing was sent)" in result.stderr
    # The column, its total, the rows and the exact option to add.
    assert (
        "FINANZ_STATO_FSC holds € 800.000,00 in 1 rows (lines 3) at level STATO, and no institution records "
        "that level: add --level STATO=INSTITUTION:INSTRUMENT"
    ) in " ".join(result.stderr.split())
    assert "REGIA_ADMIN_TOKEN" not in result.stderr


def test_a_column_without_a_default_level_is_named_until_the_operator_maps_it(tmp_path: Path) -> None:
    source = tmp_path / "liberate.csv"
    with (FIXTURES / "progetti_good.csv").open(encoding="utf-8-sig", newline="") as stream:
        header, cells, *_ = csv.reader(stream, delimiter=";")
    at = {name: i for i, name in enumerate(header)}
    # Half of the Regione's money becomes freed EU-cycle resources: the public total stays.
    cells[at["FINANZ_REGIONE"]], cells[at["FINANZ_RISORSE_LIBERATE"]] = "225.000,00", "225.000,00"
    with source.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out, delimiter=";").writerows([header, cells])
    args = [str(source), "--fiscal-year", "2027", "--objective", "miglio-blu", *LEVELS, "--dry-run"]

    refused = run(*args)
    assert refused.exit_code == 1
    assert "FINANZ_RISORSE_LIBERATE holds € 225.000,00 in 1 rows (lines 2) and no level: add --column " in " ".join(
        refused.stderr.split()
    )

    mapped = run(*args, "--column", "FINANZ_RISORSE_LIBERATE=REGIONE")
    assert mapped.exit_code == 0, mapped.output
    table = {line.split()[0]: line for line in mapped.stdout.splitlines() if line.startswith(("FINANZ_", "TOT_"))}
    assert "€ 225.000,00" in table["FINANZ_RISORSE_LIBERATE"] and table["FINANZ_RISORSE_LIBERATE"].endswith("none")
    assert "every column reconciles to the cent" in mapped.stdout


def test_the_dry_runs_table_reconciles_every_column_with_its_rejections(tmp_path: Path) -> None:
    result = run(
        str(FIXTURES / "progetti_bad.csv"),
        "--fiscal-year",
        "2027",
        "--objective",
        "miglio-blu",
        *LEVELS,
        "--dry-run",
        "--report",
        str(tmp_path / "r.csv"),
    )
    assert result.exit_code == 3, result.output
    table = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith(("FINANZ_", "TOT_"))}
    # 1LIFESR-BAD-PAGAMENTI's comune money and payments are the file's, rejected with their row.
    assert "rejected by the file's rules: " in table["FINANZ_COMUNE"] and "see the report" in table["FINANZ_COMUNE"]
    assert "€ 10.000,01 (rejected by the file's rules: 1 rows, € 10.000,01" in table["TOT_PAGAMENTI"]
    assert "every column reconciles to the cent" in result.stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (["--objective", "miglio-blu"], "at least one --level"),
        (["--level", "EU=a:b"], "either --objective"),
        (
            ["--objective", "miglio-blu", "--objective-map", str(FIXTURES / "objective_map.csv"), "--level", "EU=a:b"],
            "either --objective",
        ),
        (["--objective", "miglio blu", "--level", "EU=a:b"], "--objective 'miglio blu' must be"),
        (["--objective", "m", "--level", "CITTA=a:b"], "'CITTA' is not a level"),
        (["--objective", "m", "--level", "EU=a:b", "--level", "UE=c:d"], "only once"),
    ],
)
def test_options_are_checked_before_anything_is_read(args: list[str], words: str) -> None:
    result = run(str(FIXTURES / "progetti_good.csv"), "--fiscal-year", "2027", *args, "--dry-run")
    assert result.exit_code == 1
    assert words in result.stderr


def test_a_file_without_the_columns_stops_the_import(tmp_path: Path) -> None:
    report = tmp_path / "r.csv"
    result = run(
        str(FIXTURES / "progetti_missing_column.csv"),
        "--fiscal-year",
        "2027",
        "--objective",
        "m",
        "--level",
        "EU=a:b",
        "--dry-run",
        "--report",
        str(report),
    )
    assert result.exit_code == 1
    assert "the header lacks FINANZ_TOTALE_PUBBLICO, IMPEGNI" in result.stderr
    assert not report.exists()


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    latin1 = tmp_path / "progetti.csv"
    text = (FIXTURES / "progetti_good.csv").read_text(encoding="utf-8-sig").replace("ANNUALITA'", "ANNUALITÀ")
    latin1.write_bytes(text.encode("latin-1"))
    result = run(str(latin1), "--fiscal-year", "2027", "--objective", "m", "--level", "EU=a:b", "--dry-run")
    assert result.exit_code == 1 and "is not UTF-8" in result.stderr


def test_sending_needs_the_admin_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGIA_ADMIN_TOKEN", raising=False)
    result = run(str(FIXTURES / "progetti_good.csv"), "--fiscal-year", "2027", "--objective", "m", *LEVELS)
    assert result.exit_code == 1 and "REGIA_ADMIN_TOKEN is not set" in result.stderr
