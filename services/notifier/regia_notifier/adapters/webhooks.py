"""asyncpg adapter for webhook endpoints, with their signing secrets encrypted at rest.

The secret is shown once, when the endpoint is created; afterwards only the dispatcher
decrypts it, to sign a request. Listings never select it.
"""

import asyncpg
from cryptography.fernet import Fernet, InvalidToken

from ..domain.delivery import WebhookTarget

_PUBLIC = "webhook_id, partner_id, contact_id, url, active, created_at, updated_at"


class SecretBox:
    """Encrypts and decrypts signing secrets with the service's Fernet key."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key)

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ValueError("webhook secret cannot be decrypted: REGIA_NOTIFIER_SECRETS_KEY "
                             "is not the key it was encrypted with") from None


async def create(conn: asyncpg.Connection, *, webhook_id: str, partner_id: str,
                 contact_id: str | None, url: str, sealed_secret: str) -> dict | None:
    """The new endpoint (without its secret), or None if the id is taken."""
    row = await conn.fetchrow(
        "INSERT INTO webhook_endpoints (webhook_id, partner_id, contact_id, url, secret_encrypted)"
        f" VALUES ($1, $2, $3, $4, $5) ON CONFLICT (webhook_id) DO NOTHING RETURNING {_PUBLIC}",
        webhook_id, partner_id, contact_id, url, sealed_secret)
    return None if row is None else dict(row)


async def listing(conn: asyncpg.Connection, partner_id: str | None) -> list[dict]:
    rows = await conn.fetch(
        f"SELECT {_PUBLIC} FROM webhook_endpoints WHERE ($1::text IS NULL OR partner_id = $1)"
        " ORDER BY partner_id, created_at, webhook_id", partner_id)
    return [dict(r) for r in rows]


async def deactivate(conn: asyncpg.Connection, webhook_id: str) -> bool:
    """Stop planning deliveries to an endpoint; its past deliveries stay on record."""
    done = await conn.fetchval(
        "UPDATE webhook_endpoints SET active = false, updated_at = now()"
        " WHERE webhook_id = $1 AND active RETURNING 1", webhook_id)
    return bool(done)


async def active_of(conn: asyncpg.Connection, partner_id: str) -> list[WebhookTarget]:
    return await active_of_partners(conn, [partner_id])


async def active_of_partners(conn: asyncpg.Connection, partner_ids: list[str]) -> list[WebhookTarget]:
    rows = await conn.fetch(
        "SELECT webhook_id, partner_id, contact_id, url FROM webhook_endpoints"
        " WHERE partner_id = ANY($1::text[]) AND active ORDER BY webhook_id", partner_ids)
    return [WebhookTarget(**dict(r)) for r in rows]


async def target(conn: asyncpg.Connection, webhook_id: str) -> tuple[str, str] | None:
    """(url, sealed secret) of an active endpoint, for sending."""
    row = await conn.fetchrow(
        "SELECT url, secret_encrypted FROM webhook_endpoints WHERE webhook_id = $1 AND active",
        webhook_id)
    return None if row is None else (row["url"], row["secret_encrypted"])
