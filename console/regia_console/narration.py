"""An event of the live stream as a sentence a person reads: who did what to which
objective, in Italian or English ("Regione Liguria ridusse LIG-2027-001 di € 1.500.000 —
Il Miglio Blu 2027 ora A RISCHIO"). Pure: the feed's summary of an envelope and the names
known so far in, words out; an event this version does not know reads as its type and key.

Italian uses the passato remoto of the example the administrators gave: a line of a log
tells what happened, done and dated."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from regia_shared.contracts.money import format_euro, format_percent

from .i18n import translator

# The kinds of event a reader filters by, and the event types in each.
KINDS: dict[str, tuple[str, ...]] = {
    "funding": (
        "FundingCommitted",
        "FundingRevised",
        "FundingRevoked",
        "FundingDisbursed",
        "FundingReallocated",
        "FundingRolledOver",
    ),
    "status": ("ObjectiveStatusChanged", "FundingNarrowedToOneLevel", "SingleLevelDependencyDetected"),
    "coverage": ("ObjectiveCoverageChanged",),
    "progress": ("MilestoneReached", "MilestoneWentOverdue", "IndicatorMeasured", "IndicatorFellBehind"),
    "alerts": ("AlertDelivered", "AlertFailed"),
    "plan": (
        "ObjectiveDefined",
        "ObjectiveLeadAssigned",
        "ObjectiveRoleAssigned",
        "ObjectiveRoleWithdrawn",
        "AnnualReviewClosed",
    ),
    "partners": (
        "PartnerRegistered",
        "ContactAdded",
        "ContactPreferencesChanged",
        "NetworkFormed",
        "NetworkMemberJoined",
        "NetworkMemberLeft",
    ),
}
KIND_OF = {event_type: kind for kind, types in KINDS.items() for event_type in types}


def kind_of(event_type: str) -> str:
    return KIND_OF.get(event_type, "other")


@dataclass(frozen=True)
class Names:
    """What the console knows to call things: objective titles and institutions' names."""

    titles: Mapping[str, str]
    institutions: Mapping[str, str]

    def title(self, objective_id: str) -> str:
        return self.titles.get(objective_id) or objective_id

    def institution(self, institution_id: str) -> str:
        return self.institutions.get(institution_id) or institution_id


SENTENCES: dict[str, dict[str, str]] = {
    "FundingCommitted": {
        "it": "{who} impegnò {amount} sulla linea {line}",
        "en": "{who} committed {amount} on line {line}",
    },
    "cut": {
        "it": "{who} ridusse {line} di {amount} (da {before} a {after})",
        "en": "{who} cut {line} by {amount} (from {before} to {after})",
    },
    "raise": {
        "it": "{who} aumentò {line} di {amount} (da {before} a {after})",
        "en": "{who} raised {line} by {amount} (from {before} to {after})",
    },
    "FundingRevoked": {
        "it": "{who} revocò {line} ({amount} ritirati)",
        "en": "{who} revoked {line} ({amount} withdrawn)",
    },
    "FundingDisbursed": {
        "it": "{who} erogò {amount} sulla linea {line}",
        "en": "{who} paid out {amount} on line {line}",
    },
    "FundingReallocated": {
        "it": "{who} spostò {amount} tra {line} e {other}",
        "en": "{who} moved {amount} between {line} and {other}",
    },
    "FundingRolledOver": {
        "it": "{who} riportò {amount} di {line} all'anno seguente",
        "en": "{who} rolled {amount} of {line} over to the next year",
    },
    "status_now": {"it": "{objective} {year} ora {STATUS}", "en": "{objective} {year} now {STATUS}"},
    "status_was": {"it": " (era {previous}, copertura {coverage})", "en": " (was {previous}, coverage {coverage})"},
    "ObjectiveCoverageChanged": {
        "it": "{objective} {year}: impegnati {committed} su {need} ({coverage})",
        "en": "{objective} {year}: {committed} committed of {need} ({coverage})",
    },
    "FundingNarrowedToOneLevel": {
        "it": "{objective} {year}: ora finanziato solo dal livello {level}",
        "en": "{objective} {year}: now funded by one level only, {level}",
    },
    "SingleLevelDependencyDetected": {
        "it": "{objective} {year}: {share} dell'impegnato viene dal solo livello {level}",
        "en": "{objective} {year}: {share} of the committed money comes from one level, {level}",
    },
    "ObjectiveDefined": {"it": "Definito l'obiettivo {objective}", "en": "Objective {objective} defined"},
    "ObjectiveLeadAssigned": {
        "it": "{objective}: {who} è il nuovo capofila",
        "en": "{objective}: {who} is the new lead",
    },
    "ObjectiveRoleAssigned": {
        "it": "{objective}: a {who} il ruolo {role}",
        "en": "{objective}: {who} given the role {role}",
    },
    "ObjectiveRoleWithdrawn": {
        "it": "{objective}: tolto a {who} il ruolo {role}",
        "en": "{objective}: {who} no longer {role}",
    },
    "NetworkFormed": {"it": "Costituita la rete «{what}»", "en": "Network “{what}” formed"},
    "NetworkMemberJoined": {"it": "{who} entrò nella rete {network}", "en": "{who} joined the network {network}"},
    "NetworkMemberLeft": {"it": "{who} uscì dalla rete {network}", "en": "{who} left the network {network}"},
    "AnnualReviewClosed": {
        "it": "Chiuso il punto della situazione {year} del piano {plan}",
        "en": "Annual review {year} of plan {plan} closed",
    },
    "MilestoneReached": {
        "it": "{objective}: traguardo «{what}» raggiunto",
        "en": "{objective}: milestone “{what}” reached",
    },
    "MilestoneWentOverdue": {
        "it": "{objective}: traguardo «{what}» scaduto il {due}",
        "en": "{objective}: milestone “{what}” overdue since {due}",
    },
    "IndicatorMeasured": {
        "it": "{objective}: indicatore «{what}» misurato a {value} {unit}",
        "en": "{objective}: indicator “{what}” measured at {value} {unit}",
    },
    "IndicatorFellBehind": {
        "it": "{objective}: indicatore «{what}» in ritardo sul percorso ({value} {unit})",
        "en": "{objective}: indicator “{what}” fell behind its path ({value} {unit})",
    },
    "AlertDelivered": {
        "it": "Avviso recapitato via {channel} ({attempts} tentativi)",
        "en": "Alert delivered by {channel} ({attempts} attempts)",
    },
    "AlertFailed": {
        "it": "Avviso NON recapitato via {channel} dopo {attempts} tentativi: {error}",
        "en": "Alert NOT delivered by {channel} after {attempts} attempts: {error}",
    },
    "PartnerRegistered": {"it": "Registrato il partner {who}", "en": "Partner {who} registered"},
    "other": {"it": "{type} ({key})", "en": "{type} ({key})"},
}


def _int(facts: Mapping, name: str) -> int | None:
    value = facts.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _percent(facts: Mapping, name: str, language: str) -> str:
    basis_points = _int(facts, name)
    return "–" if basis_points is None else format_percent(basis_points, language)


def describe(event: Mapping, language: str, names: Names, *, name_objective: bool = True) -> str:
    """The sentence for one event of the feed (feed.summary, with `cause` when the feed saw
    the funding change that started the chain). `name_objective`: end a funding change
    with its objective and year (not when the status change it caused names them)."""
    t = translator(language)
    kind = str(event.get("type") or "")
    facts: Mapping = event.get("facts") or {}
    money: Callable[[int | None], str] = lambda c: "–" if c is None else format_euro(c, language)  # noqa: E731
    objective_id = str(facts.get("objective_id") or event.get("objective_id") or "")
    year = _int(facts, "fiscal_year")
    fill = {
        "objective": names.title(objective_id) if objective_id else str(facts.get("title") or ""),
        "year": "" if year is None else str(year),
        "who": names.institution(str(facts.get("institution_id") or facts.get("partner_id") or "")),
        "line": str(facts.get("line_id") or ""),
        "other": str(facts.get("counterpart_line_id") or ""),
        "type": kind,
        "key": str(event.get("key") or ""),
        "channel": str(facts.get("channel") or ""),
        "attempts": str(_int(facts, "attempts") or ""),
        "error": str(facts.get("error") or ""),
        "what": str(facts.get("name") if "Indicator" in kind or kind == "NetworkFormed" else facts.get("title") or ""),
        "role": str(facts.get("role") or ""),
        "network": str(facts.get("network_id") or ""),
        "plan": str(facts.get("plan_id") or ""),
        "value": str(facts.get("value") or ""),
        "unit": str(facts.get("unit") or ""),
        "due": str(facts.get("due_on") or ""),
        "level": t(f"level_{facts.get('level')}") if facts.get("level") else "",
        "need": money(_int(facts, "need_cents")),
        "committed": money(_int(facts, "committed_cents")),
        "coverage": _percent(facts, "coverage_bp", language),
        "share": _percent(facts, "share_bp", language),
    }
    if facts.get("name") and kind == "PartnerRegistered":
        fill["who"] = str(facts["name"])
    delta, after = _int(facts, "delta_cents"), _int(facts, "committed_cents")
    if kind in ("FundingRevised", "FundingReallocated", "FundingRolledOver") and delta is not None:
        fill["amount"] = money(abs(delta))
        fill["after"] = money(after)
        fill["before"] = money(None if after is None else after - delta)
        template = ("cut" if delta < 0 else "raise") if kind == "FundingRevised" else kind
    elif kind == "FundingDisbursed":
        fill["amount"] = money(_int(facts, "disbursed_delta_cents"))
        template = kind
    elif kind in ("FundingCommitted", "FundingRevoked"):
        fill["amount"] = money(abs(delta) if delta is not None else after)
        template = kind
    elif kind == "ObjectiveStatusChanged":
        status = str(facts.get("status") or event.get("status") or "")
        fill["STATUS"] = t(f"status_{status}").upper() if status else "?"
        sentence = SENTENCES["status_now"][language].format(**fill)
        previous = facts.get("previous_status")
        cause = event.get("cause")
        if isinstance(cause, Mapping):
            return f"{describe(cause, language, names, name_objective=False)} — {sentence}"
        if previous:
            sentence += SENTENCES["status_was"][language].format(
                previous=t(f"status_{previous}"), coverage=fill["coverage"]
            )
        return sentence
    else:
        template = kind if kind in SENTENCES else "other"
    sentence = SENTENCES[template][language].format(**fill)
    if name_objective and kind.startswith("Funding") and kind != "FundingNarrowedToOneLevel" and objective_id:
        sentence += f" — {fill['objective']}" + (f" {year}" if year is not None else "")
    return sentence


def matches(event: Mapping, objective: str | None, kind: str | None, institution: str | None) -> bool:
    """Whether an event passes the events page's filters (each None: any)."""
    facts: Mapping = event.get("facts") or {}
    if objective and objective not in (event.get("objective_id"), facts.get("objective_id")):
        return False
    if kind and kind_of(str(event.get("type") or "")) != kind:
        return False
    given = event.get("cause")
    cause: Mapping = given if isinstance(given, Mapping) else {}
    who = {facts.get("institution_id"), facts.get("partner_id"), (cause.get("facts") or {}).get("institution_id")}
    return not (institution and institution not in who)
