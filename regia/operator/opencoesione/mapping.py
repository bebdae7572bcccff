"""From a valid OpenCoesione row to the funding events that record it in Regia.

Each level of government with money in the project gets one funding line,
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
from .reader import LEVEL_COLUMNS, LEVELS, ProjectFinancing, RejectedRow

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

    def __post_init__(self) -> None:
        if (self.objective_id is None) == (self.objectives_by_project is None):
            raise ValueError("give either one objective for all rows or an objective map, not both")

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
    # In a fixed level order, so that the same row always yields the same events (and key).
    amounts = [(level, row.cents_by_level.get(level, 0)) for level in LEVELS]
    funded = [(level, cents) for level, cents in amounts if cents > 0]
    committed = sum(cents for _, cents in funded)
    objective = mapping.objective_for(row.project_code)
    reasons = []
    for level, cents in funded:
        if level not in mapping.targets:
            reasons.append(
                f"{_column(level)} is {format_euro(cents)}, but no institution is configured "
                f"for level {level.value} (add --level {level.value}=INSTITUTION:INSTRUMENT)"
            )
    if objective is None:
        reasons.append(f"the objective map has no objective for project {row.project_code}")
    if not funded:
        reasons.append(
            "no level Regia records funds the project: FINANZ_UE, FINANZ_STATO_*, "
            "FINANZ_REGIONE, FINANZ_PROVINCIA, FINANZ_COMUNE and FINANZ_PRIVATO are all zero"
        )
    elif row.payments_cents > committed:
        reasons.append(
            f"TOT_PAGAMENTI {format_euro(row.payments_cents)} exceeds the "
            f"{format_euro(committed)} committed on the lines it would be paid from; "
            "FINANZ_RISORSE_LIBERATE, FINANZ_ALTRO_PUBBLICO and FINANZ_STATO_ESTERO open no line"
        )
    if reasons:
        return RejectedRow(row.line_number, row.project_code, reasons)
    assert objective is not None
    paid = split_proportionally(row.payments_cents, [cents for _, cents in funded])
    about = f"OpenCoesione {row.project_code}" + (f", CUP {row.cup}" if row.cup else "")
    # The line carries the project's CUP when the row has a well-formed one; one that is not
    # (a stray space, a lower-case letter, a placeholder) stays in the reason only, rather
    # than having the funding service refuse the whole row for it.
    cup = row.cup.upper() if CUP.fullmatch(row.cup.upper()) else None
    commitments: dict[str, list[dict]] = {}
    disbursements: dict[str, list[dict]] = {}
    levels: dict[str, list[Level]] = {}
    for (level, cents), paid_cents in zip(funded, paid, strict=True):
        target, line_id = mapping.targets[level], line_id_for(row.project_code, level, mapping.fiscal_year)
        levels.setdefault(target.institution_id, []).append(level)
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
            }
        )
        if paid_cents:
            disbursements.setdefault(target.institution_id, []).append(
                {
                    "type": "disbursement",
                    "line_id": line_id,
                    "amount_cents": paid_cents,
                    "reason": f"{about}: {level.value} share of TOT_PAGAMENTI",
                }
            )
    # Commitments before disbursements: a line must exist before it is paid from.
    return [
        InstitutionRequest(
            row.project_code,
            institution,
            tuple(levels[institution]),
            commitments[institution] + disbursements.get(institution, []),
        )
        for institution in commitments
    ]


def _column(level: Level) -> str:
    return "FINANZ_STATO_* (together)" if level is Level.STATO else LEVEL_COLUMNS[level]
