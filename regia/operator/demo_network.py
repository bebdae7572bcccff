"""The demo's MA.R.E. partnership and the Rete per il lavoro, loaded through the partners
service's HTTP API like the rest of the demo.

From the source: MA.R.E. (Programma Italia-Francia Marittimo) has Regione Liguria as
capofila and the Comune della Spezia as soggetto attuatore; the Comune created the Rete per
il lavoro in 2017 and it counts 36 members locally: associations, training bodies, trade
unions, employer associations and employment agencies. The source names none of them, so
the members here are generic stand-ins (no real organisation is named), and their joining
days are illustrative, spread over 2017–2023.

Idempotent like the rest of the demo: every id and day is fixed, so a re-run sends the
same requests and is answered 200 (or 409 for data an earlier version registered).
"""

from collections.abc import Callable
from datetime import date

from .admin import ServiceClient
from .demo_waits import wait_until_partners_know

ALREADY_THERE = (200, 201, 204, 409)
MARE = "mare"  # the MA.R.E. programme's node id in the 2019 demo plan (spezia-capitale-della-nautica)
MEMBER_TERRITORY = "Provincia della Spezia"  # "locally": they serve the spezzino area
NETWORK = {
    "network_id": "rete-per-il-lavoro",
    "name": "Rete per il lavoro",
    "founded_on": "2017-01-01",  # the source gives the year only
    "coordinator_partner_id": "comune-spezia",
    "objective_id": MARE,
}
ROLES = [("regione-liguria", "PROGRAMME_LEAD"), ("comune-spezia", "IMPLEMENTING_BODY")]

_EMPLOYER_SECTORS = [
    "artigiani",
    "commercio",
    "industria",
    "agricoltura",
    "cooperative",
    "piccole e medie imprese",
    "turismo",
]


def _numbered(kind: str, count: int, slug: str, name: str) -> list[dict]:
    return [{"partner_id": f"{slug}-{n:02}", "name": name.format(n=n), "kind": kind} for n in range(1, count + 1)]


def _members() -> list[dict]:
    """The 36 members, each with the day it joined (fixed, so that a re-run changes nothing)."""
    partners = [
        *_numbered(
            "ASSOCIATION", 10, "associazione-terzo-settore", "Associazione del terzo settore n. {n} — La Spezia"
        ),
        *_numbered("TRAINING_BODY", 8, "ente-formazione", "Ente di formazione professionale n. {n}"),
        *_numbered("TRADE_UNION", 6, "sindacato", "Organizzazione sindacale territoriale n. {n}"),
        *(
            {
                "partner_id": f"categoria-{sector.replace(' ', '-')}",
                "kind": "EMPLOYER_ASSOCIATION",
                "name": f"Associazione di categoria {sector} — La Spezia",
            }
            for sector in _EMPLOYER_SECTORS
        ),
        *_numbered("EMPLOYMENT_AGENCY", 5, "agenzia-lavoro", "Agenzia per il lavoro n. {n}"),
    ]
    # Fifteen in its first year, then a few a year until 2023: a network that grew.
    return [
        {
            **p,
            "territory": MEMBER_TERRITORY,
            "joined_on": date(2017 + max(0, i - 11) // 4, 1 + (i * 5) % 12, 1 + i % 28).isoformat(),
        }
        for i, p in enumerate(partners)
    ]


MEMBERS = _members()


def load_network(partners: ServiceClient, say: Callable[[str], None], timeout: float = 90.0) -> None:
    """Needs comune-spezia and regione-liguria registered first (coordinator, roles), and
    the demo plans imported (MARE is one of their nodes)."""
    wait_until_partners_know(partners, MARE, timeout)
    for partner_id, role in ROLES:
        partners.request("PUT", f"/v1/objectives/{MARE}/roles/{partner_id}", json={"role": role}, ok=ALREADY_THERE)
    partners.request("POST", "/v1/networks", json=NETWORK, ok=ALREADY_THERE)
    for member in MEMBERS:
        partner = {k: v for k, v in member.items() if k != "joined_on"}
        partners.request("POST", "/v1/partners", json=partner, ok=ALREADY_THERE)
        partners.request(
            "PUT",
            f"/v1/networks/{NETWORK['network_id']}/members/{member['partner_id']}",
            json={"joined_on": member["joined_on"]},
            ok=ALREADY_THERE,
        )
    say(
        f"MA.R.E. ({MARE}): capofila regione-liguria, soggetto attuatore comune-spezia; "
        f"network {NETWORK['network_id']} with {len(MEMBERS)} members."
    )
