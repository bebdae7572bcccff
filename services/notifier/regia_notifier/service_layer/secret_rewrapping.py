"""Re-encrypting the stored webhook signing secrets with the newest key, at start-up.

While REGIA_NOTIFIER_SECRETS_KEY lists more than one key (newest first), each replica,
once migrated and before it serves, rewraps every secret still under an older key, so
that the older keys can then be dropped from the setting. It runs in one transaction
under an advisory lock: replicas starting together take turns, and the later ones find
nothing left to rewrap. A secret that no key opens fails the start-up, with nothing
changed: going on would let the operator drop the last key that might open it.
"""

import asyncpg

from regia_shared.observability.logs import get_logger
from regia_shared.runtime import ServiceRuntime

from ..adapters import webhooks
from ..adapters.webhooks import SecretBox
from ..config import notifier_settings

log = get_logger(__name__)

# One notifier rewraps at a time; advisory locks are per database, the name keeps it
# apart from the other services' locks.
LOCK = "regia_notifier.rewrap_webhook_secrets"
_NAMED = 20  # webhook ids named in the error; the rest are counted


# Here, not in domain.errors: a start-up failure of the key setting (operations), not a domain refusal.
class UnreadableSecrets(RuntimeError):
    """Stored webhook secrets that none of the configured keys opens."""


async def rewrap_secrets(runtime: ServiceRuntime) -> None:
    """The start-up hook: nothing to do with no key or with a single one."""
    settings = notifier_settings(runtime.settings)
    if settings.secrets_key is None:
        return
    box = SecretBox(settings.secrets_key.get_secret_value())
    if box.key_count < 2:
        return
    async with runtime.pool.acquire() as conn:
        count = await rewrap(conn, box)
    # Only a count: nothing about a secret belongs in a log.
    log.info("webhook secrets rewrapped with the newest key", rewrapped=count)


async def rewrap(conn: asyncpg.Connection, box: SecretBox) -> int:
    """How many secrets were rewrapped; UnreadableSecrets (and nothing written) if any
    stored secret is opened by none of the box's keys."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", LOCK)
        resealed: list[tuple[str, str]] = []
        unreadable: list[str] = []
        for webhook_id, sealed in await webhooks.all_sealed(conn):
            try:
                new = box.rewrap(sealed)
            except ValueError:
                unreadable.append(webhook_id)
                continue
            if new is not None:
                resealed.append((webhook_id, new))
        if unreadable:
            raise UnreadableSecrets(_unreadable_message(unreadable))
        await webhooks.reseal(conn, resealed)
    return len(resealed)


def _unreadable_message(ids: list[str]) -> str:
    named = ", ".join(ids[:_NAMED]) + (f" and {len(ids) - _NAMED} more" if len(ids) > _NAMED else "")
    return (
        f"{len(ids)} webhook signing secret(s) cannot be decrypted with any key of "
        f"REGIA_NOTIFIER_SECRETS_KEY (webhook_id: {named}); nothing was rewrapped. Add "
        "the key they were sealed with to the list (after the newest) and restart."
    )
