"""Which issuers of age proofs the platform trusts, and the check of a document signer's chain.

An age-verification issuer has a CA certificate (an IACA in ISO/IEC 18013-5 terms) that signs
short-lived document signer (DS) certificates; the DS key signs each Mobile Security Object and
the DS certificate travels with it (COSE header ``x5chain``). The platform configures the CA
certificates it trusts, as PEM files; the chain from the DS certificate to one of them is
built and checked by ``cryptography``'s X.509 path validation (signatures, names, validity at
the verifier's clock, basic constraints), with ISO 18013-5's profile instead of the Web PKI's:
key usage is checked where present (keyCertSign on CAs, digitalSignature on the DS) and an
extended key usage on the DS, where present, must include the mdoc DS purpose.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier
from cryptography.x509.verification import Criticality, ExtensionPolicy, Policy, PolicyBuilder, Store, VerificationError

from trygg.age.rejection import ProofRejected, Reason

#: id-mdl-kp-mdlDS (ISO/IEC 18013-5 Annex B): the extended key usage of mdoc document signers.
MDOC_DS_EKU = ObjectIdentifier("1.0.18013.5.1.2")
#: File names read from a trust-list folder.
PEM_SUFFIXES = (".pem", ".crt")
#: Intermediate CAs allowed between a trusted CA and the DS (IACA -> DS is the usual chain, none).
MAX_CHAIN_DEPTH = 1


def _ca_key_usage(_policy: Policy, cert: x509.Certificate, usage: x509.KeyUsage | None) -> None:
    if usage is not None and not usage.key_cert_sign:
        raise ValueError("issuing certificate's key usage lacks keyCertSign")


def _ds_key_usage(_policy: Policy, cert: x509.Certificate, usage: x509.KeyUsage | None) -> None:
    if usage is not None and not usage.digital_signature:
        raise ValueError("document signer's key usage lacks digitalSignature")


def _ds_not_ca(_policy: Policy, cert: x509.Certificate, constraints: x509.BasicConstraints | None) -> None:
    if constraints is not None and constraints.ca:
        raise ValueError("document signer certificate is a CA certificate")


def _ds_eku(required: ObjectIdentifier | None):
    def check(_policy: Policy, cert: x509.Certificate, usage: x509.ExtendedKeyUsage | None) -> None:
        if required is not None and usage is not None and required not in usage:
            raise ValueError(f"document signer's extended key usage lacks {required.dotted_string}")

    return check


class TrustList:
    """Trusted issuer CA certificates and the path validation of document signer chains."""

    def __init__(self, ca_certificates: Iterable[x509.Certificate], ds_extended_key_usage: ObjectIdentifier | None = MDOC_DS_EKU) -> None:
        self.certificates = tuple(ca_certificates)
        if not self.certificates:
            raise ValueError("the trust list is empty: configure at least one issuer CA certificate")
        for cert in self.certificates:
            try:
                is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
            except x509.ExtensionNotFound:
                is_ca = False
            if not is_ca:
                raise ValueError(f"trust list certificate {cert.subject.rfc4514_string()!r} is not a CA certificate")
        self._store = Store(list(self.certificates))
        self._ca_policy = (
            ExtensionPolicy.permit_all()
            # Path validation itself requires issuers to be CAs (basicConstraints cA).
            .require_present(x509.BasicConstraints, Criticality.AGNOSTIC, None)
            .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _ca_key_usage)
        )
        self._ee_policy = (
            ExtensionPolicy.permit_all()
            .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _ds_key_usage)
            .may_be_present(x509.BasicConstraints, Criticality.AGNOSTIC, _ds_not_ca)
            .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _ds_eku(ds_extended_key_usage))
        )

    @classmethod
    def from_pem(cls, path: str | Path, ds_extended_key_usage: ObjectIdentifier | None = MDOC_DS_EKU) -> "TrustList":
        """Load every certificate of a PEM file, or of the ``.pem``/``.crt`` files in a folder."""
        path = Path(path)
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in PEM_SUFFIXES) if path.is_dir() else [path]
        certificates: list[x509.Certificate] = []
        for file in files:
            try:
                certificates.extend(x509.load_pem_x509_certificates(file.read_bytes()))
            except ValueError as exc:
                raise ValueError(f"{file.name}: not a PEM certificate file ({exc})") from None
        if not certificates:
            raise ValueError(f"no certificates found in {path.name}")
        return cls(certificates, ds_extended_key_usage)

    def verify_chain(self, chain: list[x509.Certificate], at: datetime) -> None:
        """Validate ``chain`` (DS certificate first) at time ``at``, or reject as untrusted."""
        leaf, intermediates = chain[0], chain[1:]
        verifier = (
            PolicyBuilder()
            .store(self._store)
            .time(at)
            .max_chain_depth(MAX_CHAIN_DEPTH)
            .extension_policies(ca_policy=self._ca_policy, ee_policy=self._ee_policy)
            .build_client_verifier()
        )
        try:
            verifier.verify(leaf, intermediates)
        except VerificationError as exc:
            raise ProofRejected(
                Reason.UNTRUSTED_ISSUER, f"document signer {leaf.subject.rfc4514_string()!r} is not trusted: {exc}"
            ) from None
