"""What a funding event reads as, in one sentence, in Italian and English. Pure.

Who acted (the institution, by name, and its level in words), on which line, the line's
commitment before and after, and the reason the ledger holds:

    Regione Liguria (Regione) ha ridotto la linea LIG-2027-001 da € 4.500.000,00 a
    € 3.000.000,00. Motivo: «Assestamento di bilancio».

Every string that comes from outside (names, ids, reasons) is collapsed to one line. An
institution the notifier has not heard of is named by its id; a level this version does
not know is shown as sent.
"""

from collections.abc import Sequence

from ..causes import FundingCause
from .wording import Language, level_label, money, one_line

# {who}: the institution and its level; {line}: the line's id; {before}, {after}: its
# commitment on either side of the event; {amount}: what moved or was paid; {to_other},
# {from_other}, {on_other}: the other line of a reallocation or a roll-over ("other.*").
_SENTENCES: dict[Language, dict[str, str]] = {
    "it": {
        "committed": "{who} ha impegnato {after} sulla linea {line}.",
        "raised": "{who} ha aumentato la linea {line} da {before} a {after}.",
        "cut": "{who} ha ridotto la linea {line} da {before} a {after}.",
        "revised": "{who} ha rivisto la linea {line}, che resta a {after}.",
        "revoked": "{who} ha revocato la linea {line}: l'impegno passa da {before} a {after}.",
        "disbursed": "{who} ha erogato {amount} sulla linea {line} (impegnato {after}).",
        "reallocated.out": "{who} ha spostato {amount} dalla linea {line} {to_other}: "
        "la linea {line} passa da {before} a {after}.",
        "reallocated.in": "{who} ha spostato {amount} {from_other} alla linea {line}: "
        "la linea {line} passa da {before} a {after}.",
        "rolled_over.out": "{who} ha riportato {amount} della linea {line} all'anno successivo, {on_other}: "
        "la linea {line} passa da {before} a {after}.",
        "rolled_over.in": "{who} ha riportato {amount} dall'anno precedente ({from_other}) sulla linea {line}: "
        "la linea {line} passa da {before} a {after}.",
        "other.to": "alla linea {id}",
        "other.from": "dalla linea {id}",
        "other.on": "sulla linea {id}",
        "unnamed.to": "a un'altra linea",
        "unnamed.from": "da un'altra linea",
        "unnamed.on": "su un'altra linea",
        "reason": " Motivo: «{reason}».",
        "more.one": "e un'altra variazione",
        "more": "e altre {n} variazioni",
        "label": "Causa",
    },
    "en": {
        "committed": "{who} committed {after} on line {line}.",
        "raised": "{who} raised line {line} from {before} to {after}.",
        "cut": "{who} cut line {line} from {before} to {after}.",
        "revised": "{who} revised line {line}, which stays at {after}.",
        "revoked": "{who} revoked line {line}: its commitment went from {before} to {after}.",
        "disbursed": "{who} disbursed {amount} on line {line} ({after} committed).",
        "reallocated.out": "{who} moved {amount} from line {line} {to_other}: line {line} went from {before} to {after}.",
        "reallocated.in": "{who} moved {amount} {from_other} to line {line}: line {line} went from {before} to {after}.",
        "rolled_over.out": "{who} rolled {amount} of line {line} over to the next year, {on_other}: "
        "line {line} went from {before} to {after}.",
        "rolled_over.in": "{who} rolled {amount} over from the previous year ({from_other}) to line {line}: "
        "line {line} went from {before} to {after}.",
        "other.to": "to line {id}",
        "other.from": "from line {id}",
        "other.on": "on line {id}",
        "unnamed.to": "to another line",
        "unnamed.from": "from another line",
        "unnamed.on": "on another line",
        "reason": " Reason: “{reason}”.",
        "more.one": "and one more change",
        "more": "and {n} more changes",
        "label": "Cause",
    },
}

# The causes an e-mail spells out, at most; the rest are counted. A webhook carries them all.
SHOWN = 5


def _sentence_key(cause: FundingCause) -> str:
    """Which sentence tells the event: a revision is a raise or a cut; money moved between
    lines went out of this line or into it."""
    match cause.kind:
        case "revised":
            return "cut" if cause.cut else "raised" if cause.raised else "revised"
        case "reallocated" | "rolled_over":
            return f"{cause.kind}.{'out' if cause.cut else 'in'}"
    return cause.kind


def who(cause: FundingCause, language: Language) -> str:
    """The institution and its level: "Regione Liguria (Regione)", "Regione Liguria (Region)"."""
    name = one_line(cause.institution_name or "") or one_line(cause.institution_id)
    return f"{name} ({level_label(cause.level, language)})"


def cause_sentence(cause: FundingCause, language: Language) -> str:
    """The funding event in one sentence, with its reason if the ledger has one."""
    words = _SENTENCES[language]
    moved = cause.disbursed_delta_cents if cause.kind == "disbursed" else abs(cause.delta_cents)
    other = one_line(cause.counterpart_line_id or "")

    def other_line(way: str) -> str:
        return words[f"other.{way}"].format(id=other) if other else words[f"unnamed.{way}"]

    sentence = words[_sentence_key(cause)].format(
        who=who(cause, language),
        line=one_line(cause.line_id),
        to_other=other_line("to"),
        from_other=other_line("from"),
        on_other=other_line("on"),
        before=money(cause.before_cents, language),
        after=money(cause.after_cents, language),
        amount=money(moved, language),
    )
    reason = one_line(cause.reason or "")
    return sentence + (words["reason"].format(reason=reason) if reason else "")


def cause_facts(causes: Sequence[FundingCause], language: Language) -> tuple[tuple[str, str], ...]:
    """The causes as facts of an alert's story, one each: the latest SHOWN, and a last one
    counting the others (a bulk operation moves many lines at once)."""
    if not causes:
        return ()
    words = _SENTENCES[language]
    shown = causes[-SHOWN:]
    facts = tuple((words["label"], cause_sentence(c, language)) for c in shown)
    hidden = len(causes) - len(shown)
    if not hidden:
        return facts
    return facts + ((words["label"], words["more.one"] if hidden == 1 else words["more"].format(n=hidden)),)
