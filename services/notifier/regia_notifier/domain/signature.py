"""Signing webhook requests, and checking a signature as a receiver would. Pure.

The signed text is "<unix timestamp>.<raw body>", so a receiver can refuse a request
replayed later (the timestamp is covered by the signature) as well as a tampered one.
Header value: "v1=<hex HMAC-SHA256>"; the version prefix leaves room for a new scheme.
"""

import hashlib
import hmac

SCHEME = "v1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Regia-Signature header value for a request body sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{int(timestamp)}.".encode() + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def verify(
    secret: str, header_sig: str, timestamp: int | str, body: bytes, now: float, tolerance_s: float = 300
) -> bool:
    """True if `header_sig` signs `body` at `timestamp` with `secret`, and the timestamp is
    within `tolerance_s` of `now` (older ones are refused as replays)."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body).encode(), (header_sig or "").strip().encode())
