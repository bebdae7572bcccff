"""`regia import opencoesione`: record OpenCoesione's projects as funding lines.

The file is streamed, never loaded: each valid row becomes one request per institution to
the funding service's admin import endpoint, atomic on the service's side and keyed by an
Idempotency-Key derived from its events, so running the same import twice records nothing
new. Refused rows, by the file's rules or by the service's, go to the report.
"""

import contextlib
import io
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

from regia_shared.contracts.catalogue import FUNDING

from ..admin import AdminError, admin_token_from_env, problem
from .config import ConfigError, check_slug, parse_level_option, parse_objective_map
from .mapping import ImportMapping, InstitutionRequest
from .pipeline import Sent, Tally, run_import
from .reader import HeaderError, RejectedRow, read_projects
from .refusals import refusal_reasons
from .report import REASON_SEPARATOR, RejectionReport

CHANNEL, ENDPOINT = "import:opencoesione", "/v1/imports/funding-events"
SHOWN_WITHOUT_REPORT = 20
EXIT_REJECTED = 3

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
        "COMUNE, PRIVATE)",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and map every row; send nothing"),
    report: Path | None = typer.Option(None, "--report", help="Write every rejected row to this CSV"),
) -> None:
    """Stream FILE.csv, commit each project's funding per level and spread its payments over
    those lines. Exit status: 0 all rows recorded, 3 some rows rejected, 1 the import stopped."""
    seen = [Tally()]  # the run's counts so far, to say where a stopped import got to
    try:
        mapping = _mapping(fiscal_year, objective, objective_map, level)
        with contextlib.ExitStack() as stack:
            sender = None if dry_run else stack.enter_context(FundingSender.from_env())
            binary = stack.enter_context(file.open("rb"))
            rows = read_projects(io.TextIOWrapper(binary, encoding="utf-8-sig", newline=""))
            reject = _Rejections(
                stack.enter_context(report.open("w", encoding="utf-8", newline="")) if report else None
            )
            with _progress(file.stat().st_size) as tick:

                def on_row(tally: Tally) -> None:
                    seen[0] = tally
                    tick(tally, binary.tell())

                tally = run_import(rows, mapping, send=sender.send if sender else None, reject=reject, tick=on_row)
    except (ConfigError, HeaderError, AdminError) as exc:
        typer.echo(f"error: {exc}", err=True)
        if seen[0].read:
            t = seen[0]  # counted as read when it started, so t.read is the row it stopped at
            typer.echo(
                f"stopped at row {t.read}; before it {t.accepted} accepted, {t.rejected} rejected "
                "(run the same import again to go on: what was recorded is replayed)",
                err=True,
            )
        raise typer.Exit(1) from None
    except UnicodeDecodeError as exc:
        typer.echo(
            f"error: {file} is not UTF-8 (byte {exc.start} of a block): OpenCoesione publishes "
            f"UTF-8; convert it, e.g. iconv -f latin1 -t utf-8",
            err=True,
        )
        raise typer.Exit(1) from None
    _summary(file, fiscal_year, tally, dry_run, report, reject)
    if tally.rejected:
        raise typer.Exit(EXIT_REJECTED)


def _mapping(fiscal_year: int, objective: str | None, objective_map: Path | None, levels: list[str]) -> ImportMapping:
    if (objective is None) == (objective_map is None):
        raise ConfigError("give either --objective OBJECTIVE_ID or --objective-map FILE.csv")
    if not levels:
        raise ConfigError("give at least one --level LEVEL=INSTITUTION:INSTRUMENT")
    targets = dict(parse_level_option(text) for text in levels)
    if len(targets) != len(levels):
        raise ConfigError("each level may be given only once with --level")
    if objective is not None:
        check_slug("--objective", objective)
        return ImportMapping(targets, fiscal_year, objective_id=objective)
    assert objective_map is not None
    with objective_map.open(encoding="utf-8-sig", newline="") as stream:
        return ImportMapping(targets, fiscal_year, objectives_by_project=parse_objective_map(stream))


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
def _progress(size: int) -> Iterator[Callable[[Tally, int], None]]:
    columns = (TextColumn("[bold]OpenCoesione"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[counts]}"))
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task("import", total=size, counts="")
        step, last = itertools.count(), [Tally()]

        def tick(tally: Tally, position: int) -> None:
            last[0] = tally
            if next(step) % 250 == 0:  # rich redraws ten times a second; no need to tell it more
                progress.update(task, completed=position, counts=_counts(tally))

        yield tick
        progress.update(task, completed=size, counts=_counts(last[0]))


def _counts(t: Tally) -> str:
    return f"read {t.read} · accepted {t.accepted} · rejected {t.rejected}"


def _summary(file: Path, year: int, t: Tally, dry_run: bool, report: Path | None, reject: _Rejections) -> None:
    typer.echo(
        f"OpenCoesione import of {file.name} for fiscal year {year}"
        + (" (dry run: nothing was sent)" if dry_run else "")
    )
    typer.echo(f"rows read:     {t.read}")
    typer.echo(f"accepted:      {t.accepted}")
    where = (
        f" (reasons in {report})"
        if report
        else (f" (first {reject.shown} shown above; --report FILE lists them all)" if t.rejected else "")
    )
    typer.echo(f"rejected:      {t.rejected}{where}")
    if not dry_run:
        typer.echo(f"requests sent: {t.requests} ({t.replayed} replayed: already recorded)")


class FundingSender:
    """POSTs each request to the admin import endpoint. A refusal of the request becomes
    the row's reasons; anything that would refuse every row (no service, a wrong token, a
    service without the endpoint, a server error) stops the import, which is safe to rerun."""

    def __init__(self, base_url: str, token: str, timeout: float = 30.0) -> None:
        self.where = f"the funding service at {base_url}"
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

    def send(self, request: InstitutionRequest) -> Sent:
        try:
            r = self._http.post(
                ENDPOINT, json=request.body(CHANNEL), headers={"Idempotency-Key": request.idempotency_key}
            )
        except httpx.HTTPError as exc:
            raise AdminError(
                f"cannot send to {self.where} ({type(exc).__name__}): is it running? "
                "Rows already sent are recorded; run the import again to go on"
            ) from None
        if r.status_code in (200, 201, 202):
            return Sent(True, replayed=r.headers.get("Idempotent-Replayed") == "true")
        if r.status_code == 401:
            raise AdminError(
                f"{self.where} refused the admin token: REGIA_ADMIN_TOKEN is not the "
                "token the services were started with"
            )
        missing = r.status_code in (404, 405) and problem(r) in ("Not Found", "Method Not Allowed")
        if r.status_code >= 500 or missing:  # every row would fail alike: stop
            raise AdminError(f"POST {ENDPOINT} on {self.where} answered {r.status_code}: {problem(r)}")
        try:
            body = r.json()
        except ValueError:
            body = {"message": r.text[:300]}
        return Sent(False, reasons=tuple(refusal_reasons(r.status_code, body, request.events)))
