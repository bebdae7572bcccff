"""`regia deploy-secrets`: the secrets a production deployment needs, made at random.

Written as a compose `.env` file (readable by its owner only, never overwritten): the
PostgreSQL superuser's and each service role's password, the admin token's SHA-256,
the notifier's Fernet key, the key of the unsubscribe and preferences links of
e-mails (the notifier signs them, the partners service verifies them), the Ed25519 key
pair of people's session tokens (partners signs, every service verifies), the Fernet
key of people's TOTP secrets, the SCRAM password of each Kafka user
(KAFKA_PASSWORD_<USER>), and each service's event signing key
(`REGIA_<SERVICE>_EVENT_KEYS`, a `service=key_id:secret` entry each; docker-compose.yml
gives every service its own and those it verifies with). The admin token
itself is printed once and stored nowhere: the services only ever know its hash. Passwords are URL-safe, so they go into the
services' DSNs as they are.
"""

import hashlib
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

import typer
from cryptography.fernet import Fernet

from regia_shared.contracts import kafka_access
from regia_shared.http.identity import new_signing_key
from regia_shared.messaging import signing

SERVICES = ("funding", "objectives", "partners", "notifier")
# Kafka users with a SCRAM password made here: the admin, the topics job, each service and
# the console. Institutions get theirs when they are given Kafka access (docs/operations.md).
KAFKA_USERS = (
    kafka_access.ADMIN_USER,
    kafka_access.TOPICS_USER,
    *map(kafka_access.service_user, SERVICES),
    kafka_access.CONSOLE_USER,
)


def generate() -> tuple[str, dict[str, str]]:
    """The admin token and the variables of the .env file."""
    token = secrets.token_urlsafe(32)
    values = {"POSTGRES_PASSWORD": secrets.token_urlsafe(24)}
    values.update({f"REGIA_{s.upper()}_DB_PASSWORD": secrets.token_urlsafe(24) for s in SERVICES})
    values["REGIA_ADMIN_TOKEN_SHA256"] = hashlib.sha256(token.encode()).hexdigest()
    values["REGIA_NOTIFIER_SECRETS_KEY"] = Fernet.generate_key().decode()
    values["REGIA_PREFERENCE_LINK_KEY"] = secrets.token_urlsafe(32)
    seed, public = new_signing_key("k1")
    values["REGIA_SESSION_SIGNING_KEYS"] = seed
    values["REGIA_SESSION_PUBLIC_KEYS"] = public
    values["REGIA_ACCOUNT_SECRETS_KEY"] = Fernet.generate_key().decode()
    # Key ids carry the day they were made: a replacement (docs/operations.md, "Rotating
    # keys") gets another, so the old and the new can be listed side by side.
    events = signing.generate(datetime.now(UTC).strftime("%Y%m%d"))
    for s in SERVICES:
        values[event_keys_variable(s)] = events.only([s]).text()
    values["GRAFANA_ADMIN_PASSWORD"] = secrets.token_urlsafe(18)
    # URL-safe, so they go into a JAAS line and kafka-configs' SCRAM-SHA-512=[password=...] as they are.
    values.update({kafka_access.password_variable(u): secrets.token_urlsafe(24) for u in KAFKA_USERS})
    return token, values


def event_keys_variable(service: str) -> str:
    """The .env variable holding one service's event signing key(s)."""
    return f"REGIA_{service.upper()}_EVENT_KEYS"


def deploy_secrets(
    out: Path = typer.Option(Path(".env"), "--out", help="The file to write (compose reads ./.env)."),
) -> None:
    """Make the secrets docker-compose.yml needs and write them to --out (mode 0600).

    Prints the admin token once: keep it in your password manager, Regia keeps only its hash.
    """
    token, values = generate()
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        typer.echo(
            f"error: {out} exists; it holds the secrets the database was created with. "
            "Rotate one at a time (README, 'Rotating keys'), or move it away first.",
            err=True,
        )
        raise typer.Exit(1) from None
    except OSError as exc:  # no such folder, not writable: say so, write nothing
        typer.echo(f"error: cannot write {out}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    with os.fdopen(fd, "w") as f:
        f.write("# Made by `regia deploy-secrets`. Secrets: never commit this file.\n")
        f.writelines(f"{name}={value}\n" for name, value in values.items())
    typer.echo(f"wrote {out} ({len(values)} secrets, readable by you only)", err=True)
    typer.echo(f"admin token (shown once, Regia keeps only its hash): {token}")
