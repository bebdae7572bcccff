"""`regia import opencoesione` against the real funding service (real PostgreSQL and
broker): rows become lines committed and paid to the cent, a row the service refuses is
reported with the service's reason, and a second run records nothing new."""

import asyncio
import csv
import re
import sys
from pathlib import Path

import pytest

from regia_shared.contracts.money import format_euro

from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, ADMIN_TOKEN
from ..support.wait import eventually
from .test_import_cli import REPO, regia_import

pytestmark = pytest.mark.usefixtures("service_env")

HEADER = (
    "COD_LOCALE_PROGETTO;CUP;OC_TITOLO_PROGETTO;FINANZ_UE;FINANZ_STATO_FONDO_DI_ROTAZIONE;FINANZ_REGIONE;"
    "FINANZ_PROVINCIA;FINANZ_COMUNE;FINANZ_PRIVATO;FINANZ_TOTALE_PUBBLICO;IMPEGNI;TOT_PAGAMENTI"
)
ROWS = [
    "1LIFESR-0007;D41B19000120007;MIGLIO BLU - WATERFRONT;600.000,00;0,00;300.000,00;0,00;100.000,00;0,00;"
    "1.000.000,00;900.000,00;333.333,33",
    "2LICOM-0001;D47H20001230001;SPORTELLO NAUTICA;0,00;0,00;0,00;0,00;50.000,00;0,00;50.000,00;0,00;0,00",
    "3LICOM-0002;D47H20001240001;PROGETTO SENZA OBIETTIVO NOTO;0,00;0,00;0,00;0,00;10.000,00;0,00;10.000,00;0,00;0,00",
]
LEVELS = [
    "--level",
    "EU=regione-liguria:por-fesr-liguria",
    "--level",
    "REGIONE=regione-liguria:bilancio-regionale",
    "--level",
    "COMUNE=comune-spezia:bilancio-comunale",
]


def published_file(tmp_path: Path) -> tuple[Path, Path]:
    source, objectives = tmp_path / "progetti.csv", tmp_path / "obiettivi.csv"
    source.write_bytes(("\ufeff" + "\r\n".join([HEADER, *ROWS]) + "\r\n").encode())
    objectives.write_text(
        "project;objective_id\n1LIFESR-0007;miglio-blu\n2LICOM-0001;rete-lavoro\n3LICOM-0002;sconosciuto\n"
    )
    return source, objectives


async def test_an_import_is_recorded_to_the_cent_and_a_rerun_records_nothing(
    funding, database: Database, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    source, objectives = published_file(tmp_path)
    report = tmp_path / "rejected.csv"
    args = [str(source), "--fiscal-year", "2027", "--objective-map", str(objectives), *LEVELS, "--report", str(report)]

    status, out, err = await regia_import(funding.url, *args, token=ADMIN_TOKEN)
    assert status == 3, err
    assert "accepted:      2" in out and "rejected:      1" in out
    assert "requests sent: 1 (4 submissions, 0 replayed" in out
    table = {line.split()[0]: line for line in out.splitlines() if line.startswith(("FINANZ_", "TOT_"))}
    assert "refused by the funding service: 1 rows, € 10.000,00, see the report" in table["FINANZ_COMUNE"]
    assert "every column reconciles to the cent" in out
    [refused] = list(csv.DictReader(report.open()))
    assert refused["project"] == "3LICOM-0002"
    assert (
        "comune-spezia: commitment of OC-3LICOM-0002-COMUNE-2027: objective_id: unknown objective 'sconosciuto'"
        in refused["reasons"]
    )

    lines = {}
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        for line_id in (
            "OC-1LIFESR-0007-EU-2027",
            "OC-1LIFESR-0007-REGIONE-2027",
            "OC-1LIFESR-0007-COMUNE-2027",
            "OC-2LICOM-0001-COMUNE-2027",
        ):
            r = await admin.get(f"/v1/funding-lines/{line_id}")
            assert r.status_code == 200, r.text
            lines[line_id] = r.json()
        assert (await admin.get("/v1/funding-lines/OC-3LICOM-0002-COMUNE-2027")).status_code == 404
    waterfront = [v for k, v in lines.items() if k.startswith("OC-1LIFESR")]
    assert [line["committed_cents"] for line in waterfront] == [60_000_000, 30_000_000, 10_000_000]
    assert sum(line["disbursed_cents"] for line in waterfront) == 33_333_333  # TOT_PAGAMENTI, to the cent
    assert [line["disbursed_cents"] for line in waterfront] == [20_000_000, 10_000_000, 3_333_333]
    assert {line["instrument_id"] for line in waterfront} == {
        "por-fesr-liguria",
        "bilancio-regionale",
        "bilancio-comunale",
    }
    assert lines["OC-2LICOM-0001-COMUNE-2027"]["objective_id"] == "rete-lavoro"
    # The row's CUP is on every line it opened, and findable by it.
    assert {line["cup"] for line in waterfront} == {"D41B19000120007"}
    assert lines["OC-2LICOM-0001-COMUNE-2027"]["cup"] == "D47H20001230001"
    async with funding.client(headers=ADMIN_HEADERS) as admin:
        by_cup = (await admin.get("/v1/funding-lines", params={"cup": "D41B19000120007"})).json()
    assert [i["line_id"] for i in by_cup["items"]] == sorted(k for k in lines if k.startswith("OC-1LIFESR"))
    assert by_cup["next_cursor"] is None
    history = lines["OC-1LIFESR-0007-EU-2027"]["history"]
    assert [e["kind"] for e in history] == ["COMMITMENT", "DISBURSEMENT"]
    assert {e["channel"] for e in history} == {"import:opencoesione"}
    entries = await database.fetchval("funding", "SELECT count(*) FROM ledger_entries")

    # The same run again: its record says the file was sent through its last row.
    status, out, err = await regia_import(funding.url, *args, token=ADMIN_TOKEN)
    assert status == 3, err
    assert "resuming at row 4 (3 rows already recorded)" in err and "requests sent: 0" in out
    # The row refused by the first run is skipped now: its cents come from the run record.
    table = {line.split()[0]: line for line in out.splitlines() if line.startswith(("FINANZ_", "TOT_"))}
    assert "refused by the funding service in an earlier attempt of this run: € 10.000,00" in table["FINANZ_COMUNE"]
    assert "every column reconciles to the cent" in out
    assert await database.fetchval("funding", "SELECT count(*) FROM ledger_entries") == entries


def big_file(path: Path, rows: int) -> dict[str, int]:
    """An OpenCoesione-format file of `rows` projects funded by the EU, the Regione and the
    Comune; its totals per column, to the cent."""
    totals = {"FINANZ_UE": 0, "FINANZ_REGIONE": 0, "FINANZ_COMUNE": 0, "TOT_PAGAMENTI": 0}
    lines = [HEADER]
    for n in range(rows):
        eu, regione, comune = 100_000 + n * 37, 50_000 + n * 11, n % 7 * 1_001
        paid = (eu + regione + comune) // 3
        cells = [eu, 0, regione, 0, comune, 0, eu + regione + comune, 0, paid]
        totals["FINANZ_UE"] += eu
        totals["FINANZ_REGIONE"] += regione
        totals["FINANZ_COMUNE"] += comune
        totals["TOT_PAGAMENTI"] += paid
        euros = ";".join(f"{c // 100},{c % 100:02d}" for c in cells)
        lines.append(f"K-{n:06d};;PROGETTO {n};{euros}")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return totals


async def test_a_run_killed_mid_way_resumes_and_records_each_cent_once(
    funding, database: Database, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "progetti_grande.csv"
    totals = big_file(source, 3000)
    args = [str(source), "--fiscal-year", "2027", "--objective", "miglio-blu", *LEVELS, "--rows-per-request", "50"]
    env = {"REGIA_FUNDING_URL": funding.url, "REGIA_ADMIN_TOKEN": ADMIN_TOKEN, "PATH": "/usr/bin:/bin"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "regia",
        "import",
        "opencoesione",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )

    async def some_recorded() -> bool:
        return bool(await database.fetchval("funding", "SELECT coalesce(max(through), 0) > 0 FROM import_runs"))

    await eventually(some_recorded, what="the import's first requests recorded")
    process.kill()  # SIGKILL: no handler, no goodbye, a request perhaps in flight
    await process.wait()
    through = await database.fetchval("funding", "SELECT through FROM import_runs")
    assert 0 < through < 3000, "killed before it started or after it ended: the test proves nothing"

    status, out, err = await regia_import(funding.url, *args, token=ADMIN_TOKEN)
    assert status == 0, out + err
    # A request in flight at the kill may still have committed since (and moved `through`).
    resumed = re.search(r"resuming at row (\d+) \((\d+) rows already recorded\)", err)
    assert resumed is not None, err
    assert through < int(resumed.group(1)) <= 3000 and int(resumed.group(2)) == int(resumed.group(1)) - 1
    assert "every column reconciles to the cent" in out
    by_level = dict(
        await database.fetch(
            "funding",
            "SELECT substring(line_id from '-([A-Z_]+)-2027$'), sum(committed_cents) FROM funding_lines GROUP BY 1",
        )
    )
    assert by_level == {
        "EU": totals["FINANZ_UE"],
        "REGIONE": totals["FINANZ_REGIONE"],
        "COMUNE": totals["FINANZ_COMUNE"],
    }
    paid = await database.fetchval("funding", "SELECT sum(disbursed_cents) FROM funding_lines")
    assert paid == totals["TOT_PAGAMENTI"]
    [run] = await database.fetch("funding", "SELECT through, tally FROM import_runs")
    assert run["through"] == 3000


async def test_a_killed_run_with_a_refusal_resumes_and_reconciles_the_refused_cents_exactly(
    funding, database: Database, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The service refuses row 10 (an unknown objective) in the attempt that is killed; the
    resumed attempt skips it, and reconciles its cents from the run record's refused_tally."""
    source, objectives = tmp_path / "progetti_grande.csv", tmp_path / "obiettivi.csv"
    totals = big_file(source, 3000)
    refused_row = 10
    objectives.write_text(
        "project;objective_id\n"
        + "".join(f"K-{n:06d};{'sconosciuto' if n + 1 == refused_row else 'miglio-blu'}\n" for n in range(3000))
    )
    n = refused_row - 1  # its cents, as big_file wrote them
    eu, regione, comune = 100_000 + n * 37, 50_000 + n * 11, n % 7 * 1_001
    refused = {
        "FINANZ_UE": eu,
        "FINANZ_REGIONE": regione,
        "FINANZ_COMUNE": comune,
        "TOT_PAGAMENTI": (eu + regione + comune) // 3,
    }
    args = [
        str(source),
        "--fiscal-year",
        "2027",
        "--objective-map",
        str(objectives),
        *LEVELS,
        "--rows-per-request",
        "50",
    ]
    env = {"REGIA_FUNDING_URL": funding.url, "REGIA_ADMIN_TOKEN": ADMIN_TOKEN, "PATH": "/usr/bin:/bin"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "regia",
        "import",
        "opencoesione",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )

    async def first_request_recorded() -> bool:  # rows 1-50, the refused row among them
        return bool(await database.fetchval("funding", "SELECT coalesce(max(through), 0) >= 50 FROM import_runs"))

    await eventually(first_request_recorded, what="the import's first request recorded")
    process.kill()
    await process.wait()
    [run] = await database.fetch("funding", "SELECT run_id, through, refused, refused_tally FROM import_runs")
    assert run["through"] < 3000, "killed after it ended: the test proves nothing"
    assert run["refused"] == 2  # the row's two institutions: regione-liguria (EU, REGIONE) and comune-spezia

    status, out, err = await regia_import(funding.url, *args, token=ADMIN_TOKEN)
    assert status == 3, out + err  # rows refused, and every cent accounted for: never 4
    assert "resuming at row" in err
    table = {line.split()[0]: line for line in out.splitlines() if line.startswith(("FINANZ_", "TOT_"))}
    for column, cents in refused.items():
        assert (
            f"refused by the funding service in an earlier attempt of this run: {format_euro(cents)}" in (table[column])
        ), table[column]
        assert "UNEXPLAINED" not in table[column]
    assert "every column reconciles to the cent" in out

    async with funding.client(headers=ADMIN_HEADERS) as admin:
        shown = (await admin.get(f"/v1/imports/runs/{run['run_id']}")).json()
    assert shown["refused_tally"] == refused
    assert shown["through"] == 3000 and shown["refused"] == 2
    # Recorded plus refused is the file, column by column, to the cent.
    assert {c: shown["tally"].get(c, 0) + refused.get(c, 0) for c in totals} == totals
    committed = await database.fetchval("funding", "SELECT sum(committed_cents) FROM funding_lines")
    assert committed == sum(v for c, v in totals.items() if c != "TOT_PAGAMENTI") - eu - regione - comune
