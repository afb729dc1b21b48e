"""Reloading a policy file without a restart, and never into a broken state.

A service watches its policy file; when the file changes, the new version is loaded and, only if
it validates, replaces the one in force. An invalid edit is logged with its line and key, and the
last good policy keeps deciding: a typo must not leave children without protections.
"""

from __future__ import annotations

import logging
import hashlib
import signal
from pathlib import Path

from trygg.policy import Policy, PolicyError

log = logging.getLogger("trygg.policy.reload")


class PolicyFile:
    """A policy file and the last good policy loaded from it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._seen = self._digest()
        self.policy = Policy.load(self.path)
        #: Why the latest change was not taken (None after a good load).
        self.error: str | None = None

    def _digest(self) -> bytes | None:
        # The content's digest, not the modification time: two saves within the file system's
        # timestamp granularity (a few ms) with the same size would otherwise look unchanged.
        try:
            return hashlib.sha256(self.path.read_bytes()).digest()
        except OSError:
            return None

    def poll(self) -> Policy | None:
        """The new policy if the file changed and validates; None otherwise (see ``error``)."""
        digest = self._digest()
        if digest == self._seen:
            return None
        self._seen = digest
        try:
            policy = Policy.load(self.path)
        except (OSError, PolicyError) as exc:
            self.error = str(exc)
            log.warning("policy %s not reloaded, %s stays in force: %s", self.path, self.policy.id, exc)
            return None
        self.error = None
        if policy.id != self.policy.id:
            log.info("policy %s reloaded: %s -> %s", self.path, self.policy.id, policy.id)
        self.policy = policy
        return policy

    def apply(self, engine: object) -> bool:
        """Put a changed, valid policy into ``engine`` (``engine.policy``); returns whether it did."""
        policy = self.poll()
        if policy is None:
            return False
        engine.policy = policy  # type: ignore[attr-defined]
        return True


def reload_on_sighup(path: str | Path, engine: object) -> PolicyFile:
    """Reload ``path`` into ``engine`` when the process gets SIGHUP (the Unix way to say "read
    your configuration again"); returns the watched file. Call from the main thread."""
    watched = PolicyFile(path)

    def on_hangup(signum: int, frame: object) -> None:
        watched.apply(engine)

    signal.signal(signal.SIGHUP, on_hangup)
    return watched
