"""A national OpenCoesione file has over a million rows: the import must stream it. A
generated file of 10,000 rows (1 MB) goes through the whole dry run (parse, map, report
the refused) with memory that stays flat from the first tenth of the file to its end.

Why 10,000 rows suffice: a row kept as parsed Python objects weighs far more than its 100
bytes of CSV, so keeping the 9,000 rows after the first tenth would grow the peak by more
than half a megabyte, ten times the 64 KB allowed; tracemalloc slows the parse several-fold,
and each 10,000 rows more cost the suite about 10 s."""

import tracemalloc
from pathlib import Path

from regia.operator.opencoesione.mapping import ImportMapping, Target
from regia.operator.opencoesione.pipeline import Tally, run_import
from regia.operator.opencoesione.reader import read_projects
from regia.operator.opencoesione.report import RejectionReport
from regia_shared.contracts.levels import GovernmentLevel as L

from .test_opencoesione_parser import HEADER

ROWS = 10_000


def write_big_file(path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:  # BOM, CRLF: as published
        out.write(HEADER + "\r\n")
        for i in range(ROWS):
            public = "1.900,01" if i % 20 == 0 else "1.900,00"  # one row in 20 does not add up
            out.write(
                f"1LIFESR-{i:07d};D41B19{i:09d};PROGETTO {i};1.000,00;500,00;250,50;100,00;0;"
                f"49,50;0;0;0;{public};0;950,25\r\n"
            )


def test_memory_stays_flat_over_a_large_file(tmp_path: Path) -> None:
    source, report = tmp_path / "progetti.csv", tmp_path / "rejected.csv"
    write_big_file(source)
    mapping = ImportMapping(
        {lv: Target(f"inst-{lv.value.lower()}", "instrument") for lv in L}, 2027, objective_id="miglio-blu"
    )
    peak_after_first_tenth: list[int] = []

    def tick(tally: Tally) -> None:
        if tally.read == ROWS // 10:
            peak_after_first_tenth.append(tracemalloc.get_traced_memory()[1])

    tracemalloc.start()
    try:
        with source.open(encoding="utf-8-sig", newline="") as rows, report.open("w", newline="") as out:
            tally = run_import(read_projects(rows), mapping, send=None, reject=RejectionReport(out), tick=tick)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (tally.read, tally.accepted, tally.rejected) == (ROWS, ROWS * 19 // 20, ROWS // 20)
    assert len(report.read_text().splitlines()) == 1 + ROWS // 20
    assert source.stat().st_size > 900_000
    assert peak < 1_000_000, f"peak {peak} bytes: rows are being kept"  # the size of the file
    assert peak < peak_after_first_tenth[0] + 64_000, "memory grew with the rows read"
