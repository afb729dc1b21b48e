"""Single use of age proofs: a bounded replay cache with expiry.

A proof's device signature covers the platform's nonce (see ``transcript``), so a proof can only
ever be accepted with the nonce it was made for; remembering the nonces of accepted proofs
therefore stops both a replayed proof and a reused nonce. Entries expire after ``ttl`` (set it
to at least the lifetime of the platform's nonces). When the cache is full of unexpired
entries it refuses new proofs rather than forget old ones: dropping an entry would let that
proof be accepted a second time.
Only a SHA-256 of the nonce is kept. The cache is in memory (one process); a deployment with
several verifier processes plugs in a shared store with the same ``remember`` method.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from datetime import datetime, timedelta
from threading import Lock
from typing import Protocol


class ReplayGuard(Protocol):
    def remember(self, nonce: str, now: datetime) -> bool | None:
        """Record ``nonce`` as used; False if it was already used, None if it cannot be recorded."""


class ReplayCache:
    """In-memory :class:`ReplayGuard`: at most ``max_entries`` nonces, each kept for ``ttl``."""

    def __init__(self, ttl: timedelta = timedelta(minutes=15), max_entries: int = 100_000) -> None:
        if ttl <= timedelta(0) or max_entries < 1:
            raise ValueError("ttl must be positive and max_entries at least 1")
        self.ttl = ttl
        self.max_entries = max_entries
        #: nonce digest -> expiry, in insertion order (= expiry order, since ttl is constant).
        self._entries: OrderedDict[bytes, datetime] = OrderedDict()
        self._lock = Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def remember(self, nonce: str, now: datetime) -> bool | None:
        key = hashlib.sha256(nonce.encode("utf-8")).digest()
        with self._lock:
            while self._entries:
                oldest, expires = next(iter(self._entries.items()))
                if expires > now:
                    break
                del self._entries[oldest]
            if key in self._entries:
                return False
            if len(self._entries) >= self.max_entries:
                return None
            self._entries[key] = now + self.ttl
            return True
