"""Test helper: issuers, devices and ISO/IEC 18013-5 DeviceResponses made on the spot.

Everything is generated with ``cryptography`` (keys, X.509 certificates, ECDSA) and ``cbor2``
(the mdoc structures), written from the standards rather than from trygg's verifier, so the
tests check the verifier against an independent producer: an IACA-style issuer CA, a document
signer (DS) certificate, a device key, and a DeviceResponse whose DeviceAuth signs the
OpenID4VP 1.0 (Appendix B.2.6.1) session transcript. Knobs produce each broken variant.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID, ObjectIdentifier

AV = "eu.europa.ec.av.1"
MDOC_DS_EKU = ObjectIdentifier("1.0.18013.5.1.2")
#: The verifier's clock in the tests.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
CLIENT_ID = "x509_san_dns:verifier.trygg.example"
RESPONSE_URI = "https://verifier.trygg.example/age/response"

_ALGORITHMS = {
    -7: (ec.SECP256R1, hashes.SHA256, 32),
    -35: (ec.SECP384R1, hashes.SHA384, 48),
    -36: (ec.SECP521R1, hashes.SHA512, 66),
}
_CURVE_IDS = {"secp256r1": 1, "secp384r1": 2, "secp521r1": 3}


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(*, digital_signature: bool = False, key_cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass
class Issuer:
    """An issuer CA (the trust anchor) and one document signer certificate it issued."""

    ca_key: ec.EllipticCurvePrivateKey
    ca_cert: x509.Certificate
    signer_key: ec.EllipticCurvePrivateKey
    signer_cert: x509.Certificate
    #: Intermediate CA certificates between the CA and the signer, the signer's issuer first.
    intermediates: list[x509.Certificate] = field(default_factory=list)

    def x5chain(self) -> bytes | list[bytes]:
        """The COSE x5chain header value: one bstr for a lone certificate, else an array."""
        ders = [c.public_bytes(serialization.Encoding.DER) for c in [self.signer_cert, *self.intermediates]]
        return ders[0] if len(ders) == 1 else ders

    def ca_pem(self) -> bytes:
        return self.ca_cert.public_bytes(serialization.Encoding.PEM)


def make_issuer(
    name: str = "Test AV Issuer",
    *,
    now: datetime = NOW,
    ca_validity: tuple[timedelta, timedelta] = (timedelta(days=-365), timedelta(days=3650)),
    signer_validity: tuple[timedelta, timedelta] = (timedelta(days=-30), timedelta(days=365)),
    signer_curve: ec.EllipticCurve | None = None,
    signer_digital_signature: bool = True,
    signer_eku: ObjectIdentifier | None = MDOC_DS_EKU,
    ca_key_cert_sign: bool = True,
    signer_is_ca: bool = False,
    intermediates: int = 0,
) -> Issuer:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{name} IACA"))
        .issuer_name(_name(f"{name} IACA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + ca_validity[0])
        .not_valid_after(now + ca_validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=None if intermediates else 0), critical=True)
        .add_extension(_key_usage(key_cert_sign=ca_key_cert_sign, digital_signature=not ca_key_cert_sign), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    issuing_key, issuing_cert, chain = ca_key, ca_cert, []
    for level in range(intermediates):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(f"{name} intermediate {level + 1}"))
            .issuer_name(issuing_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + ca_validity[0])
            .not_valid_after(now + ca_validity[1])
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_key_usage(key_cert_sign=True), critical=True)
            .sign(issuing_key, hashes.SHA256())
        )
        issuing_key, issuing_cert = key, cert
        chain.insert(0, cert)
    signer_key = ec.generate_private_key(signer_curve or ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{name} DS"))
        .issuer_name(issuing_cert.subject)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + signer_validity[0])
        .not_valid_after(now + signer_validity[1])
        .add_extension(_key_usage(digital_signature=signer_digital_signature, key_cert_sign=not signer_digital_signature), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing_key.public_key()), critical=False)
    )
    if signer_is_ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    if signer_eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([signer_eku]), critical=True)
    signer_cert = builder.sign(issuing_key, hashes.SHA256())
    return Issuer(ca_key, ca_cert, signer_key, signer_cert, chain)


@dataclass
class Device:
    """The wallet's device key, certified in the MSO and used for DeviceAuth."""

    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    def cose_key(self) -> dict[int, Any]:
        numbers = self.key.public_key().public_numbers()
        size = (self.key.curve.key_size + 7) // 8
        return {1: 2, -1: _CURVE_IDS[self.key.curve.name], -2: numbers.x.to_bytes(size, "big"), -3: numbers.y.to_bytes(size, "big")}


def openid4vp_session_transcript(
    nonce: str, *, client_id: str = CLIENT_ID, response_uri: str = RESPONSE_URI, jwk_thumbprint: bytes | None = None
) -> list[Any]:
    """SessionTranscript for OpenID4VP redirects (OpenID4VP 1.0 Appendix B.2.6.1)."""
    info_bytes = cbor2.dumps([client_id, nonce, jwk_thumbprint, response_uri])
    return [None, None, ["OpenID4VPHandover", hashlib.sha256(info_bytes).digest()]]


def _tag24(value: Any) -> cbor2.CBORTag:
    return cbor2.CBORTag(24, cbor2.dumps(value))


def cose_sign1(
    key: ec.EllipticCurvePrivateKey,
    alg: Any,
    payload: bytes | None,
    *,
    unprotected: dict[int, Any] | None = None,
    detached: bytes | None = None,
    protect_alg: bool = True,
) -> list[Any]:
    """A COSE_Sign1 array; ``alg`` outside the ECDSA table (e.g. ``"none"``) gets an empty signature."""
    protected = cbor2.dumps({1: alg}) if protect_alg else b""
    header = dict(unprotected or {})
    if not protect_alg:
        header[1] = alg
    signed_payload = detached if detached is not None else payload
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", signed_payload])
    if alg in _ALGORITHMS:
        _, hash_type, size = _ALGORITHMS[alg]
        r, s = decode_dss_signature(key.sign(to_be_signed, ec.ECDSA(hash_type())))
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    else:
        signature = b""
    return [protected, header, payload, signature]


@dataclass
class ResponseSpec:
    """What to put in a DeviceResponse; the defaults make a valid proof of being over 18."""

    nonce: str = "n-0001"
    age_over_18: bool | None = True
    doc_type: str = AV
    mso_doc_type: str | None = None
    namespace: str = AV
    valid_from: datetime = NOW - timedelta(days=1)
    valid_until: datetime = NOW + timedelta(days=90)
    issuer_alg: Any = -7
    device_alg: Any = -7
    device_alg_protected: bool = True
    #: Value written into the disclosed age_over_18 after the MSO was signed (an edit).
    tampered_age_over_18: bool | None = None
    #: An element disclosed without any digest in the MSO.
    undigested_element: tuple[str, Any] | None = None
    extra_elements: dict[str, Any] = field(default_factory=dict)
    client_id: str = CLIENT_ID
    response_uri: str = RESPONSE_URI
    jwk_thumbprint: bytes | None = None
    #: Key that signs the MSO instead of the DS key (the x5chain still names the DS).
    mso_signing_key: ec.EllipticCurvePrivateKey | None = None
    device_mac: bool = False


def device_response(issuer: Issuer, device: Device, spec: ResponseSpec | None = None) -> bytes:
    """An encoded DeviceResponse with one document, built as ISO/IEC 18013-5 section 8.3 says."""
    spec = spec or ResponseSpec()
    elements: dict[str, Any] = dict(spec.extra_elements)
    if spec.age_over_18 is not None:
        elements["age_over_18"] = spec.age_over_18
    items = []
    digests: dict[int, bytes] = {}
    for digest_id, (identifier, value) in enumerate(elements.items()):
        item = {"digestID": digest_id, "random": os.urandom(16), "elementIdentifier": identifier, "elementValue": value}
        encoded = _tag24(item)
        digests[digest_id] = hashlib.sha256(cbor2.dumps(encoded)).digest()
        if identifier == "age_over_18" and spec.tampered_age_over_18 is not None:
            encoded = _tag24({**item, "elementValue": spec.tampered_age_over_18})
        items.append(encoded)
    if spec.undigested_element is not None:
        identifier, value = spec.undigested_element
        items.append(_tag24({"digestID": len(elements) + 100, "random": os.urandom(16), "elementIdentifier": identifier, "elementValue": value}))

    mso = {
        "version": "1.0",
        "digestAlgorithm": "SHA-256",
        "valueDigests": {spec.namespace: digests},
        "deviceKeyInfo": {"deviceKey": device.cose_key()},
        "docType": spec.mso_doc_type or spec.doc_type,
        "validityInfo": {"signed": spec.valid_from, "validFrom": spec.valid_from, "validUntil": spec.valid_until},
    }
    issuer_auth = cose_sign1(
        spec.mso_signing_key or issuer.signer_key, spec.issuer_alg, cbor2.dumps(_tag24(mso)), unprotected={33: issuer.x5chain()}
    )

    device_name_spaces = _tag24({})
    transcript = openid4vp_session_transcript(
        spec.nonce, client_id=spec.client_id, response_uri=spec.response_uri, jwk_thumbprint=spec.jwk_thumbprint
    )
    device_authentication = cbor2.dumps(_tag24(["DeviceAuthentication", transcript, spec.doc_type, device_name_spaces]))
    if spec.device_mac:
        device_auth: dict[str, Any] = {"deviceMac": [cbor2.dumps({1: 5}), {}, None, os.urandom(32)]}
    else:
        device_auth = {
            "deviceSignature": cose_sign1(
                device.key, spec.device_alg, None, detached=device_authentication, protect_alg=spec.device_alg_protected
            )
        }
    document = {
        "docType": spec.doc_type,
        "issuerSigned": {"nameSpaces": {spec.namespace: items}, "issuerAuth": issuer_auth},
        "deviceSigned": {"nameSpaces": device_name_spaces, "deviceAuth": device_auth},
    }
    return cbor2.dumps({"version": "1.0", "documents": [document], "status": 0})
