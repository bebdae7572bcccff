"""A plan file's leads, roles, indicators and milestones through the HTTP import, on the
real stack (objectives and partners services, PostgreSQL, broker): imported with the plan
in one transaction, written back byte for byte by the export, applied by the partners
service, and refused whole, at the file's line, when a partner is unknown."""

import pytest

from regia_objectives.app import create_app as objectives_app
from regia_partners.app import create_app as partners_app

from ..support.infra import Database
from ..support.services import ADMIN_HEADERS, RunningService, in_process
from ..support.wait import eventually

pytestmark = pytest.mark.usefixtures("service_env")
YAML = {"Content-Type": "application/yaml", **ADMIN_HEADERS}

# As the export writes it (writer.py's normalisation), so the round trip is byte for byte.
FILE = """\
# Regia plan file: a plan and its tree (VISION > PROGRAMME > OBJECTIVE > ACTION).
# needs: budget need per fiscal year in integer euro cents; lead: the partner id.
# roles, indicators (targets per year) and milestones: docs/domain.md, 'The plan file'.
id: nautica-2026
title: Capitale della nautica
territory: Comune della Spezia
first_year: 2026
last_year: 2029
at_risk_threshold_pct: 80
single_level_warning_pct: 75
nodes:
  - id: nau-v
    kind: VISION
    title: Spezia – Capitale della nautica
    lead: comune-spezia
    roles:
      - partner: comune-spezia
        role: IMPLEMENTING_BODY
      - partner: regione-liguria
        role: FUNDER
    children:
      - id: nau-o
        kind: OBJECTIVE
        title: Il Miglio Blu
        lead: regione-liguria
        needs:
          2027: 50000000
        indicators:
          - id: nau-imprese
            name: Imprese della nautica
            unit: imprese
            direction: INCREASING
            baseline:
              value: 120
              year: 2025
            targets:
              2027: 140
              2029: '160.5'
            description: Imprese insediate nel Miglio Blu
        milestones:
          - id: nau-protocollo
            title: Protocollo d'intesa firmato
            due_on: 2026-03-31
            reached_on: 2026-03-20
          - id: nau-bando
            title: Bando pubblicato
            due_on: 2027-06-30
"""


@pytest.fixture
async def stack(service_env, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_TODAY", "2026-05-04")
    async with in_process("partners", partners_app) as partners, in_process("objectives", objectives_app) as objectives:
        async with partners.client(headers=ADMIN_HEADERS) as admin:
            for partner_id, level in (("comune-spezia", "COMUNE"), ("regione-liguria", "REGIONE")):
                body = {"partner_id": partner_id, "name": partner_id, "kind": "INSTITUTION", "level": level}
                assert (await admin.post("/v1/partners", json=body)).status_code == 201
        yield partners, objectives


async def _import_once_partners_heard(objectives: RunningService, text: str) -> dict:
    """The objectives service hears of partners from their events: the first import may
    precede that, and is then refused for unknown partners only."""

    async def imported() -> dict | None:
        async with objectives.client(headers=YAML) as admin:
            r = await admin.post("/v1/plans/import", content=text.encode())
        if r.status_code == 422 and "no partner registered as" in r.text:
            return None
        assert r.status_code == 200, r.text
        return r.json()

    return await eventually(imported, what="the plan imported once the partners are known")


async def test_import_then_export_is_byte_identical_and_the_partners_service_applies_the_leads(stack) -> None:  # type: ignore[no-untyped-def]
    partners, objectives = stack
    done = await _import_once_partners_heard(objectives, FILE)
    assert (done["created"], done["removed"]) == (2, 0)
    async with objectives.client(headers=ADMIN_HEADERS) as admin:
        exported = (await admin.get("/v1/plans/nautica-2026/export")).text
        again = await admin.post("/v1/plans/import", content=exported.encode(), headers=YAML)
        indicator = (await admin.get("/v1/indicators/nau-imprese")).json()
    assert exported == FILE
    assert again.json()["unchanged"] == 2
    assert indicator["targets"][-1]["value"] in ("160.5", "160.500000")

    async def lead_of(node: str) -> str | None:
        async with partners.client(headers=ADMIN_HEADERS) as admin:
            r = await admin.get(f"/v1/objectives/{node}/lead")
        return r.json()["partner_id"] if r.status_code == 200 else None

    assert await eventually(lambda: lead_of("nau-o"), what="the lead applied by partners") == "regione-liguria"

    async def roles_of(node: str) -> list | None:
        async with partners.client(headers=ADMIN_HEADERS) as admin:
            items = (await admin.get(f"/v1/objectives/{node}/roles")).json()["items"]
        held = sorted((r["partner_id"], r["role"]) for r in items)
        return held if len(held) == 3 else None

    assert await eventually(lambda: roles_of("nau-v"), what="the roles applied by partners") == [
        ("comune-spezia", "IMPLEMENTING_BODY"),
        ("comune-spezia", "LEAD"),
        ("regione-liguria", "FUNDER"),
    ]
    # A role dropped from the file is withdrawn; the export still equals the file.
    fewer = FILE.replace("      - partner: regione-liguria\n        role: FUNDER\n", "")
    async with objectives.client(headers=YAML) as admin:
        assert (await admin.post("/v1/plans/import", content=fewer.encode())).status_code == 200
        assert (await admin.get("/v1/plans/nautica-2026/export")).text == fewer

    async def funder_gone() -> bool:
        held = await roles_of_all(partners, "nau-v")
        return ("regione-liguria", "FUNDER") not in held

    await eventually(funder_gone, what="the funder role withdrawn by partners")


async def roles_of_all(partners: RunningService, node: str) -> list:
    async with partners.client(headers=ADMIN_HEADERS) as admin:
        items = (await admin.get(f"/v1/objectives/{node}/roles")).json()["items"]
    return sorted((r["partner_id"], r["role"]) for r in items)


async def test_an_unknown_partner_refuses_the_whole_file_at_its_line(stack, database: Database) -> None:  # type: ignore[no-untyped-def]
    _, objectives = stack
    await _import_once_partners_heard(objectives, FILE.replace("nautica-2026", "warm-up").replace("nau-", "w-"))
    bad = FILE.replace("lead: regione-liguria", "lead: regione-ligura")
    async with objectives.client(headers=YAML) as admin:
        r = await admin.post("/v1/plans/import", content=bad.encode())
    assert r.status_code == 422, r.text
    details = r.json()["details"]
    assert details == [
        {
            "field": "nodes[0].children[0].lead",
            "message": "no partner registered as 'regione-ligura': register it with the partners service first"
            " (POST /v1/partners) (line 25)",
        }
    ]
    for table in ("plans WHERE plan_id = 'nautica-2026'", "indicators WHERE indicator_id = 'nau-imprese'"):
        assert await database.fetchval("objectives", f"SELECT count(*) FROM {table}") == 0
    assert await database.fetchval("objectives", "SELECT count(*) FROM milestones WHERE milestone_id LIKE 'nau-%'") == 0


async def test_a_bad_target_and_a_future_reached_date_are_refused_with_their_lines(stack, database: Database) -> None:  # type: ignore[no-untyped-def]
    _, objectives = stack
    bad = FILE.replace("2027: 140", "2027: 100").replace("reached_on: 2026-03-20", "reached_on: 2026-12-01")
    async with objectives.client(headers=YAML) as admin:
        r = await admin.post("/v1/plans/import", content=bad.encode())
    assert r.status_code == 422, r.text
    fields = [d["field"] for d in r.json()["details"]]
    assert "nodes[0].children[0].indicators[0].targets.2027" in fields, r.text
    assert await database.fetchval("objectives", "SELECT count(*) FROM plans") == 0
