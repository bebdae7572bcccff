"""OpenCoesione's projects file (`progetti_esteso_*.csv`), read one row at a time.

The file is `;`-separated UTF-8 with a BOM, amounts have a decimal comma (see `amounts`),
and `:::` separates several values in one cell. Each row becomes a `ProjectFinancing` or a
`RejectedRow` that says, column by column, what is wrong; a header without the columns
this needs is one `HeaderError` for the whole file. Rows are never held in memory: a
national file has over a million of them.

Funding sources, as OpenCoesione defines the public total (`FINANZ_TOTALE_PUBBLICO`):
FINANZ_UE + every FINANZ_STATO_* (fondo di rotazione, FSC, PAC, completamenti, altri
provvedimenti) + FINANZ_REGIONE + FINANZ_PROVINCIA + FINANZ_COMUNE +
FINANZ_RISORSE_LIBERATE + FINANZ_ALTRO_PUBBLICO. Not in it, and so not in STATO although
the name starts alike: FINANZ_STATO_ESTERO (a foreign state's money). FINANZ_UE_FESR,
FINANZ_UE_FSE, ... split FINANZ_UE by fund and are not added again. Payments may not
exceed everything that funds the project: the public total, FINANZ_PRIVATO and
FINANZ_STATO_ESTERO (FINANZ_DA_REPERIRE is money not found yet).

Every money column is read on its own too (`cents_by_column`: each FINANZ_* source, in the
header's order), so that the import can map each to a level and reconcile each to the cent;
a rejected row keeps them as well (a cell that is not an amount counts as zero, in the
file's totals too), so the summary can say how much of each column it rejected.

Identifiers and dates: OC_STATO_PROGETTO (the project's status, e.g. "In corso",
"Concluso"), OC_DATA_INIZIO_PROGETTO (when the project, and so its commitment, started)
and DATA_AGGIORNAMENTO (the date the cumulative TOT_PAGAMENTI is as of), all optional;
OpenCoesione writes dates YYYYMMDD, and anything else in a date column is a reason.

Several values in one cell: an amount so written is an error; so is a project code (the
row's key, which neither joining nor choosing would keep unique); of several CUPs the
first is kept; several titles are joined with " / ".
"""

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TextIO

from regia_shared.contracts.levels import GovernmentLevel as Level
from regia_shared.contracts.money import format_euro

from .amounts import MULTI_VALUE_SEPARATOR as MULTI
from .amounts import AmountError, parse_cents

CODE, CUP, TITLE = "COD_LOCALE_PROGETTO", "CUP", "OC_TITOLO_PROGETTO"
PUBLIC_TOTAL, PRIVATE, FOREIGN_STATE = "FINANZ_TOTALE_PUBBLICO", "FINANZ_PRIVATO", "FINANZ_STATO_ESTERO"
COMMITMENTS, PAYMENTS = "IMPEGNI", "TOT_PAGAMENTI"
STATE_PREFIX = "FINANZ_STATO_"
LEVEL_COLUMNS = {
    Level.EU: "FINANZ_UE",
    Level.REGIONE: "FINANZ_REGIONE",
    Level.PROVINCIA: "FINANZ_PROVINCIA",
    Level.COMUNE: "FINANZ_COMUNE",
    Level.PRIVATE: PRIVATE,
}
LEVELS = (Level.EU, Level.STATO, Level.REGIONE, Level.PROVINCIA, Level.COMUNE, Level.PRIVATE)
OTHER_PUBLIC = ("FINANZ_RISORSE_LIBERATE", "FINANZ_ALTRO_PUBBLICO")  # public, but of no Regia level
REQUIRED = (CODE, CUP, TITLE, *LEVEL_COLUMNS.values(), PUBLIC_TOTAL, COMMITMENTS, PAYMENTS)
STATUS, START_DATE, UPDATED_DATE = "OC_STATO_PROGETTO", "OC_DATA_INIZIO_PROGETTO", "DATA_AGGIORNAMENTO"
FIRST_DATE, LAST_DATE = date(1990, 1, 1), date(2100, 12, 31)  # what the funding service accepts as an act's date
_YYYYMMDD = re.compile(r"[0-9]{8}")


class HeaderError(ValueError):
    """The file cannot be read at all: its header lacks columns, or repeats one."""


@dataclass(frozen=True)
class ProjectFinancing:
    line_number: int
    project_code: str
    cup: str
    title: str
    cents_by_level: Mapping[Level, int]  # every level; STATO is the sum of the FINANZ_STATO_* columns
    other_public_cents: int  # FINANZ_RISORSE_LIBERATE + FINANZ_ALTRO_PUBBLICO
    foreign_state_cents: int
    public_total_cents: int
    commitments_cents: int
    payments_cents: int
    cents_by_column: Mapping[str, int] = field(default_factory=dict)  # every FINANZ_* source column
    status: str = ""  # OC_STATO_PROGETTO, as written
    start_date: date | None = None  # OC_DATA_INIZIO_PROGETTO
    updated_date: date | None = None  # DATA_AGGIORNAMENTO


@dataclass(frozen=True)
class RejectedRow:
    line_number: int
    project_code: str
    reasons: list[str] = field(default_factory=list)
    # What it held, for the reconciliation: each money column and TOT_PAGAMENTI.
    cents_by_column: Mapping[str, int] = field(default_factory=dict)


def money_columns(header: Sequence[str]) -> list[str]:
    """The file's source-of-money columns, in its order: every FINANZ_* that says where money
    comes from (not the public total, and not FINANZ_UE_FESR & co, which split FINANZ_UE)."""
    names = [name.strip().lstrip("\ufeff").strip('"') for name in header]
    return [n for n in names if n in SOURCE_COLUMNS or (n.startswith(STATE_PREFIX))]


SOURCE_COLUMNS = (*LEVEL_COLUMNS.values(), *OTHER_PUBLIC, FOREIGN_STATE)


Row = ProjectFinancing | RejectedRow


def read_projects(stream: TextIO) -> Iterator[Row]:
    """Check the header now (HeaderError), then yield the rows lazily. Open the file with
    `newline=""` so that a line break inside a quoted title stays in its cell."""
    reader = csv.reader(stream, delimiter=";")
    columns = _Columns(next(reader, []))
    return _rows(reader, columns)


class _Columns:
    def __init__(self, header: Sequence[str]) -> None:
        names = [name.strip().lstrip("\ufeff").strip('"') for name in header]
        repeated = sorted({n for n in names if n and names.count(n) > 1})
        if repeated:
            raise HeaderError(f"the header repeats column(s) {', '.join(repeated)}")
        self.width = len(names)
        self.at = {name: i for i, name in enumerate(names)}
        self.state = [n for n in names if n.startswith(STATE_PREFIX) and n != FOREIGN_STATE]
        self.other_public = [n for n in OTHER_PUBLIC if n in self.at]
        amount_columns = [
            *LEVEL_COLUMNS.values(),
            *self.state,
            *self.other_public,
            FOREIGN_STATE,
            PUBLIC_TOTAL,
            COMMITMENTS,
            PAYMENTS,
        ]
        self.amounts = [(n, self.at[n]) for n in amount_columns if n in self.at]
        self.money = money_columns(names)
        missing = [n for n in REQUIRED if n not in self.at]
        if not self.state:
            missing.append("FINANZ_STATO_* (at least one, e.g. FINANZ_STATO_FSC)")
        if missing:
            raise HeaderError(
                f"the header lacks {', '.join(missing)}: is this OpenCoesione's "
                f"projects file? (it starts {';'.join(names)[:120]!r})"
            )


def _rows(reader: Any, columns: _Columns) -> Iterator[Row]:  # a csv reader, which has line_num
    while True:
        line_number = reader.line_num + 1  # where the record starts; a cell may span lines
        cells = next(reader, None)
        if cells is None:
            return
        if not any(c.strip() for c in cells):
            continue  # a blank line, e.g. at the end of the file
        yield _row(cells, columns, line_number)


def _row(cells: list[str], columns: _Columns, line_number: int) -> Row:
    code = cells[columns.at[CODE]].strip() if columns.at[CODE] < len(cells) else ""
    if len(cells) != columns.width:
        return RejectedRow(
            line_number,
            code,
            [
                f"the row has {len(cells)} cells where the header has {columns.width} columns "
                "(a stray ';' or a quote left open?)"
            ],
            # Its cells cannot be trusted to be in their columns: it holds nothing the file's
            # totals count either (see `column_totals`).
        )
    reasons: list[str] = []
    amounts: dict[str, int] = {}
    for column, index in columns.amounts:
        try:
            amounts[column] = parse_cents(cells[index])
        except AmountError as exc:
            amounts[column] = 0  # as the file's totals count it
            reasons.append(f"{column} {exc}")
    by_column = {c: amounts[c] for c in columns.money}
    dates: dict[str, date | None] = {}
    for column in (START_DATE, UPDATED_DATE):
        try:
            dates[column] = parse_date(cells[columns.at[column]]) if column in columns.at else None
        except ValueError as exc:
            reasons.append(f"{column} {exc}")
    if not code:
        reasons.append(f"{CODE} is empty: every project needs its code")
    elif MULTI in code:
        reasons.append(f"{CODE} holds several values separated by ':::'; it is the project's key and must be one code")
    if reasons:
        return RejectedRow(line_number, code, reasons, {**by_column, PAYMENTS: amounts[PAYMENTS]})
    by_level = {
        level: (sum(amounts[c] for c in columns.state) if level is Level.STATO else amounts[LEVEL_COLUMNS[level]])
        for level in LEVELS
    }
    other_public = sum(amounts[c] for c in columns.other_public)
    foreign = amounts.get(FOREIGN_STATE, 0)
    public_total, payments = amounts[PUBLIC_TOTAL], amounts[PAYMENTS]
    public_parts = sum(v for level, v in by_level.items() if level is not Level.PRIVATE) + other_public
    if public_parts != public_total:
        parts = [
            LEVEL_COLUMNS[Level.EU],
            "FINANZ_STATO_*",
            *(LEVEL_COLUMNS[lv] for lv in (Level.REGIONE, Level.PROVINCIA, Level.COMUNE)),
            *columns.other_public,
        ]
        reasons.append(
            f"the public sources ({' + '.join(parts)}) add up to {format_euro(public_parts)}, "
            f"but {PUBLIC_TOTAL} says {format_euro(public_total)}"
        )
    funded = public_total + by_level[Level.PRIVATE] + foreign
    if payments > funded:
        reasons.append(
            f"{PAYMENTS} {format_euro(payments)} exceeds the {format_euro(funded)} that funds "
            f"the project ({PUBLIC_TOTAL} + {PRIVATE} + {FOREIGN_STATE})"
        )
    if reasons:
        return RejectedRow(line_number, code, reasons, {**by_column, PAYMENTS: amounts[PAYMENTS]})
    cup = cells[columns.at[CUP]].split(MULTI)[0].strip()
    # Line breaks inside a quoted title are layout, not content.
    title = " / ".join(" ".join(t.split()) for t in cells[columns.at[TITLE]].split(MULTI) if t.strip())
    status = " ".join(cells[columns.at[STATUS]].split()) if STATUS in columns.at else ""
    return ProjectFinancing(
        line_number,
        code,
        cup,
        title,
        by_level,
        other_public,
        foreign,
        public_total,
        amounts[COMMITMENTS],
        payments,
        by_column,
        status,
        dates[START_DATE],
        dates[UPDATED_DATE],
    )


def parse_date(cell: str) -> date | None:
    """A date as OpenCoesione writes it, YYYYMMDD; an empty cell is no date. Strict: a
    2023-01-05, a 5/1/2023 or a 20230231 is refused rather than read some way."""
    text = cell.strip()
    if not text:
        return None
    if not _YYYYMMDD.fullmatch(text):
        raise ValueError(f"{text[:40]!r} is not a date written YYYYMMDD (e.g. 20230105)")
    try:
        found = date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise ValueError(f"{text!r} is not a day of the calendar") from None
    if not FIRST_DATE <= found <= LAST_DATE:
        raise ValueError(f"{text!r} is outside {FIRST_DATE:%Y%m%d}-{LAST_DATE:%Y%m%d}")
    return found


def column_totals(stream: TextIO) -> "FileTotals":
    """The first pass: each money column's total (and TOT_PAGAMENTI's), the rows that hold
    money in each, and the number of rows, reading amounts only. A cell that is not an
    amount counts as zero (its row is rejected by the second pass, and counted there as
    zero too), so the totals and the reconciliation always agree on what a cell holds."""
    reader = csv.reader(stream, delimiter=";")
    columns = _Columns(next(reader, []))
    watched = [(c, columns.at[c]) for c in (*columns.money, PAYMENTS)]
    totals = FileTotals({c: 0 for c, _ in watched}, {c: [] for c, _ in watched}, {c: 0 for c, _ in watched})
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        totals.rows += 1
        if len(cells) != columns.width:
            continue
        for column, index in watched:
            try:
                cents = parse_cents(cells[index])
            except AmountError:
                continue
            if cents:
                totals.cents[column] += cents
                totals.rows_with_money[column] += 1
                if len(totals.first_lines[column]) < FIRST_LINES_SHOWN:
                    totals.first_lines[column].append(reader.line_num)
    return totals


FIRST_LINES_SHOWN = 5


@dataclass
class FileTotals:
    cents: dict[str, int]  # per money column and TOT_PAGAMENTI
    first_lines: dict[str, list[int]]  # the first few lines that hold money in it
    rows_with_money: dict[str, int]
    rows: int = 0
