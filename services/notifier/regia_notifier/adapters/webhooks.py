"""asyncpg adapter for webhook endpoints, with their signing secrets encrypted at rest.

The secret is shown once, when the endpoint is created; afterwards only the dispatcher
decrypts it, to sign a request. Listings never select it.
"""

from collections.abc import Sequence
from typing import Any

import asyncpg
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ..domain.delivery import WebhookTarget

_PUBLIC = "webhook_id, partner_id, contact_id, url, active, created_at, updated_at"


class SecretBox:
    """Encrypts and decrypts signing secrets with the service's Fernet keys.

    REGIA_NOTIFIER_SECRETS_KEY is one key, or while a key is being replaced a comma-
    separated list, newest first: the first seals, any of them opens (MultiFernet), so
    secrets sealed under the old key keep working until they are rewrapped
    (service_layer.secret_rewrapping)."""

    def __init__(self, keys: str) -> None:
        fernets = [Fernet(k.strip()) for k in keys.split(",")]
        self._newest, self._fernet = fernets[0], MultiFernet(fernets)
        self.key_count = len(fernets)

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ValueError(
                "webhook secret cannot be decrypted: REGIA_NOTIFIER_SECRETS_KEY "
                "has none of the keys it was encrypted with"
            ) from None

    def rewrap(self, sealed: str) -> str | None:
        """The secret sealed with the newest key, or None if it already is; ValueError if
        no key opens it. None keeps a repeated rewrap from rewriting every row again
        (MultiFernet.rotate alone would re-encrypt tokens already under the newest key)."""
        try:
            self._newest.decrypt(sealed.encode())
            return None
        except InvalidToken:
            pass
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise ValueError("webhook secret cannot be decrypted with any key of REGIA_NOTIFIER_SECRETS_KEY") from None


async def create(
    conn: asyncpg.Connection, *, webhook_id: str, partner_id: str, contact_id: str | None, url: str, sealed_secret: str
) -> dict | None:
    """The new endpoint (without its secret), or None if the id is taken."""
    row = await conn.fetchrow(
        "INSERT INTO webhook_endpoints (webhook_id, partner_id, contact_id, url, secret_encrypted)"
        f" VALUES ($1, $2, $3, $4, $5) ON CONFLICT (webhook_id) DO NOTHING RETURNING {_PUBLIC}",
        webhook_id,
        partner_id,
        contact_id,
        url,
        sealed_secret,
    )
    return None if row is None else dict(row)


async def listing(
    conn: asyncpg.Connection, partner_id: str | None, *, after: Sequence[Any] | None = None, limit: int | None = None
) -> list[dict]:
    """Endpoints by partner, then age, from just after the key `after` (a row's
    `partner_id`, `created_at` and `webhook_id`) when given."""
    key = list(after) if after else [None, None, None]
    rows = await conn.fetch(
        f"SELECT {_PUBLIC} FROM webhook_endpoints WHERE ($1::text IS NULL OR partner_id = $1)"
        " AND ($3::text IS NULL OR (partner_id, created_at, webhook_id) > ($3::text, $4::timestamptz, $5::text))"
        " ORDER BY partner_id, created_at, webhook_id LIMIT $2",
        partner_id,
        limit,
        *key,
    )
    return [dict(r) for r in rows]


async def deactivate(conn: asyncpg.Connection, webhook_id: str) -> bool:
    """Stop planning deliveries to an endpoint; its past deliveries stay on record."""
    done = await conn.fetchval(
        "UPDATE webhook_endpoints SET active = false, updated_at = now() WHERE webhook_id = $1 AND active RETURNING 1",
        webhook_id,
    )
    return bool(done)


async def active_of(conn: asyncpg.Connection, partner_id: str) -> list[WebhookTarget]:
    return await active_of_partners(conn, [partner_id])


async def active_of_partners(conn: asyncpg.Connection, partner_ids: list[str]) -> list[WebhookTarget]:
    rows = await conn.fetch(
        "SELECT webhook_id, partner_id, contact_id, url FROM webhook_endpoints"
        " WHERE partner_id = ANY($1::text[]) AND active ORDER BY webhook_id",
        partner_ids,
    )
    return [WebhookTarget(**dict(r)) for r in rows]


async def target(conn: asyncpg.Connection, webhook_id: str) -> tuple[str, str] | None:
    """(url, sealed secret) of an active endpoint, for sending."""
    row = await conn.fetchrow(
        "SELECT url, secret_encrypted FROM webhook_endpoints WHERE webhook_id = $1 AND active", webhook_id
    )
    return None if row is None else (row["url"], row["secret_encrypted"])


async def all_sealed(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """(webhook_id, sealed secret) of every endpoint, removed ones too: all are rewrapped."""
    rows = await conn.fetch("SELECT webhook_id, secret_encrypted FROM webhook_endpoints ORDER BY webhook_id")
    return [(r["webhook_id"], r["secret_encrypted"]) for r in rows]


async def reseal(conn: asyncpg.Connection, resealed: list[tuple[str, str]]) -> None:
    """Replace sealed secrets by (webhook_id, sealed secret); updated_at is left alone:
    the endpoint itself did not change."""
    await conn.executemany("UPDATE webhook_endpoints SET secret_encrypted = $2 WHERE webhook_id = $1", resealed)
