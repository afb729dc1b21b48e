"""The SessionTranscript that binds an mdoc presentation to one request of the platform.

trygg implements one presentation channel: OpenID4VP over redirects / ``direct_post``, whose
mdoc handover is defined in OpenID4VP 1.0 Appendix B.2.6.1 (the handover ISO/IEC 18013-7
profiles for OpenID4VP, and what the EU age verification blueprint's wallet flow uses):

    SessionTranscript     = [null, null, OpenID4VPHandover]
    OpenID4VPHandover     = ["OpenID4VPHandover", SHA-256(OpenID4VPHandoverInfoBytes)]
    OpenID4VPHandoverInfo = [clientId, nonce, jwkThumbprint, responseUri]

``clientId`` and ``responseUri`` are the verifier's own request parameters, ``nonce`` is the
fresh nonce the platform put in the request (the ``age_proof`` event's ``nonce``), and
``jwkThumbprint`` is the RFC 7638 SHA-256 thumbprint of the verifier's response-encryption key
when the response is encrypted (``direct_post.jwt``), else null. The wallet signs over this
transcript, so a proof made for another verifier, another response URI or another nonce fails.
The Digital Credentials API's handover (``OpenID4VPDCAPIHandover``, bound to the web origin)
is a different structure and is not implemented.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import cbor2

HANDOVER_IDENTIFIER = "OpenID4VPHandover"


@dataclass(frozen=True)
class OpenID4VPTranscript:
    """The verifier's side of the OpenID4VP handover: everything in it except the nonce."""

    client_id: str
    response_uri: str
    #: RFC 7638 SHA-256 thumbprint (32 raw bytes) of the response-encryption JWK, if encrypted.
    jwk_thumbprint: bytes | None = None

    def __post_init__(self) -> None:
        if not self.client_id or not self.response_uri:
            raise ValueError("client_id and response_uri are required for the OpenID4VP handover")
        if self.jwk_thumbprint is not None and len(self.jwk_thumbprint) != 32:
            raise ValueError("jwk_thumbprint must be the 32-byte SHA-256 JWK thumbprint")

    def session_transcript(self, nonce: str) -> list[Any]:
        """The SessionTranscript (as a CBOR-ready value) for one request's nonce."""
        info = cbor2.dumps([self.client_id, nonce, self.jwk_thumbprint, self.response_uri])
        return [None, None, [HANDOVER_IDENTIFIER, hashlib.sha256(info).digest()]]
