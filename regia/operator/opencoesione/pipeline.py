"""An import run: rows in, one request per institution out, every refusal reported, and
nothing kept but the counts, so memory stays flat however long the file.

Sending is a function the caller passes (the CLI's HTTP client, a test's fake, or none for
a dry run). A row counts as accepted only when every one of its requests was; when the
funding service refuses one, the row is reported with the service's reasons. What it did
record stays recorded, and importing the corrected file again replays it (same events,
same Idempotency-Key) instead of recording it twice.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .mapping import ImportMapping, InstitutionRequest, plan_row
from .reader import ProjectFinancing, RejectedRow, Row


@dataclass(frozen=True)
class Sent:
    accepted: bool
    replayed: bool = False
    reasons: tuple[str, ...] = ()


Send = Callable[[InstitutionRequest], Sent]


@dataclass
class Tally:
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    requests: int = 0
    replayed: int = 0


def run_import(
    rows: Iterable[Row],
    mapping: ImportMapping,
    *,
    send: Send | None,
    reject: Callable[[RejectedRow], None],
    tick: Callable[[Tally], None] = lambda _: None,
) -> Tally:
    tally = Tally()
    for row in rows:
        tally.read += 1
        outcome = row if isinstance(row, RejectedRow) else plan_row(row, mapping)
        if isinstance(row, ProjectFinancing) and isinstance(outcome, list) and send is not None:
            outcome = _send_all(row, outcome, send, tally)
        if isinstance(outcome, RejectedRow):
            tally.rejected += 1
            reject(outcome)
        else:
            tally.accepted += 1
        tick(tally)
    return tally


def _send_all(
    row: ProjectFinancing, requests: list[InstitutionRequest], send: Send, tally: Tally
) -> list[InstitutionRequest] | RejectedRow:
    recorded: list[str] = []
    reasons: list[str] = []
    for request in requests:
        sent = send(request)
        tally.requests += 1
        tally.replayed += sent.replayed
        if sent.accepted:
            recorded.append(request.institution_id)
        else:
            reasons += [
                f"the funding service refused the events for {request.institution_id}: {reason}"
                for reason in sent.reasons or ("no reason given",)
            ]
    if not reasons:
        return requests
    if recorded:
        reasons.append(
            f"the events for {', '.join(recorded)} were recorded; importing the corrected "
            "row again replays them instead of recording them twice"
        )
    return RejectedRow(row.line_number, row.project_code, reasons)
