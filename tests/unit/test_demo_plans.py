"""The La Spezia demo dataset holds what the Italian source says, and reads cleanly."""

import pytest

from regia_objectives.adapters.planfile import demo_plans, read_plan, write_plan
from regia_objectives.domain.plan_file import PlanFile
from regia_objectives.domain.tree import Node, NodeKind

PARTNERS = {"comune-spezia", "provincia-spezia", "regione-liguria"}  # what `regia demo load` registers


@pytest.fixture(scope="module")
def plans() -> dict[str, PlanFile]:
    return {read.plan.plan_id: read for read in map(read_plan, demo_plans().values())}


def under(plan: PlanFile, node_id: str, kind: NodeKind) -> list[Node]:
    """The nodes of a kind anywhere below a node."""
    parent_of = {n.node_id: n.parent_id for n in plan.nodes}

    def below(node: Node) -> bool:
        parent = node.parent_id
        while parent is not None and parent != node_id:
            parent = parent_of[parent]
        return parent == node_id

    return [n for n in plan.nodes if n.kind is kind and below(n)]


def test_every_demo_file_reads_without_problems_and_round_trips() -> None:
    files = demo_plans()
    assert list(files) == [
        "2001-visione-del-futuro.yaml",
        "2007-patto-la-spezia-2012.yaml",
        "2008-piano-generale-di-sviluppo.yaml",
        "2019-capitale-della-nautica.yaml",
    ]
    for text in files.values():
        read = read_plan(text)
        assert read_plan(write_plan(read)) == read


def test_visione_del_futuro_2001_has_one_vision_and_seven_objectives(plans: dict[str, PlanFile]) -> None:
    plan = plans["visione-del-futuro-2001"]
    assert (plan.plan.title, plan.plan.territory, plan.plan.population, plan.plan.first_year) == (
        "Visione del futuro. Linee strategiche e strumenti per la Città",
        "Comune della Spezia",
        92_461,
        2001,
    )
    [vision] = [n for n in plan.nodes if n.kind is NodeKind.VISION]
    assert vision.title == "La Spezia, città alla riscoperta del mare"
    objectives = under(plan, vision.node_id, NodeKind.OBJECTIVE)
    assert len(objectives) == len(plan.nodes) - 1 == 7
    assert all(o.illustrative for o in objectives), "the source counts them but does not name them"


def test_the_patto_2012_has_its_four_objectives(plans: dict[str, PlanFile]) -> None:
    plan = plans["patto-la-spezia-2012"]
    assert (plan.plan.population, plan.plan.first_year, plan.plan.last_year) == (218_702, 2007, 2012)
    assert [(n.kind, n.title, n.parent_id) for n in plan.nodes] == [
        (NodeKind.OBJECTIVE, title, None) for title in ("Identità", "Competitività", "Sostenibilità", "Solidarietà")
    ]


def test_the_piano_generale_di_sviluppo_has_the_sources_counts(plans: dict[str, PlanFile]) -> None:
    plan = plans["piano-generale-di-sviluppo-2008"]
    assert (plan.plan.first_year, plan.plan.last_year) == (2008, 2011)
    visions = [n for n in plan.nodes if n.kind is NodeKind.VISION]
    counts = {
        v.title.split(":")[0]: (
            len(under(plan, v.node_id, NodeKind.PROGRAMME)),
            len(under(plan, v.node_id, NodeKind.OBJECTIVE)),
        )
        for v in visions
    }
    assert counts == {
        "I grandi processi di trasformazione": (2, 6),
        "Un modello alto di città": (4, 13),
        "Sapere, innovazione e impresa": (4, 8),
        "Qualità della vita e qualità democratica": (1, 6),
    }
    objectives = [n for n in plan.nodes if n.kind is NodeKind.OBJECTIVE]
    assert all(set(o.needs) == {2008, 2009, 2010, 2011} and o.illustrative for o in objectives)


def test_il_miglio_blu_needs_add_up_to_five_million_euro(plans: dict[str, PlanFile]) -> None:
    plan = plans["spezia-capitale-della-nautica"]
    areas = under(plan, "miglio-blu-la-spezia-per-la-nautica", NodeKind.OBJECTIVE)
    assert [a.node_id for a in areas] == [
        "miglio-blu-filiera",
        "miglio-blu-immagine",
        "miglio-blu-formazione",
        "miglio-blu-ricerca",
        "miglio-blu-rigenerazione",
    ]
    assert sum(sum(a.needs.values()) for a in areas) == 500_000_000
    assert all(a.illustrative for a in areas), "the split among areas is not the source's"


def test_mare_is_led_by_regione_liguria_and_carried_out_by_the_comune(plans: dict[str, PlanFile]) -> None:
    plan = plans["spezia-capitale-della-nautica"]
    assert plan.leads["mare"] == "regione-liguria"
    assert {plan.leads[n.node_id] for n in under(plan, "mare", NodeKind.OBJECTIVE)} == {"comune-spezia"}


def test_ids_are_unique_across_plans_and_leads_are_demo_partners(plans: dict[str, PlanFile]) -> None:
    ids = [n.node_id for p in plans.values() for n in p.nodes]
    assert len(ids) == len(set(ids)), "every plan's nodes share one id space"
    assert "miglio-blu" not in ids, "the quick start's standalone objective is not adopted by a plan"
    assert {lead for p in plans.values() for lead in p.leads.values()} <= PARTNERS


def test_only_illustrative_nodes_carry_figures(plans: dict[str, PlanFile]) -> None:
    assert all(n.illustrative for p in plans.values() for n in p.nodes if n.needs)
