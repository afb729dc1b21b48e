"""COSE_Sign1 (RFC 9052) and COSE_Key (RFC 9053) as ISO/IEC 18013-5 uses them.

The structure is parsed and the Sig_structure built with ``cbor2``; the ECDSA check itself is
``cryptography``'s (OpenSSL). ``pycose`` was considered and left out: its ECDSA goes through the
pure-Python ``ecdsa`` package rather than OpenSSL, it pulls in three more direct dependencies
(``ecdsa``, ``certvalidator``, ``attrs``) and three transitive ones, and an
allow-list must look at the algorithm before any library acts on the message anyway. What is
left here is the RFC's two-line Sig_structure, computed over the protected-header bytes exactly
as received (re-encoding them would change what was signed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from trygg.age.cbor import decode_cbor
from trygg.age.rejection import ProofRejected, Reason

#: COSE header labels (RFC 9052 section 3.1, RFC 9360).
HEADER_ALG = 1
HEADER_CRIT = 2
HEADER_X5CHAIN = 33
#: CBOR tag of a tagged COSE_Sign1.
COSE_SIGN1_TAG = 18


@dataclass(frozen=True)
class _EcdsaAlgorithm:
    name: str
    curve: type[ec.EllipticCurve]
    hash: type[hashes.HashAlgorithm]
    #: Length of r and of s in the raw r || s signature COSE uses.
    coordinate_bytes: int


#: The ECDSA algorithms this module can check, by COSE algorithm id (RFC 9053 section 2.1).
SUPPORTED_ALGORITHMS: dict[int, _EcdsaAlgorithm] = {
    -7: _EcdsaAlgorithm("ES256", ec.SECP256R1, hashes.SHA256, 32),
    -35: _EcdsaAlgorithm("ES384", ec.SECP384R1, hashes.SHA384, 48),
    -36: _EcdsaAlgorithm("ES512", ec.SECP521R1, hashes.SHA512, 66),
}
_ALGORITHM_IDS = {algorithm.name: alg_id for alg_id, algorithm in SUPPORTED_ALGORITHMS.items()}
#: COSE_Key curve ids (RFC 9053 section 7.1) for the EC2 key type.
_CURVES: dict[int, type[ec.EllipticCurve]] = {1: ec.SECP256R1, 2: ec.SECP384R1, 3: ec.SECP521R1}
_KTY_EC2 = 2


def algorithm_ids(names: Iterable[str]) -> frozenset[int]:
    """COSE ids for algorithm names such as ``"ES256"``; unknown names are a configuration error."""
    ids = set()
    for name in names:
        if name not in _ALGORITHM_IDS:
            raise ValueError(f"unsupported algorithm {name!r}; supported: {', '.join(sorted(_ALGORITHM_IDS))}")
        ids.add(_ALGORITHM_IDS[name])
    if not ids:
        raise ValueError("at least one algorithm must be allowed")
    return frozenset(ids)


@dataclass(frozen=True)
class Sign1:
    """A parsed COSE_Sign1; ``protected_bytes`` are kept as received because they are signed."""

    what: str
    protected_bytes: bytes
    protected: dict[Any, Any]
    unprotected: dict[Any, Any]
    payload: bytes | None
    signature: bytes

    def header(self, label: int) -> Any:
        """A header parameter from either bucket (the caller decides which ones must be protected)."""
        if label in self.protected:
            return self.protected[label]
        return self.unprotected.get(label)


def parse_sign1(obj: Any, what: str) -> Sign1:
    """Check that ``obj`` is a COSE_Sign1 (tagged 18 or not) and split it into its parts."""
    if isinstance(obj, cbor2.CBORTag):
        if obj.tag != COSE_SIGN1_TAG:
            raise ProofRejected(Reason.INVALID_STRUCTURE, f"{what} has CBOR tag {obj.tag}, expected a COSE_Sign1 (18)")
        obj = obj.value
    if not isinstance(obj, list) or len(obj) != 4:
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{what} is not a COSE_Sign1 array of four items")
    protected_bytes, unprotected, payload, signature = obj
    if not isinstance(protected_bytes, bytes) or not isinstance(unprotected, dict):
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{what} needs a bstr protected header and a map unprotected header")
    if payload is not None and not isinstance(payload, bytes):
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{what} payload must be a bstr or null")
    if not isinstance(signature, bytes):
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{what} signature must be a bstr")
    protected = decode_cbor(protected_bytes, f"{what} protected header") if protected_bytes else {}
    if not isinstance(protected, dict):
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{what} protected header is not a map")
    if set(protected) & set(unprotected):
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{what} repeats a header parameter in both header buckets")
    if HEADER_CRIT in protected:
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{what} marks header parameters critical; none are supported")
    return Sign1(what, protected_bytes, protected, unprotected, payload, signature)


def check_algorithm(sign1: Sign1, allowed: frozenset[int]) -> _EcdsaAlgorithm:
    """The message's algorithm, which must sit in the protected header and be allowed."""
    alg = sign1.protected.get(HEADER_ALG)
    allowed_names = ", ".join(sorted(SUPPORTED_ALGORITHMS[alg_id].name for alg_id in allowed))
    if alg is None:
        where = "only in the unprotected header" if HEADER_ALG in sign1.unprotected else "none given"
        raise ProofRejected(
            Reason.ALGORITHM_NOT_ALLOWED, f"{sign1.what} has no protected algorithm ({where}); allowed: {allowed_names}"
        )
    if alg not in allowed:
        label = SUPPORTED_ALGORITHMS[alg].name if alg in SUPPORTED_ALGORITHMS else f"{alg!r} (unsupported)"
        raise ProofRejected(
            Reason.ALGORITHM_NOT_ALLOWED, f"{sign1.what} uses algorithm {label}; allowed: {allowed_names}"
        )
    return SUPPORTED_ALGORITHMS[alg]


def signature_valid(
    sign1: Sign1, algorithm: _EcdsaAlgorithm, public_key: ec.EllipticCurvePublicKey, detached_payload: bytes | None = None
) -> bool:
    """Whether the signature verifies over the Sig_structure (RFC 9052 section 4.4).

    ``detached_payload`` is for messages whose payload is carried elsewhere (the mdoc device
    signature signs DeviceAuthenticationBytes, which the verifier rebuilds itself)."""
    if detached_payload is not None and sign1.payload is not None:
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{sign1.what} must have a detached (null) payload")
    payload = detached_payload if detached_payload is not None else sign1.payload
    if payload is None:
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{sign1.what} has no payload")
    if not isinstance(public_key.curve, algorithm.curve):
        return False
    size = algorithm.coordinate_bytes
    if len(sign1.signature) != 2 * size:
        return False
    to_be_signed = cbor2.dumps(["Signature1", sign1.protected_bytes, b"", payload])
    der = encode_dss_signature(
        int.from_bytes(sign1.signature[:size], "big"), int.from_bytes(sign1.signature[size:], "big")
    )
    try:
        public_key.verify(der, to_be_signed, ec.ECDSA(algorithm.hash()))
    except InvalidSignature:
        return False
    return True


def ec_public_key_from_cose(cose_key: Any, what: str) -> ec.EllipticCurvePublicKey:
    """An EC2 COSE_Key (kty 2, crv, x, y) as a ``cryptography`` public key; the point is checked."""
    if not isinstance(cose_key, dict):
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{what} is not a COSE_Key map")
    kty, crv, x, y = cose_key.get(1), cose_key.get(-1), cose_key.get(-2), cose_key.get(-3)
    if kty != _KTY_EC2 or crv not in _CURVES:
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{what} is not an EC2 key on P-256, P-384 or P-521")
    curve = _CURVES[crv]()
    size = (curve.key_size + 7) // 8
    if not (isinstance(x, bytes) and isinstance(y, bytes) and len(x) == size and len(y) == size):
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{what} needs x and y of {size} bytes each")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + x + y)
    except ValueError:
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{what} is not a point on its curve") from None
