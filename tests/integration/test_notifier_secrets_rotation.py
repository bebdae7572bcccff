"""Rotating REGIA_NOTIFIER_SECRETS_KEY against a real PostgreSQL: with "NEW,OLD" the
notifier's start-up rewraps every stored webhook secret with NEW (once, however many
replicas start together), after which NEW alone still signs; a secret no key opens fails
the start-up by webhook id and changes nothing."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import SimpleNamespace

import asyncpg
import pytest
from cryptography.fernet import Fernet

from regia_notifier.adapters.webhooks import SecretBox
from regia_notifier.app import create_app
from regia_notifier.config import NotifierSettings
from regia_notifier.service_layer.secret_rewrapping import LOCK, UnreadableSecrets, rewrap, rewrap_secrets
from regia_shared.db import create_pool, migrate

from ..support import kafka
from ..support.infra import Database
from ..support.smtp import SmtpCapture
from ..support.wait import eventually
from ..support.webhook_receiver import WebhookReceiver
from .test_notifier import notifier, status_changed
from .test_notifier_webhooks import _capture_structlog, register, webhook_deliveries

pytestmark = pytest.mark.usefixtures("service_env")

A, B, C = (Fernet.generate_key().decode() for _ in range(3))
SEALED = "SELECT webhook_id, secret_encrypted FROM webhook_endpoints ORDER BY webhook_id"


async def test_new_old_rewraps_at_start_up_then_new_alone_still_signs(
    broker, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    service_log = _capture_structlog(monkeypatch)
    with SmtpCapture() as smtp, WebhookReceiver() as receiver:
        monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", A)
        async with notifier(broker, smtp, monkeypatch) as admin:
            secret = (await register(admin, receiver))["secret"]
        (before,) = await database.fetch("notifier", SEALED)
        assert SecretBox(A).open(before["secret_encrypted"]) == secret

        monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", f"{B},{A}")
        async with notifier(broker, smtp, monkeypatch):
            pass  # the start-up alone rewraps
        (after,) = await database.fetch("notifier", SEALED)
        assert after["secret_encrypted"] != before["secret_encrypted"]
        assert SecretBox(B).open(after["secret_encrypted"]) == secret  # A is no longer needed

        monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", B)
        async with notifier(broker, smtp, monkeypatch) as admin:
            await kafka.publish_objectives(broker.bootstrap_servers, [status_changed()])
            await webhook_deliveries(admin, 1)
    assert [r.verified for r in receiver.accepted] == [True]  # signed with the same secret
    logs = "\n".join(service_log)
    assert '"rewrapped": 1' in logs or "rewrapped=1" in logs, "the start-up reports the count"
    assert secret not in logs and before["secret_encrypted"] not in logs and B not in logs


async def test_replicas_starting_together_rewrap_once(database: Database) -> None:
    async with _migrated(database) as pool:
        await _insert(pool, {"hook-1": A, "hook-2": A, "hook-3": A, "hook-new": B})
        untouched = dict(await _sealed(pool))["hook-new"]
        box = SecretBox(f"{B},{A}")
        async with pool.acquire() as holder, pool.acquire() as one, pool.acquire() as other:
            # Both replicas arrive while the lock is held, so both read before either writes
            # unless the lock keeps them apart.
            async with holder.transaction():
                await holder.execute("SELECT pg_advisory_xact_lock(hashtext($1))", LOCK)
                both = asyncio.gather(rewrap(one, box), rewrap(other, box))

                async def both_waiting() -> bool:
                    waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    return await holder.fetchval(waiting) == 2

                await eventually(both_waiting, timeout=10, what="both replicas waiting for the lock")
                assert not both.done(), "a rewrap ran without waiting for the lock"
            counts = await both
        assert sorted(counts) == [0, 3]  # the second waited for the first, found nothing left
        rows = dict(await _sealed(pool))
        assert [SecretBox(B).open(s) for s in rows.values()] == ["s-hook-1", "s-hook-2", "s-hook-3", "s-hook-new"]
        assert rows["hook-new"] == untouched
        async with pool.acquire() as conn:
            assert await rewrap(conn, box) == 0  # and again at the next restart


async def test_a_secret_no_key_opens_fails_the_start_up_and_changes_nothing(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _migrated(database) as pool:
        await _insert(pool, {"known-hook": A, "stray-hook": C, "lost-hook": C})
        before = await _sealed(pool)
        monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", f"{B},{A}")
        runtime = SimpleNamespace(settings=NotifierSettings(), pool=pool)
        with pytest.raises(UnreadableSecrets) as caught:
            await rewrap_secrets(runtime)  # type: ignore[arg-type]
        message = str(caught.value)
        assert "2 webhook signing secret(s)" in message and "lost-hook, stray-hook" in message
        assert "known-hook" not in message and "s-stray-hook" not in message
        assert all(sealed not in message for _, sealed in before)

        # The service's own start-up (its lifespan, as uvicorn runs it) refuses likewise.
        app = create_app()
        try:
            with pytest.raises(UnreadableSecrets, match="lost-hook, stray-hook"):
                async with app.router.lifespan_context(app):
                    pass
        finally:
            await app.state.runtime.stop()  # the lifespan stops nothing when its start fails
        assert await _sealed(pool) == before  # not even the readable one was rewrapped


@contextlib.asynccontextmanager
async def _migrated(database: Database) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database.dsn, "notifier")
    try:
        await migrate(pool, "notifier", "regia_notifier")
        yield pool
    finally:
        await pool.close()


async def _insert(pool: asyncpg.Pool, keys: dict[str, str]) -> None:
    """An endpoint per webhook id, its secret ("s-" + the id) sealed with the given key."""
    await pool.executemany(
        "INSERT INTO webhook_endpoints (webhook_id, partner_id, url, secret_encrypted)"
        " VALUES ($1, 'regione-liguria', 'https://x.example/h', $2)",
        [(webhook_id, SecretBox(key).seal(f"s-{webhook_id}")) for webhook_id, key in keys.items()],
    )


async def _sealed(pool: asyncpg.Pool) -> list[tuple[str, str]]:
    return [(r["webhook_id"], r["secret_encrypted"]) for r in await pool.fetch(SEALED)]
