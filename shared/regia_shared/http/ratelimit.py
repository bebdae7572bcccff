"""Token buckets per caller, for ingestion rate limits.

Each key has a bucket of `burst` tokens refilled at `rate_per_s`; a request for n tokens
(a batch counts its events) takes them all or none. A refusal says honestly how long to
wait: the seconds until the bucket holds n tokens again, rounded up.

The buckets live in the memory of one replica, on purpose: the limit protects a replica
and the database behind it from one runaway client, and checking it must cost no database
round trip (nor a hot row every ingestion would contend on). With N replicas behind a load
balancer a key can reach N times the rate; size REGIA_FUNDING_RATE_PER_S for that. A
restart refills the buckets, which at worst lets one extra burst through.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Decision:
    allowed: bool
    retry_after_s: int = 0  # whole seconds until the same request would be allowed
    remaining: int = 0


class TokenBuckets:
    def __init__(
        self, rate_per_s: float, burst: int, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self.rate_per_s, self.burst = rate_per_s, burst
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str, n: int = 1) -> Decision:
        """Take n tokens from key's bucket, or none and say when to retry. A request for
        more than the burst can never pass: the caller must split it (see `fits`)."""
        now = self._clock()
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate_per_s)
        if tokens >= n:
            self._remember(key, tokens - n, now)
            return Decision(True, 0, int(tokens - n))
        self._remember(key, tokens, now)
        wait = (n - tokens) / self.rate_per_s
        return Decision(False, max(1, math.ceil(wait)), int(tokens))

    def fits(self, n: int) -> bool:
        return n <= self.burst

    def _remember(self, key: str, tokens: float, now: float) -> None:
        if key not in self._buckets and len(self._buckets) >= self._max_keys:
            # Forget full buckets first: forgetting one changes nothing for its key.
            full = [
                k
                for k, (t, a) in self._buckets.items()
                if min(self.burst, t + (now - a) * self.rate_per_s) >= self.burst
            ]
            for k in full or list(self._buckets)[: len(self._buckets) // 2]:
                del self._buckets[k]
        self._buckets[key] = (tokens, now)
