"""Age proofs: the verifier protocol the engine calls, and what a verified proof leaves behind.

A verifier (the EU age verification mdoc verifier in :mod:`trygg.age.mdoc`, or another method)
gets the proof's bytes and the nonce the platform issued, and either returns a
:class:`ProofResult` or raises :class:`ProofRejected` with a machine-readable reason. The engine
keeps only the result (over 18 or not, method, time, issuer) in the user's age picture and the
decision's reasons; the payload is never stored, logged or put in a reason.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ProofResult:
    """What a verified proof establishes, and nothing about the document."""

    over_18: bool
    method: str
    verified_at: datetime
    issuer: str


class ProofRejected(Exception):
    """A proof did not verify; ``reason`` is a short code (``bad_signature``, ``expired``,
    ``nonce_mismatch``, ...), ``message`` says what was wrong for a human."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


class AgeProofVerifier(Protocol):
    def verify(self, payload: bytes, nonce: str | None) -> ProofResult: ...


def decode_payload(payload: str) -> bytes:
    """The proof's bytes from the event's base64 (standard or URL-safe, padding optional)."""
    text = payload.strip()
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if ("-" in text or "_" in text) else None, validate=True)
    except (binascii.Error, ValueError):
        raise ProofRejected("malformed_payload", "payload is not base64") from None


__all__ = ["AgeProofVerifier", "ProofRejected", "ProofResult", "decode_payload"]
