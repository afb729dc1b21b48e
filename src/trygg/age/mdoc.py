"""Verifier of EU age verification proofs: ISO/IEC 18013-5 mdoc DeviceResponses.

The EU age verification app presents a proof of age as an mdoc of docType
``eu.europa.ec.av.1`` whose namespace of the same name carries ``age_over_18``. Accepting it
takes every check below, each failing with its own :class:`~trygg.age.rejection.Reason`:

1. the payload is well-formed CBOR with the DeviceResponse structure;
2. it holds a document of the age-verification docType, with issuer-signed elements in the
   age-verification namespace;
3. the issuer's COSE_Sign1 (IssuerAuth) uses an allowed algorithm, its document signer
   certificate (``x5chain``) chains to a trusted issuer CA, and the signature verifies;
4. the signed Mobile Security Object (MSO) is for this docType and within its validity window;
5. every disclosed element's digest equals the MSO's ``valueDigests`` entry;
6. the device signature (DeviceAuth) over the session transcript of *this* request, made
   with the device key the MSO certifies, verifies (the wallet holds the key: no copied proof);
7. the nonce has not been used by an accepted proof before.

The result keeps only the answer and what an audit needs (see :class:`AgeProofResult`).
``verify`` does no I/O: the trust list, clock and replay cache are given to the verifier.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from trygg.age import cose
from trygg.age.cbor import decode_cbor, decode_embedded, embedded_bytes, tag24_encoding
from trygg.age.rejection import ProofRejected, Reason
from trygg.age.replay import ReplayCache, ReplayGuard
from trygg.age.transcript import OpenID4VPTranscript
from trygg.age.trust import TrustList
from trygg.events import AgeProofEvent

#: docType and namespace of the EU age verification attestation.
AV_DOCTYPE = "eu.europa.ec.av.1"
AV_NAMESPACE = "eu.europa.ec.av.1"
AGE_OVER_18 = "age_over_18"
#: The ``age_proof`` event method this verifier answers.
METHOD = "eu_av_mdoc"
#: A DeviceResponse with one age attestation is a few kilobytes; refuse anything far larger.
MAX_PAYLOAD_BYTES = 64 * 1024
#: Digest algorithms ISO/IEC 18013-5 allows for valueDigests.
_DIGESTS = {"SHA-256": hashlib.sha256, "SHA-384": hashlib.sha384, "SHA-512": hashlib.sha512}


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class AgeProofResult:
    """The outcome of an accepted proof; deliberately nothing of the document itself.

    ``issuer`` is the subject of the document signer certificate (who vouches for the age),
    ``valid_until`` the end of the signed object's validity (when to ask again)."""

    over_18: bool
    method: str
    verified_at: datetime
    issuer: str
    valid_until: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "over_18": self.over_18,
            "method": self.method,
            "verified_at": self.verified_at.isoformat(),
            "issuer": self.issuer,
            "valid_until": self.valid_until.isoformat(),
        }


def _shown(value: Any) -> str:
    """An attacker-chosen name (docType, namespace, element) as it may appear in a message: short."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _field(mapping: Any, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{what} has no {key!r}")
    value = mapping[key]
    # bool is an int subclass in Python, but a CBOR true is no digestID or status.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{what} {key!r} has the wrong type")
    return value


def _aware(moment: Any, what: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{what} is not a date-time with a time zone (tdate)")
    return moment


class MdocAgeVerifier:
    """Checks age proofs against a trust list, for one OpenID4VP client configuration.

    ``allowed_algorithms`` names the COSE algorithms accepted for both the issuer and the
    device signature (ES256 by default). ``clock`` returns the verifier's current time (aware).
    """

    def __init__(
        self,
        trust_list: TrustList,
        transcript_config: OpenID4VPTranscript,
        *,
        clock: Callable[[], datetime] = _utc_now,
        replay_cache: ReplayGuard | None = None,
        allowed_algorithms: Iterable[str] = ("ES256",),
        method: str = METHOD,
    ) -> None:
        self.trust_list = trust_list
        self.transcript_config = transcript_config
        self.clock = clock
        self.replay_cache: ReplayGuard = replay_cache if replay_cache is not None else ReplayCache()
        self.allowed_algorithms = cose.algorithm_ids(allowed_algorithms)
        self.method = method

    # ------------------------------------------------------------------ entry point
    def verify(self, payload: bytes, nonce: str | None) -> AgeProofResult:
        """Verify one DeviceResponse for the request that used ``nonce``; raises :class:`ProofRejected`."""
        if not nonce:
            raise ProofRejected(Reason.MISSING_NONCE, "the proof has no nonce to bind it to a request")
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise ProofRejected(Reason.INVALID_STRUCTURE, f"payload is {len(payload)} bytes; limit {MAX_PAYLOAD_BYTES}")
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the verifier's clock must return an aware datetime")
        document = self._age_document(decode_cbor(payload, "DeviceResponse"))
        issuer_signed = _field(document, "issuerSigned", dict, "document")
        name_spaces = _field(issuer_signed, "nameSpaces", dict, "issuerSigned")
        if AV_NAMESPACE not in name_spaces:
            raise ProofRejected(Reason.WRONG_NAMESPACE, f"no issuer-signed elements in namespace {AV_NAMESPACE!r}")

        issuer_auth = cose.parse_sign1(_field(issuer_signed, "issuerAuth", (list, cbor2.CBORTag), "issuerSigned"), "issuerAuth")
        issuer_algorithm = cose.check_algorithm(issuer_auth, self.allowed_algorithms)
        chain = self._x5chain(issuer_auth)
        self.trust_list.verify_chain(chain, now)
        signer_key = chain[0].public_key()
        if not isinstance(signer_key, ec.EllipticCurvePublicKey) or not cose.signature_valid(
            issuer_auth, issuer_algorithm, signer_key
        ):
            raise ProofRejected(Reason.BAD_ISSUER_SIGNATURE, "the issuer signature over the Mobile Security Object does not verify")

        mso = self._mso(issuer_auth)
        valid_until = self._check_validity(mso, now)
        elements = self._check_digests(name_spaces, mso)
        over_18 = elements.get(AGE_OVER_18)
        if not isinstance(over_18, bool):
            raise ProofRejected(Reason.AGE_OVER_18_MISSING, f"namespace {AV_NAMESPACE!r} discloses no boolean {AGE_OVER_18!r}")

        self._check_device_signature(document, mso, nonce)
        remembered = self.replay_cache.remember(nonce, now)
        if remembered is None:
            raise ProofRejected(Reason.REPLAY_CACHE_FULL, "the replay cache is full; single use cannot be guaranteed")
        if not remembered:
            raise ProofRejected(Reason.REPLAYED, "a proof for this nonce was already accepted")
        return AgeProofResult(
            over_18=over_18,
            method=self.method,
            verified_at=now,
            issuer=chain[0].subject.rfc4514_string(),
            valid_until=valid_until,
        )

    # ------------------------------------------------------------------ structure
    @staticmethod
    def _age_document(response: Any) -> dict[str, Any]:
        if not isinstance(response, dict):
            raise ProofRejected(Reason.INVALID_STRUCTURE, "DeviceResponse is not a map")
        version = _field(response, "version", str, "DeviceResponse")
        if not version.startswith("1."):
            raise ProofRejected(Reason.INVALID_STRUCTURE, f"DeviceResponse version {_shown(version)} is not 1.x")
        status = _field(response, "status", int, "DeviceResponse")
        if status != 0:
            raise ProofRejected(Reason.INVALID_STRUCTURE, f"DeviceResponse status is {status}, not 0 (OK)")
        documents = _field(response, "documents", list, "DeviceResponse")
        if not all(isinstance(doc, dict) for doc in documents):
            raise ProofRejected(Reason.INVALID_STRUCTURE, "DeviceResponse documents must be maps")
        doc_types = [doc.get("docType") for doc in documents]
        matching = [doc for doc in documents if doc.get("docType") == AV_DOCTYPE]
        if not matching:
            shown = ", ".join(_shown(t) for t in doc_types[:5] if isinstance(t, str)) or "none"
            raise ProofRejected(Reason.WRONG_DOCTYPE, f"no document of docType {AV_DOCTYPE!r} (found: {shown})")
        if len(matching) > 1:
            raise ProofRejected(Reason.INVALID_STRUCTURE, f"more than one document of docType {AV_DOCTYPE!r}")
        return matching[0]

    @staticmethod
    def _x5chain(issuer_auth: cose.Sign1) -> list[x509.Certificate]:
        raw = issuer_auth.header(cose.HEADER_X5CHAIN)
        ders = [raw] if isinstance(raw, bytes) else raw
        if not isinstance(ders, list) or not ders or not all(isinstance(der, bytes) for der in ders):
            raise ProofRejected(Reason.INVALID_STRUCTURE, "issuerAuth has no x5chain (header 33) of DER certificates")
        try:
            return [x509.load_der_x509_certificate(der) for der in ders]
        except ValueError as exc:
            raise ProofRejected(Reason.INVALID_STRUCTURE, f"issuerAuth x5chain holds an unreadable certificate ({exc})") from None

    @staticmethod
    def _mso(issuer_auth: cose.Sign1) -> dict[str, Any]:
        if issuer_auth.payload is None:
            raise ProofRejected(Reason.INVALID_STRUCTURE, "issuerAuth has no payload")
        mso = decode_embedded(decode_cbor(issuer_auth.payload, "MobileSecurityObjectBytes"), "MobileSecurityObject")
        if not isinstance(mso, dict):
            raise ProofRejected(Reason.INVALID_STRUCTURE, "MobileSecurityObject is not a map")
        doc_type = _field(mso, "docType", str, "MobileSecurityObject")
        if doc_type != AV_DOCTYPE:
            raise ProofRejected(
                Reason.WRONG_DOCTYPE, f"the Mobile Security Object is for docType {_shown(doc_type)}, not {AV_DOCTYPE!r}"
            )
        return mso

    # ------------------------------------------------------------------ checks
    @staticmethod
    def _check_validity(mso: dict[str, Any], now: datetime) -> datetime:
        validity = _field(mso, "validityInfo", dict, "MobileSecurityObject")
        valid_from = _aware(validity.get("validFrom"), "validityInfo validFrom")
        valid_until = _aware(validity.get("validUntil"), "validityInfo validUntil")
        if now < valid_from:
            raise ProofRejected(Reason.NOT_YET_VALID, f"the proof is valid from {valid_from.isoformat()}, after {now.isoformat()}")
        if now > valid_until:
            raise ProofRejected(Reason.EXPIRED, f"the proof expired at {valid_until.isoformat()}")
        return valid_until

    @staticmethod
    def _check_digests(name_spaces: dict[Any, Any], mso: dict[str, Any]) -> dict[str, Any]:
        """Check every disclosed element against the MSO; returns the AV namespace's elements."""
        algorithm = _field(mso, "digestAlgorithm", str, "MobileSecurityObject")
        if algorithm not in _DIGESTS:
            raise ProofRejected(Reason.INVALID_STRUCTURE, f"digest algorithm {_shown(algorithm)} is not one of {', '.join(_DIGESTS)}")
        digest = _DIGESTS[algorithm]
        value_digests = _field(mso, "valueDigests", dict, "MobileSecurityObject")
        av_elements: dict[str, Any] = {}
        for namespace, items in name_spaces.items():
            if not isinstance(items, list):
                raise ProofRejected(
                    Reason.INVALID_STRUCTURE, f"namespace {_shown(namespace)} is not an array of IssuerSignedItemBytes"
                )
            signed = value_digests.get(namespace)
            for item_bytes in items:
                inner = embedded_bytes(item_bytes, "IssuerSignedItemBytes")
                item = decode_cbor(inner, "IssuerSignedItem")
                digest_id = _field(item, "digestID", int, "IssuerSignedItem")
                _field(item, "random", bytes, "IssuerSignedItem")
                identifier = _field(item, "elementIdentifier", str, "IssuerSignedItem")
                if "elementValue" not in item:
                    raise ProofRejected(Reason.INVALID_STRUCTURE, "IssuerSignedItem has no 'elementValue'")
                expected = signed.get(digest_id) if isinstance(signed, dict) else None
                if expected != digest(tag24_encoding(inner)).digest():
                    what = "has no digest in" if expected is None else "does not match its digest in"
                    raise ProofRejected(
                        Reason.TAMPERED_DIGEST,
                        f"element {_shown(identifier)} of {_shown(namespace)} {what} the Mobile Security Object",
                    )
                if namespace == AV_NAMESPACE:
                    if identifier in av_elements:
                        raise ProofRejected(Reason.INVALID_STRUCTURE, f"element {_shown(identifier)} is disclosed twice")
                    av_elements[identifier] = item["elementValue"]
        return av_elements

    def _check_device_signature(self, document: dict[str, Any], mso: dict[str, Any], nonce: str) -> None:
        key_info = _field(mso, "deviceKeyInfo", dict, "MobileSecurityObject")
        device_key = cose.ec_public_key_from_cose(key_info.get("deviceKey"), "deviceKeyInfo deviceKey")
        device_signed = _field(document, "deviceSigned", dict, "document")
        name_spaces_bytes = _field(device_signed, "nameSpaces", cbor2.CBORTag, "deviceSigned")
        if not isinstance(decode_embedded(name_spaces_bytes, "DeviceNameSpaces"), dict):
            raise ProofRejected(Reason.INVALID_STRUCTURE, "DeviceNameSpaces is not a map")
        device_auth = _field(device_signed, "deviceAuth", dict, "deviceSigned")
        if "deviceSignature" not in device_auth:
            raise ProofRejected(
                Reason.INVALID_STRUCTURE, "deviceAuth has no deviceSignature (deviceMac needs a reader key, which OpenID4VP lacks)"
            )
        signature = cose.parse_sign1(device_auth["deviceSignature"], "deviceSignature")
        algorithm = cose.check_algorithm(signature, self.allowed_algorithms)
        device_authentication = [
            "DeviceAuthentication",
            self.transcript_config.session_transcript(nonce),
            AV_DOCTYPE,
            name_spaces_bytes,
        ]
        device_authentication_bytes = tag24_encoding(cbor2.dumps(device_authentication))
        if not cose.signature_valid(signature, algorithm, device_key, detached_payload=device_authentication_bytes):
            raise ProofRejected(
                Reason.WRONG_NONCE,
                "the device signature does not verify over this request's session transcript "
                "(another nonce, client_id or response_uri, or not signed with the certified device key)",
            )


def decode_payload(payload: str) -> bytes:
    """The DeviceResponse bytes of an event payload (base64, standard or URL-safe, padding optional)."""
    text = payload.strip()
    try:
        return base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ProofRejected(Reason.MALFORMED_PAYLOAD, "payload is not base64") from None


def verify_age_proof_event(event: AgeProofEvent, verifier: MdocAgeVerifier) -> AgeProofResult | ProofRejected:
    """One call for the engine: the event's proof verified, or why it was refused (never raises it)."""
    if event.method != verifier.method:
        return ProofRejected(Reason.UNSUPPORTED_METHOD, f"method {event.method!r} is not {verifier.method!r}")
    try:
        return verifier.verify(decode_payload(event.payload), event.nonce)
    except ProofRejected as rejection:
        return rejection
