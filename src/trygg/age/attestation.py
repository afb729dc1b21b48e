"""Signed age attestations from an age-assurance vendor (HMAC-SHA256 over a small JSON claim).

Many platforms do not receive the user's document at all: a vendor checks the age and sends the
platform a signed statement "this user, for this nonce, is over 18". This verifier checks such a
statement against the shared key agreed with one issuer, with the standard library's ``hmac``
(constant-time comparison), and implements :class:`trygg.age.proofs.AgeProofVerifier`, so it
stands beside the EU mdoc verifier. Payload: ``JSON claim + b"." + base64url(HMAC-SHA256)``,
the claim being ``{"over_18": bool, "issuer": str, "nonce": str, "issued_at": RFC 3339}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

from trygg.age.proofs import ProofRejected, ProofResult

METHOD = "vendor_attestation"
#: How long after issue an attestation is still accepted.
MAX_AGE = timedelta(minutes=10)


def sign_attestation(key: bytes, over_18: bool, issuer: str, nonce: str, issued_at: datetime) -> bytes:
    """An attestation as the vendor would send it (for issuers, tests and the demo)."""
    claim = json.dumps(
        {"over_18": over_18, "issuer": issuer, "nonce": nonce, "issued_at": issued_at.isoformat()}, separators=(",", ":")
    ).encode()
    tag = base64.urlsafe_b64encode(hmac.new(key, claim, hashlib.sha256).digest()).rstrip(b"=")
    return claim + b"." + tag


class SharedKeyAttestationVerifier:
    """Verifies attestations of one issuer; ``now`` is injectable so that tests need no clock."""

    def __init__(self, issuer: str, key: bytes, now: datetime | None = None) -> None:
        self.issuer = issuer
        self._key = key
        self._now = now

    def verify(self, payload: bytes, nonce: str | None) -> ProofResult:
        claim_bytes, dot, tag = payload.rpartition(b".")
        if not dot:
            raise ProofRejected("malformed_payload", "expected a claim and a signature separated by '.'")
        try:
            given = base64.urlsafe_b64decode(tag + b"=" * (-len(tag) % 4))
        except (binascii.Error, ValueError):
            raise ProofRejected("malformed_payload", "signature is not base64url") from None
        if not hmac.compare_digest(given, hmac.new(self._key, claim_bytes, hashlib.sha256).digest()):
            raise ProofRejected("bad_signature", f"not signed by {self.issuer}'s key")
        try:
            claim = json.loads(claim_bytes)
            over_18, issuer, claim_nonce = claim["over_18"], claim["issuer"], claim["nonce"]
            issued_at = datetime.fromisoformat(claim["issued_at"])
        except (ValueError, KeyError, TypeError):
            raise ProofRejected("malformed_payload", "claim is not the expected JSON object") from None
        if issuer != self.issuer:
            raise ProofRejected("unknown_issuer", f"issued by {issuer!r}, expected {self.issuer!r}")
        if nonce is None or not hmac.compare_digest(str(claim_nonce), nonce):
            raise ProofRejected("nonce_mismatch", "the attestation is not for this request's nonce")
        now = self._now or datetime.now(timezone.utc)
        if issued_at.tzinfo is None or not (now - MAX_AGE <= issued_at <= now + timedelta(minutes=1)):
            raise ProofRejected("expired", f"issued at {claim['issued_at']}, outside {MAX_AGE} of now")
        if not isinstance(over_18, bool):
            raise ProofRejected("malformed_payload", "over_18 must be true or false")
        return ProofResult(over_18=over_18, method=METHOD, verified_at=now, issuer=issuer)
