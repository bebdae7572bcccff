"""`regia keys`: issue, list and revoke institutions' API keys on the funding service.

A key is shown once, when it is issued: the funding service keeps only its SHA-256.
"""

import typer

from regia_shared.contracts.catalogue import FUNDING

from .admin import ServiceClient, admin_token_from_env, reported, segment

keys_app = typer.Typer(
    help="Institution API keys on the funding service (needs REGIA_ADMIN_TOKEN; "
    f"{FUNDING.url_var}, default {FUNDING.default_url}, says where funding listens).",
    no_args_is_help=True,
)


def funding_client() -> ServiceClient:
    return ServiceClient(FUNDING.name, FUNDING.url(), admin_token_from_env())


@keys_app.command("issue")
def issue(
    institution: str = typer.Argument(
        ..., metavar="INSTITUTION", help="The institution's partner id, e.g. regione-liguria"
    ),
    label: str | None = typer.Option(None, "--label", help="What the key is for, e.g. 'ERP bilancio'"),
    instruments: list[str] = typer.Option(
        [],
        "--instrument",
        help="Limit the key to this instrument of the institution (repeatable); without it the key may use all of them",
    ),
) -> None:
    """Issue an API key for an institution. The key is printed once and cannot be recovered."""
    with reported(), funding_client() as funding:
        body = funding.request(
            "POST",
            f"/v1/institutions/{segment(institution)}/keys",
            json={"label": label, "instruments": instruments or None},
            ok=(201,),
        ).json()
    typer.echo(f"key_id: {body['key_id']}")
    if body.get("instruments"):
        typer.echo(f"scope:  {', '.join(body['instruments'])}")
    typer.echo(f"key:    {body['key']}")
    typer.echo("Store the key now: it is shown only this once (Regia keeps its hash).")


@keys_app.command("list")
def list_keys(
    institution: str = typer.Argument(..., metavar="INSTITUTION", help="The institution's partner id"),
) -> None:
    """List an institution's keys (ids, labels and dates; never the keys themselves)."""
    with reported(), funding_client() as funding:
        rows = funding.request("GET", f"/v1/institutions/{segment(institution)}/keys", ok=(200,)).json()
    if not rows:
        typer.echo(f"{institution} has no keys")
        return
    typer.echo(f"{'key_id':<14} {'state':<8} {'created_at':<27} label")
    for row in rows:
        state = "revoked" if row.get("revoked_at") else "active"
        typer.echo(f"{row['key_id']:<14} {state:<8} {str(row.get('created_at', '')):<27} {row.get('label') or ''}")


@keys_app.command("revoke")
def revoke(
    key_id: str = typer.Argument(..., metavar="KEY_ID", help="The key_id printed when the key was issued"),
) -> None:
    """Revoke a key: from now on the funding service refuses it."""
    with reported(), funding_client() as funding:
        funding.request("DELETE", f"/v1/keys/{segment(key_id)}", ok=(204,))
    typer.echo(f"revoked key {key_id}")
