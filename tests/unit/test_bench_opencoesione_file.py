"""The import section's OpenCoesione file: read back with the import's own reader, every row
is valid, every money column holds money, and what the generator says each column holds is
what the file holds, to the cent (the totals the section reconciles funding against)."""

from pathlib import Path

from regia.bench.imports import COLUMNS, FUNDERS, level_of
from regia.bench.opencoesione_file import SOURCES, write_file, write_objective_map
from regia.operator.opencoesione.config import parse_objective_map
from regia.operator.opencoesione.mapping import ImportMapping, Target, plan_row
from regia.operator.opencoesione.reader import PAYMENTS, ProjectFinancing, column_totals, read_projects

ROWS = 600


def test_each_column_of_the_file_adds_up_to_what_the_generator_says(tmp_path: Path) -> None:
    path = tmp_path / "progetti.csv"
    made = write_file(path, ROWS, "BENCHT")

    with path.open(encoding="utf-8-sig", newline="") as stream:
        totals = column_totals(stream)
    assert totals.rows == made.rows == ROWS
    assert totals.cents == made.cents
    assert totals.rows_with_money == made.rows_with_money
    assert set(totals.cents) == {*SOURCES, PAYMENTS}
    assert all(made.cents[c] > 0 for c in (*SOURCES, PAYMENTS)), made.cents

    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(read_projects(stream))
    assert all(isinstance(r, ProjectFinancing) for r in rows), [r for r in rows if not isinstance(r, ProjectFinancing)][
        :3
    ]
    projects = [r for r in rows if isinstance(r, ProjectFinancing)]
    assert sum(r.payments_cents for r in projects) == made.cents[PAYMENTS]
    for column in SOURCES:
        assert sum(r.cents_by_column[column] for r in projects) == made.cents[column]
    assert [r.project_code for r in projects] == made.projects
    # and the benchmark's mapping records every row: none refused for a level or its payments
    mapping = ImportMapping(
        {level: Target(f.partner_id, f.instrument_id) for level, f in FUNDERS.items()},
        2027,
        objective_id="obj-0",
        columns=COLUMNS,
    )
    planned = [plan_row(r, mapping) for r in projects]
    assert all(isinstance(p, list) for p in planned), [p for p in planned if not isinstance(p, list)][:3]


def test_the_file_is_the_same_for_the_same_size_and_every_column_has_a_level(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_file(first, 50, "BENCHT")
    write_file(second, 50, "BENCHT")
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().startswith("\ufeffCOD_LOCALE_PROGETTO;".encode())
    assert all(level_of(column) for column in SOURCES)


def test_the_objective_map_gives_every_project_one_of_the_objectives(tmp_path: Path) -> None:
    path = tmp_path / "obiettivi.csv"
    made = write_file(tmp_path / "progetti.csv", ROWS, "BENCHT")
    objectives = [f"obj-{o}" for o in range(40)]
    write_objective_map(path, made.projects, objectives)

    mapped = parse_objective_map(path.read_text().splitlines())
    assert set(mapped) == set(made.projects)
    assert set(mapped.values()) <= set(objectives)
    assert len(set(mapped.values())) > len(objectives) // 2  # spread, not all on one
