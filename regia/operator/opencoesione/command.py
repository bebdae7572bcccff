"""`regia import opencoesione`: record OpenCoesione's projects as funding lines.

Two passes over the file, both streamed. The first reads amounts only: each money column's
total, so that a column with money and no level (or a level with no institution) stops the
import before anything is sent, naming the option that would map it, and so that the
summary can reconcile what was recorded to the file, column by column, to the cent. The
second sends the rows to the funding service's bulk import endpoint, hundreds at a time:
each request is one transaction that also moves the run's record (how far the file has
been sent, what each column has recorded). A run killed and started again reads that record
and goes on after the last row recorded; a request in flight when it was killed either
committed (and is skipped) or did not (and is sent again; its keys replay what exists).

Exit status: 0 every row recorded and the file reconciles; 3 some rows rejected or refused
(each in the report, or, for refusals in an earlier attempt of the run, counted in cents per
column by the run record; the differences are theirs); 4 the file does not reconcile to the
cent (money neither recorded, rejected nor refused: look before trusting the ledger); 1 the import did not start
or stopped (nothing more was sent; run it again to go on).
"""

import contextlib
import hashlib
import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from regia_shared.contracts.catalogue import FUNDING
from regia_shared.contracts.money import format_euro
from regia_shared.writes import reason_header

from ..admin import AdminError, admin_token_from_env, problem
from .config import ConfigError, check_slug, parse_column_option, parse_level_option, parse_objective_map
from .mapping import ImportMapping, InstitutionRequest
from .pipeline import ROWS_PER_REQUEST, Sent, Tally, run_import
from .reader import PAYMENTS, FileTotals, HeaderError, RejectedRow, column_totals, read_projects
from .refusals import refusal_reasons
from .report import REASON_SEPARATOR, RejectionReport

SOURCE = "opencoesione"
ENDPOINT, RUNS = "/v1/imports/funding-events/bulk", "/v1/imports/runs"
SHOWN_WITHOUT_REPORT = 20
EXIT_STOPPED, EXIT_REJECTED, EXIT_UNRECONCILED = 1, 3, 4

import_app = typer.Typer(
    help="Import funding from public sources through the funding service's admin "
    f"import endpoint (needs REGIA_ADMIN_TOKEN; {FUNDING.url_var}, default "
    f"{FUNDING.default_url}, says where funding listens).",
    no_args_is_help=True,
)


@import_app.command("opencoesione")
def opencoesione(
    file: Path = typer.Argument(
        ...,
        metavar="FILE.csv",
        exists=True,
        dir_okay=False,
        help="OpenCoesione projects CSV (';', UTF-8 with BOM, decimal commas)",
    ),
    fiscal_year: int = typer.Option(
        ..., "--fiscal-year", min=1990, max=2100, help="The fiscal year the commitments are for"
    ),
    objective: str | None = typer.Option(None, "--objective", help="One objective for every project"),
    objective_map: Path | None = typer.Option(
        None,
        "--objective-map",
        exists=True,
        dir_okay=False,
        help="CSV 'project;objective_id': one objective per project",
    ),
    level: list[str] = typer.Option(
        [],
        "--level",
        metavar="LEVEL=INSTITUTION:INSTRUMENT",
        help="Who records a level's share, e.g. REGIONE=regione-liguria:"
        "por-fesr-liguria; once per level (EU, STATO, REGIONE, PROVINCIA, "
        "COMUNE, PRIVATE, OTHER_PUBLIC, FOREIGN_STATE)",
    ),
    column: list[str] = typer.Option(
        [],
        "--column",
        metavar="COLUMN=LEVEL",
        help="The level a money column's money is at, over the defaults (FINANZ_UE EU, "
        "FINANZ_STATO_* STATO, FINANZ_REGIONE REGIONE, FINANZ_PROVINCIA PROVINCIA, FINANZ_COMUNE "
        "COMUNE, FINANZ_PRIVATO PRIVATE, FINANZ_ALTRO_PUBBLICO OTHER_PUBLIC, FINANZ_STATO_ESTERO "
        "FOREIGN_STATE); FINANZ_RISORSE_LIBERATE has none: say whose, e.g. "
        "FINANZ_RISORSE_LIBERATE=REGIONE",
    ),
    history: bool = typer.Option(
        False,
        "--history",
        help="Record as history (channel history:opencoesione): a closed year's money. "
        "Automatic for a year before funding's budget window",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and map every row; send nothing"),
    report: Path | None = typer.Option(None, "--report", help="Write every rejected row to this CSV"),
    rows_per_request: int = typer.Option(
        ROWS_PER_REQUEST, "--rows-per-request", min=1, max=5000, help="Rows sent in one bulk request"
    ),
) -> None:
    """Stream FILE.csv, commit each project's funding per level and spread its payments over
    those lines, then reconcile every money column to the file. Exit status: 0 all rows
    recorded, 3 some rows rejected, 4 the file does not reconcile to the cent, 1 the import
    did not start or stopped (run it again: it resumes)."""
    seen = [Tally()]  # the run's counts so far, to say where a stopped import got to
    try:
        mapping = _mapping(fiscal_year, objective, objective_map, level, column)
        totals = _first_pass(file)
        _check_every_column_is_mapped(totals, mapping)
        with contextlib.ExitStack() as stack:
            sender = None if dry_run else stack.enter_context(FundingSender.from_env())
            channel = (
                f"history:{SOURCE}" if history or (sender and sender.is_closed(fiscal_year)) else f"import:{SOURCE}"
            )
            run_id = _run_id(file, mapping, channel)
            earlier = sender.run(run_id) if sender else None
            skip = int(earlier["through"]) if earlier else 0
            if earlier:
                typer.echo(_resuming(earlier), err=True)
            binary = stack.enter_context(file.open("rb"))
            rows = read_projects(io.TextIOWrapper(binary, encoding="utf-8-sig", newline=""))
            reject = _Rejections(
                stack.enter_context(report.open("w", encoding="utf-8", newline="")) if report else None
            )
            send = sender.bulk(channel, run_id, file.name) if sender else None
            with _progress(totals.rows, _resuming(earlier) if earlier else "") as tick:

                def on_row(tally: Tally) -> None:
                    seen[0] = tally
                    tick(tally)

                tally = run_import(
                    rows,
                    mapping,
                    send=send,
                    reject=reject,
                    tick=on_row,
                    skip_through=skip,
                    rows_per_request=rows_per_request,
                )
            recorded = sender.last_run["tally"] if sender and sender.last_run else (earlier or {}).get("tally")
    except (ConfigError, HeaderError, AdminError) as exc:
        typer.echo(f"error: {exc}", err=True)
        if seen[0].read:
            t = seen[0]  # counted as read when it started, so t.read is the row it stopped at
            typer.echo(
                f"stopped at row {t.read}; before it {t.accepted} accepted, {t.rejected} rejected "
                "(run the same import again to go on: it resumes after the last row recorded)",
                err=True,
            )
        raise typer.Exit(EXIT_STOPPED) from None
    except UnicodeDecodeError as exc:
        typer.echo(
            f"error: {file} is not UTF-8 (byte {exc.start} of a block): OpenCoesione publishes "
            f"UTF-8; convert it, e.g. iconv -f latin1 -t utf-8",
            err=True,
        )
        raise typer.Exit(EXIT_STOPPED) from None
    refused_before = _EarlierRefusals.of(earlier)
    _summary(file, fiscal_year, tally, dry_run, report, reject, channel, refused_before)
    reconciled = _reconciliation(totals, tally, tally.planned if dry_run else (recorded or {}), refused_before)
    if not reconciled:
        raise typer.Exit(EXIT_UNRECONCILED)
    if tally.rejected or refused_before.submissions:
        raise typer.Exit(EXIT_REJECTED)


def _mapping(
    fiscal_year: int, objective: str | None, objective_map: Path | None, levels: list[str], columns: list[str]
) -> ImportMapping:
    if (objective is None) == (objective_map is None):
        raise ConfigError("give either --objective OBJECTIVE_ID or --objective-map FILE.csv")
    if not levels:
        raise ConfigError("give at least one --level LEVEL=INSTITUTION:INSTRUMENT")
    targets = dict(parse_level_option(text) for text in levels)
    if len(targets) != len(levels):
        raise ConfigError("each level may be given only once with --level")
    by_column = dict(parse_column_option(text) for text in columns)
    if len(by_column) != len(columns):
        raise ConfigError("each column may be given only once with --column")
    if objective is not None:
        check_slug("--objective", objective)
        return ImportMapping(targets, fiscal_year, objective_id=objective, columns=by_column)
    assert objective_map is not None
    with objective_map.open(encoding="utf-8-sig", newline="") as stream:
        return ImportMapping(targets, fiscal_year, objectives_by_project=parse_objective_map(stream), columns=by_column)


def _first_pass(file: Path) -> FileTotals:
    with file.open(encoding="utf-8-sig", newline="") as stream:
        return column_totals(stream)


def _check_every_column_is_mapped(totals: FileTotals, mapping: ImportMapping) -> None:
    """Refuse to start while any money column with money in it would record nothing."""
    problems = []
    for column, cents in totals.cents.items():
        if column == PAYMENTS or not cents:
            continue
        where = (
            f"{column} holds {format_euro(cents)} in {totals.rows_with_money[column]} rows "
            f"(lines {', '.join(map(str, totals.first_lines[column]))}"
            f"{', ...' if totals.rows_with_money[column] > len(totals.first_lines[column]) else ''})"
        )
        level = mapping.level_of(column)
        if level is None:
            problems.append(
                f"{where} and no level: add --column {column}=LEVEL (the level whose money it is, "
                "e.g. REGIONE) and, for that level, --level LEVEL=INSTITUTION:INSTRUMENT"
            )
        elif level not in mapping.targets:
            problems.append(
                f"{where} at level {level.value}, and no institution records that level: "
                f"add --level {level.value}=INSTITUTION:INSTRUMENT"
            )
    if problems:
        raise ConfigError(
            "the import would not record every euro of the file, so it does not start (nothing was sent):\n  "
            + "\n  ".join(problems)
        )


def _run_id(file: Path, mapping: ImportMapping, channel: str) -> str:
    """The same file, mapping, year and channel: the same run, which a new start resumes."""
    digest = hashlib.sha256()
    with file.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    digest.update(json.dumps([mapping.fingerprint(), channel], sort_keys=True).encode())
    return f"oc-{digest.hexdigest()[:40]}"


def _resuming(run: dict[str, Any]) -> str:
    return f"resuming at row {int(run['through']) + 1} ({run['through']} rows already recorded)"


class _Rejections:
    """To the report file if there is one; else the first few to stderr."""

    def __init__(self, stream: TextIO | None) -> None:
        self.write = RejectionReport(stream) if stream is not None else None
        self.shown = 0

    def __call__(self, row: RejectedRow) -> None:
        if self.write is not None:
            self.write(row)
        elif self.shown < SHOWN_WITHOUT_REPORT:
            self.shown += 1
            typer.echo(
                f"line {row.line_number}, project {row.project_code or '?'}: {REASON_SEPARATOR.join(row.reasons)}",
                err=True,
            )


@contextlib.contextmanager
def _progress(rows: int, resuming: str) -> Iterator[Callable[[Tally], None]]:
    columns = (
        TextColumn("[bold]OpenCoesione"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task("import", total=rows, counts=resuming)
        last = [Tally()]

        def tick(tally: Tally) -> None:
            last[0] = tally
            if tally.read % 250 == 0:  # rich redraws ten times a second; no need to tell it more
                progress.update(task, completed=tally.read, counts=_counts(tally, resuming))

        yield tick
        progress.update(task, completed=last[0].read, counts=_counts(last[0], resuming))


def _counts(t: Tally, resuming: str) -> str:
    return (f"{resuming} · " if resuming else "") + f"accepted {t.accepted} · rejected {t.rejected}"


def _summary(
    file: Path,
    year: int,
    t: Tally,
    dry_run: bool,
    report: Path | None,
    reject: _Rejections,
    channel: str,
    before: "_EarlierRefusals",
) -> None:
    typer.echo(
        f"OpenCoesione import of {file.name} for fiscal year {year} on channel {channel}"
        + (" (dry run: nothing was sent)" if dry_run else "")
    )
    typer.echo(f"rows read:     {t.read}")
    # Rows an earlier attempt sent are not sent again, so which of them the service refused is
    # known only in cents (the run record's refused_tally): say so rather than count them in.
    earlier = ""
    if t.skipped:
        refused = (
            f"; the service refused {before.submissions} of its submissions, in the table below"
            if before.submissions
            else ""
        )
        earlier = f" ({t.skipped} sent by an earlier attempt{refused})"
    typer.echo(f"accepted:      {t.accepted}{earlier}")
    where = (
        f" (reasons in {report})"
        if report
        else (f" (first {reject.shown} shown above; --report FILE lists them all)" if t.rejected else "")
    )
    typer.echo(f"rejected:      {t.rejected}{where}")
    if not dry_run:
        typer.echo(
            f"requests sent: {t.requests} ({t.submissions} submissions, {t.replayed} replayed: already recorded)"
        )


@dataclass(frozen=True)
class _EarlierRefusals:
    """What the funding service refused in earlier attempts of this run, from the run record:
    those rows are skipped now (they were sent), so their cents come from its refused_tally."""

    submissions: int = 0
    cents: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, run: dict[str, Any] | None) -> "_EarlierRefusals":
        if not run:
            return cls()
        return cls(int(run.get("refused", 0)), {k: int(v) for k, v in (run.get("refused_tally") or {}).items()})


def _reconciliation(totals: FileTotals, t: Tally, recorded: dict[str, int], before: _EarlierRefusals) -> bool:
    """Per column: the file's total, what was recorded, and each difference with its reason.
    True when every column adds up to the cent: every cent of the file recorded, rejected by
    the file's rules, or refused by the funding service (in this attempt or an earlier one)."""
    width = max(len(c) for c in totals.cents)
    typer.echo("")
    typer.echo(f"{'column':<{width}}  {'in the file':>20}  {'recorded':>20}  difference")
    adds_up = True
    for column, in_file in totals.cents.items():
        got = recorded.get(column, 0)
        why, left = _why(column, in_file - got, t, before)
        typer.echo(f"{column:<{width}}  {format_euro(in_file):>20}  {format_euro(got):>20}  {why}")
        adds_up = adds_up and not left
    typer.echo(
        "every column reconciles to the cent" if adds_up else "THE FILE DOES NOT RECONCILE: see the differences above"
    )
    return adds_up


def _why(column: str, difference: int, t: Tally, before: _EarlierRefusals) -> tuple[str, int]:
    """The difference with its reasons, and what of it no reason explains (0 when it adds up)."""
    if not difference:
        return "none", 0
    reasons = []
    left = difference
    for label, where in (
        ("rejected by the file's rules", t.rejected_by_file),
        ("refused by the funding service", t.refused_by_service),
    ):
        short = where.get(column)
        if short and short.cents:
            reasons.append(f"{label}: {short.rows} rows, {format_euro(short.cents)}, see the report")
            left -= short.cents
    if before.cents.get(column):
        reasons.append(
            f"refused by the funding service in an earlier attempt of this run: {format_euro(before.cents[column])} "
            f"(of its {before.submissions} refused submissions; that attempt's report has the rows)"
        )
        left -= before.cents[column]
    if left:
        reasons.append(f"UNEXPLAINED: {'-' if left < 0 else ''}{format_euro(abs(left))}")
    return f"{'-' if difference < 0 else ''}{format_euro(abs(difference))} ({'; '.join(reasons)})", left


class FundingSender:
    """Talks to the funding service's admin import endpoints. A refusal of a submission
    becomes its row's reasons; anything that would refuse every row (no service, a wrong
    token, a service without the endpoint, a server error, a request it cannot read) stops
    the import, which is safe to run again: it resumes."""

    def __init__(self, base_url: str, token: str, timeout: float = 120.0) -> None:
        self.where = f"the funding service at {base_url}"
        self.last_run: dict[str, Any] | None = None
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout, headers={"Authorization": f"Bearer {token}"}
        )

    @classmethod
    def from_env(cls) -> "FundingSender":
        token = admin_token_from_env()
        return cls(FUNDING.url(), token)

    def __enter__(self) -> "FundingSender":
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def is_closed(self, fiscal_year: int) -> bool:
        """Whether the year is before funding's budget window (and so history)."""
        r = self._call("GET", "/v1/budget-window")
        if r.status_code == 404:
            return False  # a service without the window's read: its own rules decide
        self._stop_unless_ok(r, "/v1/budget-window")
        return fiscal_year < int(r.json()["first_year"])

    def run(self, run_id: str) -> dict[str, Any] | None:
        r = self._call("GET", f"{RUNS}/{run_id}")
        if r.status_code == 404 and problem(r) != "Not Found":
            return None  # no such run yet (a service without the route says just "Not Found")
        self._stop_unless_ok(r, f"{RUNS}/{{id}}")
        self.last_run = r.json()
        return self.last_run

    def bulk(self, channel: str, run_id: str, source: str) -> Callable[[Sequence[InstitutionRequest], int], list[Sent]]:
        def send(requests: Sequence[InstitutionRequest], through: int) -> list[Sent]:
            body = {
                "channel": channel,
                "run": {"id": run_id, "source": source[:200], "through": through},
                "submissions": [
                    {
                        "institution_id": r.institution_id,
                        "idempotency_key": r.idempotency_key,
                        "events": r.events,
                        "tally": r.tally,
                    }
                    for r in requests
                ],
            }
            # Why, for the audit trail: the request's one row names the file and the run.
            why = reason_header(f"OpenCoesione import of {Path(source).name}, run {run_id}"[:500])
            answer = self._call("POST", ENDPOINT, json=body, headers=why)
            self._stop_unless_ok(answer, ENDPOINT)
            found = answer.json()
            self.last_run = found.get("run")
            return [_sent(result, r.events) for result, r in zip(found["results"], requests, strict=True)]

        return send

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise AdminError(
                f"cannot reach {self.where} ({type(exc).__name__}): is it running? "
                "Rows already sent are recorded; run the import again to go on"
            ) from None

    def _stop_unless_ok(self, r: httpx.Response, path: str) -> None:
        if r.status_code == 200:
            return
        if r.status_code == 401:
            raise AdminError(
                f"{self.where} refused the admin token: REGIA_ADMIN_TOKEN is not the "
                "token the services were started with"
            )
        raise AdminError(f"{path} on {self.where} answered {r.status_code}: {problem(r)}")


def _sent(result: dict[str, Any], events: list[dict]) -> Sent:
    if result["status"] in ("accepted", "replayed"):
        return Sent(True, replayed=result["status"] == "replayed")
    return Sent(False, reasons=tuple(refusal_reasons(422, result, events)))
