"""An import run: rows in, bulk requests out, every refusal reported, and nothing kept but
the counts and each column's cents, so memory stays flat however long the file.

Sending is a function the caller passes (the CLI's HTTP client, a test's fake, or none for
a dry run): it takes a chunk's submissions (one per row and institution) and the row the
file is sent through once they are recorded, and answers one `Sent` per submission. A row
counts as accepted only when every one of its submissions was; when the funding service
refuses one, the row is reported with the service's reasons. What it did record stays
recorded, and importing the corrected file again replays it (same events, same
Idempotency-Key) instead of recording it twice.

Rows through `skip_through` were recorded by an earlier attempt of the same run (the run
record says so): they are still read and checked, so that the report lists the rows the
file's rules reject again, but nothing of them is sent.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from .mapping import ImportMapping, InstitutionRequest, plan_row
from .reader import ProjectFinancing, RejectedRow, Row

# Rows per bulk request: at 500, a request of a typical file is ~1,000 submissions and
# ~2,500 events, well inside the endpoint's 5,000 and 20,000, and big enough that the
# round trip is a small part of its cost (docs/performance.md has the figures).
ROWS_PER_REQUEST = 500
MAX_SUBMISSIONS, MAX_EVENTS = 5000, 20_000


@dataclass(frozen=True)
class Sent:
    accepted: bool
    replayed: bool = False
    reasons: tuple[str, ...] = ()


SendBulk = Callable[[Sequence[InstitutionRequest], int], list[Sent]]


@dataclass
class Shortfall:
    """Money of one column that was not recorded, for one reason."""

    rows: int = 0
    cents: int = 0


@dataclass
class Tally:
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    skipped: int = 0  # recorded by an earlier attempt of this run
    requests: int = 0
    submissions: int = 0
    replayed: int = 0
    planned: dict[str, int] = field(default_factory=dict)  # cents per column of the accepted rows
    rejected_by_file: dict[str, Shortfall] = field(default_factory=dict)
    refused_by_service: dict[str, Shortfall] = field(default_factory=dict)

    def count_rejection(self, where: dict[str, Shortfall], cents_by_column: dict[str, int]) -> None:
        for column, cents in cents_by_column.items():
            if cents:
                short = where.setdefault(column, Shortfall())
                short.rows += 1
                short.cents += cents


def run_import(
    rows: Iterable[Row],
    mapping: ImportMapping,
    *,
    send: SendBulk | None,
    reject: Callable[[RejectedRow], None],
    tick: Callable[[Tally], None] = lambda _: None,
    skip_through: int = 0,
    rows_per_request: int = ROWS_PER_REQUEST,
) -> Tally:
    tally = Tally()
    chunk: list[tuple[ProjectFinancing, list[InstitutionRequest]]] = []
    submissions = events = 0
    for row in rows:
        tally.read += 1
        outcome = row if isinstance(row, RejectedRow) else plan_row(row, mapping)
        if isinstance(outcome, RejectedRow):
            tally.rejected += 1
            tally.count_rejection(tally.rejected_by_file, dict(outcome.cents_by_column))
            reject(outcome)
        elif tally.read <= skip_through or send is None:
            tally.accepted += 1
            tally.skipped += tally.read <= skip_through
            _add(tally.planned, outcome)
        else:
            assert isinstance(row, ProjectFinancing)
            size = sum(len(r.events) for r in outcome)
            if chunk and (submissions + len(outcome) > MAX_SUBMISSIONS or events + size > MAX_EVENTS):
                _send_chunk(chunk, tally.read - 1, send, tally, reject)
                chunk, submissions, events = [], 0, 0
            chunk.append((row, outcome))
            submissions, events = submissions + len(outcome), events + size
            if len(chunk) >= rows_per_request:
                _send_chunk(chunk, tally.read, send, tally, reject)
                chunk, submissions, events = [], 0, 0
        tick(tally)
    if chunk and send is not None:
        _send_chunk(chunk, tally.read, send, tally, reject)
        tick(tally)
    return tally


def _send_chunk(
    chunk: list[tuple[ProjectFinancing, list[InstitutionRequest]]],
    through: int,
    send: SendBulk,
    tally: Tally,
    reject: Callable[[RejectedRow], None],
) -> None:
    flat = [r for _, requests in chunk for r in requests]
    answers = iter(send(flat, through))
    tally.requests += 1
    tally.submissions += len(flat)
    for row, requests in chunk:
        recorded: list[str] = []
        reasons: list[str] = []
        refused_cents: dict[str, int] = {}
        for request in requests:
            sent = next(answers)
            tally.replayed += sent.replayed
            if sent.accepted:
                recorded.append(request.institution_id)
                _add(tally.planned, [request])
            else:
                for column, cents in request.tally.items():
                    refused_cents[column] = refused_cents.get(column, 0) + cents
                reasons += [
                    f"the funding service refused the events for {request.institution_id}: {reason}"
                    for reason in sent.reasons or ("no reason given",)
                ]
        if not reasons:
            tally.accepted += 1
            continue
        if recorded:
            reasons.append(
                f"the events for {', '.join(recorded)} were recorded; importing the corrected "
                "row again replays them instead of recording them twice"
            )
        tally.rejected += 1
        tally.count_rejection(tally.refused_by_service, refused_cents)
        reject(RejectedRow(row.line_number, row.project_code, reasons, row.cents_by_column))


def _add(planned: dict[str, int], requests: list[InstitutionRequest]) -> None:
    for request in requests:
        for column, cents in request.tally.items():
            planned[column] = planned.get(column, 0) + cents
