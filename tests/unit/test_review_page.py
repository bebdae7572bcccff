"""The annual review's printable page (`GET /v1/plans/{id}/reviews/{year}?format=html`):
the part of a year's committed money that is history is said apart, for the plan and for
each node, so a closed year funded from the record is not read as open commitments."""

from types import SimpleNamespace

from regia_objectives.domain.review import ReviewItem, summary
from regia_objectives.entrypoints.reviews_http import _TEMPLATES
from regia_shared.contracts.money import format_euro


def item(node_id: str, parent: str | None, committed: int, history: int) -> ReviewItem:
    return ReviewItem(
        node_id, parent, "OBJECTIVE", f"Nodo {node_id}", 0, 1_000_000_00, committed, 0, {"EU": committed}, 6000,
        "AT_RISK", history_cents=history,
    )  # fmt: skip


def page(items: list[ReviewItem]) -> str:
    plan = SimpleNamespace(
        title="Piano 2008", territory="La Spezia", population=None, first_year=2008, last_year=2012,
        at_risk_threshold_pct=80,
    )  # fmt: skip
    return _TEMPLATES.get_template("review.html.j2").render(
        plan=plan, year=2009, items=items, depth={i.node_id: 0 for i in items}, totals=summary(items),
        closed_at="2010-01-05 alle 10:00 UTC", euro=format_euro, pct=lambda bp: f"{bp / 100:.2f} %",
    )  # fmt: skip


def test_history_money_is_said_apart_for_the_plan_and_each_node() -> None:
    html = page([item("porto", None, 600_000_00, 600_000_00), item("scuole", None, 300_000_00, 0)])
    assert "(di cui storico € 600.000,00)" in html  # the plan's totals
    porto, scuole = html.split("Nodo porto", 1)[1], html.split("Nodo scuole", 1)[1]
    assert "di cui storico € 600.000,00" in porto.split("</tr>", 1)[0]
    assert "storico" not in scuole.split("</tr>", 1)[0]


def test_a_year_without_history_reads_as_before() -> None:
    assert "storico" not in page([item("scuole", None, 300_000_00, 0)])
