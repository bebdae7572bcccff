"""Signed links that let a person change how Regia e-mails them, without an account. Pure.

Every e-mail to a person carries two links to the console: a one-click unsubscribe from
that kind of alert (RFC 8058: the `List-Unsubscribe` header's URL) and their preferences
page (in the footer). The notifier signs them; the partners service, which owns the
preferences, verifies them before it changes anything. Both hold the key
(REGIA_PREFERENCE_LINK_KEY); the console, which serves the pages, never does: it passes the
token on, so a console compromised or misconfigured cannot mint links.

A token is `1.<body>.<mac>`, each part base64url without padding, safe in a URL path:
- body: the JSON list `[purpose, contact id, kinds or "all", issued on (YYYY-MM-DD)]`;
- mac: HMAC-SHA256, under the key, of `regia-preference-link.1` and a line break followed
  by the body's bytes (the prefix keeps the key from ever vouching for anything else).

Why that is enough (docs/security.md says it for operators):
- Only a holder of the key makes a valid token: HMAC-SHA256 is a pseudo-random function,
  so without the key a MAC for a new body is a 256-bit guess. Tokens are compared in
  constant time, and nothing in a refusal says how close a guess came.
- A token grants one thing: its purpose, for its contact, over its kinds. An
  `unsubscribe` token can only turn its kinds off for e-mail; a `preferences` token can
  only read and change that one contact's e-mail choices. Neither reads nor changes
  anything else, and neither is an administrator's credential anywhere.
- It ages out: one issued more than `max_age_days` ago is refused as expired (a mail kept
  for years is not a standing key), one dated more than a day ahead as invalid.
- The key can be replaced without breaking the links already sent: the setting holds
  several keys, comma-separated, newest first; the first signs, any verifies.
"""

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, get_args

Purpose = Literal["unsubscribe", "preferences"]
PURPOSES: tuple[Purpose, ...] = get_args(Purpose)
EVERY_KIND = "all"
VERSION = "1"
MAX_TOKEN_LENGTH = 1000  # a real one is about 150 characters; anything longer is refused unread
MIN_KEY_LENGTH = 32  # characters: what `regia deploy-secrets` makes has 43 (256 random bits)
DEFAULT_MAX_AGE_DAYS = 365
_CONTEXT = b"regia-preference-link.1\n"
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_CLOCK_SKEW = timedelta(days=1)  # the notifier's day may start before the partners service's


@dataclass(frozen=True)
class PreferenceLink:
    contact_id: str
    purpose: Purpose
    kinds: tuple[str, ...] | None  # None: every kind ("all")
    issued_on: date


class InvalidLink(ValueError):
    """Not a link Regia made: malformed, forged, or signed with a key no longer held."""


class ExpiredLink(InvalidLink):
    """A link Regia made, longer ago than links are good for."""


def parse_keys(setting: str) -> tuple[bytes, ...]:
    """The keys of the setting, newest first. Raises ValueError, naming only the position
    of a key too short (never its value), when one is under MIN_KEY_LENGTH characters."""
    keys = [k.strip() for k in setting.split(",")]
    short = [str(i) for i, k in enumerate(keys, start=1) if len(k) < MIN_KEY_LENGTH]
    if short:
        which = f"key {short[0]}" if len(short) == 1 else f"keys {', '.join(short)}"
        raise ValueError(
            f"{which} of {len(keys)} shorter than {MIN_KEY_LENGTH} characters "
            "(`regia deploy-secrets` makes one; several are comma-separated, newest first)"
        )
    return tuple(k.encode() for k in keys)


def sign(link: PreferenceLink, key: bytes) -> str:
    """The token of `link`, signed with `key` (the newest of the setting's)."""
    kinds: str | list[str] = EVERY_KIND if link.kinds is None else sorted(set(link.kinds))
    body = json.dumps(
        [link.purpose, link.contact_id, kinds, link.issued_on.isoformat()], separators=(",", ":")
    ).encode()
    return f"{VERSION}.{_encode(body)}.{_encode(_mac(key, body))}"


def verify(token: str, keys: Sequence[bytes], *, today: date, max_age_days: int) -> PreferenceLink:
    """The link a token stands for, if one of `keys` signed it and it has not aged out;
    otherwise InvalidLink (ExpiredLink when only its age is wrong)."""
    if not keys:
        raise InvalidLink("preference links cannot be checked: no key is configured")
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidLink("this is not a link Regia made (too long)")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        raise InvalidLink("this is not a link Regia made (not in its form)")
    body, mac = _decode(parts[1]), _decode(parts[2])
    # Every key is tried whatever the first gives: the time taken says nothing of which.
    if not [key for key in keys if hmac.compare_digest(_mac(key, body), mac)]:
        raise InvalidLink("this is not a link Regia made, or it was made with a key no longer in use")
    link = _read(body)
    if link.issued_on > today + _CLOCK_SKEW:
        raise InvalidLink("this link is dated in the future")
    if (today - link.issued_on).days > max_age_days:
        raise ExpiredLink(
            f"this link was made on {link.issued_on.isoformat()} and links are good for {max_age_days} "
            "days: use the one in a more recent e-mail"
        )
    return link


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, _CONTEXT + body, hashlib.sha256).digest()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    # The alphabet is checked first: the decoder would otherwise skip stray characters.
    if not _BASE64URL.match(text) or len(text) % 4 == 1:
        raise InvalidLink("this is not a link Regia made (not in its form)")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _read(body: bytes) -> PreferenceLink:
    """The signed body. Signed means Regia wrote it, so a body of another shape is a
    version this one does not read, refused the same way."""
    try:
        purpose, contact_id, kinds, issued = json.loads(body)
        if purpose not in PURPOSES or not isinstance(contact_id, str) or not contact_id:
            raise ValueError("purpose or contact")
        if kinds != EVERY_KIND and not (isinstance(kinds, list) and all(isinstance(k, str) for k in kinds)):
            raise ValueError("kinds")
        return PreferenceLink(
            contact_id, purpose, None if kinds == EVERY_KIND else tuple(kinds), date.fromisoformat(issued)
        )
    except (ValueError, TypeError):
        raise InvalidLink("this is not a link this version of Regia reads") from None
