"""Every label the console shows, in Italian and English, in one dictionary: a page never
hard-codes words, so a missing translation is a unit-test failure, not a half-English page.
The words for statuses and levels are the shared ones (`regia_shared.contracts.words`),
the same the notifier's e-mails use."""

from collections.abc import Callable

from regia_shared.contracts.words import LANGUAGES, LEVEL_WORDS, STATUS_WORDS, TRIGGER_WORDS

DEFAULT_LANGUAGE = "it"  # the console is La Spezia's first

LABELS: dict[str, dict[str, str]] = {
    "app_title": {"it": "Regia – console", "en": "Regia – console"},
    "nav_overview": {"it": "Panoramica", "en": "Overview"},
    "nav_events": {"it": "Eventi in diretta", "en": "Live events"},
    "nav_dead_letters": {"it": "Messaggi non recapitati", "en": "Dead letters"},
    "nav_unaddressed": {"it": "Avvisi senza destinatari", "en": "Alerts nobody received"},
    "nav_logout": {"it": "Esci", "en": "Log out"},
    "login_title": {"it": "Accesso amministratori", "en": "Administrators' login"},
    "login_token": {"it": "Token di amministrazione", "en": "Admin token"},
    "login_submit": {"it": "Entra", "en": "Log in"},
    "login_refused": {"it": "Token non valido.", "en": "Invalid token."},
    "health": {"it": "Stato dei servizi", "en": "Services' health"},
    "service": {"it": "Servizio", "en": "Service"},
    "health_ok": {"it": "attivo", "en": "ready"},
    "health_down": {"it": "non disponibile", "en": "unavailable"},
    "plans": {"it": "Piani", "en": "Plans"},
    "counts_by_status": {"it": "Obiettivi per stato", "en": "Objectives by status"},
    "at_risk_first": {"it": "Obiettivi a rischio", "en": "Objectives at risk"},
    "none_at_risk": {"it": "Nessun obiettivo a rischio.", "en": "No objective is at risk."},
    "funding_by_level_year": {"it": "Finanziamenti per livello e anno", "en": "Funding by level and year"},
    "no_funding": {"it": "Nessun finanziamento registrato.", "en": "No funding recorded."},
    "objective": {"it": "Obiettivo", "en": "Objective"},
    "year": {"it": "Anno", "en": "Year"},
    "years": {"it": "Anni", "en": "Years"},
    "need": {"it": "Fabbisogno", "en": "Need"},
    "committed": {"it": "Impegnato", "en": "Committed"},
    "disbursed": {"it": "Erogato", "en": "Disbursed"},
    "coverage": {"it": "Copertura", "en": "Coverage"},
    "status": {"it": "Stato", "en": "Status"},
    "level": {"it": "Livello", "en": "Level"},
    "lead": {"it": "Capofila", "en": "Lead"},
    "plan": {"it": "Piano", "en": "Plan"},
    "plan_tree": {"it": "Albero del piano", "en": "Plan tree"},
    "nodes": {"it": "nodi", "en": "nodes"},
    "threshold": {"it": "Soglia di rischio", "en": "At-risk threshold"},
    "funding_lines": {"it": "Linee di finanziamento", "en": "Funding lines"},
    "no_lines": {"it": "Nessuna linea di finanziamento.", "en": "No funding lines."},
    "line": {"it": "Linea", "en": "Line"},
    "institution": {"it": "Ente", "en": "Institution"},
    "by_institution": {"it": "Impegni per ente", "en": "Commitments by institution"},
    "history": {"it": "Storico", "en": "History"},
    "coverage_history": {"it": "Copertura per anno", "en": "Coverage per year"},
    "alerts": {"it": "Avvisi", "en": "Alerts"},
    "no_alerts": {"it": "Nessun avviso inviato.", "en": "No alerts sent."},
    "recipient": {"it": "Destinatario", "en": "Recipient"},
    "subject": {"it": "Oggetto", "en": "Subject"},
    "channel": {"it": "Canale", "en": "Channel"},
    "when": {"it": "Quando", "en": "When"},
    "reason": {"it": "Motivo", "en": "Reason"},
    "entry": {"it": "Movimento", "en": "Entry"},
    "children": {"it": "Sotto-obiettivi", "en": "Children"},
    "events_title": {"it": "Flusso degli eventi", "en": "Event stream"},
    "events_hint": {
        "it": "Gli ultimi eventi di ogni topic di Regia; i nuovi compaiono da soli.",
        "en": "The latest events of every Regia topic; new ones appear by themselves.",
    },
    "no_events": {"it": "Nessun evento dall'avvio della console.", "en": "No events since the console started."},
    "type": {"it": "Tipo", "en": "Type"},
    "key": {"it": "Chiave", "en": "Key"},
    "time": {"it": "Ora", "en": "Time"},
    "producer": {"it": "Produttore", "en": "Producer"},
    "topic": {"it": "Topic", "en": "Topic"},
    "live": {"it": "in diretta", "en": "live"},
    "offline": {"it": "disconnesso", "en": "disconnected"},
    "dead_letters_title": {"it": "Messaggi non recapitati", "en": "Dead letters"},
    "no_dead_letters": {"it": "Nessun messaggio non recapitato.", "en": "No dead letters."},
    "unaddressed_title": {"it": "Avvisi senza destinatari", "en": "Alerts nobody received"},
    "unaddressed_hint": {
        "it": "Avvisi che una regola ha trovato ma che nessuno ha ricevuto, dal più recente: di solito "
        "un obiettivo di cui non si conosce ancora il capofila.",
        "en": "Alerts a rule matched that nobody received, newest first: typically an objective whose "
        "lead is not known yet.",
    },
    "no_unaddressed": {"it": "Nessun avviso senza destinatari.", "en": "No alert went unreceived."},
    "trigger": {"it": "Evento", "en": "Trigger"},
    "why_nobody": {"it": "Perché nessuno", "en": "Why nobody"},
    "partners_reached": {"it": "Partner raggiunti", "en": "Partners reached"},
    "newer": {"it": "Più recenti", "en": "Newer"},
    "older": {"it": "Meno recenti", "en": "Older"},
    "page": {"it": "Pagina", "en": "Page"},
    # Why the notifier says nobody heard (its `reason`, in English): see unaddressed_reason.
    "reason_no_partner": {
        "it": "nessun partner ha il ruolo che le regole cercano",
        "en": "no partner holds the rules' audiences",
    },
    "reason_unwanted": {
        "it": "i contatti e gli endpoint dei partner non vogliono questo avviso",
        "en": "their contacts and endpoints want none of it",
    },
    "attempts": {"it": "Tentativi", "en": "Attempts"},
    "last_error": {"it": "Ultimo errore", "en": "Last error"},
    "retry": {"it": "Riprova", "en": "Retry"},
    "retry_all": {"it": "Riprova tutti", "en": "Retry all"},
    "retried": {"it": "Rimessi in coda", "en": "Put back in the queue"},
    "unavailable": {"it": "Dati non disponibili", "en": "Data unavailable"},
    "not_found": {"it": "Non trovato", "en": "Not found"},
    "bad_request": {"it": "Richiesta non valida", "en": "Bad request"},
    "unavailable_hint": {
        "it": "Un servizio non risponde: riprova tra poco.",
        "en": "A service is not answering: try again in a moment.",
    },
    "back_to_overview": {"it": "Torna alla panoramica", "en": "Back to the overview"},
    "language": {"it": "Lingua", "en": "Language"},
    "status_NONE": {"it": "senza fabbisogno", "en": "no need declared"},
    "over_committed": {"it": "impegnato oltre il fabbisogno", "en": "committed beyond the need"},
    "over_committed_no_need": {
        "it": "impegnato senza fabbisogno dichiarato",
        "en": "committed with no need declared",
    },
    "level_OTHER": {"it": "Altro", "en": "Other"},
    "uncovered": {"it": "Scoperto", "en": "Uncovered"},
    # The pages an e-mail links to: a person's preferences, and the one-click unsubscribe.
    "prefs_title": {"it": "Le tue e-mail da Regia", "en": "Your e-mails from Regia"},
    "prefs_intro": {
        "it": "Per ogni tipo di avviso scegli se riceverlo subito, nel riepilogo del giorno o della "
        "settimana, oppure non riceverlo.",
        "en": "For each kind of alert, choose whether to get it at once, in the daily or the weekly "
        "digest, or not at all.",
    },
    "prefs_kinds": {"it": "Avvisi", "en": "Alerts"},
    "cadence_immediate": {
        "it": "Subito (gli avvisi che arrivano insieme, in un'unica e-mail)",
        "en": "At once (alerts that come together, in one e-mail)",
    },
    "cadence_daily_digest": {"it": "Nel riepilogo del giorno", "en": "In the daily digest"},
    "cadence_weekly_digest": {"it": "Nel riepilogo della settimana", "en": "In the weekly digest"},
    "cadence_off": {"it": "Non riceverlo", "en": "Don't send it"},
    "email_language": {"it": "Lingua delle e-mail", "en": "Language of the e-mails"},
    "language_it": {"it": "Italiano", "en": "Italian"},
    "language_en": {"it": "Inglese", "en": "English"},
    "save": {"it": "Salva", "en": "Save"},
    "saved": {"it": "Preferenze salvate.", "en": "Preferences saved."},
    "unsubscribe_title": {"it": "Non ricevere più questi avvisi?", "en": "Stop these alerts?"},
    "unsubscribe_what": {
        "it": "Non riceverai più per e-mail questi avvisi:",
        "en": "You will no longer get e-mails about:",
    },
    "unsubscribe_button": {"it": "Annulla l'iscrizione", "en": "Unsubscribe"},
    "unsubscribed_title": {"it": "Iscrizione annullata", "en": "Unsubscribed"},
    "unsubscribed_what": {
        "it": "Non riceverai più per e-mail questi avvisi:",
        "en": "You will no longer get e-mails about:",
    },
    "unsubscribed_hint": {
        "it": "Hai cambiato idea? Il link in fondo a ogni e-mail di Regia porta alle tue preferenze.",
        "en": "Changed your mind? The link at the foot of every e-mail from Regia leads to your preferences.",
    },
    "link_invalid": {"it": "Link non valido", "en": "This link does not work"},
    "link_expired": {"it": "Link scaduto", "en": "This link has expired"},
    "link_not_for_this": {"it": "Questo link non serve a questa pagina", "en": "This link is not for this page"},
    "link_contact_gone": {
        "it": "La persona per cui era questo link non è più registrata.",
        "en": "The person this link was made for is no longer registered.",
    },
    "link_hint": {
        "it": "Usa il link in fondo a un'e-mail recente di Regia.",
        "en": "Use the link at the foot of a recent e-mail from Regia.",
    },
    "one_click_body": {
        "it": "Richiesta non valida: un annullamento con un clic invia List-Unsubscribe=One-Click.",
        "en": "Not a one-click unsubscribe: its body is List-Unsubscribe=One-Click.",
    },
}
LABELS |= {f"status_{s}": {lang: STATUS_WORDS[lang][s] for lang in LANGUAGES} for s in STATUS_WORDS["it"]}
LABELS |= {f"trigger_{k}": {lang: TRIGGER_WORDS[lang][k] for lang in LANGUAGES} for k in TRIGGER_WORDS["it"]}
LABELS |= {f"level_{lv}": {lang: LEVEL_WORDS[lang][lv] for lang in LANGUAGES} for lv in LEVEL_WORDS["it"]}


# The notifier's reasons for an alert nobody received, as it writes them, and their labels.
REASONS = {
    "no partner holds the rules' audiences": "reason_no_partner",
    "their contacts and endpoints want none of it": "reason_unwanted",
}
# The kinds of alert the console names in words: those the shared words know.
TRIGGERS = tuple(TRIGGER_WORDS["it"])


def translator(language: str) -> Callable[[str], str]:
    """`t(key)` in one language; an unknown key shows itself, so it is seen and fixed."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE

    def t(key: str) -> str:
        return LABELS.get(key, {}).get(language, key)

    return t


def choose_language(asked: str | None, remembered: str | None, accept_language: str | None) -> str:
    """?lang= first (the user just chose), then the cookie, then the browser's preference."""
    for candidate in (asked, remembered):
        if candidate in LANGUAGES:
            return candidate
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE
