"""The words of Regia's messages, in Italian and English, and how numbers read. Pure.

Amounts use `format_euro` (Italian grouping) in both languages: they are euro amounts of
an Italian plan, and one format avoids a reader comparing two renderings of one number.
Only the statuses are translated; an English reader sees the enum value, the same word
the API and the webhooks use.
"""

from typing import Literal

from regia_shared.contracts.events.objectives import CoverageStatus

Language = Literal["it", "en"]

_STATUS: dict[str, dict[CoverageStatus, str]] = {
    "it": {
        CoverageStatus.FUNDED: "FINANZIATO",
        CoverageStatus.PARTIALLY_FUNDED: "PARZIALMENTE FINANZIATO",
        CoverageStatus.AT_RISK: "A RISCHIO",
        CoverageStatus.UNFUNDED: "NON FINANZIATO",
        CoverageStatus.NO_NEED: "SENZA FABBISOGNO",
    },
    "en": {s: s.value for s in CoverageStatus},
}

WORDS: dict[str, dict[str, str]] = {
    "it": {
        "greeting": "Gentile {name},",
        # Only a status change goes to leads alone; the other alerts may reach funders and
        # network members too, so their intros do not say whose objective it is.
        "intro.status": "è cambiato lo stato di finanziamento di un obiettivo di cui siete capofila.",
        "intro.drop": "l'impegno finanziario di un obiettivo che seguite è diminuito del {pct}.",
        "intro.revoked": "è stata revocata una linea di finanziamento.",
        "intro.review": "è stato chiuso il riesame annuale del piano.",
        "subject.drop": "finanziamento in calo del {pct}",
        "subject.revoked": "Linea {line_id} revocata",
        "subject.review": "Riesame annuale {year} chiuso: {plan}",
        "objective": "Obiettivo",
        "year": "Anno",
        "status": "Stato",
        "coverage": "Copertura",
        "need": "Fabbisogno",
        "committed": "Impegnato",
        "threshold": "Soglia di rischio",
        "before": "Impegnato prima",
        "now": "Impegnato ora",
        "drop": "Calo",
        "line": "Linea",
        "institution": "Ente",
        "revoked": "Importo revocato",
        "reason": "Motivo",
        "plan": "Piano",
        "disbursed": "Erogato",
        "nodes": "Nodi per stato",
        "none": "nessuno",
        "ref.objective": "obiettivo {id}",
        "ref.line": "linea {id}",
        "ref.plan": "piano {id}",
        "reference": "Riferimento: {refs}, evento {event_id}.",
        "signature": "Messaggio automatico di Regia, la cabina di regia del piano strategico.",
        "digest.subject": "Riepilogo del {day}: {count}",
        "digest.intro": "ecco il riepilogo del {day}: {count}.",
        "digest.one": "1 avviso",
        "digest.many": "{n} avvisi",
    },
    "en": {
        "greeting": "Dear {name},",
        "intro.status": "the funding status of an objective you lead has changed.",
        "intro.drop": "the committed funding of an objective you follow fell by {pct}.",
        "intro.revoked": "a funding line has been revoked.",
        "intro.review": "the annual review of the plan has been closed.",
        "subject.drop": "funding down {pct}",
        "subject.revoked": "Line {line_id} revoked",
        "subject.review": "Annual review {year} closed: {plan}",
        "objective": "Objective",
        "year": "Fiscal year",
        "status": "Status",
        "coverage": "Coverage",
        "need": "Need",
        "committed": "Committed",
        "threshold": "At-risk threshold",
        "before": "Committed before",
        "now": "Committed now",
        "drop": "Drop",
        "line": "Funding line",
        "institution": "Institution",
        "revoked": "Amount revoked",
        "reason": "Reason",
        "plan": "Plan",
        "disbursed": "Disbursed",
        "nodes": "Nodes by status",
        "none": "none",
        "ref.objective": "objective {id}",
        "ref.line": "line {id}",
        "ref.plan": "plan {id}",
        "reference": "Reference: {refs}, event {event_id}.",
        "signature": "An automatic message from Regia, the steering room of the strategic plan.",
        "digest.subject": "Digest for {day}: {count}",
        "digest.intro": "here is the digest for {day}: {count}.",
        "digest.one": "1 alert",
        "digest.many": "{n} alerts",
    },
}

# How a day reads in each language's subject: 25/11/2026 in Italy, ISO 2026-11-25 otherwise.
DAY_FORMAT = {"it": "%d/%m/%Y", "en": "%Y-%m-%d"}


def status_label(status: CoverageStatus, language: Language) -> str:
    return _STATUS[language][status]


def percent(basis_points: int, language: Language) -> str:
    whole, frac = divmod(basis_points, 100)
    return f"{whole},{frac:02d} %" if language == "it" else f"{whole}.{frac:02d}%"


def whole_percent(pct: int, language: Language) -> str:
    return f"{pct} %" if language == "it" else f"{pct}%"


def one_line(text: str) -> str:
    """Collapse whitespace: a title with a line break must not become a forged header."""
    return " ".join(text.split())
