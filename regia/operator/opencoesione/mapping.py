"""From a valid OpenCoesione row to the funding events that record it in Regia.

Each money column maps to a level (`COLUMN_LEVELS`, or the operator's `--column`), and each
level with money in the project gets one funding line,
`OC-<COD_LOCALE_PROGETTO>-<LEVEL>-<fiscal year>` (a line is one year's money, so the same
project imported for another year opens its own lines), committed in full by the institution and instrument
configured for that level; the project's payments (TOT_PAGAMENTI) become disbursements
spread over those lines in proportion to what each commits (largest remainder, so the
cents add up exactly). The events are grouped per institution, one request each, in the
wire format of `POST /v1/funding-events`. A row is refused, with reasons, when a funded
level has no institution configured, when its project has no objective, or when it pays
more than the lines it opens commit.
"""

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from regia_shared.contracts.events.funding import CUP_PATTERN
from regia_shared.contracts.levels import GovernmentLevel as Level
from regia_shared.contracts.money import format_euro

from .allocation import split_proportionally
from .reader import FOREIGN_STATE, PAYMENTS, STATE_PREFIX, ProjectFinancing, RejectedRow

# The order lines are opened in (and so the order of a row's events and its key): the six
# levels the import always knew first, so that a row funded only by them sends exactly the
# events, and so the Idempotency-Key, it sent before levels were added.
LEVELS = (
    Level.EU,
    Level.STATO,
    Level.REGIONE,
    Level.PROVINCIA,
    Level.COMUNE,
    Level.PRIVATE,
    Level.OTHER_PUBLIC,
    Level.FOREIGN_STATE,
)
_DEFAULT_LEVELS = {
    "FINANZ_UE": Level.EU,
    "FINANZ_REGIONE": Level.REGIONE,
    "FINANZ_PROVINCIA": Level.PROVINCIA,
    "FINANZ_COMUNE": Level.COMUNE,
    "FINANZ_PRIVATO": Level.PRIVATE,
    "FINANZ_ALTRO_PUBBLICO": Level.OTHER_PUBLIC,
    FOREIGN_STATE: Level.FOREIGN_STATE,
    # FINANZ_RISORSE_LIBERATE: none. Resources freed from an earlier EU cycle are spent by
    # whoever got them back (a region, a ministry): the operator says whose (--column).
}


def default_level(column: str) -> Level | None:
    """A money column's level when the operator says nothing: every FINANZ_STATO_* but the
    foreign state's is the Italian state's."""
    if column in _DEFAULT_LEVELS:
        return _DEFAULT_LEVELS[column]
    return Level.STATO if column.startswith(STATE_PREFIX) else None


MAX_ID = 100  # the funding API's limit on line, objective and instrument ids
SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")  # use fullmatch: "$" would let a newline in
CUP = re.compile(CUP_PATTERN)
_UNSAFE = re.compile(r"[^A-Za-z0-9._:-]+")
_REASON_LIMIT = 2000


@dataclass(frozen=True)
class Target:
    """Who records a level's share of a project, and from which of its instruments."""

    institution_id: str
    instrument_id: str


@dataclass(frozen=True)
class ImportMapping:
    targets: Mapping[Level, Target]
    fiscal_year: int
    objective_id: str | None = None  # one objective for every row ...
    objectives_by_project: Mapping[str, str] | None = None  # ... or one per project
    columns: Mapping[str, Level] = field(default_factory=dict)  # --column: over the defaults

    def __post_init__(self) -> None:
        if (self.objective_id is None) == (self.objectives_by_project is None):
            raise ValueError("give either one objective for all rows or an objective map, not both")

    def level_of(self, column: str) -> Level | None:
        return self.columns.get(column) or default_level(column)

    def fingerprint(self) -> dict:
        """What the run's id digests besides the file: everything that changes what is sent."""
        return {
            "targets": {lv.value: [t.institution_id, t.instrument_id] for lv, t in sorted(self.targets.items())},
            "year": self.fiscal_year,
            "objective": self.objective_id,
            "objectives": sorted((self.objectives_by_project or {}).items()),
            "columns": {c: lv.value for c, lv in sorted(self.columns.items())},
        }

    def objective_for(self, project_code: str) -> str | None:
        if self.objectives_by_project is not None:
            return self.objectives_by_project.get(project_code)
        return self.objective_id


@dataclass(frozen=True)
class InstitutionRequest:
    """One atomic request: a row's events for one institution."""

    project_code: str
    institution_id: str
    levels: tuple[Level, ...]
    events: list[dict] = field(default_factory=list)
    tally: dict[str, int] = field(default_factory=dict)  # cents per source column (and TOT_PAGAMENTI) it records

    @property
    def idempotency_key(self) -> str:
        # The events' digest is part of the key: re-running an import replays, while a
        # later file with other amounts is a new request instead of a key reused.
        digest = hashlib.sha256(json.dumps(self.events, sort_keys=True).encode()).hexdigest()[:32]
        return f"oc-{_slug(self.project_code, 120)}-{'+'.join(self.levels)}-{digest}"

    def body(self, channel: str) -> dict:
        return {"institution_id": self.institution_id, "channel": channel, "events": self.events}


def line_id_for(project_code: str, level: Level, fiscal_year: int) -> str:
    """A valid line id; a code that had to be cleaned or cut also gets a digest of the
    original, so two codes that clean up alike never share a line."""
    tail = f"{level.value}-{fiscal_year}"
    plain = f"OC-{project_code}-{tail}"
    if SLUG.fullmatch(plain) and len(plain) <= MAX_ID:
        return plain
    return f"OC-{_slug(project_code, MAX_ID - len(tail) - 4)}-{tail}"


def _slug(code: str, room: int) -> str:
    clean = _UNSAFE.sub("_", code)
    if clean == code and len(code) <= room:
        return code
    digest = hashlib.sha256(code.encode()).hexdigest()[:10]
    return f"{clean[: room - len(digest) - 1]}-{digest}"


def plan_row(row: ProjectFinancing, mapping: ImportMapping) -> list[InstitutionRequest] | RejectedRow:
    by_level: dict[Level, int] = {}
    columns_of: dict[Level, list[tuple[str, int]]] = {}
    unmapped = []
    for column, cents in row.cents_by_column.items():
        if not cents:
            continue
        level = mapping.level_of(column)
        if level is None:
            unmapped.append(f"{column} is {format_euro(cents)} but has no level (add --column {column}=LEVEL)")
            continue
        by_level[level] = by_level.get(level, 0) + cents
        columns_of.setdefault(level, []).append((column, cents))
    # In a fixed level order, so that the same row always yields the same events (and key).
    funded = [(level, by_level[level]) for level in LEVELS if by_level.get(level)]
    committed = sum(cents for _, cents in funded)
    objective = mapping.objective_for(row.project_code)
    reasons = list(unmapped)
    for level, cents in funded:
        if level not in mapping.targets:
            reasons.append(
                f"{_columns(columns_of[level])} is {format_euro(cents)}, but no institution is configured "
                f"for level {level.value} (add --level {level.value}=INSTITUTION:INSTRUMENT)"
            )
    if objective is None:
        reasons.append(f"the objective map has no objective for project {row.project_code}")
    if not funded and not unmapped:
        reasons.append("no source funds the project: every FINANZ_* column is zero")
    elif row.payments_cents > committed:
        reasons.append(
            f"TOT_PAGAMENTI {format_euro(row.payments_cents)} exceeds the "
            f"{format_euro(committed)} committed on the lines it would be paid from"
        )
    if reasons:
        return RejectedRow(
            row.line_number, row.project_code, reasons, {**row.cents_by_column, PAYMENTS: row.payments_cents}
        )
    assert objective is not None
    paid = split_proportionally(row.payments_cents, [cents for _, cents in funded])
    about = f"OpenCoesione {row.project_code}" + (f", CUP {row.cup}" if row.cup else "")
    # The line carries the project's CUP when the row has a well-formed one; one that is not
    # (a stray space, a lower-case letter, a placeholder) stays in the reason only, rather
    # than having the funding service refuse the whole row for it.
    cup = row.cup.upper() if CUP.fullmatch(row.cup.upper()) else None
    # Only what the row has: a row without a status or dates sends what it sent before these
    # fields existed, so its Idempotency-Key (a digest of the events) is unchanged.
    identifiers, paid_on = _source_fields(row)
    commitments: dict[str, list[dict]] = {}
    disbursements: dict[str, list[dict]] = {}
    levels: dict[str, list[Level]] = {}
    tallies: dict[str, dict[str, int]] = {}
    for (level, cents), paid_cents in zip(funded, paid, strict=True):
        target, line_id = mapping.targets[level], line_id_for(row.project_code, level, mapping.fiscal_year)
        levels.setdefault(target.institution_id, []).append(level)
        tally = tallies.setdefault(target.institution_id, {})
        for column, column_cents in columns_of[level]:
            tally[column] = tally.get(column, 0) + column_cents
        commitments.setdefault(target.institution_id, []).append(
            {
                "type": "commitment",
                "line_id": line_id,
                "instrument_id": target.instrument_id,
                "objective_id": objective,
                "fiscal_year": mapping.fiscal_year,
                "committed_cents": cents,
                "reason": f"{about}: {row.title}"[:_REASON_LIMIT],
                # Only when there is one: a row without a CUP sends what it sent before, so
                # its Idempotency-Key (a digest of the events) is unchanged.
                **({"cup": cup} if cup else {}),
                **identifiers,
            }
        )
        if paid_cents:
            tally[PAYMENTS] = tally.get(PAYMENTS, 0) + paid_cents
            disbursements.setdefault(target.institution_id, []).append(
                {
                    "type": "disbursement",
                    "line_id": line_id,
                    "amount_cents": paid_cents,
                    "reason": f"{about}: {level.value} share of TOT_PAGAMENTI",
                    **paid_on,
                }
            )
    # Commitments before disbursements: a line must exist before it is paid from.
    return [
        InstitutionRequest(
            row.project_code,
            institution,
            tuple(levels[institution]),
            commitments[institution] + disbursements.get(institution, []),
            tallies[institution],
        )
        for institution in commitments
    ]


def _source_fields(row: ProjectFinancing) -> tuple[dict, dict]:
    """The commitment's source_ref, source_status and act_date (the project's start), and
    the payment's act_date (the date the file's cumulative payments are as of); each only
    when the row has it, within what the funding service takes."""
    commitment: dict = {}
    if len(row.project_code) <= MAX_ID and row.project_code.isprintable():
        commitment["source_ref"] = row.project_code
    if row.status and len(row.status) <= MAX_ID and row.status.isprintable():
        commitment["source_status"] = row.status
    if row.start_date is not None:
        commitment["act_date"] = row.start_date.isoformat()
    payment = {"act_date": row.updated_date.isoformat()} if row.updated_date is not None else {}
    return commitment, payment


def _columns(columns: list[tuple[str, int]]) -> str:
    return " + ".join(c for c, _ in columns)
