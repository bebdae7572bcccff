"""write_plan then read_plan gives back the same PlanFile, for any valid plan: a random tree
(every kind under any shallower kind, levels skipped), random ids, text in any script,
needs within the plan's years, leads on some nodes. And reading never fails any other way
than PlanFileInvalid, whatever the text."""

import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regia_objectives.adapters.planfile import read_plan, write_plan
from regia_objectives.domain.errors import PlanFileInvalid
from regia_objectives.domain.plan_file import PlanFile
from regia_objectives.domain.tree import Node, NodeKind, Plan
from regia_shared.contracts.money import MAX_CENTS

slugs = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,24}", fullmatch=True)
characters = st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="\ufeff")
lines = st.text(characters, min_size=1, max_size=40).filter(str.strip)
texts = st.text(st.one_of(characters, st.sampled_from("\n\t")), min_size=1, max_size=200).filter(str.strip)


@st.composite
def plan_files(draw: st.DrawFn) -> PlanFile:
    first = draw(st.integers(1990, 2090))
    plan = Plan(
        draw(slugs),
        draw(lines),
        draw(lines),
        draw(st.none() | st.integers(0, 2_000_000_000)),
        first,
        draw(st.integers(first, min(first + 12, 2100))),
        draw(st.integers(1, 100)),
        draw(st.integers(1, 100)),
        draw(st.none() | texts),
    )
    ids = draw(st.lists(slugs, unique=True, max_size=30))
    kinds: dict[str, NodeKind] = {}
    children: dict[str | None, list[str]] = {None: []}
    for node_id in ids:  # each node under an earlier one of a shallower kind, or at the top
        parents = [None, *(i for i in kinds if kinds[i] is not NodeKind.ACTION)]
        parent = draw(st.sampled_from(parents))
        deeper = [k for k in NodeKind if parent is None or k.depth > kinds[parent].depth]
        kinds[node_id] = draw(st.sampled_from(deeper))
        children.setdefault(parent, []).append(node_id)
        children[node_id] = []
    nodes: list[Node] = []

    def place(parent: str | None) -> None:  # parents first, as a file lists them
        for position, node_id in enumerate(children[parent]):
            needs = draw(
                st.dictionaries(st.integers(plan.first_year, plan.last_year), st.integers(0, MAX_CENTS), max_size=4)
            )
            nodes.append(
                Node(
                    node_id,
                    plan.plan_id,
                    parent,
                    kinds[node_id],
                    draw(lines),
                    draw(st.integers(1, 1_000_000)),
                    dict(sorted(needs.items())),
                    draw(st.booleans()),
                    position,
                )
            )
            place(node_id)

    place(None)
    leads = draw(st.dictionaries(st.sampled_from(ids), slugs) if ids else st.just({}))
    return PlanFile(plan, nodes, leads)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_files())
def test_a_written_plan_reads_back_equal(plan_file: PlanFile) -> None:
    written = write_plan(plan_file)
    assert read_plan(written) == plan_file
    assert write_plan(read_plan(written)) == written, "writing is deterministic"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_reads_as_a_plan_or_a_list_of_problems(text: str) -> None:
    try:
        read_plan(text)
    except PlanFileInvalid as refused:
        assert refused.problems and all(p.where and p.message for p in refused.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_files(), st.data())
def test_a_damaged_plan_file_is_refused_with_problems_never_a_crash(plan_file: PlanFile, data: st.DataObject) -> None:
    text = write_plan(plan_file)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, min(len(text), start + 30)))
    damage = data.draw(st.text(string.printable, max_size=10))
    try:
        read_plan(text[:start] + damage + text[end:])
    except PlanFileInvalid as refused:
        assert refused.problems


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats() | st.text(characters, max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "kind",
                    "title",
                    "nodes",
                    "children",
                    "needs",
                    "first_year",
                    "last_year",
                    "lead",
                    "weight",
                    "population",
                    "VISION",
                ]
            )
            | st.integers(1980, 2110)
            | st.booleans()
            | st.none(),
            inner,
            max_size=6,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["id", "title", "territory", "first_year", "last_year", "nodes", "population", "description"]),
        yaml_values,
    )
    | yaml_values
)
def test_any_yaml_data_reads_as_a_plan_or_a_list_of_problems(data: object) -> None:
    try:
        read_plan(yaml.safe_dump(data, allow_unicode=True))
    except PlanFileInvalid as refused:
        assert refused.problems
