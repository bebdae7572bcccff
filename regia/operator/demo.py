"""The La Spezia demo: `regia demo load` (the demo plans) and `regia up --demo` (all of it).

A small seed loaded through the services' own HTTP APIs, exactly as an administrator
would, so it exercises the real path (partners → events → funding): the quick start's
standalone objective `miglio-blu` and a key to fund it, then the demo plans
(load_demo_plans), whose node ids all differ from `miglio-blu`, the MA.R.E. roles and the
Rete per il lavoro (demo_network), and last the 2008 plan's money for its closed years,
recorded as history with illustrative amounts (demo_history).

Idempotent: on an existing data dir every step answers 200 or 409 (already there), which
is fine. Each run issues a fresh demo key for Regione Liguria and revokes the previous
ones, because a key cannot be shown twice.
"""

import json
from collections.abc import Callable, Mapping

import typer

from regia_objectives.adapters.planfile import demo_plans
from regia_shared.contracts import catalogue

from .admin import ServiceClient, admin_token_from_env, reported
from .demo_funders import load_import_funders
from .demo_history import INSTRUMENTS as HISTORY_INSTRUMENTS
from .demo_history import PARTNERS as HISTORY_PARTNERS
from .demo_history import plan_objectives, record_history
from .demo_network import load_network
from .demo_waits import ALREADY_THERE, wait_until_funder_known, wait_until_known, wait_until_partners_know
from .plans import WHERE, import_plan

DEMO_KEY_LABEL = "regia up --demo"
FUNDER = "regione-liguria"

# Registered before the demo plans register theirs (without a territory: they answer 409,
# which is fine), so that every demo institution has its territory.
PARTNERS = [
    {
        "partner_id": "regione-liguria",
        "name": "Regione Liguria",
        "kind": "INSTITUTION",
        "level": "REGIONE",
        "territory": "Liguria",
    },
    {
        "partner_id": "comune-spezia",
        "name": "Comune della Spezia",
        "kind": "INSTITUTION",
        "level": "COMUNE",
        "territory": "Comune della Spezia",
    },
    {
        "partner_id": "provincia-spezia",
        "name": "Provincia della Spezia",
        "kind": "INSTITUTION",
        "level": "PROVINCIA",
        "territory": "Provincia della Spezia",
    },
]
CONTACT = {"name": "Ufficio Piano Strategico", "email": "piano.strategico@comune.laspezia.example", "language": "it"}
OBJECTIVE = {
    "objective_id": "miglio-blu",
    "title": "Il Miglio Blu – La Spezia per la Nautica",
    "at_risk_threshold_pct": 80,
    "needs": [{"fiscal_year": 2027, "need_cents": 500_000_000}],
}
INSTRUMENT = {
    "instrument_id": "bilancio-regione-liguria",
    "institution_id": "regione-liguria",
    "name": "Bilancio regionale della Liguria",
    "kind": "budget",
}
COMMITMENT = {
    "type": "commitment",
    "line_id": "LIG-2027-001",
    "instrument_id": "bilancio-regione-liguria",
    "objective_id": "miglio-blu",
    "fiscal_year": 2027,
    "committed_cents": 450_000_000,
    "reason": "DGR Regione Liguria: cofinanziamento Miglio Blu 2027",
}
DEMO_PARTNERS = [  # the Patto's 5 other comuni are not named by the source, so they are not here
    {"partner_id": "comune-spezia", "name": "Comune della Spezia", "kind": "INSTITUTION", "level": "COMUNE"},
    {"partner_id": "provincia-spezia", "name": "Provincia della Spezia", "kind": "INSTITUTION", "level": "PROVINCIA"},
    {"partner_id": "regione-liguria", "name": "Regione Liguria", "kind": "INSTITUTION", "level": "REGIONE"},
]

# Why the demo's writes are made, for the audit trail (the services require a reason for
# changes of money, plans, roles and rules).
DEMO_REASON = "Caricamento dei dati dimostrativi della Spezia (regia demo)"

demo_app = typer.Typer(help=f"The La Spezia demo dataset. {WHERE}", no_args_is_help=True)


@demo_app.command("load")
def demo_load_command() -> None:
    """Register the demo's partners and import every demo plan with its leads."""
    with reported():
        token = admin_token_from_env()
        with ServiceClient("partners", catalogue.PARTNERS.url(), token, reason=DEMO_REASON) as partners:
            load_demo_plans(catalogue.OBJECTIVES.url(), token, partners, typer.echo)


def load_demo_plans(objectives_url: str, token: str, partners: ServiceClient, say: Callable[[str], None]) -> None:
    for partner in DEMO_PARTNERS:
        partners.request("POST", "/v1/partners", json=partner, ok=ALREADY_THERE)
    for name, text in demo_plans().items():
        import_plan(objectives_url, token, text, name, say, reason=f"{DEMO_REASON}: plan file {name}")


def load_demo(urls: Mapping[str, str], token: str, say: Callable[[str], None], funder_timeout: float = 90.0) -> None:
    with (
        ServiceClient("partners", urls["partners"], token, reason=DEMO_REASON) as partners,
        ServiceClient("objectives", urls["objectives"], token, reason=DEMO_REASON) as objectives,
        ServiceClient("funding", urls["funding"], token, reason=DEMO_REASON) as funding,
    ):
        for partner in PARTNERS:
            partners.request("POST", "/v1/partners", json=partner, ok=ALREADY_THERE)
        add_contact_once(partners, "comune-spezia", CONTACT)
        objectives.request("POST", "/v1/objectives", json=OBJECTIVE, ok=ALREADY_THERE)
        wait_until_partners_know(partners, "miglio-blu", funder_timeout)
        partners.request(
            "PUT", "/v1/objectives/miglio-blu/lead", json={"partner_id": "comune-spezia"}, ok=ALREADY_THERE
        )
        wait_until_funder_known(funding, FUNDER, funder_timeout)
        funding.request("POST", "/v1/instruments", json=INSTRUMENT, ok=ALREADY_THERE)
        wait_until_known(funding, "/v1/objectives/miglio-blu", "objective 'miglio-blu'", funder_timeout)
        for old in previous_demo_keys(funding):
            funding.request("DELETE", f"/v1/keys/{old}", ok=(204, 404))
        key = funding.request(
            "POST", f"/v1/institutions/{FUNDER}/keys", json={"label": DEMO_KEY_LABEL}, ok=(201,)
        ).json()
    say(instructions(urls, key["key_id"], key["key"]))
    # After the key is shown: it can be shown only once, and the quick start needs only it.
    say("loading the La Spezia demo plans…")
    with ServiceClient("partners", urls["partners"], token, reason=DEMO_REASON) as partners:
        load_demo_plans(urls["objectives"], token, partners, say)
        load_network(partners, say)
    with (
        ServiceClient("partners", urls["partners"], token, reason=DEMO_REASON) as partners,
        ServiceClient("funding", urls["funding"], token, reason=DEMO_REASON) as funding,
    ):
        load_history(partners, funding, say, funder_timeout)
        load_walkthrough_funders(partners, funding, say)


def load_history(partners: ServiceClient, funding: ServiceClient, say: Callable[[str], None], timeout: float) -> None:
    """The 2008 plan's money as history: its funders and instruments first, the way the
    quick start's are made, then one bulk import per source once funding knows them all."""
    for partner in HISTORY_PARTNERS:
        partners.request("POST", "/v1/partners", json=partner, ok=ALREADY_THERE)
    for institution in dict.fromkeys(i["institution_id"] for i in HISTORY_INSTRUMENTS):
        wait_until_funder_known(funding, institution, timeout)
    for instrument in HISTORY_INSTRUMENTS:
        funding.request("POST", "/v1/instruments", json=instrument, ok=ALREADY_THERE)
    for objective in plan_objectives():
        wait_until_known(funding, f"/v1/objectives/{objective.node_id}", f"objective {objective.node_id!r}", timeout)
    record_history(funding, say)


def load_walkthrough_funders(partners: ServiceClient, funding: ServiceClient, say: Callable[[str], None]) -> None:
    """The OpenCoesione walk-through's funders (demo_funders), after the plans it funds."""
    load_import_funders(partners, funding, say)


def add_contact_once(partners: ServiceClient, partner_id: str, contact: dict) -> None:
    # A contact has no id of ours to conflict on, so look before adding: a re-run must not
    # make the Comune's office receive every alert twice.
    listed = partners.request("GET", f"/v1/partners/{partner_id}/contacts", ok=(200, 404, 405))
    if listed.status_code == 200 and contact["email"] in listed.text:
        return
    partners.request("POST", f"/v1/partners/{partner_id}/contacts", json=contact, ok=ALREADY_THERE)


def previous_demo_keys(funding: ServiceClient) -> list[str]:
    rows = funding.request("GET", f"/v1/institutions/{FUNDER}/keys", ok=(200,)).json()
    return [r["key_id"] for r in rows if r.get("label") == DEMO_KEY_LABEL and not r.get("revoked_at")]


def instructions(urls: Mapping[str, str], key_id: str, key: str) -> str:
    revision = {
        "type": "revision",
        "line_id": COMMITMENT["line_id"],
        "committed_cents": 300_000_000,
        "reason": "Assestamento di bilancio: taglio al cofinanziamento",
    }
    return "\n".join(
        [
            "Demo loaded: Regione Liguria and Comune della Spezia, objective miglio-blu "
            "(need EUR 5,000,000 in 2027, lead comune-spezia).",
            f"API key for {FUNDER} (key_id {key_id}), shown once and never stored in clear:",
            f"  export REGIA_DEMO_KEY='{key}'",
            "Push a first funding event (EUR 4.5M committed to Il Miglio Blu for 2027):",
            curl(urls["funding"], "lig-2027-001-commitment", COMMITMENT),
            "Then cut it to EUR 3M (60% < 80%: miglio-blu goes AT_RISK and its lead is e-mailed):",
            curl(urls["funding"], "lig-2027-001-revision-1", revision),
            f"Coverage: curl -sS {urls['objectives']}/v1/objectives/miglio-blu",
        ]
    )


def curl(funding_url: str, idempotency_key: str, body: dict) -> str:
    return (
        f"  curl -sS -X POST {funding_url}/v1/funding-events \\\n"
        f"    -H \"Authorization: Bearer $REGIA_DEMO_KEY\" -H 'Idempotency-Key: {idempotency_key}' \\\n"
        f"    -H 'Content-Type: application/json' \\\n"
        f"    -d '{json.dumps(body, ensure_ascii=False, separators=(',', ':'))}'"
    )
