"""The words of Regia's messages, in Italian and English, and how numbers read. Pure.

A message never shows a code (`AT_RISK`, `REGIONE`, `status_changed`): each has its words
in both languages. Those the console shows too (statuses in English, levels) come from
`regia_shared.contracts.words`, amounts and percentages from `regia_shared.contracts.money`,
so a reader sees the same word and the same number in an e-mail and in the console: Italian
€ 1.234.567,89 and 33,33 %, English €1,234,567.89 and 33.33%. The Italian statuses are
capitalised, as Italian readers have always had them. Webhook payloads keep the codes.
"""

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from regia_shared.contracts.events.objectives import CoverageStatus
from regia_shared.contracts.money import format_euro, format_percent
from regia_shared.contracts.words import STATUS_WORDS, TRIGGER_WORDS, Language, level_words

from ..coverage_gap import Gap
from ..occurrences import Trigger

__all__ = ["Language"]

_STATUS: dict[Language, dict[CoverageStatus, str]] = {
    "it": {
        CoverageStatus.FUNDED: "FINANZIATO",
        CoverageStatus.PARTIALLY_FUNDED: "PARZIALMENTE FINANZIATO",
        CoverageStatus.AT_RISK: "A RISCHIO",
        CoverageStatus.UNFUNDED: "NON FINANZIATO",
        CoverageStatus.NO_NEED: "SENZA FABBISOGNO",
    },
    "en": STATUS_WORDS["en"],
}

# What each kind of alert is called where a message names the kind rather than the event
# (a summary, a preference): regia_shared.contracts.words, which the console reads too.

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
        "levels": "Impegnato per livello",
        "gap": "Mancano",
        "gap.value": "{threshold} per la soglia ({pct}), {full} per il 100 %",
        "path": "Nel piano",
        "console": "Nella console",
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
        "preferences": "Quali avvisi ricevere e quando, o smettere di riceverli",
        "digest.subject": "Riepilogo del {day}: {count}",
        "digest.intro": "ecco il riepilogo del {day}: {count}.",
        "digest.one": "1 avviso",
        "digest.many": "{n} avvisi",
        "fix": "Per rimediare",
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
        "levels": "Committed by level",
        "gap": "Missing",
        "gap.value": "{threshold} to {pct}, {full} to 100%",
        "path": "In the plan",
        "console": "In the console",
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
        "preferences": "Choose which alerts you get and when, or stop them",
        "digest.subject": "Digest for {day}: {count}",
        "digest.intro": "here is the digest for {day}: {count}.",
        "digest.one": "1 alert",
        "digest.many": "{n} alerts",
        "fix": "What would fix it",
    },
}

# How a day reads in each language's subject: 25/11/2026 in Italy, ISO 2026-11-25 otherwise.
DAY_FORMAT = {"it": "%d/%m/%Y", "en": "%Y-%m-%d"}


def status_label(status: CoverageStatus, language: Language) -> str:
    return _STATUS[language][status]


def level_label(level: str, language: Language) -> str:
    """A level of government in words (Regione, Region); a code this version does not
    know is shown as sent."""
    return level_words(level, language) or one_line(level)


def trigger_label(trigger: Trigger, language: Language) -> str:
    return TRIGGER_WORDS[language][trigger.value]


def money(cents: int, language: Language) -> str:
    return format_euro(cents, language)


def percent(basis_points: int, language: Language) -> str:
    return format_percent(basis_points, language)


def whole_percent(pct: int, language: Language) -> str:
    return f"{pct} %" if language == "it" else f"{pct}%"


def gap_label(gap: Gap, language: Language) -> str:
    """What is missing, to the threshold and to 100 %: "€1,000,000.00 to 80%, €2,000,000.00 to 100%"."""
    return WORDS[language]["gap.value"].format(
        threshold=money(gap.to_threshold_cents, language),
        pct=whole_percent(gap.threshold_pct, language),
        full=money(gap.to_full_cents, language),
    )


def levels_label(by_level: dict[str, int], language: Language) -> str:
    """Committed money by level of government, the largest first, each level in words:
    "Regione € 3.000.000,00; Stato € 500.000,00". Levels with nothing committed are left out."""
    shown = sorted(by_level.items(), key=lambda item: (-item[1], item[0]))
    return "; ".join(f"{level_label(level, language)} {money(cents, language)}" for level, cents in shown if cents)


def path_label(titles: Sequence[str]) -> str:
    """A node's place in its plan, from the root: "Vision › Programme › Objective"."""
    return " › ".join(one_line(t) for t in titles)


def day_label(day: date, language: Language) -> str:
    """A date as the reader writes it: 15/03/2027 in Italian, 2027-03-15 in English."""
    return day.strftime(DAY_FORMAT[language])


def decimal_label(text: str, language: Language) -> str:
    """An exact decimal as an event writes it ("1234567.5", "-0.25") as the reader's
    language writes it, every digit kept: "1.234.567,5" in Italian, "1,234,567.5" in
    English. Anything else is shown as sent, on one line."""
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, frac = digits.partition(".")
    if not whole.isascii() or not whole.isdigit() or (frac and not (frac.isascii() and frac.isdigit())):
        return one_line(text)
    grouped = f"{int(whole):,}"
    if language == "it":
        return sign + grouped.replace(",", ".") + ("," + frac if frac else "")
    return sign + grouped + ("." + frac if frac else "")


def ratio_percent(ratio: str, language: Language) -> str:
    """A ratio as an event writes it ("0.750000") as a percentage, rounded down to the
    basis point: "75,00 %" / "75.00%"."""
    try:
        basis_points = int((Decimal(ratio) * 10_000).to_integral_value(rounding=ROUND_FLOOR))
    except InvalidOperation:
        return one_line(ratio)
    return percent(basis_points, language)


def one_line(text: str) -> str:
    """Collapse whitespace: a title with a line break must not become a forged header."""
    return " ".join(text.split())
