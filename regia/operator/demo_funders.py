"""The demo's funders of the OpenCoesione walk-through (README, "Importing OpenCoesione, every
euro of it"): every level a projects file has money at recorded by someone, so that the
README's commands run as written on `regia up --demo`.

Regione Liguria, the Provincia and the Comune are the demo's own institutions; this adds
the State (the Ministry of Economy and Finance, which pays the fondo di rotazione, FSC and
PAC shares), the port authority of the eastern Ligurian Sea (OTHER_PUBLIC), the French
Republic (FOREIGN_STATE: its share of an Interreg Italia-Francia Marittimo project) and a
private co-funder, each with the instrument the walk-through names. Ids and names only: no
money, which the import brings.

Idempotent like the rest of the demo: fixed ids, so a re-run is answered 200 or 409.
"""

from collections.abc import Callable

from .admin import ServiceClient
from .demo_waits import ALREADY_THERE, wait_until_funder_known, wait_until_known

FUNDERS = [
    {"partner_id": "mef", "name": "Ministero dell'Economia e delle Finanze", "kind": "INSTITUTION", "level": "STATO"},
    {
        "partner_id": "adsp-mar-ligure-orientale",
        "name": "Autorità di Sistema Portuale del Mar Ligure Orientale",
        "kind": "INSTITUTION",
        "level": "OTHER_PUBLIC",
    },
    {
        "partner_id": "repubblica-francese",
        "name": "République française",
        "kind": "INSTITUTION",
        "level": "FOREIGN_STATE",
    },
    {
        "partner_id": "distretto-nautico-spezia",
        "name": "Imprese del distretto nautico spezzino (cofinanziamento privato)",
        "kind": "ENTERPRISE",
        "level": "PRIVATE",
    },
]
INSTRUMENTS = [
    ("por-fesr-liguria", "regione-liguria", "POR FESR Liguria 2014-2020", "programme"),
    ("fondo-rotazione", "mef", "Fondo di rotazione (legge 183/1987)", "fund"),
    ("bilancio-provincia-spezia", "provincia-spezia", "Bilancio della Provincia della Spezia", "budget"),
    ("bilancio-comune-spezia", "comune-spezia", "Bilancio del Comune della Spezia", "budget"),
    ("bilancio-adsp", "adsp-mar-ligure-orientale", "Bilancio dell'AdSP del Mar Ligure Orientale", "budget"),
    ("interreg-marittimo-francia", "repubblica-francese", "Interreg Italia-Francia Marittimo, quota francese", "fund"),
    ("cofinanziamento-imprese", "distretto-nautico-spezia", "Cofinanziamento delle imprese", "private"),
]
# The demo plans' objectives the walk-through's projects fund (its objective map).
OBJECTIVES = ("miglio-blu-rigenerazione", "miglio-blu-formazione", "mare-rete-per-il-lavoro", "mare-servizi-congiunti")


def load_import_funders(
    partners: ServiceClient, funding: ServiceClient, say: Callable[[str], None], timeout: float = 90.0
) -> None:
    """Needs regione-liguria, provincia-spezia, comune-spezia and the demo plans loaded first.
    Waits until funding knows every institution (it learns them from partner events) and
    every objective of the walk-through, so the import runs as soon as the demo is up."""
    for partner in FUNDERS:
        partners.request("POST", "/v1/partners", json=partner, ok=ALREADY_THERE)
    for instrument_id, institution_id, name, kind in INSTRUMENTS:
        wait_until_funder_known(funding, institution_id, timeout)
        body = {"instrument_id": instrument_id, "institution_id": institution_id, "name": name, "kind": kind}
        funding.request("POST", "/v1/instruments", json=body, ok=ALREADY_THERE)
    for objective in OBJECTIVES:
        wait_until_known(funding, f"/v1/objectives/{objective}", f"objective {objective!r}", timeout)
    say(
        "OpenCoesione walk-through funders: mef (STATO), adsp-mar-ligure-orientale (OTHER_PUBLIC), "
        "repubblica-francese (FOREIGN_STATE), distretto-nautico-spezia (PRIVATE), with their instruments."
    )
