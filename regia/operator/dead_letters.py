"""`regia dead-letters`: list the alerts the notifier gave up on, and put them back once the
cause (a mail server down, a partner's webhook broken) is fixed.

A retried delivery gets a fresh budget of attempts; one that is no longer dead (delivered,
or already retried) is left alone and reported as such, so running a retry twice is safe.
"""

import typer

from regia_shared.contracts.catalogue import NOTIFIER

from .admin import ServiceClient, admin_token_from_env, reported

dead_letters_app = typer.Typer(
    help="Dead letters on the notifier: alerts nobody will try again (needs REGIA_ADMIN_TOKEN; "
    f"{NOTIFIER.url_var}, default {NOTIFIER.default_url}, says where the notifier listens).",
    no_args_is_help=True,
)

CHANNEL = typer.Option(None, "--channel", help="Only this channel: email or webhook")
OBJECTIVE = typer.Option(None, "--objective", help="Only alerts about this objective id")
CONTACT = typer.Option(None, "--contact", help="Only alerts to this contact id")


def notifier_client() -> ServiceClient:
    return ServiceClient(NOTIFIER.name, NOTIFIER.url(), admin_token_from_env())


def _filters(channel: str | None, objective: str | None, contact: str | None) -> dict[str, str]:
    given = {"channel": channel, "objective_id": objective, "contact_id": contact}
    return {name: value for name, value in given.items() if value}


@dead_letters_app.command("list")
def list_dead_letters(
    channel: str | None = CHANNEL,
    objective: str | None = OBJECTIVE,
    contact: str | None = CONTACT,
    limit: int = typer.Option(100, "--limit", min=1, max=1000, help="At most this many, newest first"),
) -> None:
    """List dead deliveries, the most recently given up first, with their last error."""
    with reported(), notifier_client() as notifier:
        rows = notifier.listing("/v1/dead-letters", _filters(channel, objective, contact), limit)
    if not rows:
        typer.echo("no dead letters")
        return
    typer.echo(f"{'delivery_id':<36}  {'channel':<7}  {'attempts':>8}  {'finished_at':<32}  recipient")
    for row in rows:
        typer.echo(
            f"{row['delivery_id']:<36}  {row['channel']:<7}  {row['attempts']:>8}  "
            f"{str(row.get('finished_at') or ''):<32}  {row['recipient']}"
        )
        typer.echo(f"{'':<38}last error: {row.get('last_error') or 'unknown'}")


@dead_letters_app.command("retry")
def retry(
    delivery_ids: list[str] = typer.Argument(
        None, metavar="DELIVERY_ID", help="The deliveries to retry, as `list` shows them"
    ),
    all_: bool = typer.Option(False, "--all", help="Retry every dead delivery (narrowed by the filters)"),
    channel: str | None = CHANNEL,
    objective: str | None = OBJECTIVE,
    contact: str | None = CONTACT,
) -> None:
    """Put dead deliveries back in the queue, due now, each with a fresh budget of attempts."""
    filters = _filters(channel, objective, contact)
    if bool(delivery_ids) == all_:
        typer.echo("error: name the deliveries to retry, or pass --all (not both)", err=True)
        raise typer.Exit(2)
    if delivery_ids and filters:
        typer.echo(
            "error: --channel, --objective and --contact narrow --all; with ids the ids alone say what is retried",
            err=True,
        )
        raise typer.Exit(2)
    body = {"all": True, **filters} if all_ else {"delivery_ids": delivery_ids}
    with reported(), notifier_client() as notifier:
        result = notifier.request("POST", "/v1/dead-letters/retry", json=body, ok=(200,)).json()
    retried = result.get("retried", [])
    typer.echo(f"retried {len(retried)} dead deliver{'y' if len(retried) == 1 else 'ies'}")
    for delivery_id in retried:
        typer.echo(f"  {delivery_id}")
    for key, why in (
        ("not_dead", "not dead (delivered or already retried), left alone"),
        ("unknown", "no such delivery"),
    ):
        for delivery_id in result.get(key, []):
            typer.echo(f"  {delivery_id}: {why}")
    # Asked for ids of which none could be retried: say so in the exit status too.
    if delivery_ids and not retried:
        raise typer.Exit(1)
