"""`regia kafka-acls`: the Kafka ACL file of a deployment, from the declaration in
regia_shared.contracts.kafka_access (who owns, reads and groups which topics).

Written to deploy/kafka/acls.txt by default (the file compose's and Kubernetes' init job
applies); `--check` only says whether that file is up to date, for CI and reviews. An
institution gets its own user with Write on the inbound commands topic and nothing else:
name its id with `--institution` (repeatable) and re-apply (docs/operations.md).
"""

from pathlib import Path

import typer

from regia_shared.contracts import kafka_access

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "acls.txt"


def kafka_acls(
    institution: list[str] = typer.Option(
        list(kafka_access.EXAMPLE_INSTITUTIONS),
        "--institution",
        help="An institution allowed to send its funding commands over Kafka (repeatable; default the examples).",
    ),
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="Where to write the ACL file ('-': standard output)."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if --out differs from what it should be."),
) -> None:
    """Write the Kafka ACLs (and so the users) of a deployment: each service writes only its own
    topics and reads only those it consumes; institutions may only write regia.funding.inbound.v1."""
    try:
        text = kafka_access.render(institution)
    except ValueError as exc:  # an institution id that cannot name a Kafka user
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if str(out) == "-":
        typer.echo(text, nl=False)
        return
    if check:
        current = out.read_text() if out.exists() else None
        if current != text:
            typer.echo(f"{out} is not up to date: run `regia kafka-acls` and commit it", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out} is up to date", err=True)
        return
    out.write_text(text)
    users = kafka_access.users(institution)
    typer.echo(
        f"wrote {out}: {text.count(chr(10)) - kafka_access.HEADER.count(chr(10))} rules for {len(users)} users",
        err=True,
    )
