"""People log in, stay logged in, and log out; administrators make and change accounts.

Guarantees:
- A password is kept only as its argon2id hash (argon2-cffi's defaults, RFC 9106's second
  recommended option), checked off the event loop; an unknown login costs the same hash
  check as a wrong password, and both get the same answer, so the answer tells no one
  which logins exist.
- REGIA_LOGIN_MAX_FAILURES failures in a row lock the account (domain.accounts.LoginPolicy);
  the lock and the count are written in the failure's own transaction, so parallel guesses
  count each. A locked account refuses even the right password until the lock ends.
  (Per address, the audit middleware already throttles refused anonymous requests.)
- A TOTP code is good once: the time step it matched is kept, and a code of that step or
  an earlier one is refused.
- A session is a row here and a refresh token the client holds (`rgr_<session>.<secret>`,
  stored as a SHA-256): each refresh replaces the secret, and a replaced one presented again
  ends the session (someone else had it). A session token (regia_shared.http.identity)
  names the session; ending a session stops its refreshes at once and its tokens within
  their few minutes.
- Changing an account's role or scope, disabling it, or changing its password ends every
  session of it: the next token it gets says what it now may do.
"""

import asyncio
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import InvalidToken, MultiFernet

from regia_shared.http.identity import Person, Role, SessionSigner
from regia_shared.observability.logs import get_logger
from regia_shared.writes import WriteContext, record_write

from ..adapters import accounts, partners
from ..config import PartnersSettings
from ..domain.accounts import (
    AccountChange,
    AccountNotFound,
    AccountRefused,
    Credentials,
    LoginLocked,
    LoginPolicy,
    LoginRefused,
    NewAccount,
    PasswordChange,
    SessionPolicy,
    SessionRefused,
    TotpRequired,
    check_password,
    fits_role,
)
from ..domain.errors import Conflict, PartnerNotFound

log = get_logger(__name__)
REFRESH_PREFIX = "rgr_"
TOTP_ISSUER = "Regia"
SAME_ANSWER = "wrong login or password"


class LoginUnavailable(AccountRefused):
    """The service lacks a key it needs to log anyone in: its operator's to fix."""

    status, code = 503, "login_unavailable"


class OidcNotConfigured(AccountRefused):
    """No identity provider here: not a fault, a way of logging in this Regia does not offer."""

    status, code = 404, "oidc_not_configured"


@dataclass(frozen=True)
class Issued:
    """What a login or a refresh gives the client."""

    access_token: str
    refresh_token: str
    expires_in: int
    person: Person

    def body(self) -> dict[str, Any]:
        p = self.person
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "account": {
                "account_id": p.account_id,
                "name": p.name,
                "role": p.role.value,
                "institution_id": p.institution_id,
                "partner_id": p.partner_id,
                "contact_id": p.contact_id,
                "session_id": p.session_id,
            },
        }


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Accounts:
    """The use cases, with what they need: the pool and the settings' keys and policies."""

    def __init__(self, pool: asyncpg.Pool, settings: PartnersSettings) -> None:
        self.pool = pool
        self.hasher = PasswordHasher(  # argon2id
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        if settings.argon2_memory_kib < 19_456 or settings.argon2_time_cost < 2:
            # Below OWASP's least argon2id (19 MiB, 2 passes): fine for a test run, not for people.
            log.warning(
                "password hashing weaker than OWASP's minimum: for tests only",
                memory_kib=settings.argon2_memory_kib,
                time_cost=settings.argon2_time_cost,
            )
        keys = settings.session_signing_keys
        self.signer = SessionSigner(keys.get_secret_value(), settings.session_token_ttl_s) if keys is not None else None
        self.fernet: MultiFernet | None = settings.account_fernet()
        self.logins = LoginPolicy(settings.login_max_failures, settings.login_lockout_s)
        self.sessions = SessionPolicy(settings.session_idle_s, settings.session_max_age_s)
        self.oidc = OidcVerifier(settings) if settings.oidc_issuer and settings.oidc_client_id else None
        self._dummy: str | None = None

    # -- administrators ------------------------------------------------------------------

    async def create(self, new: NewAccount, write: WriteContext) -> dict:
        password_hash = None
        if new.password is not None:
            password_hash = await asyncio.to_thread(self.hasher.hash, new.password.get_secret_value())
        if new.oidc_subject is not None and self.oidc is None:
            raise AccountRefused("oidc_subject given, but no OpenID Connect provider is configured", "oidc_subject")
        async with self.pool.acquire() as conn, conn.transaction():
            await self._check_references(conn, new.partner_id, new.contact_id)
            values = new.model_dump(exclude={"password"}) | {
                "role": new.role.value,
                "password_hash": password_hash,
                "oidc_issuer": self.oidc.issuer if (self.oidc and new.oidc_subject) else None,
            }
            if not await accounts.create(conn, values):
                raise Conflict(f"account {new.account_id!r} exists", "account_id")
            # Who gave whom which role, and why: in the account's own transaction.
            scope = {k: values[k] for k in ("role", "institution_id", "partner_id", "contact_id") if values[k]}
            await record_write(conn, write, subject=f"account:{new.account_id}", effect={"created": scope})
            return dict(await accounts.shown(conn, new.account_id) or {})

    async def change(self, account_id: str, change: AccountChange, write: WriteContext) -> dict:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await accounts.get(conn, account_id, lock=True)
            if row is None:
                raise AccountNotFound(f"no account {account_id!r}", "account_id")
            given = change.model_dump(exclude_unset=True)
            role = Role(given.get("role", row["role"]))
            institution_id = given.get("institution_id", row["institution_id"])
            partner_id = given.get("partner_id", row["partner_id"])
            try:
                fits_role(role, institution_id, partner_id)
            except ValueError as exc:
                raise AccountRefused(str(exc), "role") from None
            await self._check_references(conn, given.get("partner_id"), given.get("contact_id"))
            changes: dict[str, Any] = {k: v for k, v in given.items() if k not in {"disabled", "role"}}
            if "role" in given:
                changes["role"] = role.value
            if "disabled" in given:
                changes["disabled_at"] = datetime.now(UTC) if given["disabled"] else None
            if changes:
                await accounts.update(conn, account_id, changes)
            ended = 0
            if set(changes) - {"name"}:
                ended = await accounts.end_sessions(conn, account_id, "account changed")
            before = {k: row[k] for k in given if k != "disabled"}
            effect = {"before": before, "after": given, "sessions_ended": ended}
            await record_write(conn, write, subject=f"account:{account_id}", effect=effect)
            log.info("account changed", account_id=account_id, fields=sorted(changes), sessions_ended=ended)
            return dict(await accounts.shown(conn, account_id) or {})

    async def _check_references(self, conn: asyncpg.Connection, partner_id: str | None, contact_id: str | None) -> None:
        if partner_id is not None and await partners.get(conn, partner_id) is None:
            raise PartnerNotFound(f"no partner {partner_id!r}", "partner_id")
        if (
            contact_id is not None
            and await conn.fetchval("SELECT 1 FROM contacts WHERE contact_id = $1", contact_id) is None
        ):
            raise AccountRefused(f"no contact {contact_id!r}", "contact_id")

    # -- logging in ----------------------------------------------------------------------

    def _signer(self) -> SessionSigner:
        if self.signer is None:
            raise LoginUnavailable("logging in is not configured here: REGIA_SESSION_SIGNING_KEYS is not set")
        return self.signer

    async def log_in(self, credentials: Credentials, client: str | None, agent: str | None) -> Issued:
        signer = self._signer()
        login = credentials.login.strip().lower()
        password = credentials.password.get_secret_value()
        now = datetime.now(UTC)
        async with self.pool.acquire() as conn:
            row = await accounts.get(conn, login)
        if row is None or row["password_hash"] is None or row["disabled_at"] is not None:
            await asyncio.to_thread(self._verify, self._dummy_hash(), password)
            raise LoginRefused(SAME_ANSWER, "login")
        self._refuse_if_locked(row, now)
        good = await asyncio.to_thread(self._verify, row["password_hash"], password)
        # A refusal is raised once its transaction has committed: the failure it counts
        # (and the lock it may set) must outlive the refusal.
        refusal: Exception | None = None
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                row = await accounts.get(conn, login, lock=True)
                assert row is not None
                self._refuse_if_locked(row, now)  # another request may have locked it meanwhile
                if not good:
                    await self._failed(conn, row, now)
                    refusal = LoginRefused(SAME_ANSWER, "login")
                elif row["totp_secret"] is not None and credentials.totp is None:
                    # Not a failure: the password was right; the client now asks for the code.
                    refusal = TotpRequired("this account has a second factor: send the 6-digit code as totp", "totp")
                elif row["totp_secret"] is not None and credentials.totp is not None:
                    step = self._totp_step(row["totp_secret"], credentials.totp, row["totp_last_step"])
                    if step is None:
                        await self._failed(conn, row, now)
                        refusal = LoginRefused("wrong or already used code", "totp")
                    else:
                        await accounts.update(conn, row["account_id"], {"totp_last_step": step})
                if refusal is None:
                    await accounts.record_success(conn, row["account_id"])
                    if self.hasher.check_needs_rehash(row["password_hash"]):
                        rehashed = await asyncio.to_thread(self.hasher.hash, password)
                        await accounts.update(conn, row["account_id"], {"password_hash": rehashed})
                    return await self._open(conn, signer, row, "password", client, agent, now)
        raise refusal

    def _dummy_hash(self) -> str:
        """What an unknown login's check is made against, so that it costs what a wrong
        password does (made on the first such login: a start-up need not pay for it)."""
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _refuse_if_locked(self, row: asyncpg.Record, now: datetime) -> None:
        until = row["locked_until"]
        if until is not None and until > now:
            wait = max(1, int((until - now).total_seconds()) + 1)
            raise LoginLocked(
                "too many failed logins for this account: it is locked for a while (Retry-After says how many "
                "seconds); an administrator can unlock it sooner",
                wait,
            )

    async def _failed(self, conn: asyncpg.Connection, row: asyncpg.Record, now: datetime) -> None:
        failures = row["failed_logins"] + 1
        until = self.logins.locked_until(failures, now)
        await accounts.record_failure(conn, row["account_id"], failures, until)
        log.info("login failed", account_id=row["account_id"], failures=failures, locked=until is not None)

    async def log_in_oidc(self, id_token: str, nonce: str | None, client: str | None, agent: str | None) -> Issued:
        signer = self._signer()
        if self.oidc is None:
            raise OidcNotConfigured(
                "this Regia logs in with passwords only: no OpenID Connect provider is configured "
                "(REGIA_OIDC_ISSUER, REGIA_OIDC_CLIENT_ID)",
                "id_token",
            )
        claims = await self.oidc.claims(id_token, nonce)
        async with self.pool.acquire() as conn, conn.transaction():
            row = await accounts.by_oidc(conn, self.oidc.issuer, str(claims["sub"]))
            if row is None or row["disabled_at"] is not None:
                raise LoginRefused(
                    "no Regia account for this identity: an administrator must create one (with its oidc_subject)",
                    "id_token",
                )
            return await self._open(conn, signer, row, "oidc", client, agent, datetime.now(UTC))

    async def _open(
        self,
        conn: asyncpg.Connection,
        signer: SessionSigner,
        row: asyncpg.Record,
        method: str,
        client: str | None,
        agent: str | None,
        now: datetime,
    ) -> Issued:
        session_id = secrets.token_urlsafe(18)
        secret = secrets.token_urlsafe(32)
        refresh = f"{REFRESH_PREFIX}{session_id}.{secret}"
        await accounts.open_session(
            conn,
            session_id,
            row["account_id"],
            _sha256(refresh),
            method,
            self.sessions.open_until(now, now),
            (client or "")[:100] or None,
            (agent or "")[:300] or None,
        )
        log.info("logged in", account_id=row["account_id"], method=method)
        return self._issue(signer, row, session_id, refresh)

    def _issue(self, signer: SessionSigner, row: asyncpg.Record, session_id: str, refresh: str) -> Issued:
        person = Person(
            account_id=row["account_id"],
            name=row["name"],
            role=Role(row["role"]),
            session_id=session_id,
            institution_id=row["institution_id"],
            partner_id=row["partner_id"],
            contact_id=row["contact_id"],
        )
        return Issued(signer.token(person), refresh, signer.ttl_s, person)

    async def refresh(self, refresh_token: str) -> Issued:
        signer = self._signer()
        session_id, dot, _ = refresh_token.removeprefix(REFRESH_PREFIX).partition(".")
        if not refresh_token.startswith(REFRESH_PREFIX) or not dot:
            raise SessionRefused("not a refresh token: log in again", "refresh_token")
        now = datetime.now(UTC)
        # As at login, a refusal that ends the session is raised after that commits.
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                session = await accounts.session(conn, session_id)
                if session is None or session["ended_at"] is not None or session["expires_at"] <= now:
                    raise SessionRefused("this session is over: log in again", "refresh_token")
                row = await accounts.get(conn, session["account_id"])
                if not hmac.compare_digest(session["refresh_sha256"], _sha256(refresh_token)):
                    # A replaced refresh token came back: of whoever holds it and whoever holds
                    # the current one, one is not the person. End the session for both.
                    await accounts.end_session(conn, session_id, "refresh token reused")
                    log.warning("refresh token reused: session ended", account_id=session["account_id"])
                    refusal = SessionRefused("this session is over (its refresh token was used twice): log in again")
                elif row is None or row["disabled_at"] is not None:
                    await accounts.end_session(conn, session_id, "account disabled")
                    refusal = SessionRefused("this account is disabled")
                else:
                    refresh = f"{REFRESH_PREFIX}{session_id}.{secrets.token_urlsafe(32)}"
                    until = self.sessions.open_until(session["created_at"], now)
                    await accounts.renew_session(conn, session_id, _sha256(refresh), until)
                    return self._issue(signer, row, session_id, refresh)
        raise refusal

    async def log_out(self, person: Person) -> bool:
        async with self.pool.acquire() as conn:
            return await accounts.end_session(conn, person.session_id, "logged out")

    async def log_out_everywhere(self, account_id: str, why: str) -> int:
        async with self.pool.acquire() as conn:
            ended = await accounts.end_sessions(conn, account_id, why)
        log.info("sessions ended", account_id=account_id, sessions_ended=ended, why=why)
        return ended

    async def unlock(self, account_id: str) -> None:
        async with self.pool.acquire() as conn:
            if await accounts.get(conn, account_id) is None:
                raise AccountNotFound(f"no account {account_id!r}", "account_id")
            await accounts.update(conn, account_id, {"failed_logins": 0, "locked_until": None})

    # -- a person's own credentials ------------------------------------------------------

    async def change_password(self, person: Person, change: PasswordChange) -> int:
        new = change.new_password.get_secret_value()
        try:
            check_password(new, person.account_id)
        except ValueError as exc:
            raise AccountRefused(str(exc), "new_password") from None
        async with self.pool.acquire() as conn:
            row = await accounts.get(conn, person.account_id)
        if row is None or row["password_hash"] is None:
            raise AccountRefused("this account has no password (it logs in with OpenID Connect)", "current_password")
        if not await asyncio.to_thread(self._verify, row["password_hash"], change.current_password.get_secret_value()):
            raise LoginRefused("the current password is wrong", "current_password")
        hashed = await asyncio.to_thread(self.hasher.hash, new)
        async with self.pool.acquire() as conn, conn.transaction():
            await accounts.update(conn, person.account_id, {"password_hash": hashed})
            return await accounts.end_sessions(conn, person.account_id, "password changed")

    def _fernet(self) -> MultiFernet:
        if self.fernet is None:
            raise LoginUnavailable("TOTP is not configured here: REGIA_ACCOUNT_SECRETS_KEY is not set")
        return self.fernet

    async def totp_begin(self, person: Person) -> dict[str, str]:
        """A new secret to enrol, kept pending until a code from it is confirmed."""
        fernet = self._fernet()
        secret = pyotp.random_base32()
        async with self.pool.acquire() as conn:
            await accounts.update(conn, person.account_id, {"totp_pending": fernet.encrypt(secret.encode())})
        uri = pyotp.TOTP(secret).provisioning_uri(name=person.account_id, issuer_name=TOTP_ISSUER)
        return {"secret": secret, "otpauth_uri": uri}

    async def totp_confirm(self, person: Person, code: str) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await accounts.get(conn, person.account_id, lock=True)
            if row is None or row["totp_pending"] is None:
                raise AccountRefused("no TOTP enrolment is under way: start one first", "code")
            step = self._totp_step(row["totp_pending"], code, None)
            if step is None:
                raise AccountRefused("that code does not match the secret being enrolled", "code")
            await accounts.update(
                conn,
                person.account_id,
                {"totp_secret": row["totp_pending"], "totp_pending": None, "totp_last_step": step},
            )

    def _totp_step(self, encrypted: bytes, code: str, last_step: int | None) -> int | None:
        """The time step `code` matches (this one or its neighbours, for clock drift), if it
        was not used already."""
        try:
            secret = self._fernet().decrypt(encrypted).decode()
        except InvalidToken:
            log.error("a TOTP secret does not decrypt with REGIA_ACCOUNT_SECRETS_KEY")
            return None
        totp = pyotp.TOTP(secret)
        now_step = int(time.time()) // totp.interval
        for step in (now_step - 1, now_step, now_step + 1):
            if (last_step is None or step > last_step) and hmac.compare_digest(totp.at(step * totp.interval), code):
                return step
        return None


class OidcVerifier:
    """Checks an ID token of the configured OpenID Connect provider: its signature (with
    the provider's published keys, re-read when a token names a key we do not know), its
    issuer, audience (our client id), expiry and, when the client gives it, the nonce."""

    ALGORITHMS = ["RS256", "ES256", "PS256", "EdDSA"]

    def __init__(self, settings: PartnersSettings) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        self._jwks_url = settings.oidc_jwks_url
        self._client: jwt.PyJWKClient | None = None

    async def _keys(self) -> jwt.PyJWKClient:
        if self._client is None:
            url = self._jwks_url
            if url is None:
                async with httpx.AsyncClient(timeout=10) as http:
                    answer = await http.get(f"{self.issuer}/.well-known/openid-configuration")
                    answer.raise_for_status()
                    url = str(answer.json()["jwks_uri"])
            self._client = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)
        return self._client

    async def claims(self, id_token: str, nonce: str | None) -> dict[str, Any]:
        try:
            keys = await self._keys()
            key = await asyncio.to_thread(keys.get_signing_key_from_jwt, id_token)
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=self.ALGORITHMS,
                audience=self.client_id,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                leeway=timedelta(seconds=30),
            )
        except (jwt.PyJWTError, httpx.HTTPError, KeyError, ValueError) as exc:
            log.info("OIDC ID token refused", error=type(exc).__name__)
            raise LoginRefused(f"the identity provider's token was refused: {type(exc).__name__}", "id_token") from None
        if nonce is not None and not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            raise LoginRefused("the identity provider's token is for another login (nonce)", "id_token")
        return claims
