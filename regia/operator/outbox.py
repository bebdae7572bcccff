"""`regia outbox replay`: publish again what the broker lost.

Every service keeps the events it published in its outbox (rows are pruned after the
retention period, 7 days). After the broker lost messages, `replay` asks each named service
to re-create its topics and publish again every event written since a time; consumers
ignore the ones they had already applied, so replaying from too early is safe, from too
late is not. See README, "When the broker loses messages". `regia up` does this by itself
for the embedded broker it runs (regia/local/stack.py, BrokerIncarnations); this command is for
a broker it does not run.
"""

import re
from datetime import UTC, datetime, timedelta

import typer

from regia_shared.contracts import catalogue
from regia_shared.contracts.catalogue import SERVICE_NAMES as SERVICES

from .admin import DEFAULT_URLS, ServiceClient, admin_token_from_env, reported

RETENTION_DAYS = 7  # OutboxRelay's retention_days

outbox_app = typer.Typer(
    help="The services' outboxes: republish events after the broker lost them (needs "
    "REGIA_ADMIN_TOKEN; REGIA_<SERVICE>_URL says where a service listens, default "
    f"{DEFAULT_URLS}).",
    no_args_is_help=True,
)

_RELATIVE = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 instant (UTC if no zone is given) or a duration back from now: 30m, 2h, 1d."""
    now = now or datetime.now(UTC)
    match = _RELATIVE.match(value.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        instant = datetime.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither an ISO 8601 time (2026-03-01T09:30:00+01:00) nor a duration (30m, 2h, 1d)"
        ) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


@outbox_app.command("replay")
def replay(
    service: list[str] = typer.Option(
        ..., "--service", "-s", help="funding, objectives, partners, notifier or all; repeatable"
    ),
    since: str = typer.Option(
        ...,
        "--since",
        help="Republish events written since this time: ISO 8601 or a duration "
        "back from now (30m, 2h, 1d). Take it from before the broker lost them.",
    ),
) -> None:
    """Re-create the topics and republish every event the services wrote since a time."""
    names = list(SERVICES) if "all" in service else service
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        typer.echo(f"error: unknown service {', '.join(unknown)}; choose from {', '.join(SERVICES)} or all", err=True)
        raise typer.Exit(2)
    instant = parse_since(since)
    with reported():
        token = admin_token_from_env()
        for name in dict.fromkeys(names):
            with ServiceClient(name, catalogue.service(name).url(), token, timeout=60) as client:
                result = client.request(
                    "POST", "/v1/ops/outbox/replay", json={"since": instant.isoformat()}, ok=(200,)
                ).json()
            typer.echo(f"{name}: {result['requeued']} events queued to publish again since {instant.isoformat()}")
    if instant < datetime.now(UTC) - timedelta(days=RETENTION_DAYS):
        typer.echo(
            f"warning: the outboxes keep published events {RETENTION_DAYS} days; older ones "
            "are gone and cannot be replayed (rebuild the projections instead)",
            err=True,
        )
