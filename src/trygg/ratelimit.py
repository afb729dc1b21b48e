"""Per-key rate limiting: one token bucket per API key id, in memory.

A bucket holds at most ``burst`` tokens and refills at ``rate`` tokens a second; each request
takes one. A key that runs dry gets 429 with ``Retry-After`` (whole seconds until a token is
back), so a misbehaving client slows down without starving the others. Buckets live in the
process: with several server processes each has its own, so the limit per key is per process
(documented in docs/api.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    """``rate`` requests a second sustained, ``burst`` at once."""

    rate: float = 50.0
    burst: int = 100

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")


class TokenBuckets:
    """Token buckets by key id; thread-safe (uvicorn runs sync routes in a thread pool)."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, last refill)
        self._lock = threading.Lock()

    def take(self, key_id: str) -> float:
        """Take a token for ``key_id``: 0.0 when allowed, else the seconds until one is back."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(self.limit.burst), now))
            tokens = min(float(self.limit.burst), tokens + (now - last) * self.limit.rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / self.limit.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        """The ``Retry-After`` header value: whole seconds, at least 1."""
        return str(max(1, math.ceil(wait)))
