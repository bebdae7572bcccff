"""The plan file: a whole plan as one YAML document, to import, export and keep in git.

    id: patto-la-spezia-2012
    title: Patto La Spezia 2012
    territory: Comune della Spezia, Provincia della Spezia e altri 5 comuni
    population: 218702
    first_year: 2007
    last_year: 2012
    nodes:
      - id: patto-2012-competitivita
        kind: OBJECTIVE
        title: Competitività
        lead: comune-spezia
        needs: {2008: 150000000}   # euro cents per fiscal year
        illustrative: true         # the figures are not the source's

`read_plan` checks everything and reports every problem at once; `write_plan` writes what
`read_plan` reads back equal. `demo_plans()` gives the La Spezia demo dataset.

This package is the adapter between YAML text (and the demo files shipped as package data)
and the domain: what a plan file holds (domain.plan_file.PlanFile), its schema
(domain.plan_schema), the paths that locate a problem in it (domain.plan_paths), the
tolerant reading of its tree (domain.plan_skeleton) and its refusal
(domain.errors.PlanFileInvalid) are pure, and live in the domain.
"""

from .demos import demo_plans
from .reader import read_plan
from .safeyaml import MAX_BYTES
from .writer import write_plan

__all__ = ["MAX_BYTES", "demo_plans", "read_plan", "write_plan"]
