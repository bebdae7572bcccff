"""`regia bench`: Regia's throughput, latency, rebuild time and memory, measured side by
side with what the same broker and database allow and with a per-message baseline."""

import os
from pathlib import Path

import typer


def bench(
    quick: bool = typer.Option(
        False,
        "--quick",
        help="Small sizes: 2,000 events over 200 objectives, HTTP at 200 requests/s, 1 s per propagation"
        " rate, a 2.5 s soak, a 1,000-line ledger, 10,000 lines to read, a plan of 100 nodes, OpenCoesione"
        " files of 500 and 1,000 rows to import.",
    ),
    events: int | None = typer.Option(None, "--events", help="Funding events end to end (default 100,000)."),
    objectives: int | None = typer.Option(None, "--objectives", help="Objectives they fund (default 10,000)."),
    ledger: int | None = typer.Option(
        None, "--ledger", help="Ledger entries the coverage rebuild reads (default 1,000,000)."
    ),
    baseline_events: int | None = typer.Option(
        None, "--baseline-events", help="Events through the per-message baseline."
    ),
    propagation_seconds: float | None = typer.Option(
        None, "--propagation-seconds", help="Seconds at each propagation rate (200, then 400 events/s; default 30)."
    ),
    propagation_rates: str | None = typer.Option(
        None,
        "--propagation-rates",
        help="Comma-separated events/s the propagation section runs at, one after the other (default 200,400;"
        " the targets judge 200 and 400 only). A low rate (50) shows what each event costs unbatched.",
    ),
    soak_seconds: float | None = typer.Option(
        None,
        "--soak-seconds",
        help="Seconds of funding events at 200/s over HTTP while memory is watched (default 600).",
    ),
    partitions: int = typer.Option(
        int(os.environ.get("REGIA_KAFKA_PARTITIONS", "3")),
        "--partitions",
        help="Partitions of every topic (default REGIA_KAFKA_PARTITIONS or 3).",
    ),
    read_lines: int | None = typer.Option(
        None,
        "--read-lines",
        help="Funding lines of the reads section's data set (default 1,000,000; objectives, the"
        " plan's nodes and the big objective's lines in proportion).",
    ),
    plan_nodes: int | None = typer.Option(
        None,
        "--plan-nodes",
        min=3,
        help="Nodes of the plan file the plans section imports three times: new, unchanged, every"
        " need changed (default 3,000, four years of needs), then edits ten of its objectives one at a time.",
    ),
    import_rows: int | None = typer.Option(
        None,
        "--import-rows",
        min=1,
        help="Rows of the OpenCoesione file the import section imports (default 200,000), after"
        " one of 20,000 rows (or as many, if fewer) timed against the issue's 30 s.",
    ),
    replicas: int = typer.Option(1, "--objectives-replicas", help="Objectives service processes."),
    out: Path = typer.Option(Path(".regia/bench.json"), "--out", help="Where the JSON results go."),
    keep: bool = typer.Option(False, "--keep", help="Keep the temporary directory (data and service logs)."),
    count_statements: bool = typer.Option(
        False,
        "--statements",
        help="Count what PostgreSQL runs for each measured load (pg_stat_statements, in the CPU meter's"
        " window): calls, time and WAL per event and the busiest statements, in the JSON and the table. The"
        " counting costs PostgreSQL CPU: read such a run for shares, not for CPU figures beside another run's.",
    ),
    only: str | None = typer.Option(
        None,
        "--only",
        help="Comma-separated sections to measure (limits, baseline,"
        " end_to_end, http, propagation, soak, rebuild, reads, plans, import); default all. Targets need"
        " theirs.",
    ),
) -> None:
    """Benchmark Regia on the embedded default (its own PostgreSQL and Tansu in a temp dir).

    Measures the raw broker and PostgreSQL rates, a one-transaction-per-message baseline, Regia end to end (inbound topic to coverage events) and its CPU per event in every process, HTTP ingestion (closed loop, and single requests on a 1,500/s schedule), funding-to-alert latency at 200 and 400 events/s, memory under 10 minutes of 200 events/s (the soak), the coverage rebuild, read latencies on a region's data (1,000,000 lines), a plan import of 3,000 nodes, an OpenCoesione import of 200,000 rows and each process's peak memory; writes JSON to --out and prints a table with the targets and whether they are met.
    """
    from .run import SECTIONS, Sizes, main

    sizes = Sizes.quick() if quick else Sizes()
    for name, value in (
        ("events", events),
        ("objectives", objectives),
        ("ledger_entries", ledger),
        ("baseline_events", baseline_events),
        ("propagation_seconds", propagation_seconds),
        ("soak_seconds", soak_seconds),
        ("read_lines", read_lines),
        ("plan_nodes", plan_nodes),
        ("import_rows", import_rows),
    ):
        if value is not None:
            setattr(sizes, name, value)
    if events is not None and baseline_events is None:
        sizes.baseline_events = max(100, events // 5)
    if propagation_rates is not None:
        sizes.propagation_rates = _rates(propagation_rates)
    sizes.partitions, sizes.objectives_replicas = partitions, replicas
    sizes.statements = count_statements
    if only is not None:
        chosen = tuple(s.strip() for s in only.split(",") if s.strip())
        unknown = [s for s in chosen if s not in SECTIONS]
        if unknown or not chosen:
            raise typer.BadParameter(
                f"unknown section(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(SECTIONS)}",
                param_hint="--only",
            )
        sizes.sections = chosen
    result = main(sizes, out, keep)
    if "import" in result and not result["import"]["reconciled"]:
        # A figure for an import that lost money would be a figure for the wrong thing.
        typer.echo("benchmark: an OpenCoesione import did not reconcile to the cent (see its checks)", err=True)
        raise typer.Exit(1)


def _rates(text: str) -> tuple[float, ...]:
    """`--propagation-rates`: positive events/s, comma-separated."""
    try:
        rates = tuple(float(r) for r in text.split(",") if r.strip())
    except ValueError:
        rates = ()
    if not rates or any(not 0 < r <= 5_000 for r in rates):
        raise typer.BadParameter(
            f"{text!r}: give events/s between 0 and 5,000, comma-separated (e.g. 50,200)",
            param_hint="--propagation-rates",
        )
    return rates
