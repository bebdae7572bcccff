"""What the contracts' codes read as, in Italian and English. Pure.

Events, the APIs and webhook payloads carry the codes (`AT_RISK`, `REGIONE`): they are for
machines and never change with the reader. People read these words instead, the same in the
console and in the notifier's e-mails. (The Italian e-mails keep the capitalised status
words their readers know, "A RISCHIO", "PARZIALMENTE FINANZIATO": see the notifier's
`domain/messages/wording.py`.)
"""

from typing import Literal

from .events.objectives import CoverageStatus
from .levels import GovernmentLevel

Language = Literal["it", "en"]
LANGUAGES: tuple[Language, ...] = ("it", "en")

STATUS_WORDS: dict[Language, dict[CoverageStatus, str]] = {
    "it": {
        CoverageStatus.FUNDED: "finanziato",
        CoverageStatus.PARTIALLY_FUNDED: "finanziato in parte",
        CoverageStatus.AT_RISK: "a rischio",
        CoverageStatus.UNFUNDED: "non finanziato",
        CoverageStatus.NO_NEED: "senza fabbisogno",
    },
    "en": {
        CoverageStatus.FUNDED: "funded",
        CoverageStatus.PARTIALLY_FUNDED: "partially funded",
        CoverageStatus.AT_RISK: "at risk",
        CoverageStatus.UNFUNDED: "not funded",
        CoverageStatus.NO_NEED: "no need declared",
    },
}

# The kinds of alert, by the codes the notifier's rules, webhook payloads and API carry
# (`status_changed`, ...): read in its e-mails and on the console's pages alike.
TRIGGER_WORDS: dict[Language, dict[str, str]] = {
    "it": {
        "status_changed": "cambio dello stato di finanziamento",
        "funding_dropped": "finanziamento in calo",
        "line_revoked": "linea revocata",
        "review_closed": "riesame annuale chiuso",
        "current_state": "situazione per un nuovo capofila",
        "single_level_dependency": "finanziamento da un solo livello",
        "milestone_overdue": "traguardo scaduto",
        "indicator_behind": "indicatore in ritardo sul target",
    },
    "en": {
        "status_changed": "funding status changed",
        "funding_dropped": "funding down",
        "line_revoked": "line revoked",
        "review_closed": "annual review closed",
        "current_state": "state told to a new lead",
        "single_level_dependency": "funded by one level only",
        "milestone_overdue": "milestone overdue",
        "indicator_behind": "indicator behind its target",
    },
}

LEVEL_WORDS: dict[Language, dict[GovernmentLevel, str]] = {
    "it": {
        GovernmentLevel.COMUNE: "Comune",
        GovernmentLevel.PROVINCIA: "Provincia",
        GovernmentLevel.REGIONE: "Regione",
        GovernmentLevel.STATO: "Stato",
        GovernmentLevel.EU: "UE",
        GovernmentLevel.PRIVATE: "Privati",
        GovernmentLevel.OTHER_PUBLIC: "Altro ente pubblico",
        GovernmentLevel.FOREIGN_STATE: "Stato estero",
    },
    "en": {
        GovernmentLevel.COMUNE: "Municipality",
        GovernmentLevel.PROVINCIA: "Province",
        GovernmentLevel.REGIONE: "Region",
        GovernmentLevel.STATO: "State",
        GovernmentLevel.EU: "EU",
        GovernmentLevel.PRIVATE: "Private",
        GovernmentLevel.OTHER_PUBLIC: "Other public body",
        GovernmentLevel.FOREIGN_STATE: "Foreign state",
    },
}


def level_words(level: str, language: Language) -> str | None:
    """The level's name, or None for a code this version does not know (the caller shows
    it as sent, or as "other")."""
    try:
        return LEVEL_WORDS[language][GovernmentLevel(level)]
    except ValueError:
        return None
