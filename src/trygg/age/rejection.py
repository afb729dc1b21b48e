"""Why an age proof was refused: one stable reason code per failed check.

Platforms act on the reason (ask the user to retry, alert on forgeries, fix a misconfigured
trust list), so each check fails with its own code; the message says what exactly was wrong
for the operator, and never repeats attribute values from the document.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Stable codes for rejected proofs (the string values are part of the API)."""

    #: The event's method is not one this verifier handles.
    UNSUPPORTED_METHOD = "unsupported_method"
    #: The event's payload is not base64.
    MALFORMED_PAYLOAD = "malformed_payload"
    #: The payload (or a CBOR item embedded in it) is not well-formed CBOR.
    MALFORMED_CBOR = "malformed_cbor"
    #: Well-formed CBOR, but not the structure ISO/IEC 18013-5 defines.
    INVALID_STRUCTURE = "invalid_structure"
    #: No document of the age-verification docType, or the MSO names another docType.
    WRONG_DOCTYPE = "wrong_doctype"
    #: The document carries no issuer-signed elements in the age-verification namespace.
    WRONG_NAMESPACE = "wrong_namespace"
    #: A COSE signature uses an algorithm outside the verifier's allow-list (or none at all).
    ALGORITHM_NOT_ALLOWED = "algorithm_not_allowed"
    #: The document signer certificate does not chain to a trusted issuer CA.
    UNTRUSTED_ISSUER = "untrusted_issuer"
    #: The issuer's signature over the Mobile Security Object does not verify.
    BAD_ISSUER_SIGNATURE = "bad_issuer_signature"
    #: A disclosed element does not match its digest in the Mobile Security Object.
    TAMPERED_DIGEST = "tampered_digest"
    #: The Mobile Security Object's validity ended before the verifier's clock.
    EXPIRED = "expired"
    #: The Mobile Security Object's validity starts after the verifier's clock.
    NOT_YET_VALID = "not_yet_valid"
    #: The event carries no nonce, so the proof cannot be bound to this request.
    MISSING_NONCE = "missing_nonce"
    #: The device signature does not verify over the session transcript for this nonce.
    WRONG_NONCE = "wrong_nonce"
    #: The issuer-signed age-verification namespace has no (boolean) ``age_over_18``.
    AGE_OVER_18_MISSING = "age_over_18_missing"
    #: This nonce was already used by an accepted proof.
    REPLAYED = "replayed"
    #: The replay cache is full of unexpired entries: single use cannot be guaranteed.
    REPLAY_CACHE_FULL = "replay_cache_full"


class ProofRejected(Exception):
    """An age proof failed a check; ``reason`` is stable, ``message`` is for people."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.reason.value, "message": self.message}
