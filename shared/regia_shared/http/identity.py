"""People: who a person's session token says they are, and the roles Regia knows.

Guarantees, for every service:
- A person's session token is a JWT signed with Ed25519 (EdDSA) by the partners service,
  which keeps the accounts; every other service verifies it with the public keys alone
  (REGIA_SESSION_PUBLIC_KEYS), so no service but partners can mint one, and checking one
  costs no call to anyone.
- A token lives REGIA_SESSION_TOKEN_TTL_S (five minutes by default) and names its session:
  logging out, "logout everywhere", a locked or changed account end the session in partners
  at once, and every token of it stops working when it expires, within those minutes. That
  bound is the price of checking a token without a round trip; docs/security.md says it.
- What a token claims (role, institution, partner, contact) is what partners knew when it
  minted it. Roles changes therefore end the account's sessions (partners does that).

The keys are Ed25519 seeds and public keys, 32 bytes each, written
`<key_id>:<base64url>` and comma-separated, newest first: partners signs with the first and
every service verifies with any, so a key is rotated by publishing the new public key first,
then signing with the new seed, then withdrawing the old public key after one token lifetime.
"""

import base64
import time
from dataclasses import dataclass
from enum import StrEnum

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ISSUER = "regia"
AUDIENCE = "regia"
ALGORITHM = "EdDSA"


class Role(StrEnum):
    """What a person may do (docs/security.md, "Roles")."""

    ADMINISTRATOR = "administrator"  # everything, and the only role that manages people
    INSTITUTION_OFFICER = "institution_officer"  # their institution's lines, keys, rejections, exports
    PROJECT_LEAD = "project_lead"  # the objectives their partner leads, their own alert preferences
    OBSERVER = "observer"  # reads what administrators read, writes nothing


@dataclass(frozen=True)
class Person:
    """A logged-in person, as their session token says."""

    account_id: str
    name: str
    role: Role
    session_id: str
    institution_id: str | None = None  # an institution officer's institution
    partner_id: str | None = None  # a project lead's partner (the one that leads objectives)
    contact_id: str | None = None  # the contact whose alert preferences are theirs

    @property
    def actor(self) -> str:
        """How the audit names them: by account id, which never changes (their name may)."""
        return f"person:{self.account_id}"


class KeyFormatError(ValueError):
    pass


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_keys(value: str, what: str) -> list[tuple[str, bytes]]:
    """`<key_id>:<base64url of 32 bytes>`, comma-separated, newest first."""
    keys: list[tuple[str, bytes]] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        key_id, colon, encoded = part.partition(":")
        if not colon or not key_id or len(key_id) > 40:
            raise KeyFormatError(f"{what}: each key is <key_id>:<base64url>, comma-separated")
        try:
            raw = _decode(encoded)
        except ValueError:
            raise KeyFormatError(f"{what}: key {key_id!r} is not base64url") from None
        if len(raw) != 32:
            raise KeyFormatError(f"{what}: key {key_id!r} must be 32 bytes, got {len(raw)}")
        keys.append((key_id, raw))
    return keys


def new_signing_key(key_id: str) -> tuple[str, str]:
    """A fresh (seed, public key), each written `<key_id>:<base64url>`."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    return f"{key_id}:{_encode(seed)}", f"{key_id}:{_encode(public_bytes(private))}"


def public_bytes(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_keys_of(signing_keys: str) -> str:
    """The public keys of REGIA_SESSION_SIGNING_KEYS, in the form of REGIA_SESSION_PUBLIC_KEYS."""
    return ",".join(
        f"{kid}:{_encode(public_bytes(Ed25519PrivateKey.from_private_bytes(seed)))}"
        for kid, seed in parse_keys(signing_keys, "REGIA_SESSION_SIGNING_KEYS")
    )


def looks_like_session_token(token: str) -> bool:
    """A JWT (three base64url parts, a JSON header): never an admin token or an API key."""
    return token.startswith("eyJ") and token.count(".") == 2


class SessionVerifier:
    """Checks session tokens with the public keys (every service)."""

    def __init__(self, public_keys: str) -> None:
        self._keys = {
            kid: Ed25519PublicKey.from_public_bytes(raw)
            for kid, raw in parse_keys(public_keys, "REGIA_SESSION_PUBLIC_KEYS")
        }

    @property
    def configured(self) -> bool:
        return bool(self._keys)

    def person(self, token: str) -> Person | None:
        """Who the token names, or None for anything not a valid, unexpired token of ours."""
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.get(str(header.get("kid")))
            if key is None:
                return None
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "sid", "role"]},
            )
            return Person(
                account_id=str(claims["sub"]),
                name=str(claims.get("name") or claims["sub"]),
                role=Role(claims["role"]),
                session_id=str(claims["sid"]),
                institution_id=claims.get("institution_id"),
                partner_id=claims.get("partner_id"),
                contact_id=claims.get("contact_id"),
            )
        except (jwt.PyJWTError, ValueError, KeyError, TypeError):
            return None


class SessionSigner:
    """Mints session tokens (the partners service only: it holds the seeds)."""

    def __init__(self, signing_keys: str, ttl_s: int) -> None:
        keys = parse_keys(signing_keys, "REGIA_SESSION_SIGNING_KEYS")
        if not keys:
            raise KeyFormatError("REGIA_SESSION_SIGNING_KEYS: no key")
        kid, seed = keys[0]
        self._kid, self._key, self.ttl_s = kid, Ed25519PrivateKey.from_private_bytes(seed), ttl_s
        self.verifier = SessionVerifier(public_keys_of(signing_keys))

    def token(self, person: Person, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims: dict[str, object] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": person.account_id,
            "sid": person.session_id,
            "name": person.name,
            "role": person.role.value,
            "iat": issued,
            "exp": issued + self.ttl_s,
        }
        for claim in ("institution_id", "partner_id", "contact_id"):
            if getattr(person, claim) is not None:
                claims[claim] = getattr(person, claim)
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self._kid})
