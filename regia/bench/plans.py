"""The plan import section: what an administrator waits for when a region's plan file goes
in (`POST /v1/plans/import`, what `regia plan import` sends).

One plan file of `nodes` nodes (visions, programmes under them, objectives under those with
a need in each of the plan's four years) is imported three times, each one timed from the
request to its answer and charged the CPU every process spent on it until they are quiet
again (the other services learning the nodes from objectives' events included):

- `new`: every node created;
- `unchanged`: the same file again, which writes nothing;
- `needs_changed`: every objective's needs changed, so every objective is updated;

then `node_edits`: ten objectives' needs (fewer if the plan has fewer objectives) changed one at a time through the API
(`PATCH /v1/plans/{plan}/nodes/{node}`, what the console sends), each applied to the whole
plan as an import is: p50 and max of the answers, and the CPU per edit.

An import holds objectives' definitions lock for its whole transaction (the coverage
projection waits for it: `regia_objectives.adapters.objectives.DEFINITIONS_LOCK`), so its
seconds are also how long funding's money waits to reach coverage while it runs.
"""

import time
from typing import Any

import httpx

from regia_objectives.adapters.planfile import write_plan
from regia_objectives.domain.plan_file import PlanFile
from regia_objectives.domain.tree import Node, NodeKind, Plan

from .system import Regia

PLAN = Plan("bench-plan", "Piano di prova del benchmark", "Regione di prova", None, 2026, 2029)
YEARS = range(PLAN.first_year, PLAN.last_year + 1)
OBJECTIVES_A_PROGRAMME = 20
EDITS = 10  # or as many as the plan has objectives, if fewer
PROGRAMMES_A_VISION = 10


def plan_nodes(nodes: int, need_bump: int = 0) -> list[Node]:
    """`nodes` nodes (at least three) in tree order: a vision every 300 nodes, a programme
    every twenty objectives, the rest objectives with a need in each of the plan's years
    (`need_bump` cents more each, to change them all)."""
    if nodes < 3:
        raise ValueError("a plan of at least three nodes (a vision, a programme, an objective)")
    visions = max(1, nodes // 300)
    programmes = max(1, min(PROGRAMMES_A_VISION * visions, (nodes - visions) // (OBJECTIVES_A_PROGRAMME + 1)))
    objectives = nodes - visions - programmes
    plan_id = PLAN.plan_id
    tree = [Node(f"bv{v}", plan_id, None, NodeKind.VISION, f"Visione {v}", position=v) for v in range(visions)]
    tree += [
        Node(f"bp{p}", plan_id, f"bv{p % visions}", NodeKind.PROGRAMME, f"Programma {p}", position=p // visions)
        for p in range(programmes)
    ]
    tree += [
        Node(
            f"bo{o}",
            plan_id,
            f"bp{o % programmes}",
            NodeKind.OBJECTIVE,
            f"Obiettivo {o}",
            needs={year: 100_000_00 * (o % 7 + 1) + need_bump for year in YEARS},
            position=o // programmes,
        )
        for o in range(objectives)
    ]
    return tree


async def run_plan_imports(regia: Regia, nodes: int) -> dict[str, Any]:
    """The three imports, each with its answer's counts, seconds, nodes a second and CPU per
    node, then the node edits with their p50, max and CPU per edit."""
    found: dict[str, Any] = {"nodes": nodes, "years": len(YEARS)}
    async with httpx.AsyncClient(
        base_url=regia.url("objectives"), headers=regia.stack.admin_headers, timeout=600
    ) as admin:
        for name, bump in (("new", 0), ("unchanged", 0), ("needs_changed", 1)):
            text = write_plan(PlanFile(PLAN, plan_nodes(nodes, bump), {})).encode()
            start = await regia.load_starts()
            began = time.perf_counter()
            answer = await regia.check(await admin.post("/v1/plans/import", content=text), 200)
            seconds = time.perf_counter() - began
            found[name] = {
                "seconds": round(seconds, 3),
                "nodes_per_s": round(nodes / seconds, 1),
                **{k: answer[k] for k in ("created", "updated", "unchanged")},
                **await regia.charged(start, nodes),
            }
        edits = min(EDITS, sum(1 for node in plan_nodes(nodes) if node.kind is NodeKind.OBJECTIVE))
        start = await regia.load_starts()
        took = []
        for n in range(edits):
            began = time.perf_counter()
            edit = {"needs": {str(PLAN.first_year): 123_456_00 + n}}
            await regia.check(await admin.patch(f"/v1/plans/{PLAN.plan_id}/nodes/bo{n}", json=edit), 200)
            took.append(time.perf_counter() - began)
        took.sort()
        found["node_edits"] = {
            "edits": edits,
            "p50_ms": round(1000 * took[len(took) // 2], 1),
            "max_ms": round(1000 * took[-1], 1),
            **await regia.charged(start, edits),
        }
    return found
