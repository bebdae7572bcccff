"""Searching partners (by name, kind, level, territory, role on an objective, network) and networks
(by name, member, objective, day), against a real PostgreSQL and broker."""

import pytest

from regia_partners.app import create_app

from ..support.partners import broker_bootstrap, objectives_known
from ..support.services import ADMIN_HEADERS, in_process

pytestmark = pytest.mark.usefixtures("service_env")


def partner(partner_id: str, name: str, kind: str, level: str | None = None, territory: str | None = None) -> dict:
    return {
        "partner_id": partner_id,
        "name": name,
        "kind": kind,
        **({"level": level} if level else {}),
        **({"territory": territory} if territory else {}),
    }


PARTNERS = [
    partner("comune-spezia", "Comune della Spezia", "INSTITUTION", "COMUNE", "Comune della Spezia"),
    partner("regione-liguria", "Regione Liguria", "INSTITUTION", "REGIONE", "Liguria"),
    partner("cisl-spezia", "CISL La Spezia", "TRADE_UNION", territory="Provincia della Spezia"),
    partner("enaip", "ENAIP Liguria", "TRAINING_BODY", territory="LIGURIA"),
    # Names with LIKE's wildcards in them, and look-alikes a wildcard would match.
    partner("sconto", "Sconto 100% Srl", "ENTERPRISE"),
    partner("mille", "Sconto 1000 Srl", "ENTERPRISE"),
    partner("coop-underscore", "Coop_Mare", "ASSOCIATION"),
    partner("coop-x", "CoopXMare", "ASSOCIATION"),
    # The same name twice: the id breaks the tie.
    partner("ameglia-b", "Comune di Ameglia", "INSTITUTION", "COMUNE"),
    partner("ameglia-a", "Comune di Ameglia", "INSTITUTION", "COMUNE"),
] + [partner(f"impresa-{n:02}", f"Impresa {n:02}", "ENTERPRISE") for n in range(1, 11)]
IMPRESE = [f"impresa-{n:02}" for n in range(1, 11)]
RETE = {
    "network_id": "rete-lavoro",
    "name": "Rete per il lavoro",
    "founded_on": "2017-03-01",
    "coordinator_partner_id": "comune-spezia",
    "objective_id": "lavoro",
}
GIOVANI = {
    "network_id": "rete-giovani",
    "name": "Rete 100% giovani",
    "founded_on": "2019-01-01",
    "objective_id": "giovani",
}


@pytest.fixture
async def partners(service_env):  # type: ignore[no-untyped-def]
    async with in_process("partners", create_app) as service:
        async with service.client(headers=ADMIN_HEADERS) as admin:
            for body in PARTNERS:
                assert (await admin.post("/v1/partners", json=body)).status_code == 201
            yield admin


@pytest.fixture
async def rete(partners):  # type: ignore[no-untyped-def]
    """The Rete per il lavoro: the Comune, the union, ENAIP and ten enterprises from its
    founding; the union leaves on 1 January 2020. The Rete giovani has ENAIP only."""
    # A network works towards an objective the service knows (from the objectives' events).
    await objectives_known(partners, broker_bootstrap(), "lavoro", "giovani")
    for network in (RETE, GIOVANI):
        assert (await partners.post("/v1/networks", json=network)).status_code == 201
    for partner_id in ["comune-spezia", "cisl-spezia", "enaip", *IMPRESE]:
        r = await partners.put(f"/v1/networks/rete-lavoro/members/{partner_id}", json={"joined_on": "2017-03-01"})
        assert r.status_code == 201, r.text
    r = await partners.request("DELETE", "/v1/networks/rete-lavoro/members/cisl-spezia", json={"left_on": "2020-01-01"})
    assert r.status_code == 200 and r.json()["changed"] is True, r.text
    r = await partners.put("/v1/networks/rete-giovani/members/enaip", json={"joined_on": "2019-06-01"})
    assert r.status_code == 201, r.text
    return partners


async def ids(client, **params: object) -> list[str]:  # type: ignore[no-untyped-def]
    r = await client.get("/v1/partners", params=params)
    assert r.status_code == 200, r.text
    return [p["partner_id"] for p in r.json()["items"]]


async def walk(client, path: str, limit: int, **params: object) -> list[list[dict]]:  # type: ignore[no-untyped-def]
    """Every page of a listing, following next_cursor (and the Link header, which says the same)."""
    pages, cursor = [], None
    while True:
        r = await client.get(path, params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        pages.append(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            assert "link" not in r.headers
            return pages
        assert 'rel="next"' in r.headers["link"] and cursor in r.headers["link"]


async def test_search_by_name_treats_wildcards_literally(partners):  # type: ignore[no-untyped-def]
    assert await ids(partners, q="spezia") == ["cisl-spezia", "comune-spezia"]
    assert await ids(partners, q="  LIGURIA ") == ["enaip", "regione-liguria"]
    assert await ids(partners, q="100%") == ["sconto"]  # not "Sconto 1000 Srl"
    assert await ids(partners, q="%") == ["sconto"]
    assert await ids(partners, q="p_m") == ["coop-underscore"]  # not "CoopXMare"
    assert await ids(partners, q="_") == ["coop-underscore"]
    assert await ids(partners, q="\\") == []
    assert await ids(partners, q="%%") == []
    assert await ids(partners, q="'; DROP TABLE partners; --") == []
    assert len(await ids(partners, q="  ")) == len(PARTNERS)  # blank: no filter


async def test_search_by_kind_and_level_in_name_order(partners):  # type: ignore[no-untyped-def]
    assert await ids(partners, kind="ENTERPRISE", q="impresa") == IMPRESE
    assert await ids(partners, kind="INSTITUTION", level="COMUNE") == ["comune-spezia", "ameglia-a", "ameglia-b"]
    assert await ids(partners, level="REGIONE") == ["regione-liguria"]
    assert await ids(partners, kind="UNIVERSITY") == []


async def test_search_by_territory_matches_it_whole_case_insensitively(partners):  # type: ignore[no-untyped-def]
    assert await ids(partners, territory="liguria") == ["enaip", "regione-liguria"]
    assert await ids(partners, territory=" Comune della Spezia ") == ["comune-spezia"]
    assert await ids(partners, territory="Spezia") == []  # whole, not a part of one
    assert await ids(partners, territory="%") == []  # and literally: no wildcards
    assert await ids(partners, territory="liguria", kind="INSTITUTION") == ["regione-liguria"]
    assert len(await ids(partners, territory="  ")) == len(PARTNERS)  # blank: no filter
    listed = (await partners.get("/v1/partners", params={"q": "ameglia"})).json()["items"]
    assert [p["territory"] for p in listed] == [None, None]  # registered without one


async def test_pages_follow_one_stable_order(partners):  # type: ignore[no-untyped-def]
    everyone = await ids(partners, limit=500)
    assert sorted(everyone) == sorted(p["partner_id"] for p in PARTNERS)
    assert everyone.index("ameglia-a") + 1 == everyone.index("ameglia-b")
    pages = await walk(partners, "/v1/partners", 3)
    assert [p["partner_id"] for page in pages for p in page] == everyone
    assert [len(page) for page in pages] == [3] * (len(PARTNERS) // 3) + (
        [len(PARTNERS) % 3] if len(PARTNERS) % 3 else []
    )
    filtered = await walk(partners, "/v1/partners", 4, kind="ENTERPRISE", q="impresa")
    assert [p["partner_id"] for page in filtered for p in page] == IMPRESE
    # A cursor is bound to its listing and filters: replayed under others it is refused.
    cursor = (await partners.get("/v1/partners", params={"limit": 3})).json()["next_cursor"]
    r = await partners.get("/v1/partners", params={"limit": 3, "cursor": cursor, "kind": "ENTERPRISE"})
    assert r.status_code == 422 and r.json()["field"] == "cursor", r.text
    r = await partners.get("/v1/networks", params={"cursor": cursor})
    assert r.status_code == 422 and r.json()["field"] == "cursor", r.text


async def test_search_by_role_on_an_objective_includes_the_lead(partners, broker):  # type: ignore[no-untyped-def]
    await objectives_known(partners, broker.bootstrap_servers, "lavoro", "mare")
    assert (await partners.put("/v1/objectives/lavoro/lead", json={"partner_id": "comune-spezia"})).status_code == 200
    for objective_id, partner_id, role in (
        ("lavoro", "enaip", "IMPLEMENTING_BODY"),
        ("lavoro", "regione-liguria", "FUNDER"),
        ("mare", "regione-liguria", "FUNDER"),
        ("mare", "cisl-spezia", "PARTNER"),
        ("lavoro", "comune-spezia", "PROGRAMME_LEAD"),
    ):
        r = await partners.put(f"/v1/objectives/{objective_id}/roles/{partner_id}", json={"role": role})
        assert r.status_code == 201, r.text

    assert await ids(partners, objective_id="lavoro") == ["comune-spezia", "enaip", "regione-liguria"]
    assert await ids(partners, objective_id="lavoro", role="LEAD") == ["comune-spezia"]
    assert await ids(partners, objective_id="lavoro", role="FUNDER") == ["regione-liguria"]
    assert await ids(partners, objective_id="mare", role="PARTNER") == ["cisl-spezia"]
    assert await ids(partners, objective_id="mare", role="LEAD") == []
    assert await ids(partners, role="FUNDER") == ["regione-liguria"]  # once, though it funds two
    assert await ids(partners, role="LEAD") == ["comune-spezia"]
    assert await ids(partners, objective_id="lavoro", kind="INSTITUTION") == ["comune-spezia", "regione-liguria"]
    assert await ids(partners, objective_id="lavoro", q="liguria") == ["enaip", "regione-liguria"]
    assert await ids(partners, objective_id="nowhere") == []


async def test_rete_per_il_lavoro_members_before_and_after_one_leaves(rete):  # type: ignore[no-untyped-def]
    async def network(**params: object) -> dict:
        r = await rete.get("/v1/networks/rete-lavoro", params=params)
        assert r.status_code == 200, r.text
        return r.json()

    before, after, today = await network(on="2019-12-31"), await network(on="2020-01-01"), await network()
    assert before["on"] == "2019-12-31" and before["member_count"] == 13
    assert sorted(m["partner_id"] for m in before["members"]) == sorted(
        ["comune-spezia", "cisl-spezia", "enaip", *IMPRESE]
    )
    assert after["member_count"] == 12 and "cisl-spezia" not in [m["partner_id"] for m in after["members"]]
    assert today["members"] == after["members"]
    assert (await network(on="2017-02-28"))["members"] == []
    assert (await network(as_of="2019-12-31"))["members"] == before["members"]  # the former name

    # The same history seen from the partners search.
    assert await ids(rete, network_id="rete-lavoro", kind="TRADE_UNION", on="2019-12-31") == ["cisl-spezia"]
    assert await ids(rete, network_id="rete-lavoro", kind="TRADE_UNION") == []
    assert len(await ids(rete, network_id="rete-lavoro")) == 12
    assert await ids(rete, network_id="rete-lavoro", q="liguria") == ["enaip"]
    assert await ids(rete, network_id="nowhere") == []


async def test_networks_search_with_member_counts_on_a_day(rete):  # type: ignore[no-untyped-def]
    async def networks(**params: object) -> list[tuple[str, int]]:
        r = await rete.get("/v1/networks", params=params)
        assert r.status_code == 200, r.text
        return [(n["network_id"], n["member_count"]) for n in r.json()["items"]]

    assert await networks() == [("rete-giovani", 1), ("rete-lavoro", 12)]
    assert await networks(on="2019-12-31") == [("rete-giovani", 1), ("rete-lavoro", 13)]
    assert await networks(on="2018-01-01") == [("rete-giovani", 0), ("rete-lavoro", 13)]
    assert await networks(q="LAVORO") == [("rete-lavoro", 12)]
    assert await networks(q="100%") == [("rete-giovani", 1)]
    assert await networks(q="rete_") == []
    assert await networks(partner_id="enaip") == [("rete-giovani", 1), ("rete-lavoro", 12)]
    assert await networks(partner_id="enaip", on="2019-01-01") == [("rete-lavoro", 13)]
    assert await networks(partner_id="cisl-spezia") == []
    assert await networks(partner_id="cisl-spezia", on="2019-12-31") == [("rete-lavoro", 13)]
    assert await networks(objective_id="giovani") == [("rete-giovani", 1)]
    assert await networks(limit=1) == [("rete-giovani", 1)]
    assert [[n["network_id"] for n in page] for page in await walk(rete, "/v1/networks", 1)] == [
        ["rete-giovani"],
        ["rete-lavoro"],
    ]
    listed = (await rete.get("/v1/networks", params={"q": "lavoro", "on": "2019-12-31"})).json()["items"]
    assert listed == [{**RETE, "member_count": 13, "on": "2019-12-31"}]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/partners", {"kind": "PIRATE"}, "query.kind"),
        ("/v1/partners", {"level": "GALAXY"}, "query.level"),
        ("/v1/partners", {"role": "BOSS"}, "query.role"),
        ("/v1/partners", {"limit": 0}, "query.limit"),
        ("/v1/partners", {"limit": 501}, "query.limit"),
        ("/v1/partners", {"limit": "many"}, "query.limit"),
        ("/v1/partners", {"offset": 0}, "offset"),  # the paging is by cursor, never by offset
        ("/v1/partners", {"cursor": "forged"}, "cursor"),
        ("/v1/partners", {"network_id": "rete-lavoro", "on": "2020-13-01"}, "query.on"),
        ("/v1/partners", {"objective_id": "a b"}, "query.objective_id"),
        ("/v1/partners", {"q": "x" * 301}, "query.q"),
        ("/v1/partners", {"territory": "x" * 201}, "query.territory"),
        ("/v1/networks", {"on": "yesterday"}, "query.on"),
        ("/v1/networks", {"limit": 501}, "query.limit"),
        ("/v1/networks", {"partner_id": "x/y"}, "query.partner_id"),
        ("/v1/networks/rete-lavoro", {"on": "2020-02-30"}, "query.on"),
        ("/v1/networks/rete-lavoro", {"on": "2020-01-01", "as_of": "2019-01-01"}, "query.as_of"),
    ],
)
async def test_bad_search_input_is_422_naming_the_field(rete, path, params, field):  # type: ignore[no-untyped-def]
    r = await rete.get(path, params=params)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.json()


@pytest.mark.parametrize("path", ["/v1/networks", "/v1/networks/rete-lavoro", "/v1/partners?network_id=rete-lavoro"])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}])
async def test_search_needs_the_admin_token(service_env, path, headers):  # type: ignore[no-untyped-def]
    async with in_process("partners", create_app) as service:
        async with service.client(headers=headers) as client:
            r = await client.get(path)
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"] == "Bearer"
