"""Open data: what Italian transparency rules make public about a plan (D.Lgs. 33/2013),
as files anyone may read without a credential (docs/api.md, "Open data").

Two files are built here, text only (no I/O), a row or an element at a time so that the
HTTP side streams them from a database cursor:

- `objectives.csv`: one row per objective and fiscal year, with its plan, need, committed,
  counted and disbursed money, coverage, status and money per level;
- `iati-activities.xml`: the IATI Activity Standard 2.03 (iatistandard.org), one
  `iati-activity` per objective (every node of a plan: vision, programme, objective,
  action), with its budget per fiscal year (the need), the institutions that fund it, and
  a transaction per line change: the change of the commitment as an Outgoing Commitment
  (code 2), the change of what was paid as a Disbursement (code 3), each dated the day the
  change was recorded and described by its reason.

Neither carries a contact, an e-mail address, a key or anything of the audit trail: the
rows are built from the fields named here and nothing else. Amounts are integer cents in
the database and are written as euro with two decimals, exactly (no float on the way).
"""

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from xml.sax.saxutils import escape, quoteattr

from regia_shared.contracts.levels import GovernmentLevel

# --- shared -----------------------------------------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def euro(cents: int) -> str:
    """-123456 -> '-1234.56'."""
    whole, fraction = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole}.{fraction:02d}"


def spreadsheet_safe(text: str) -> str:
    """Free text that a spreadsheet would run as a formula gets a leading apostrophe (CSV
    injection); amounts never go through here, so they keep their sign."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_line(values: Sequence[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)  # RFC 4180: commas, quotes doubled, CRLF
    return buffer.getvalue()


# --- objectives.csv ---------------------------------------------------------------------

LEVELS = tuple(level.value for level in GovernmentLevel)

OBJECTIVE_COLUMNS = (
    "plan_id",
    "plan_title",
    "territory",
    "objective_id",
    "parent_id",
    "kind",
    "title",
    "lead",
    "illustrative",
    "at_risk_threshold_pct",
    "fiscal_year",
    "need_cents",
    "need_eur",
    "committed_cents",
    "committed_eur",
    "counted_cents",
    "counted_eur",
    "disbursed_cents",
    "disbursed_eur",
    "coverage_pct",
    "status",
    "status_since",
    *(f"committed_{level.lower()}_cents" for level in LEVELS),
)


@dataclass(frozen=True)
class ObjectiveYear:
    """An objective and one of its fiscal years (the year fields are None for an objective
    without any year yet). A parent's money is its subtree's."""

    objective_id: str
    title: str
    kind: str
    plan_id: str | None
    plan_title: str | None
    territory: str | None
    parent_id: str | None
    lead: str | None
    illustrative: bool
    at_risk_threshold_pct: int
    fiscal_year: int | None = None
    need_cents: int | None = None
    committed_cents: int | None = None
    counted_cents: int | None = None
    disbursed_cents: int | None = None
    coverage_bp: int | None = None
    status: str | None = None
    status_since: datetime | None = None
    committed_by_level: Mapping[str, int] | None = None


def _amount(cents: int | None) -> tuple[object, str]:
    return ("", "") if cents is None else (cents, euro(cents))


def objectives_csv_head() -> str:
    return _csv_line(OBJECTIVE_COLUMNS)


def objective_row(o: ObjectiveYear) -> str:
    by_level = o.committed_by_level or {}
    coverage = "" if o.coverage_bp is None else f"{o.coverage_bp // 100}.{o.coverage_bp % 100:02d}"
    return _csv_line(
        [
            o.plan_id or "",
            spreadsheet_safe(o.plan_title or ""),
            spreadsheet_safe(o.territory or ""),
            o.objective_id,
            o.parent_id or "",
            o.kind,
            spreadsheet_safe(o.title),
            o.lead or "",
            "true" if o.illustrative else "false",
            o.at_risk_threshold_pct,
            "" if o.fiscal_year is None else o.fiscal_year,
            *_amount(o.need_cents),
            *_amount(o.committed_cents),
            *_amount(o.counted_cents),
            *_amount(o.disbursed_cents),
            coverage,
            o.status or "",
            o.status_since.isoformat() if o.status_since else "",
            *(("" if o.fiscal_year is None else by_level.get(level, 0)) for level in LEVELS),
        ]
    )


# --- iati-activities.xml ----------------------------------------------------------------

IATI_VERSION = "2.03"
# IATI codelists (iatistandard.org/en/iati-standard/203/codelists/).
FUNDING, EXTENDING, IMPLEMENTING = "1", "3", "4"  # OrganisationRole
PIPELINE, IMPLEMENTATION, CLOSED = "1", "2", "4"  # ActivityStatus
PLANNED_START, PLANNED_END = "1", "3"  # ActivityDateType
OUTGOING_COMMITMENT, DISBURSEMENT = "2", "3"  # TransactionType
ORIGINAL, INDICATIVE = "1", "1"  # BudgetType, BudgetStatus
PARENT, CHILD = "1", "2"  # RelatedActivityType
OTHER_ORGANISATION = "90"  # OrganisationType
# OrganisationType of each level: local authorities (11), the State (10), the EU's
# programmes (40, multilateral), private co-funders (70). A level added without its code
# is written as 90 (Other) rather than refused; a unit test asks for every level's code.
ORGANISATION_TYPES: Mapping[str, str] = {
    GovernmentLevel.COMUNE: "11",
    GovernmentLevel.PROVINCIA: "11",
    GovernmentLevel.REGIONE: "11",
    GovernmentLevel.STATO: "10",
    GovernmentLevel.EU: "40",
    GovernmentLevel.PRIVATE: "70",
}


@dataclass(frozen=True)
class Publisher:
    """The reporting organisation (settings: REGIA_OPEN_DATA_ORG_REF, _NAME, _TYPE). Its
    ref is an IATI organisation identifier (for an Italian public body `IT-CF-` and its
    codice fiscale) and begins every activity's iati-identifier."""

    ref: str
    name: str
    type: str = "11"

    def identifier(self, objective_id: str) -> str:
        return f"{self.ref}-{objective_id}"


@dataclass(frozen=True)
class Activity:
    objective_id: str
    title: str
    kind: str
    plan_id: str | None
    plan_title: str | None
    territory: str | None
    parent_id: str | None
    lead: str | None
    depth: int  # 1 for a plan's root or a standalone objective
    created_at: datetime
    updated_at: datetime
    children: Sequence[str]
    needs: Sequence[tuple[int, int]]  # (fiscal year, need in cents)
    funders: Sequence[tuple[str, str]]  # (institution id, level)
    first_year: int | None = None  # the plan's
    last_year: int | None = None


@dataclass(frozen=True)
class LineChange:
    """One line version applied to an objective: what it did to the commitment and to what
    was paid, and why."""

    change_id: int
    line_id: str
    line_version: int
    institution_id: str
    level: str
    fiscal_year: int
    kind: str
    committed_delta_cents: int
    disbursed_delta_cents: int
    reason: str | None
    occurred_at: datetime


# Characters XML 1.0 cannot carry at all, even escaped: free text (a reason) may hold one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: object) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def _attrs(**values: object) -> str:
    return "".join(f" {name.replace('_', '-')}={quoteattr(_text(v))}" for name, v in values.items() if v is not None)


def _narrative(text: str) -> str:
    return f"<narrative>{escape(_text(text))}</narrative>"


def iati_head(generated_at: datetime) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<iati-activities{_attrs(version=IATI_VERSION, generated_datetime=generated_at.isoformat())}>\n"
    )


IATI_TAIL = "</iati-activities>\n"


def _years(a: Activity) -> tuple[int, int] | None:
    years = [y for y, _ in a.needs] + [y for y in (a.first_year, a.last_year) if y is not None]
    return (min(years), max(years)) if years else None


def activity_status(a: Activity, today: date) -> str:
    span = _years(a)
    if span is None or span[0] > today.year:
        return PIPELINE
    return CLOSED if span[1] < today.year else IMPLEMENTATION


def _description(a: Activity) -> str:
    kind = a.kind.lower()
    if a.plan_title:
        where = f" ({a.territory})" if a.territory else ""
        return f"{a.title}: {kind} of the plan «{a.plan_title}»{where}."
    return f"{a.title}: {kind}."


def activity_open(a: Activity, publisher: Publisher, today: date) -> str:
    """The activity up to its budgets: what comes before the transactions in the schema."""
    parts = [
        f"<iati-activity{_attrs(last_updated_datetime=a.updated_at.isoformat(), default_currency='EUR', hierarchy=a.depth)}"
        ' xml:lang="it">',
        f"<iati-identifier>{escape(_text(publisher.identifier(a.objective_id)))}</iati-identifier>",
        f"<reporting-org{_attrs(ref=publisher.ref, type=publisher.type)}>{_narrative(publisher.name)}</reporting-org>",
        f"<title>{_narrative(a.title)}</title>",
        f'<description type="1">{_narrative(_description(a))}</description>',
    ]
    for institution_id, level in a.funders:
        org_type = ORGANISATION_TYPES.get(level, OTHER_ORGANISATION)
        parts.append(f"<participating-org{_attrs(ref=institution_id, type=org_type, role=FUNDING)}/>")
    parts.append(
        f"<participating-org{_attrs(ref=publisher.ref, type=publisher.type, role=EXTENDING)}>"
        f"{_narrative(publisher.name)}</participating-org>"
    )
    if a.lead:
        parts.append(f"<participating-org{_attrs(ref=a.lead, role=IMPLEMENTING)}/>")
    parts.append(f'<activity-status code="{activity_status(a, today)}"/>')
    span = _years(a)
    if span is None:
        parts.append(f'<activity-date type="{PLANNED_START}" iso-date="{a.created_at.date().isoformat()}"/>')
    else:
        parts.append(f'<activity-date type="{PLANNED_START}" iso-date="{span[0]}-01-01"/>')
        parts.append(f'<activity-date type="{PLANNED_END}" iso-date="{span[1]}-12-31"/>')
    for year, cents in a.needs:
        parts.append(
            f'<budget type="{ORIGINAL}" status="{INDICATIVE}">'
            f'<period-start iso-date="{year}-01-01"/><period-end iso-date="{year}-12-31"/>'
            f'<value currency="EUR" value-date="{year}-01-01">{euro(cents)}</value></budget>'
        )
    return "\n".join(parts) + "\n"


def _transaction(c: LineChange, code: str, cents: int) -> str:
    day = c.occurred_at.date().isoformat()
    why = c.reason or c.kind
    org_type = ORGANISATION_TYPES.get(c.level, OTHER_ORGANISATION)
    return (
        f"<transaction{_attrs(ref=f'{c.line_id}.v{c.line_version}.{code}')}>"
        f'<transaction-type code="{code}"/><transaction-date iso-date="{day}"/>'
        f'<value currency="EUR" value-date="{day}">{euro(cents)}</value>'
        f"<description>{_narrative(f'{c.line_id} ({c.fiscal_year}): {why}')}</description>"
        f"<provider-org{_attrs(ref=c.institution_id, type=org_type)}/>"
        "</transaction>\n"
    )


def transactions(c: LineChange) -> str:
    """A line change as up to two transactions: the commitment's change and the payment's
    (a change that moves neither, e.g. a repeat, writes nothing)."""
    out = ""
    if c.committed_delta_cents:
        out += _transaction(c, OUTGOING_COMMITMENT, c.committed_delta_cents)
    if c.disbursed_delta_cents:
        out += _transaction(c, DISBURSEMENT, c.disbursed_delta_cents)
    return out


def activity_close(a: Activity, publisher: Publisher) -> str:
    """What comes after the transactions: the plan's tree as related activities."""
    parts = []
    if a.parent_id:
        parts.append(f'<related-activity ref={quoteattr(publisher.identifier(a.parent_id))} type="{PARENT}"/>\n')
    for child in a.children:
        parts.append(f'<related-activity ref={quoteattr(publisher.identifier(child))} type="{CHILD}"/>\n')
    return "".join(parts) + "</iati-activity>\n"
