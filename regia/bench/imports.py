"""The `import` section: an OpenCoesione file imported as an operator imports it.

`regia import opencoesione` runs as a process of its own (the command, its two passes over
the file, its HTTP client and its progress bar: what the operator waits for) against the
funding service the benchmark started, with every level mapped to an institution seeded
here and the projects spread over the objectives the run defined. First a file of 20,000
rows, the size the issue gives a limit for (under 30 s), then the big one (200,000 rows).

Each import must reconcile to the cent, checked three ways: the command's exit status 0
with its own reconciliation, the run record's tally against the file's totals, and the
funding lines' committed and disbursed cents per level against what the file holds at
that level. CPU is read per process: the command's from its rusage when it exits, the
services' and PostgreSQL's (with its backends) from /proc before and after.
"""

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from regia.operator.opencoesione.mapping import default_level
from regia.operator.opencoesione.reader import PAYMENTS
from regia_shared.contracts.catalogue import FUNDING
from regia_shared.contracts.levels import GovernmentLevel as Level

from .cpu import cpu_seconds
from .harness import Stack, started
from .opencoesione_file import SOURCES, GeneratedFile, write_file, write_objective_map
from .system import YEAR, Regia, eventually

LIMIT_ROWS, LIMIT_SECONDS = 20_000, 30.0  # issue 19: a 20,000-row file in under 30 s


@dataclass(frozen=True)
class Funder:
    partner_id: str
    name: str
    kind: str  # the partner's kind
    level: Level
    instrument_id: str
    instrument_name: str
    instrument_kind: str


# Who records each level, as a Ligurian operator would map it (the README's walk-through):
# the EU's money by the Regione as managing authority of its POR FESR.
FUNDERS = {
    Level.EU: Funder(
        "regione-liguria", "Regione Liguria", "INSTITUTION", Level.REGIONE,
        "por-fesr-liguria", "POR FESR Liguria", "programme",
    ),
    Level.STATO: Funder(
        "stato-mef", "Ministero dell'Economia e delle Finanze", "INSTITUTION", Level.STATO,
        "fondo-rotazione", "Fondo di rotazione (L. 183/1987)", "fund",
    ),
    Level.REGIONE: Funder(
        "regione-liguria", "Regione Liguria", "INSTITUTION", Level.REGIONE,
        "bilancio-regionale", "Bilancio regionale", "budget",
    ),
    Level.PROVINCIA: Funder(
        "provincia-spezia", "Provincia della Spezia", "INSTITUTION", Level.PROVINCIA,
        "bilancio-provinciale", "Bilancio provinciale", "budget",
    ),
    Level.COMUNE: Funder(
        "comune-spezia", "Comune della Spezia", "INSTITUTION", Level.COMUNE,
        "bilancio-comunale", "Bilancio comunale", "budget",
    ),
    Level.PRIVATE: Funder(
        "cantieri-spezia", "Cantieri Navali Spezzini", "ENTERPRISE", Level.PRIVATE,
        "cofinanziamento", "Cofinanziamento privato", "private",
    ),
    Level.OTHER_PUBLIC: Funder(
        "adsp-mar-ligure-orientale", "Autorità di Sistema Portuale del Mar Ligure Orientale", "INSTITUTION",
        Level.OTHER_PUBLIC, "bilancio-adsp", "Bilancio AdSP", "budget",
    ),
    Level.FOREIGN_STATE: Funder(
        "stato-francese", "République française", "INSTITUTION", Level.FOREIGN_STATE,
        "contributo-interreg", "Contributo Interreg Italia-Francia Marittimo", "fund",
    ),
}  # fmt: skip
# FINANZ_RISORSE_LIBERATE has no default level: freed resources spent by the Regione.
COLUMNS = {"FINANZ_RISORSE_LIBERATE": Level.REGIONE}


def level_of(column: str) -> Level:
    level = COLUMNS.get(column) or default_level(column)
    assert level is not None, f"{column} has no level in the benchmark's mapping"
    return level


def arguments(source: Path, objective_map: Path) -> list[str]:
    args = [str(source), "--fiscal-year", str(YEAR), "--objective-map", str(objective_map)]
    for level, funder in FUNDERS.items():
        args += ["--level", f"{level.value}={funder.partner_id}:{funder.instrument_id}"]
    for column, level in COLUMNS.items():
        args += ["--column", f"{column}={level.value}"]
    return args


async def seed_funders(regia: Regia) -> None:
    """Every funder registered with partners (funding learns it from partners' events) and
    its instrument with funding; what `Regia.prepare` made already is left as it is."""
    stack = regia.stack
    async with httpx.AsyncClient(headers=stack.admin_headers, timeout=30) as admin:
        funding = regia.url("funding")
        known = {i["institution_id"] for i in (await admin.get(f"{funding}/v1/institutions")).json()}
        wanted = {f.partner_id: f for f in FUNDERS.values()}
        for partner_id, funder in wanted.items():
            if partner_id not in known:
                body = {"partner_id": partner_id, "name": funder.name, "kind": funder.kind, "level": funder.level}
                await regia.check(await admin.post(f"{regia.url('partners')}/v1/partners", json=body), 200, 201)

        async def all_known() -> bool:
            listed = (await admin.get(f"{funding}/v1/institutions")).json()
            return set(wanted) <= {i["institution_id"] for i in listed}

        await eventually(all_known, timeout=60, what="funding learned every funder of the import")
        held = {i["instrument_id"] for i in (await admin.get(f"{funding}/v1/instruments")).json()}
        for funder in FUNDERS.values():
            if funder.instrument_id in held:
                continue  # POR FESR Liguria, which `Regia.prepare` declared
            body = {
                "instrument_id": funder.instrument_id,
                "institution_id": funder.partner_id,
                "name": funder.instrument_name,
                "kind": funder.instrument_kind,
            }
            await regia.check(await admin.post(f"{funding}/v1/instruments", json=body), 201)


async def run_imports(regia: Regia, rows: int, limit_rows: int, objectives: int) -> dict[str, Any]:
    await seed_funders(regia)
    workdir = regia.stack.root / "import"
    workdir.mkdir(parents=True, exist_ok=True)
    objective_ids = [f"obj-{o}" for o in range(objectives)]
    limit = await import_file(regia.stack, workdir, "BENCHL", min(limit_rows, rows), objective_ids)
    full = await import_file(regia.stack, workdir, "BENCHM", rows, objective_ids)
    return {
        "limit": limit | {"limit_rows": LIMIT_ROWS, "limit_seconds": LIMIT_SECONDS},
        "full": full,
        "reconciled": limit["reconciled"] and full["reconciled"],
        "measured": "`regia import opencoesione` as a process (both passes, from start to exit), "
        "sending to the benchmark's funding service; CPU of the command from its rusage, of the "
        "services and PostgreSQL from /proc",
    }


async def import_file(stack: Stack, workdir: Path, tag: str, rows: int, objectives: list[str]) -> dict[str, Any]:
    source, objective_map = workdir / f"progetti_{tag.lower()}.csv", workdir / f"obiettivi_{tag.lower()}.csv"
    writing = time.perf_counter()
    made = await asyncio.to_thread(write_file, source, rows, tag)
    await asyncio.to_thread(write_objective_map, objective_map, made.projects, objectives)
    generated = time.perf_counter() - writing

    entries_before = await _fetchval(stack.dsn, "SELECT count(*) FROM ledger_entries")
    watched = {
        "funding": (stack.services["funding"].process.pid, False),
        "objectives": (stack.services["objectives"].process.pid, False),
        "postgres": (started(stack.postgres.process if stack.postgres else None).pid, True),
    }
    before = {name: cpu_seconds(pid, children) for name, (pid, children) in watched.items()}
    began = time.perf_counter()
    status, cli_cpu, out, err = await asyncio.to_thread(
        _run_cli, stack, workdir / tag, arguments(source, objective_map)
    )
    seconds = time.perf_counter() - began
    spent = {name: round(cpu_seconds(pid, children) - before[name], 2) for name, (pid, children) in watched.items()}
    spent = {"cli": round(cli_cpu, 2), **spent}

    events = await _fetchval(stack.dsn, "SELECT count(*) FROM ledger_entries") - entries_before
    checks = await reconcile(stack.dsn, tag, source.name, made)
    checks["cli_exit_status"] = status
    checks["cli_says_reconciled"] = "every column reconciles to the cent" in out
    reconciled = status == 0 and checks["cli_says_reconciled"] and not checks["differences"]
    requests = re.search(r"requests sent: (\d+)", out)
    result: dict[str, Any] = {
        "rows": rows,
        "events": events,
        "lines": checks.pop("lines"),
        "requests": int(requests.group(1)) if requests else None,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds, 1),
        "events_per_s": round(events / seconds, 1),
        "cpu_seconds": spent,
        "cpu_seconds_per_row": {name: round(s / max(rows, 1), 7) for name, s in spent.items()},
        "reconciled": reconciled,
        "checks": checks,
        "file": {"mib": round(source.stat().st_size / 2**20, 1), "generated_seconds": round(generated, 2)},
        "money_by_column_cents": made.cents,
    }
    if not reconciled:
        result["cli_output"] = (out[-3000:], err[-3000:])
    return result


def _run_cli(stack: Stack, prefix: Path, args: list[str]) -> tuple[int, float, str, str]:
    """The command to its exit, and its CPU seconds (user + system, from wait4's rusage)."""
    env = {**os.environ, FUNDING.url_var: stack.services["funding"].url, "REGIA_ADMIN_TOKEN": stack.admin_token}
    out, err = prefix.with_suffix(".out"), prefix.with_suffix(".err")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "regia", "import", "opencoesione", *args], stdout=stdout, stderr=stderr, env=env
        )
        _, wait_status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped here: tell Popen
    return process.returncode, usage.ru_utime + usage.ru_stime, out.read_text(), err.read_text()


async def reconcile(dsn: str, tag: str, source_name: str, made: GeneratedFile) -> dict[str, Any]:
    """What funding holds for this file against what the file holds: per level, the lines'
    committed and disbursed cents; per column, the run record's tally. Any difference is
    listed (none when the import reconciles)."""
    expected: dict[str, int] = {}
    for column in SOURCES:
        level = level_of(column).value
        expected[level] = expected.get(level, 0) + made.cents[column]
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "funding"})
    try:
        by_level = {
            row["level"]: row
            for row in await conn.fetch(
                f"SELECT substring(line_id from '-([A-Z_]+)-{YEAR}$') AS level, sum(committed_cents) AS committed,"
                " sum(disbursed_cents) AS disbursed, count(*) AS lines FROM funding_lines"
                " WHERE line_id LIKE $1 GROUP BY 1",
                f"OC-{tag}-%",
            )
        }
        tally = await conn.fetchval("SELECT tally FROM import_runs WHERE source = $1", source_name)
    finally:
        await conn.close()
    tally = json.loads(tally) if isinstance(tally, str) else (tally or {})
    differences = []
    for level, cents in expected.items():
        got = int(by_level[level]["committed"]) if level in by_level else 0
        if got != cents:
            differences.append(f"level {level}: the file holds {cents} cents, the lines commit {got}")
    disbursed = sum(int(row["disbursed"]) for row in by_level.values())
    if disbursed != made.cents[PAYMENTS]:
        differences.append(f"{PAYMENTS}: the file holds {made.cents[PAYMENTS]} cents, the lines disburse {disbursed}")
    for column, cents in made.cents.items():
        if int(tally.get(column, 0)) != cents:
            differences.append(f"{column}: the file holds {cents} cents, the run record {tally.get(column, 0)}")
    return {"lines": sum(int(row["lines"]) for row in by_level.values()), "differences": differences}


async def _fetchval(dsn: str, sql: str) -> int:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "funding"})
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()
