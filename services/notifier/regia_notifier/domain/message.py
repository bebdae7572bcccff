"""Backward-compatible shim: the renderer moved to `regia_notifier.domain.messages`.

Kept so `from regia_notifier.domain.message import render_status_change` keeps working
while callers move to `render_alert`; to be deleted once none is left.
"""

from regia_shared.events.objectives import ObjectiveStatusChanged

from .messages import Language, Rendered, one_line, percent, render_alert, status_label
from .occurrences import StatusChange

__all__ = ["Language", "Rendered", "one_line", "percent", "render_status_change", "status_label"]


def render_status_change(change: ObjectiveStatusChanged, *, language: Language, name: str,
                         event_id: str) -> Rendered:
    occurrence = StatusChange(
        objective_id=change.objective_id, title=change.title, fiscal_year=change.fiscal_year,
        previous_status=change.previous_status, status=change.status, coverage_bp=change.coverage_bp,
        need_cents=change.need_cents, committed_cents=change.committed_cents,
        at_risk_threshold_pct=change.at_risk_threshold_pct)
    return render_alert(occurrence, language=language, name=name, event_id=event_id)
