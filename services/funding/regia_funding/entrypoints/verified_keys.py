"""A replica's memory of the API keys it verified lately, so that a funding event over
HTTP does not read its key from the database before joining its group.

What it guarantees, and why that is enough:
- A key is taken from memory only if the request's whole key hashes to the SHA-256
  remembered for its id (compared in constant time, as against the table), so a memory
  never lets a wrong secret through. It holds hashes, never a key in clear.
- A key's row never changes but for its revocation: its institution, its hash and its
  instrument scope are written once. So what the memory remembers can go stale only by a
  revocation, and revocation is checked again where it matters: in the transaction that
  would record the request (`adapters.snapshot`, `domain.batch.plan`'s `revoked_keys`).
  A revoked key still passes the door for at most `ttl_s`, and every request it sends
  there is refused with the same 401 and writes nothing; the refusal also forgets it.
- Only the routes whose writes go through that check use it (`POST /v1/funding-events`
  and `/batch`). Reads verify their key in the table every time.
- Bounded: at most `capacity` keys (the least recently used is forgotten first), each for
  `ttl_s` from its verification; an unknown or refused key is never remembered.

Why it exists: on a steady stream of single requests the key's read was a round trip a
request, as much of funding's CPU as the whole group's read (docs/performance.md, issue 21,
tenth session). Earlier tries kept every key and forgot one when a trigger announced its
change (a LISTEN connection per replica); checking in the recording transaction instead
needs no listener and no trigger.
"""

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import TTLCache

from regia_shared.http.auth import hash_secret

from ..service_layer.recording import Caller


@dataclass(frozen=True)
class _Verified:
    key_sha256: str
    caller: Caller


class VerifiedKeys:
    """The keys verified in the last `ttl_s`, at most `capacity` of them: cachetools'
    TTLCache forgets a key when its time is up, and the least recently used when full."""

    def __init__(self, *, ttl_s: float = 300.0, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self._by_id: TTLCache[str, _Verified] = TTLCache(maxsize=capacity, ttl=ttl_s, timer=clock)

    def caller(self, key_id: str, token: str) -> Caller | None:
        """The caller `token` was verified as lately, or None (not remembered, expired, or
        not the key remembered under its id)."""
        verified = self._by_id.get(key_id)
        if verified is None or not hmac.compare_digest(hash_secret(token), verified.key_sha256):
            return None
        return verified.caller

    def remember(self, key_id: str, key_sha256: str, caller: Caller) -> None:
        self._by_id[key_id] = _Verified(key_sha256, caller)

    def forget(self, key_id: str) -> None:
        self._by_id.pop(key_id, None)

    def __len__(self) -> int:
        return len(self._by_id)
