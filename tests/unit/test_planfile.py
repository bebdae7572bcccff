"""Reading a plan file: the tree it describes, and every problem at once, each with the
path into the file and its line."""

import textwrap

import pytest

from regia_objectives.adapters.planfile import read_plan, write_plan
from regia_objectives.domain.errors import PlanFileInvalid
from regia_objectives.domain.plan_file import PlanFile
from regia_objectives.domain.tree import Node, NodeKind, Plan

PLAN = textwrap.dedent("""\
    id: pgs-2008
    title: Piano Generale di Sviluppo
    territory: Comune della Spezia
    first_year: 2008
    last_year: 2011
    nodes:
      - id: pgs-v1
        kind: VISION
        title: I grandi processi di trasformazione
        lead: comune-spezia
        children:
          - id: pgs-p1
            kind: PROGRAMME
            title: Il waterfront
            children:
              - id: pgs-o1
                kind: OBJECTIVE
                title: Calata Paita
                weight: 2
                needs: {2008: 150000000, 2009: 0}
                illustrative: true
              - id: pgs-o2
                kind: OBJECTIVE
                title: Porto e città
      - id: pgs-o3
        kind: OBJECTIVE
        title: Un obiettivo direttamente sotto il piano
    """)


def problems(text: str) -> dict[str, str]:
    with pytest.raises(PlanFileInvalid) as refused:
        read_plan(text)
    return {p.where: p.message for p in refused.value.problems}


def test_the_nesting_becomes_parents_and_positions_among_siblings() -> None:
    read = read_plan(PLAN)
    assert read.plan == Plan("pgs-2008", "Piano Generale di Sviluppo", "Comune della Spezia", None, 2008, 2011)
    assert read.nodes == [
        Node("pgs-v1", "pgs-2008", None, NodeKind.VISION, "I grandi processi di trasformazione"),
        Node("pgs-p1", "pgs-2008", "pgs-v1", NodeKind.PROGRAMME, "Il waterfront"),
        Node(
            "pgs-o1", "pgs-2008", "pgs-p1", NodeKind.OBJECTIVE, "Calata Paita", 2, {2008: 150_000_000, 2009: 0}, True, 0
        ),
        Node("pgs-o2", "pgs-2008", "pgs-p1", NodeKind.OBJECTIVE, "Porto e città", position=1),
        Node("pgs-o3", "pgs-2008", None, NodeKind.OBJECTIVE, "Un obiettivo direttamente sotto il piano", position=1),
    ]
    assert read.leads == {"pgs-v1": "comune-spezia"}
    assert read_plan(write_plan(read)) == read


BROKEN = textwrap.dedent("""\
    id: pgs-2008
    title: Piano Generale di Sviluppo
    territory: Comune della Spezia
    first_year: 2008
    last_year: 2011
    foo: bar
    nodes:
      - id: pgs-v1
        kind: VISION
        title: I grandi processi di trasformazione
        children:
          - id: pgs-p1
            kind: ACTION
            title: Il waterfront
            children:
              - id: pgs-o1
                kind: OBJECTIVE
                title: Calata Paita
                needs: {2008: 1.5, 2031: 10, "2009": 1}
              - id: pgs-o2
                kind: OBJECTIVE
                title: Porto e città
                weight: 0
      - id: pgs o3
        kind: OBJECTIVE
        title: Un obiettivo direttamente sotto il piano
    """)


def test_every_problem_is_reported_at_once_with_its_path_and_line() -> None:
    assert problems(BROKEN) == {
        # the schema's
        "foo": "unknown field; the fields are id, title, territory, population, first_year, last_year, "
        "at_risk_threshold_pct, single_level_warning_pct, description, nodes (line 6)",
        "nodes[0].children[0].children[0].needs.2008": "should be a valid integer (line 19)",
        "nodes[0].children[0].children[0].needs.2009": "should be a valid integer (line 19)",
        "nodes[0].children[0].children[1].weight": "should be greater than or equal to 1 (line 23)",
        "nodes[1].id": "must be an id: letters, digits, '.', '_', ':' or '-', starting with a letter or "
        "digit (line 24)",
        # the tree's, on the same file: two objectives under an action, a need out of the years
        "nodes[0].children[0].children[0]": "need for 2031 is outside the plan's years 2008..2011 (line 16)",
        "nodes[0].children[0].children[1]": "an objective cannot sit under an action (pgs-p1) (line 20)",
    }


def test_a_node_problem_points_at_every_place_a_repeated_id_is_used() -> None:
    found = problems(PLAN.replace("id: pgs-o3", "id: pgs-o1"))
    assert found["nodes[0].children[0].children[0]"] == (
        "the same id is used twice (line 16); the id 'pgs-o1' is at nodes[0].children[0].children[0], nodes[1]"
    )


def one_node(extra: str = "", plan_extra: str = "") -> str:
    return (
        "id: p\ntitle: t\nterritory: x\nfirst_year: 2008\nlast_year: 2011\n"
        + plan_extra
        + "nodes:\n  - id: n\n    kind: OBJECTIVE\n    title: t\n"
        + extra
    )


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("population", "-1", "should be greater than or equal to 0"),
        ("population", "92461.0", "should be a valid integer"),
        ("at_risk_threshold_pct", "0", "should be greater than or equal to 1"),
        ("single_level_warning_pct", "'75'", "should be a valid integer"),
        ("title", "2031", "should be a valid string"),
        ("title", "'   '", "must not be blank"),
        ("title", '"a\\u0007b"', "must not contain the control character U+0007"),
        ("first_year", "2008", "the key 'first_year' appears more than once here (line 6)"),
    ],
)
def test_plan_fields_are_strict(field: str, value: str, message: str) -> None:
    assert problems(one_node(plan_extra=f"{field}: {value}\n"))[field].startswith(message)


@pytest.mark.parametrize(
    "line, where, message",
    [
        ("illustrative: 'yes'", "illustrative", "should be a valid boolean"),
        ("needs: [100]", "needs", "must be a mapping (key: value lines) (line 10)"),
        ("needs: {2008: -5}", "needs.2008", "should be greater than or equal to 0"),
        ("needs: {2008: 100000000000001}", "needs.2008", "should be less than or equal to 100000000000000"),
        ("needs: {2008: true}", "needs.2008", "should be a valid integer"),
        ("needs: {2008: '5'}", "needs.2008", "should be a valid integer"),
        ("needs: {2008: 5, 2008: 6}", "needs.2008", "the key 2008 appears more than once here (line 10)"),
        ("weight: 1.0", "weight", "should be a valid integer"),
        ("lead: Comune della Spezia", "lead", "must be an id"),
        ("children: {}", "children", "must be a list"),
        (
            "colour: blue",
            "colour",
            "unknown field; the fields are id, kind, title, weight, lead, roles, needs, illustrative, indicators,"
            " milestones, children (line 10)",
        ),
    ],
)
def test_node_fields_are_strict(line: str, where: str, message: str) -> None:
    assert problems(one_node(f"    {line}\n"))[f"nodes[0].{where}"].startswith(message)


def test_the_kind_is_one_of_four() -> None:
    text = one_node().replace("kind: OBJECTIVE", "kind: vision")
    assert problems(text) == {"nodes[0].kind": "should be 'VISION', 'PROGRAMME', 'OBJECTIVE' or 'ACTION' (line 8)"}


def test_missing_fields_are_reported_where_they_are_missing() -> None:
    found = problems("id: x\nnodes:\n  - id: y\n")
    assert found == {
        "title": "is required (line 1)",
        "territory": "is required (line 1)",
        "first_year": "is required (line 1)",
        "last_year": "is required (line 1)",
        "nodes[0].kind": "is required (line 3)",
        "nodes[0].title": "is required (line 3)",
    }


def test_tree_rules_still_run_where_the_schema_refused_a_field() -> None:
    text = one_node(
        "    needs: {2008: 1.5}\n    children:\n"
        "      - {id: sotto, kind: VISION, title: [not text]}\n"
        "      - {id: 'bad id', kind: ACTION, title: t, children: [{id: z, kind: ACTION, title: t}]}\n"
    )
    assert problems(text) == {
        "nodes[0].needs.2008": "should be a valid integer (line 10)",
        "nodes[0].children[0].title": "should be a valid string (line 12)",
        "nodes[0].children[0]": "a vision cannot sit under an objective (n) (line 12)",
        "nodes[0].children[1].id": "must be an id: letters, digits, '.', '_', ':' or '-', starting with a "
        "letter or digit (line 13)",
        # a node with a refused id is still in the tree, under its path as a placeholder id
        "nodes[0].children[1].children[0]": "an action cannot sit under an action (nodes[0].children[1]) (line 13)",
    }


def test_the_plan_years_must_be_in_order() -> None:
    assert problems(PLAN.replace("last_year: 2011", "last_year: 2007"))["plan"] == (
        "first_year 2008 is after last_year 2007"
    )


def test_the_writer_refuses_to_drop_what_the_tree_does_not_reach() -> None:
    plan = Plan("p", "t", "x", None, 2020, 2021)
    orphan = Node("o", "p", "nowhere", NodeKind.OBJECTIVE, "t")
    with pytest.raises(ValueError, match="outside the tree"):
        write_plan(PlanFile(plan, [orphan], {}))
    with pytest.raises(ValueError, match="leads of nodes that are not in the plan"):
        write_plan(PlanFile(plan, [], {"ghost": "comune-spezia"}))


def test_the_writer_leaves_defaults_out_and_keeps_text_readable() -> None:
    plan = Plan(
        "p", "Piano: città", "Comune della Spezia", 92_461, 2001, 2007, description="Prima riga.\nSeconda riga.\n"
    )
    written = write_plan(
        PlanFile(plan, [Node("v", "p", None, NodeKind.VISION, "La Spezia, città alla riscoperta del mare")], {})
    )
    assert "description: |\n  Prima riga.\n  Seconda riga.\n" in written
    assert "  - id: v\n    kind: VISION\n    title: La Spezia, città alla riscoperta del mare\n" in written
    body = "".join(line for line in written.splitlines(keepends=True) if not line.startswith("#"))
    assert "weight" not in body and "illustrative" not in body and "needs" not in body and "lead" not in body
