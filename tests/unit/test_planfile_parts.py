"""The plan file's roles, indicators and milestones: read exactly, written back equal,
old files unchanged in meaning, and every bad entry refused at its path and line."""

from decimal import Decimal

import pytest

from regia_objectives.adapters.planfile import read_plan, write_plan
from regia_objectives.domain.errors import PlanFileInvalid
from regia_shared.contracts.events.partners import ObjectiveRole

HEAD = "id: p\ntitle: Piano\nterritory: Comune\nfirst_year: 2026\nlast_year: 2029\nnodes:\n"
NODE = "  - id: v\n    kind: VISION\n    title: Visione\n"
INDICATOR = (
    "    indicators:\n      - id: occ\n        name: Occupati\n        unit: persone\n"
    "        direction: INCREASING\n        baseline: {value: 1200, year: 2025}\n"
    "        targets: {2027: 1300, 2029: '1400.50'}\n"
)
MILESTONE = "    milestones:\n      - id: m1\n        title: Protocollo\n        due_on: 2027-03-31\n"
ROLES = "    roles:\n      - partner: regione\n        role: FUNDER\n"


def problems(text: str) -> dict[str, str]:
    with pytest.raises(PlanFileInvalid) as refused:
        read_plan(text)
    return {p.where: p.message for p in refused.value.problems}


def test_parts_are_read_exactly_and_written_back_equal() -> None:
    read = read_plan(HEAD + NODE + ROLES + INDICATOR + MILESTONE)
    assert read.roles == {"v": [("regione", ObjectiveRole.FUNDER)]}
    planned = read.indicators["v"][0]
    assert planned.targets == {2027: Decimal(1300), 2029: Decimal("1400.50")}
    assert str(read.milestones["v"][0].due_on) == "2027-03-31"
    written = write_plan(read)
    assert "2029: '1400.5'" in written  # the documented normalisation: the shortest exact text
    assert read_plan(written) == read
    assert write_plan(read_plan(written)) == written


def test_a_file_without_the_keys_leaves_them_alone_and_an_empty_list_is_a_whole_set() -> None:
    old = read_plan(HEAD + NODE)
    assert (old.roles, old.indicators, old.milestones) == ({}, {}, {})
    emptied = read_plan(HEAD + NODE + "    roles: []\n    indicators: []\n")
    assert (emptied.roles, emptied.indicators) == ({"v": []}, {"v": []})


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (("2027: 1300", "2027: 1100"), "nodes[0].indicators[0].targets.2027", "increasing indicator 'occ': a target"),
        (
            ("2027: 1300", "2024: 1300"),
            "nodes[0].indicators[0].targets.2024",
            "target year 2024 is before the baseline",
        ),
        (("2027: 1300", "2027: 13.5"), "nodes[0].indicators[0].targets.2027", "write a decimal in quotes, e.g. '13.5'"),
        (("INCREASING", "UP"), "nodes[0].indicators[0].direction", "should be 'INCREASING' or 'DECREASING'"),
        (("unit: persone", "units: persone"), "nodes[0].indicators[0].units", "unknown field; the fields are id, name"),
        (("due_on: 2027-03-31", "due_on: 31/03/2027"), "nodes[0].milestones[0].due_on", "should be a valid date"),
        (("role: FUNDER", "role: LEAD"), "nodes[0].roles[0].role", "should be 'IMPLEMENTING_BODY'"),
    ],
)
def test_bad_parts_are_refused_at_their_path_and_line(change: tuple[str, str], where: str, message: str) -> None:
    found = problems((HEAD + NODE + ROLES + INDICATOR + MILESTONE).replace(*change))
    assert found[where].startswith(message), found
    assert "(line " in found[where]


def test_ids_are_unique_across_the_file_and_a_role_is_given_once() -> None:
    twice = HEAD + NODE + ROLES + "      - partner: regione\n        role: FUNDER\n" + INDICATOR + MILESTONE
    other = "  - id: w\n    kind: VISION\n    title: Altra\n" + INDICATOR + MILESTONE
    found = problems(twice + other)
    assert found["nodes[0].roles[1]"].startswith("'regione' is given the role FUNDER twice (line 13)")
    assert found["nodes[1].indicators[0]"].startswith("the indicator id 'occ' is already used above")
    assert found["nodes[1].milestones[0]"].startswith("the milestone id 'm1' is already used above")
