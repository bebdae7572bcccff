"""The funding service's refusal of an import request, in words for the rejection report.

A batch refusal (`batch_refused`) lists each refused event by its index; a validation
failure names fields such as `events.2.objective_id`. Either way each reason says which
event (its type and line) and which field, so the report reads without the request at hand.
"""

from collections.abc import Sequence


def refusal_reasons(status: int, body: object, events: Sequence[dict]) -> list[str]:
    details = body.get("details") if isinstance(body, dict) else None
    reasons = [_reason(d, events) for d in details or [] if isinstance(d, dict)]
    if reasons:
        return reasons
    message = body.get("message") or body.get("detail") if isinstance(body, dict) else None
    return [f"{status} {message or 'refused without a reason'}"]


def _reason(detail: dict, events: Sequence[dict]) -> str:
    field = str(detail.get("field") or "")
    index = detail.get("index")
    if index is None and field.startswith("events."):  # a validation error: events.<i>.<field>
        _, position, *rest = field.split(".") + [""]
        index, field = (int(position), ".".join(p for p in rest if p)) if position.isdigit() else (None, field)
    event = events[index] if isinstance(index, int) and 0 <= index < len(events) else None
    about = f"{event.get('type')} of {event.get('line_id')}: " if event else ""
    return f"{about}{field + ': ' if field else ''}{detail.get('message', '')}".strip()
