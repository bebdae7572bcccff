"""The La Spezia demo dataset: four plan files built from the Italian source on thirty years
of strategic planning in La Spezia, shipped as package data so that `regia demo load` works
from an installed wheel too.

- 2001-visione-del-futuro: the first plan, one vision, 7 strategic objectives.
- 2007-patto-la-spezia-2012: the Patto, its 4 objectives straight under the plan.
- 2008-piano-generale-di-sviluppo: 4 visions with exactly the source's counts of programmes
  and objectives (2/6, 4/13, 4/8, 1/6) and needs per year to 2011.
- 2019-capitale-della-nautica: Il Miglio Blu (EUR 5M over its five areas) and MA.R.E.
  (Interreg Italia-Francia Marittimo, led by Regione Liguria, carried out by the Comune)
  as two programmes of the vision "Spezia – Capitale della nautica". Its ids all differ from
  the quick start's standalone objective `miglio-blu`, which stays outside any plan.

What the source does not give (titles it only counts, every amount, the split of the EUR 5M)
is invented and marked `illustrative: true`; each file's description says what is whose.
Node ids carry their plan's prefix, because all plans share one id space of objectives.
"""

from importlib.resources import files


def demo_plans() -> dict[str, str]:
    """File name → plan file text, in name order (which is the plans' chronological order)."""
    folder = files(__package__) / "demo"
    found = sorted((entry.name, entry) for entry in folder.iterdir() if entry.name.endswith(".yaml"))
    return {name: entry.read_text(encoding="utf-8") for name, entry in found}
