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
    "nav_objectives": {"it": "Obiettivi", "en": "Objectives"},
    "nav_undelivered": {"it": "Avvisi non recapitati", "en": "Undelivered alerts"},
    "nav_poison": {"it": "Eventi scartati (poison)", "en": "Poison events"},
    "nav_unaddressed": {"it": "Avvisi senza destinatari", "en": "Alerts nobody received"},
    "nav_logout": {"it": "Esci", "en": "Log out"},
    "nav_logout_everywhere": {"it": "Esci ovunque", "en": "Log out everywhere"},
    "nav_logout_everywhere_hint": {
        "it": "Chiude ogni tua sessione, su ogni dispositivo",
        "en": "Ends every session of yours, on every device",
    },
    "nav_institution": {"it": "Il mio ente", "en": "My institution"},
    "nav_my_alerts": {"it": "I miei avvisi", "en": "My alerts"},
    "nav_accounts": {"it": "Persone", "en": "People"},
    "role_administrator": {"it": "amministratore", "en": "administrator"},
    "role_institution_officer": {"it": "referente dell'ente", "en": "institution officer"},
    "role_project_lead": {"it": "capofila di progetto", "en": "project lead"},
    "role_observer": {"it": "osservatore (sola lettura)", "en": "observer (read only)"},
    "login_title": {"it": "Accesso a Regia", "en": "Log in to Regia"},
    "login_login": {"it": "Nome utente", "en": "Login"},
    "login_password": {"it": "Password", "en": "Password"},
    "login_submit": {"it": "Entra", "en": "Log in"},
    "login_refused": {"it": "Nome utente o password errati.", "en": "Wrong login or password."},
    "login_or": {"it": "oppure", "en": "or"},
    "login_oidc": {
        "it": "Accedi con SPID/CIE o il tuo identity provider",
        "en": "Log in with SPID/CIE or your identity provider",
    },
    "login_code_title": {"it": "Codice di verifica", "en": "Verification code"},
    "login_code_hint": {
        "it": "Il tuo account ha un secondo fattore: scrivi il codice di 6 cifre della tua app di autenticazione.",
        "en": "Your account has a second factor: type the 6-digit code from your authenticator app.",
    },
    "login_code": {"it": "Codice di 6 cifre", "en": "6-digit code"},
    "login_wrong_code": {
        "it": "Codice errato o già usato: scrivi quello che l'app mostra ora.",
        "en": "Wrong or already used code: type the one the app shows now.",
    },
    "login_code_expired": {
        "it": "L'accesso è scaduto: scrivi di nuovo nome utente e password.",
        "en": "The login timed out: type your login and password again.",
    },
    "login_start_again": {"it": "Ricomincia l'accesso", "en": "Start the login again"},
    "login_wait_title": {"it": "Troppi tentativi", "en": "Too many attempts"},
    "login_locked": {
        "it": "Troppi accessi falliti: l'account è bloccato (un amministratore può sbloccarlo prima).",
        "en": "Too many failed logins: the account is locked (an administrator can unlock it sooner).",
    },
    "login_throttled": {
        "it": "Troppi accessi falliti da questo indirizzo.",
        "en": "Too many failed logins from this address.",
    },
    "login_wait_minutes": {"it": "Riprova tra minuti:", "en": "Try again in minutes:"},
    "login_done": {"it": "Accesso eseguito", "en": "Logged in"},
    "login_continue": {"it": "Continua", "en": "Continue"},
    "login_oidc_stale": {
        "it": "Questo accesso non è partito da qui o è scaduto: ricomincia.",
        "en": "This login did not start here or has expired: start again.",
    },
    "login_oidc_refused": {
        "it": "L'identity provider non ha concesso l'accesso.",
        "en": "The identity provider did not grant the login.",
    },
    "login_oidc_failed": {
        "it": "L'identity provider non ha risposto come previsto: riprova tra poco.",
        "en": "The identity provider did not answer as expected: try again shortly.",
    },
    "login_oidc_no_account": {
        "it": "Nessun account di Regia per questa identità: chiedi a un amministratore di crearlo.",
        "en": "No Regia account for this identity: ask an administrator to create one.",
    },
    "forbidden": {"it": "Pagina non consentita", "en": "Not allowed"},
    "forbidden_hint": {
        "it": "Il tuo ruolo non permette di aprire questa pagina o di fare questa operazione",
        "en": "Your role does not allow this page or this action",
    },
    "forbidden_back": {"it": "Torna alla tua pagina iniziale", "en": "Back to your first page"},
    # People's accounts (administrators), an institution's page (its officers), one's own alerts.
    "accounts_title": {"it": "Persone e ruoli", "en": "People and roles"},
    "accounts_none": {"it": "Nessun account.", "en": "No account."},
    "account_id": {"it": "Nome utente", "en": "Login"},
    "account_name": {"it": "Nome e cognome", "en": "Full name"},
    "account_role": {"it": "Ruolo", "en": "Role"},
    "account_scope": {"it": "Ambito", "en": "Scope"},
    "account_email": {"it": "E-mail", "en": "E-mail"},
    "account_contact": {"it": "Contatto (per gli avvisi)", "en": "Contact (for alerts)"},
    "account_oidc_subject": {"it": "Soggetto OIDC (sub)", "en": "OIDC subject (sub)"},
    "account_reason": {
        "it": "Perché (resta nel registro delle operazioni: es. nomina, delibera)",
        "en": "Why (kept in the audit trail: e.g. appointment, resolution)",
    },
    "account_password": {
        "it": "Password iniziale (12 caratteri o più)",
        "en": "Initial password (12 characters or more)",
    },
    "account_state": {"it": "Stato", "en": "State"},
    "account_locked": {"it": "bloccato fino a", "en": "locked until"},
    "account_disabled": {"it": "disattivato", "en": "disabled"},
    "account_active": {"it": "attivo", "en": "active"},
    "account_totp": {"it": "secondo fattore", "en": "second factor"},
    "account_create": {"it": "Crea l'account", "en": "Create the account"},
    "account_created": {"it": "Account creato", "en": "Account created"},
    "account_unlock": {"it": "Sblocca", "en": "Unlock"},
    "account_unlocked": {"it": "Account sbloccato", "en": "Account unlocked"},
    "new_account": {"it": "Nuovo account", "en": "New account"},
    "accounts_silent": {
        "it": "Il servizio partner non ha dato gli account.",
        "en": "The partners service did not give the accounts.",
    },
    "institution_title": {"it": "Ente", "en": "Institution"},
    "keys": {"it": "Chiavi API", "en": "API keys"},
    "keys_silent": {"it": "Le chiavi non si possono leggere ora.", "en": "The keys cannot be read now."},
    "no_keys": {"it": "Nessuna chiave attiva.", "en": "No active key."},
    "key_new": {"it": "Nuova chiave", "en": "New key"},
    "key_revoke": {"it": "Revoca", "en": "Revoke"},
    "key_shown_once": {
        "it": "La nuova chiave, mostrata solo ora: copiala nel sistema dell'ente, poi revoca la vecchia.",
        "en": "The new key, shown only now: put it in the institution's system, then revoke the old one.",
    },
    "key_created": {"it": "Creata", "en": "Created"},
    "key_last_used": {"it": "Ultimo uso", "en": "Last used"},
    "export": {"it": "Esporta", "en": "Export"},
    "export_ledger": {"it": "Registro dei movimenti (CSV)", "en": "Ledger entries (CSV)"},
    "rejections": {"it": "Messaggi rifiutati", "en": "Rejected messages"},
    "rejections_hint": {
        "it": "Gli ultimi messaggi dell'ente che Regia ha rifiutato, visti dall'avvio della console.",
        "en": "The institution's latest messages Regia rejected, seen since the console started.",
    },
    "no_rejections": {"it": "Nessun messaggio rifiutato.", "en": "No rejected message."},
    "my_alerts_title": {"it": "I miei avvisi", "en": "My alerts"},
    "my_alerts_no_contact": {
        "it": "Il tuo account non è legato a un contatto: chiedi a un amministratore di collegarlo.",
        "en": "Your account is not linked to a contact: ask an administrator to link it.",
    },
    "my_alerts_silent": {
        "it": "Le preferenze non si possono leggere ora.",
        "en": "The preferences cannot be read now.",
    },
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
    "source_ref": {"it": "Codice del progetto nella fonte e suo stato", "en": "The source's project code and status"},
    "history_line": {"it": "storico", "en": "history"},
    "of_which_history": {"it": "di cui storico", "en": "of which history"},
    "history_line_hint": {
        "it": "Denaro di un anno chiuso, registrato per memoria: conta nella copertura, non genera avvisi",
        "en": "A closed year's money, recorded for the record: it counts in coverage and never alerts",
    },
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
    "undelivered_title": {"it": "Avvisi non recapitati", "en": "Undelivered alerts"},
    "undelivered_hint": {
        "it": "Avvisi che il notifier ha smesso di tentare dopo l'ultimo errore, dal più recente: "
        "«Riprova» li rimette in coda con nuovi tentativi.",
        "en": "Alerts the notifier stopped trying after their last error, newest first: "
        "“Retry” puts them back in the queue with fresh attempts.",
    },
    "no_dead_letters": {"it": "Nessun avviso non recapitato.", "en": "No undelivered alerts."},
    "poison_title": {"it": "Eventi scartati (poison events)", "en": "Poison events (dead letters)"},
    "poison_hint": {
        "it": "Eventi che un consumer di un servizio non ha saputo leggere e ha messo da parte, dal più vecchio: "
        "«Ripubblica» li rimanda al loro topic, una volta corretta la causa.",
        "en": "Events a service's consumer could not read and set aside, oldest first: "
        "“Replay” publishes them again to their topic once the cause is fixed.",
    },
    "poison_pending_only": {"it": "Mostra solo quelli da riapplicare", "en": "Show only those not replayed"},
    "poison_with_replayed": {"it": "Mostra anche quelli già riapplicati", "en": "Show those already replayed too"},
    "no_poison": {"it": "Nessun evento scartato da ripubblicare.", "en": "No poison event waiting for a replay."},
    "service_silent": {
        "it": "Il servizio non ha risposto: i suoi eventi scartati non si possono leggere ora.",
        "en": "The service did not answer: its poison events cannot be read now.",
    },
    "notifier_silent": {
        "it": "Il notifier non ha risposto: l'elenco non si può leggere ora.",
        "en": "The notifier did not answer: the list cannot be read now.",
    },
    "objectives_silent": {
        "it": "Il servizio obiettivi non ha risposto.",
        "en": "The objectives service did not answer.",
    },
    "funding_silent": {"it": "Il servizio funding non ha risposto.", "en": "The funding service did not answer."},
    "consumer": {"it": "Consumer", "en": "Consumer"},
    "partition": {"it": "partizione", "en": "partition"},
    "not_an_event": {"it": "non è un evento leggibile", "en": "not a readable event"},
    "replay": {"it": "Ripubblica", "en": "Replay"},
    "replay_all": {"it": "Ripubblica tutti", "en": "Replay all"},
    "replayed": {"it": "Riapplicati", "en": "Replayed"},
    "replayed_at": {"it": "riapplicato il", "en": "replayed on"},
    "still_poison": {
        "it": "Ancora illeggibili, restano in attesa con l'errore di questo tentativo",
        "en": "Still unreadable, left pending with this attempt's error",
    },
    "since": {"it": "Da quando", "en": "Since"},
    "what": {"it": "Che cosa", "en": "What"},
    "why": {"it": "Perché", "en": "Why"},
    "any": {"it": "tutti", "en": "any"},
    "apply_filters": {"it": "Filtra", "en": "Filter"},
    "clear_filters": {"it": "Togli i filtri", "en": "Clear filters"},
    "open": {"it": "apri", "en": "open"},
    "event_kind": {"it": "Tipo di evento", "en": "Kind of event"},
    "event_kind_funding": {"it": "finanziamenti", "en": "funding"},
    "event_kind_status": {"it": "stato degli obiettivi", "en": "objectives' status"},
    "event_kind_coverage": {"it": "copertura", "en": "coverage"},
    "event_kind_progress": {"it": "traguardi e indicatori", "en": "milestones and indicators"},
    "event_kind_alerts": {"it": "avvisi", "en": "alerts"},
    "event_kind_plan": {"it": "piano e ruoli", "en": "plan and roles"},
    "event_kind_partners": {"it": "partner", "en": "partners"},
    "event_kind_other": {"it": "altro", "en": "other"},
    "no_events_match": {"it": "Nessun evento corrisponde ai filtri", "en": "No event matches the filters"},
    "events_kept": {"it": "eventi in memoria", "en": "events kept"},
    "search": {"it": "Cerca", "en": "Search"},
    "search_objectives": {"it": "Cerca un obiettivo", "en": "Find an objective"},
    "search_placeholder": {"it": "titolo o codice", "en": "title or id"},
    "sort_by": {"it": "Ordina per", "en": "Sort by"},
    "sort_gap": {"it": "scoperto alla soglia", "en": "gap to the threshold"},
    "sort_title": {"it": "titolo", "en": "title"},
    "gap_threshold": {"it": "Manca alla soglia", "en": "Gap to threshold"},
    "gap_full": {"it": "Manca al 100 %", "en": "Gap to 100%"},
    "last_change": {"it": "Ultima variazione", "en": "Last change"},
    "legacy_list": {
        "it": "Il servizio obiettivi non filtra ancora: ha risposto con l'elenco semplice, "
        "che la console ha filtrato da sé",
        "en": "The objectives service does not filter yet: it answered its plain list, "
        "which the console filtered itself",
    },
    "objectives_read": {"it": "obiettivi letti", "en": "objectives read"},
    "no_objectives_match": {
        "it": "Nessun obiettivo corrisponde a questi filtri.",
        "en": "No objective matches these filters.",
    },
    "no_objectives_in_year": {"it": "Nessun obiettivo ha cifre per il", "en": "No objective has figures for"},
    "no_plans": {"it": "Nessun piano definito.", "en": "No plan defined."},
    "first_page": {"it": "Prima pagina", "en": "First page"},
    "next_page": {"it": "Pagina seguente", "en": "Next page"},
    "chart_y_axis": {"it": "Impegnato (€)", "en": "Committed (€)"},
    "only_at_risk": {"it": "Solo a rischio", "en": "Only at risk"},
    "node_kinds": {"it": "Tipi di nodo", "en": "Kinds of node"},
    "kind_VISION": {"it": "Visione", "en": "Vision"},
    "kind_PROGRAMME": {"it": "Programma", "en": "Programme"},
    "kind_OBJECTIVE": {"it": "Obiettivo", "en": "Objective"},
    "kind_ACTION": {"it": "Azione", "en": "Action"},
    "kind_short_VISION": {"it": "V", "en": "V"},
    "kind_short_PROGRAMME": {"it": "P", "en": "P"},
    "kind_short_OBJECTIVE": {"it": "O", "en": "O"},
    "kind_short_ACTION": {"it": "A", "en": "A"},
    "bar_help": {
        "it": "Ogni livello ha il suo segmento; la barra scura segna il 100 % del fabbisogno, "
        "oltre c'è l'impegnato in eccesso.",
        "en": "Each level has its own segment; the dark mark is 100 % of the need, "
        "what lies past it is committed beyond the need.",
    },
    "surplus": {"it": "In eccesso", "en": "Surplus"},
    "past_need": {"it": "oltre il fabbisogno", "en": "past the need"},
    "no_figures_year": {"it": "nessuna cifra quest'anno", "en": "no figures this year"},
    "no_plan_figures": {"it": "Nessuna cifra del piano per il", "en": "No figures of the plan for"},
    "no_nodes_match": {"it": "nessun nodo corrisponde ai filtri", "en": "no node matches the filters"},
    "lines_not_shown": {
        "it": "linee di cui il servizio funding non ha dato lo storico",
        "en": "lines whose history the funding service did not give",
    },
    "alerts_silent": {
        "it": "Il notifier non ha risposto: gli avvisi non si possono leggere ora.",
        "en": "The notifier did not answer: the alerts cannot be read now.",
    },
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
    "newest": {"it": "I più recenti", "en": "Newest"},
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
    # The 503 page's title: said only when a service really failed to answer.
    "unavailable": {"it": "Un servizio non risponde", "en": "A service is not answering"},
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
    # Issue 18: the overview's at-risk table, the objective page's boxes and lines.
    "money_of_year": {"it": "Risorse dell'anno", "en": "Money of the year"},
    "counted": {"it": "Conteggiato sul fabbisogno", "en": "Counted toward the need"},
    "no_summary": {
        "it": "Il servizio obiettivi non dà ancora un riepilogo (GET /v1/summary): il fabbisogno non è noto "
        "e i conteggi sono letti dall'elenco filtrato, fino a",
        "en": "The objectives service gives no summary yet (GET /v1/summary): the need is not known "
        "and the counts are read from the filtered list, up to",
    },
    "at_risk_hint": {
        "it": "Prima quelli appena andati a rischio, poi dal più scoperto alla soglia.",
        "en": "Those that just went at risk first, then the largest gap to the threshold first.",
    },
    "by_level": {"it": "Per livello", "en": "By level"},
    "last_cause": {"it": "Ultima causa", "en": "Last cause"},
    "told": {"it": "Avvisati?", "en": "Anyone told?"},
    "told_told": {"it": "Sì, recapitato", "en": "Yes, delivered"},
    "told_sending": {"it": "In invio", "en": "Being sent"},
    "told_failed": {"it": "NON recapitato", "en": "NOT delivered"},
    "told_nobody": {"it": "Nessuno avvisato", "en": "Nobody told"},
    "told_unknown": {"it": "Il notifier non ha risposto", "en": "The notifier did not answer"},
    "told_before": {"it": "ultimo avviso, prima di questo stato:", "en": "last alert, before this status:"},
    "no_lead": {"it": "nessun capofila", "en": "no lead"},
    "just_now": {"it": "appena ora", "en": "just now"},
    "all_at_risk": {"it": "Tutti gli obiettivi a rischio", "en": "Every objective at risk"},
    "scope_to_plan": {"it": "panoramica del piano", "en": "overview of this plan"},
    "scoped_to_plan": {"it": "Panoramica del piano", "en": "Overview of the plan"},
    "all_plans": {"it": "tutti i piani", "en": "all plans"},
    "what_changed": {"it": "Che cosa è cambiato", "en": "What changed"},
    "changes_silent": {
        "it": "Il servizio obiettivi non ha dato le ultime variazioni.",
        "en": "The objectives service did not give the latest changes.",
    },
    "no_changes": {"it": "Nessuna variazione registrata.", "en": "No change recorded."},
    "older_changes": {"it": "Ci sono variazioni meno recenti:", "en": "There are older changes:"},
    "lines_last_changed": {
        "it": "le linee dall'ultima modificata",
        "en": "the lines, last changed first",
    },
    "subtotals_by_level": {"it": "Subtotali per livello", "en": "Subtotals by level"},
    "in_all": {"it": "in tutto", "en": "in all"},
    "line_one": {"it": "linea", "en": "line"},
    "lines_many": {"it": "linee", "en": "lines"},
    "institutions": {"it": "Enti", "en": "Institutions"},
    "no_money_year": {"it": "Nessun impegno quest'anno.", "en": "Nothing committed this year."},
    "no_lines_match": {"it": "Nessuna linea corrisponde ai filtri.", "en": "No line matches the filters."},
    "lines_from": {"it": "linee da", "en": "lines"},
    "lines_to": {"it": "a", "en": "to"},
    "sorted_by": {"it": "ordinate per", "en": "sorted by"},
    "line_sort_line_id": {"it": "codice della linea", "en": "line id"},
    "line_sort_-committed": {"it": "impegnato, dal più alto", "en": "committed, largest first"},
    "line_sort_committed": {"it": "impegnato, dal più basso", "en": "committed, smallest first"},
    "line_sort_-updated": {"it": "ultima modifica, dalla più recente", "en": "last changed, newest first"},
    "updated": {"it": "Modificata", "en": "Changed"},
    "roles": {"it": "Ruoli dei partner", "en": "Partners' roles"},
    "partners_silent": {"it": "Il servizio partner non ha risposto.", "en": "The partners service did not answer."},
    "no_roles": {"it": "Nessun ruolo assegnato.", "en": "No role assigned."},
    "role_LEAD": {"it": "Capofila", "en": "Lead"},
    "role_IMPLEMENTING_BODY": {"it": "Soggetto attuatore", "en": "Implementing body"},
    "role_PROGRAMME_LEAD": {"it": "Capofila del programma", "en": "Programme lead"},
    "role_PARTNER": {"it": "Partner", "en": "Partner"},
    "role_FUNDER": {"it": "Finanziatore", "en": "Funder"},
    "indicators": {"it": "Indicatori", "en": "Indicators"},
    "indicator": {"it": "Indicatore", "en": "Indicator"},
    "baseline": {"it": "Valore di partenza", "en": "Baseline"},
    "target": {"it": "Valore atteso", "en": "Target"},
    "measured": {"it": "Ultima misura", "en": "Latest measure"},
    "not_measured": {"it": "non ancora misurato", "en": "not measured yet"},
    "progress": {"it": "Avanzamento", "en": "Progress"},
    "no_indicators": {"it": "Nessun indicatore definito.", "en": "No indicator defined."},
    "milestones": {"it": "Traguardi", "en": "Milestones"},
    "due": {"it": "scadenza", "en": "due"},
    "milestone_REACHED": {"it": "raggiunto", "en": "reached"},
    "milestone_DUE": {"it": "in corso", "en": "due"},
    "milestone_OVERDUE": {"it": "scaduto", "en": "overdue"},
    "no_milestones": {"it": "Nessun traguardo definito.", "en": "No milestone defined."},
    "reviews": {"it": "Punti della situazione", "en": "Annual reviews"},
    "no_reviews": {
        "it": "Nessun punto della situazione chiuso per gli anni di questo obiettivo.",
        "en": "No annual review closed for this objective's years.",
    },
    "no_plan_no_reviews": {
        "it": "Obiettivo fuori da un piano: nessun punto della situazione.",
        "en": "An objective outside any plan: no annual review.",
    },
    "matched_nodes": {"it": "nodi corrispondono ai filtri", "en": "nodes match the filters"},
    "with_path": {"it": "righe con il percorso fino a loro", "en": "rows with the path to them"},
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
