"""What a lead reads when an objective changes status, in their language. Pure.

Amounts use `format_euro` (Italian grouping) in both languages: they are euro amounts of
an Italian plan, and one format avoids a reader comparing two renderings of one number.
"""

from dataclasses import dataclass
from typing import Literal

from regia_shared.events.objectives import CoverageStatus, ObjectiveStatusChanged
from regia_shared.money import format_euro

Language = Literal["it", "en"]

_STATUS: dict[str, dict[CoverageStatus, str]] = {
    "it": {CoverageStatus.FUNDED: "FINANZIATO", CoverageStatus.PARTIALLY_FUNDED: "PARZIALMENTE FINANZIATO",
           CoverageStatus.AT_RISK: "A RISCHIO", CoverageStatus.UNFUNDED: "NON FINANZIATO"},
    "en": {s: s.value for s in CoverageStatus},
}

_TEXT = {
    "it": {
        "greeting": "Gentile {name},",
        "intro": "è cambiato lo stato di finanziamento di un obiettivo di cui siete capofila.",
        "objective": "Obiettivo", "year": "Anno", "status": "Stato", "coverage": "Copertura",
        "need": "Fabbisogno", "committed": "Impegnato", "threshold": "Soglia di rischio",
        "none": "nessuno",
        "footer": "Messaggio automatico di Regia, la cabina di regia del piano strategico.\n"
                  "Riferimento: obiettivo {objective_id}, evento {event_id}.",
    },
    "en": {
        "greeting": "Dear {name},",
        "intro": "the funding status of an objective you lead has changed.",
        "objective": "Objective", "year": "Fiscal year", "status": "Status", "coverage": "Coverage",
        "need": "Need", "committed": "Committed", "threshold": "At-risk threshold",
        "none": "none",
        "footer": "An automatic message from Regia, the steering room of the strategic plan.\n"
                  "Reference: objective {objective_id}, event {event_id}.",
    },
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str


def status_label(status: CoverageStatus, language: Language) -> str:
    return _STATUS[language][status]


def percent(basis_points: int, language: Language) -> str:
    whole, frac = divmod(basis_points, 100)
    return f"{whole},{frac:02d} %" if language == "it" else f"{whole}.{frac:02d}%"


def one_line(text: str) -> str:
    """Collapse whitespace: a title with a line break must not become a forged header."""
    return " ".join(text.split())


def render_status_change(change: ObjectiveStatusChanged, *, language: Language, name: str,
                         event_id: str) -> Rendered:
    t = _TEXT[language]
    title = one_line(change.title)
    new = status_label(change.status, language)
    old = status_label(change.previous_status, language) if change.previous_status else t["none"]
    facts = [
        (t["objective"], title),
        (t["year"], str(change.fiscal_year)),
        (t["status"], f"{old} → {new}"),
        (t["coverage"], percent(change.coverage_bp, language)),
        (t["need"], format_euro(change.need_cents)),
        (t["committed"], format_euro(change.committed_cents)),
        (t["threshold"], f"{change.at_risk_threshold_pct} %" if language == "it"
         else f"{change.at_risk_threshold_pct}%"),
    ]
    width = max(len(label) for label, _ in facts) + 1
    lines = [t["greeting"].format(name=one_line(name)), "", t["intro"], ""]
    lines += [f"{label + ':':<{width}} {value}" for label, value in facts]
    lines += ["", "-- ", t["footer"].format(objective_id=change.objective_id, event_id=event_id), ""]
    return Rendered(subject=f"[Regia] {title} {change.fiscal_year}: {new}", text="\n".join(lines))
