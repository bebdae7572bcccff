"""The open data's IATI file (`GET /v1/open/iati-activities.xml`, anonymous): the IATI
Activity Standard 2.03 in its official XML (iatistandard.org), valid against its schema
(tests/fixtures/iati).

One `iati-activity` per objective (every node of a plan: vision, programme, objective,
action), with its budget per fiscal year (its need, as the objectives service announced
it), the institutions that fund it, its place in the plan's tree (`related-activity`), and
the ledger's entries as transactions, each seen from the funder's side like the JSON
export (domain/exports/iati.py): the change of the commitment as an Outgoing Commitment
(code 2, a cut is negative), the amount paid as a Disbursement (code 3), dated the day the
entry was recorded and described by its reason. Every entry is there with its own reason,
so the file's commitments and disbursements per objective are the ledger's totals.

Text only, built an element at a time so that the HTTP side streams it from a cursor;
nothing of how money reached Regia (keys, `pushed_by`, channel, event ids) is written.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from xml.sax.saxutils import escape, quoteattr

from regia_shared.contracts.levels import GovernmentLevel

from .entries import ExportEntry, euro

IATI_VERSION = "2.03"
# IATI codelists (iatistandard.org/en/iati-standard/203/codelists/).
FUNDING, EXTENDING = "1", "3"  # OrganisationRole
PIPELINE, IMPLEMENTATION, CLOSED = "1", "2", "4"  # ActivityStatus
PLANNED_START, PLANNED_END = "1", "3"  # ActivityDateType
OUTGOING_COMMITMENT, DISBURSEMENT = "2", "3"  # TransactionType
ORIGINAL, INDICATIVE = "1", "1"  # BudgetType, BudgetStatus
PARENT, CHILD = "1", "2"  # RelatedActivityType
GENERAL = "1"  # DescriptionType
OTHER_ORGANISATION = "90"  # OrganisationType
# OrganisationType of each level: local authorities (11), the State and foreign states (10),
# other public bodies (15), the EU's programmes (40, multilateral), private co-funders (70). A level added without its code
# is written as 90 (Other) rather than refused; a unit test asks for every level's code.
ORGANISATION_TYPES: Mapping[str, str] = {
    GovernmentLevel.COMUNE: "11",
    GovernmentLevel.PROVINCIA: "11",
    GovernmentLevel.REGIONE: "11",
    GovernmentLevel.STATO: "10",
    GovernmentLevel.EU: "40",
    GovernmentLevel.PRIVATE: "70",
    GovernmentLevel.OTHER_PUBLIC: "15",  # Other Public Sector: a port authority, a university
    GovernmentLevel.FOREIGN_STATE: "10",  # a government, if not Italy's
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
class Funder:
    institution_id: str
    name: str | None
    level: str


@dataclass(frozen=True)
class Activity:
    objective_id: str
    title: str
    kind: str
    plan_id: str | None
    parent_id: str | None
    depth: int  # 1 for a plan's root or a standalone objective
    updated_at: datetime
    children: Sequence[str]
    needs: Sequence[tuple[int, int]]  # (fiscal year, need in cents)
    funders: Sequence[Funder]
    line_years: Sequence[int] = ()  # the fiscal years of its lines


# Characters XML 1.0 cannot carry at all, even escaped: free text (a reason) may hold one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: object) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def _attrs(**values: object) -> str:
    return "".join(f" {name.replace('_', '-')}={quoteattr(_text(v))}" for name, v in values.items() if v is not None)


def _narrative(text: str) -> str:
    return f"<narrative>{escape(_text(text))}</narrative>"


def _org_type(level: str) -> str:
    return ORGANISATION_TYPES.get(level, OTHER_ORGANISATION)


def iati_head(generated_at: datetime) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<iati-activities{_attrs(version=IATI_VERSION, generated_datetime=generated_at.isoformat())}>\n"
    )


IATI_TAIL = "</iati-activities>\n"


def _years(a: Activity) -> tuple[int, int] | None:
    years = [y for y, _ in a.needs] + list(a.line_years)
    return (min(years), max(years)) if years else None


def activity_status(a: Activity, today: date) -> str:
    span = _years(a)
    if span is None or span[0] > today.year:
        return PIPELINE
    return CLOSED if span[1] < today.year else IMPLEMENTATION


def _description(a: Activity) -> str:
    kind = a.kind.lower()
    return f"{a.title}: {kind} of the plan {a.plan_id}." if a.plan_id else f"{a.title}: {kind}."


def activity_open(a: Activity, publisher: Publisher, today: date) -> str:
    """The activity up to its budgets: what comes before the transactions in the schema."""
    head = _attrs(last_updated_datetime=a.updated_at.isoformat(), default_currency="EUR", hierarchy=a.depth)
    parts = [
        f'<iati-activity{head} xml:lang="it">',
        f"<iati-identifier>{escape(_text(publisher.identifier(a.objective_id)))}</iati-identifier>",
        f"<reporting-org{_attrs(ref=publisher.ref, type=publisher.type)}>{_narrative(publisher.name)}</reporting-org>",
        f"<title>{_narrative(a.title)}</title>",
        f'<description type="{GENERAL}">{_narrative(_description(a))}</description>',
    ]
    for f in a.funders:
        name = _narrative(f.name) if f.name else ""
        org = _attrs(ref=f.institution_id, type=_org_type(f.level), role=FUNDING)
        parts.append(f"<participating-org{org}>{name}</participating-org>")
    # The cabina di regia extends the plan: there is always one participating organisation.
    org = _attrs(ref=publisher.ref, type=publisher.type, role=EXTENDING)
    parts.append(f"<participating-org{org}>{_narrative(publisher.name)}</participating-org>")
    parts.append(f'<activity-status code="{activity_status(a, today)}"/>')
    span = _years(a)
    if span is None:
        parts.append(f'<activity-date type="{PLANNED_START}" iso-date="{a.updated_at.date().isoformat()}"/>')
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


def _transaction(e: ExportEntry, code: str, cents: int) -> str:
    # The act's own date where the source gave one (a decree, a payment order), else the day
    # Regia recorded it: IATI's transaction-date is when the transaction happened.
    day = (e.act_date or e.recorded_at.date()).isoformat()
    provider = _attrs(ref=e.institution_id, provider_activity_id=e.instrument_id, type=_org_type(e.level))
    name = _narrative(e.institution_name) if e.institution_name else ""
    cup = f", CUP {e.cup}" if e.cup else ""
    return (
        f"<transaction{_attrs(ref=f'{e.entry_id}.{code}')}>"
        f'<transaction-type code="{code}"/><transaction-date iso-date="{day}"/>'
        f'<value currency="EUR" value-date="{day}">{euro(cents)}</value>'
        f"<description>{_narrative(f'{e.line_id} ({e.fiscal_year}{cup}): {e.reason or e.kind}')}</description>"
        f"<provider-org{provider}>{name}</provider-org>"
        "</transaction>\n"
    )


def transactions(e: ExportEntry) -> str:
    """A ledger entry as up to two transactions: the commitment's change and the payment
    (an entry that moves neither writes nothing)."""
    out = ""
    if e.committed_delta_cents:
        out += _transaction(e, OUTGOING_COMMITMENT, e.committed_delta_cents)
    if e.disbursed_delta_cents:
        out += _transaction(e, DISBURSEMENT, e.disbursed_delta_cents)
    return out


def activity_close(a: Activity, publisher: Publisher) -> str:
    """What comes after the transactions: the plan's tree as related activities."""
    parts = []
    if a.parent_id:
        parts.append(f'<related-activity ref={quoteattr(_text(publisher.identifier(a.parent_id)))} type="{PARENT}"/>\n')
    for child in a.children:
        parts.append(f'<related-activity ref={quoteattr(_text(publisher.identifier(child)))} type="{CHILD}"/>\n')
    return "".join(parts) + "</iati-activity>\n"
