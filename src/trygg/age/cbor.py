"""Strict CBOR decoding of untrusted proofs.

mdoc nests CBOR inside CBOR (tag 24, "encoded CBOR data item"), and each layer is attacker
supplied. Every layer is decoded the same strict way: no trailing bytes (two readers could
otherwise disagree on what was signed), no duplicate map keys (same reason), bounded nesting.
"""

from __future__ import annotations

import io
from typing import Any

import cbor2

from trygg.age.rejection import ProofRejected, Reason

#: Tag 24: a byte string that holds one encoded CBOR data item (RFC 8949 section 3.4.5.1).
ENCODED_CBOR_TAG = 24
#: Deepest nesting a DeviceResponse needs is about ten levels; element values add a few.
MAX_DEPTH = 32


def decode_cbor(data: bytes, what: str) -> Any:
    """Decode exactly one CBOR item that fills ``data``, or reject with ``malformed_cbor``."""
    stream = io.BytesIO(data)
    try:
        item = cbor2.CBORDecoder(stream, max_depth=MAX_DEPTH, allow_duplicate_keys=False).decode()
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise ProofRejected(Reason.MALFORMED_CBOR, f"{what} is not well-formed CBOR ({exc})") from None
    if stream.tell() != len(data):
        raise ProofRejected(
            Reason.MALFORMED_CBOR, f"{what} has {len(data) - stream.tell()} bytes after its CBOR item"
        )
    return item


def embedded_bytes(obj: Any, what: str) -> bytes:
    """The inner bytes of a tag-24 item (``#6.24(bstr .cbor X)``)."""
    if not (isinstance(obj, cbor2.CBORTag) and obj.tag == ENCODED_CBOR_TAG and isinstance(obj.value, bytes)):
        raise ProofRejected(Reason.INVALID_STRUCTURE, f"{what} is not a tag-24 embedded CBOR item")
    return obj.value


def decode_embedded(obj: Any, what: str) -> Any:
    """Decode the CBOR item inside a tag-24 wrapper."""
    return decode_cbor(embedded_bytes(obj, what), what)


def tag24_encoding(inner: bytes) -> bytes:
    """The encoding of ``#6.24(bstr)`` around ``inner``: what mdoc digests and signatures cover."""
    return cbor2.dumps(cbor2.CBORTag(ENCODED_CBOR_TAG, inner))
