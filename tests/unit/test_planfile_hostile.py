"""A plan file is untrusted input: whatever it holds, reading it ends quickly in a PlanFile
or in problems, and never runs code, expands aliases, exhausts the stack or hides a
repeated key."""

import time

import pytest

from regia_objectives.adapters.planfile import MAX_BYTES, read_plan
from regia_objectives.domain.errors import PlanFileInvalid

from ..support.figures import record

VALID_HEAD = "id: p\ntitle: t\nterritory: x\nfirst_year: 2020\nlast_year: 2030\n"


def problems(text: str) -> list[str]:
    with pytest.raises(PlanFileInvalid) as refused:
        read_plan(text)
    return [f"{p.where}: {p.message}" for p in refused.value.problems]


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed() -> None:
    assert problems("#" * (MAX_BYTES + 1)) == [f"plan: the file is larger than {MAX_BYTES} bytes"]
    # the limit is in bytes of UTF-8, not characters
    assert problems("è" * (MAX_BYTES // 2 + 1)) == [f"plan: the file is larger than {MAX_BYTES} bytes"]


def test_deep_nesting_is_refused_without_exhausting_the_stack() -> None:
    assert problems("a: " + "[" * 5000 + "]" * 5000)[0].startswith("yaml: line 1, column ")
    block = "a:\n" + "".join("  " * depth + "- \n" for depth in range(200))
    assert problems(block) == ["yaml: line 41, column 79: the file nests deeper than 40 levels"]


def test_aliases_cannot_expand_into_a_billion_laughs() -> None:
    laughs = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    # Refused at the first anchor, before any alias could be expanded.
    assert problems(laughs) == ["yaml: line 1, column 4: anchors (&a) are not allowed in a plan file"]


@pytest.mark.parametrize(
    "text, problem",
    [
        (
            "id: !!python/object/apply:os.system ['true']",
            "yaml: line 1, column 5: tags (tag:yaml.org,2002:python/object/apply:os.system) are not allowed in a plan file",
        ),
        ("id: !!binary aGk=", "yaml: line 1, column 5: tags (tag:yaml.org,2002:binary) are not allowed in a plan file"),
        ("id: ! p", "yaml: line 1, column 5: tags (!) are not allowed in a plan file"),
        ("id: *p", "yaml: line 1, column 5: aliases (*p) are not allowed in a plan file"),
        ("? [a, b]\n: 1", "yaml: line 1, column 3: a key must be a plain value, not a list or a mapping"),
        (
            "id: p\n---\nid: q",
            "yaml: line 2, column 1: but found another document (expected a single document in the stream at line 1)",
        ),
        ("id: p\n  title: t", "yaml: line 2, column 8: mapping values are not allowed"),  # libyaml goes on
        ("id: p\n\x07", "yaml: line 2, column 1: the character U+0007 is not allowed in YAML"),
        ("id: 2031-02-30", "yaml: a value cannot be read: day is out of range for month"),
        (
            "",
            "plan: the file is empty: a plan file is a mapping with id, title, territory, first_year, "
            "last_year and nodes",
        ),
        (
            "# only a comment\n",
            "plan: the file is empty: a plan file is a mapping with id, title, territory, "
            "first_year, last_year and nodes",
        ),
    ],
)
def test_what_a_plan_file_never_needs_is_refused_with_its_place(text: str, problem: str) -> None:
    found = problems(text)
    assert len(found) == 1 and found[0].startswith(problem)


def test_repeated_keys_are_reported_not_silently_resolved() -> None:
    text = VALID_HEAD + "title: u\nnodes:\n  - {id: n, kind: VISION, title: t, title: u}\n"
    assert problems(text) == [
        "title: the key 'title' appears more than once here (line 6)",
        "nodes[0].title: the key 'title' appears more than once here (line 8)",
    ]


def test_merge_keys_are_refused() -> None:
    assert problems(VALID_HEAD + "<<: {population: 5}\n") == ["plan: merge keys (<<) are not allowed (line 6)"]


def test_a_flood_of_problems_is_capped() -> None:
    nodes = "".join(f"  - {{id: n{i}, kind: NOPE, title: t}}\n" for i in range(3000))
    found = problems(VALID_HEAD + "nodes:\n" + nodes)
    assert len(found) == 1000
    assert found[-1] == "plan: … and 2001 more problems"


def test_a_file_at_the_size_limit_is_read_whole() -> None:
    # How long it takes is a figure, not a bound: this machine's speed swings two- to
    # three-fold, so a time limit here would judge the hour, not the reader.
    node = "  - {{id: n{i}, kind: OBJECTIVE, title: Obiettivo {i}, needs: {{2021: 100, 2022: 200}}}}\n"
    nodes, size, i = [], len(VALID_HEAD) + 7, 0
    while size + len(node) + 10 < MAX_BYTES:
        nodes.append(node.format(i=i))
        size, i = size + len(nodes[-1]), i + 1
    started = time.monotonic()
    assert len(read_plan(VALID_HEAD + "nodes:\n" + "".join(nodes)).nodes) == i
    record("plan file at the size limit", inputs=i, seconds=round(time.monotonic() - started, 1))
