"""The demo's MA.R.E. roles and Rete per il lavoro: what the source says, valid for the
partners service, and the same requests on every run (so that a re-run changes nothing)."""

from collections import Counter
from datetime import date

import httpx

from regia.operator.demo import DEMO_PARTNERS, PARTNERS
from regia.operator.demo_network import MARE, MEMBERS, NETWORK, load_network
from regia_objectives.adapters.planfile import demo_plans, read_plan
from regia_partners.domain.commands import FormNetwork, JoinNetwork, RegisterPartner


class RecordingPartners:
    """Stands in for the partners service's client: records, and answers as a re-run would."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, object, tuple[int, ...]]] = []

    def request(
        self, method: str, path: str, *, json: object = None, ok: tuple[int, ...] = (200, 201, 204)
    ) -> httpx.Response:
        self.sent.append((method, path, json, tuple(ok)))
        return httpx.Response(409 if method == "POST" else 200)


def test_mare_is_the_programme_of_the_2019_demo_plan() -> None:
    nodes = {node.node_id: node for text in demo_plans().values() for node in read_plan(text).nodes}
    assert nodes[MARE].title.startswith("MA.R.E.")
    assert NETWORK["objective_id"] == MARE


def test_the_rete_has_36_local_members_of_the_five_kinds_joined_2017_to_2023() -> None:
    assert len(MEMBERS) == 36
    assert set(Counter(m["kind"] for m in MEMBERS)) == {
        "ASSOCIATION",
        "TRAINING_BODY",
        "TRADE_UNION",
        "EMPLOYER_ASSOCIATION",
        "EMPLOYMENT_AGENCY",
    }
    ids = [m["partner_id"] for m in MEMBERS]
    assert len(set(ids)) == 36
    assert not set(ids) & {p["partner_id"] for p in PARTNERS + DEMO_PARTNERS}
    network = FormNetwork.model_validate(NETWORK)
    assert network.founded_on.year == 2017 and network.coordinator_partner_id == "comune-spezia"
    for member in MEMBERS:
        joined = JoinNetwork(joined_on=member["joined_on"]).joined_on
        assert network.founded_on <= joined <= date(2023, 12, 31)
        partner = RegisterPartner.model_validate({k: v for k, v in member.items() if k != "joined_on"})
        assert partner.territory
    assert {date.fromisoformat(m["joined_on"]).year for m in MEMBERS} == set(range(2017, 2024))


def test_every_demo_institution_has_a_territory() -> None:
    assert {p["partner_id"] for p in PARTNERS} >= {p["partner_id"] for p in DEMO_PARTNERS}
    assert all(RegisterPartner.model_validate(p).territory for p in PARTNERS)


def test_load_network_assigns_the_mare_roles_then_forms_the_rete_and_registers_each_member() -> None:
    partners, said = RecordingPartners(), []
    load_network(partners, said.append)  # type: ignore[arg-type]
    sent = partners.sent
    assert [(m, p, j) for m, p, j, _ in sent[:4]] == [
        # The partners service must know the programme before roles go on it.
        ("GET", "/v1/objectives/mare", None),
        ("PUT", "/v1/objectives/mare/roles/regione-liguria", {"role": "PROGRAMME_LEAD"}),
        ("PUT", "/v1/objectives/mare/roles/comune-spezia", {"role": "IMPLEMENTING_BODY"}),
        ("POST", "/v1/networks", NETWORK),
    ]
    registered = [j for m, p, j, _ in sent if (m, p) == ("POST", "/v1/partners")]
    members = "/v1/networks/rete-per-il-lavoro/members/"
    joined = [p.removeprefix(members) for m, p, _, _ in sent if m == "PUT" and p.startswith(members)]
    assert [p["partner_id"] for p in registered] == joined == [m["partner_id"] for m in MEMBERS]
    assert all("joined_on" not in p for p in registered)
    # Already there is fine: a re-run (or data an earlier demo registered) must not stop it.
    assert all(409 in ok and 200 in ok for m, *_, ok in sent if m != "GET")
    assert "36 members" in said[-1]

    again = RecordingPartners()
    load_network(again, said.append)  # type: ignore[arg-type]
    assert again.sent == sent
