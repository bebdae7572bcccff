"""`regia poison`: list the poison messages the services' consumers set aside, and replay
them once the cause is fixed (a consumer deployed that reads the new version, a producer
corrected).

A replay has the service apply the stored record through its consumer's own path (decode,
claim, apply), in the transaction that marks it replayed; its inbox (or, for objectives'
funding lines, the version held) makes a replay of an event it already applied change
nothing, a record still unreadable stays pending with its new error, and a replayed dead
letter is left alone the next time.
"""

import typer

from regia_shared.contracts import catalogue
from regia_shared.contracts.catalogue import SERVICE_NAMES as SERVICES

from .admin import DEFAULT_URLS, AdminError, ServiceClient, admin_token_from_env, reported

poison_app = typer.Typer(
    help="Poison messages: events a consumer could not read, set aside on its dead-letter topic "
    f"(needs REGIA_ADMIN_TOKEN; REGIA_<SERVICE>_URL, default {DEFAULT_URLS}, says where "
    "each service listens).",
    no_args_is_help=True,
)

SERVICE = typer.Option(None, "--service", help=f"Only this service: {', '.join(SERVICES)}")
CONSUMER = typer.Option(
    None, "--consumer", help="Only this consumer, e.g. objectives.funding (its service is the first part)"
)


def services_for(service: str | None, consumer: str | None) -> list[str]:
    """The services asked: the one named, the consumer's own (its name starts with its
    service), or all of them."""
    if service is not None and service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}; one of {', '.join(SERVICES)}", param_hint="--service")
    owner = consumer.split(".", 1)[0] if consumer else None
    if owner is not None and owner not in SERVICES:
        raise typer.BadParameter(
            f"{consumer!r} is not a consumer of a Regia service "
            "(they are named <service>.<topic>, e.g. objectives.funding)",
            param_hint="--consumer",
        )
    if service and owner and service != owner:
        raise typer.BadParameter(f"{consumer} is a consumer of {owner}, not of {service}", param_hint="--consumer")
    chosen = service or owner
    return [chosen] if chosen else list(SERVICES)


def client(name: str, token: str) -> ServiceClient:
    return ServiceClient(name, catalogue.service(name).url(), token)


@poison_app.command("list")
def list_poison(
    service: str | None = SERVICE,
    consumer: str | None = CONSUMER,
    all_: bool = typer.Option(False, "--all", help="Also those replayed already"),
    limit: int = typer.Option(100, "--limit", min=1, max=1000, help="At most this many per service"),
) -> None:
    """List dead letters (those not replayed yet, unless --all), with the error that set each aside."""
    names = services_for(service, consumer)
    query: dict[str, object] = {"pending": str(not all_).lower()}
    if consumer:
        query["consumer"] = consumer
    failed = shown = 0
    with reported():
        token = admin_token_from_env()
    for name in names:
        try:
            with client(name, token) as svc:
                rows = svc.listing("/v1/ops/dead-letters", query, limit)
        except AdminError as exc:
            typer.echo(f"error: {exc}", err=True)
            failed += 1
            continue
        for row in rows:
            if not shown:
                typer.echo(
                    f"{'service':<10}  {'id':>6}  {'consumer':<22}  {'topic@partition:offset':<36}  "
                    f"{'replayed':<8}  key"
                )
            shown += 1
            where = f"{row['topic']}@{row['partition']}:{row['offset']}"
            typer.echo(
                f"{name:<10}  {row['id']:>6}  {row['consumer']:<22}  {where:<36}  "
                f"{'yes' if row.get('replayed_at') else 'no':<8}  {row.get('key') or ''}"
            )
            typer.echo(f"{'':<20}error: {row['error']}")
    if not shown and not failed:
        typer.echo("no poison messages")
    if failed:
        raise typer.Exit(1)


@poison_app.command("replay")
def replay(
    ids: list[int] = typer.Argument(None, metavar="ID", help="The dead letters to replay, as `list` shows them"),
    all_: bool = typer.Option(
        False, "--all", help="Replay every dead letter not replayed yet (narrowed by --service and --consumer)"
    ),
    service: str | None = SERVICE,
    consumer: str | None = CONSUMER,
) -> None:
    """Have their consumers apply dead letters now (after the fix); one still unreadable stays pending."""
    if bool(ids) == all_:
        typer.echo("error: name the dead letters to replay, or pass --all (not both)", err=True)
        raise typer.Exit(2)
    names = services_for(service, consumer)
    if ids and len(names) != 1:
        typer.echo("error: ids are per service: say whose with --service or --consumer", err=True)
        raise typer.Exit(2)
    body: dict[str, object] = {"all": True} if all_ else {"ids": ids}
    if consumer:
        body["consumer"] = consumer
    with reported():
        token = admin_token_from_env()
    failed = replayed = left = 0
    for name in names:
        try:
            with client(name, token) as svc:
                result = svc.request("POST", "/v1/ops/dead-letters/replay", json=body, ok=(200,)).json()
        except AdminError as exc:
            typer.echo(f"error: {exc}", err=True)
            failed += 1
            continue
        done = result.get("replayed", [])
        replayed += len(done)
        if done or not all_:
            typer.echo(
                f"{name}: replayed {len(done)} dead letter{'' if len(done) == 1 else 's'}"
                + (f" ({', '.join(map(str, done))})" if done else "")
            )
        for key, why in (
            ("already_replayed", "replayed before, left alone"),
            ("unknown", "no such dead letter"),
            ("forged", "set aside as forged: never replayed"),
        ):
            for dead_letter_id in result.get(key, []):
                typer.echo(f"  {dead_letter_id}: {why}")
        for key, why in (
            ("still_poison", "still poison, left pending"),
            ("failed", "its consumer failed, left pending"),
        ):
            for item in result.get(key, []):
                left += 1
                typer.echo(f"  {item['id']}: {why}: {item['error'][:300]}")
    if all_ and not replayed and not failed and not left:
        typer.echo("nothing to replay")
    # Named ids of which none could be replayed, or dead letters still pending: say so in
    # the exit status too.
    if failed or left or (ids and not replayed):
        raise typer.Exit(1)
