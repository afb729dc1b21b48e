"""Age proofs through the engine and the store: results kept, documents never."""

import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from policy_cases import KEY, T0, account, proof, verifier
from trygg.age.attestation import sign_attestation
from trygg.age.proofs import ProofRejected, decode_payload
from trygg.engine import Engine
from trygg.events import parse_event, read_lines
from trygg.scan import scan
from trygg.store.repository import Store


def engine():
    e = Engine()
    e.age_verifiers["vendor_attestation"] = verifier()
    return e


@pytest.mark.parametrize(
    "payload, nonce, reason",
    [
        (sign_attestation(KEY, True, "age-vendor.example", "n-1", T0), "n-2", "nonce_mismatch"),
        (sign_attestation(b"another key", True, "age-vendor.example", "n-1", T0), "n-1", "bad_signature"),
        (sign_attestation(KEY, True, "other.example", "n-1", T0), "n-1", "unknown_issuer"),
        (sign_attestation(KEY, True, "age-vendor.example", "n-1", T0 - timedelta(hours=1)), "n-1", "expired"),
        (b"no signature here", "n-1", "malformed_payload"),
        (sign_attestation(KEY, True, "age-vendor.example", "n-1", T0), None, "nonce_mismatch"),
    ],
)
def test_attestation_failure_modes(payload, nonce, reason):
    with pytest.raises(ProofRejected) as info:
        verifier().verify(payload, nonce)
    assert info.value.reason == reason and info.value.message


def test_payload_must_be_base64():
    with pytest.raises(ProofRejected, match="malformed_payload"):
        decode_payload("not base64 at all!")
    assert decode_payload(base64.urlsafe_b64encode(b"\xfb\xff").decode().rstrip("=")) == b"\xfb\xff"


def test_accepted_proof_is_recorded_with_method_level_issuer_and_time():
    e = engine()
    e.process(parse_event(account("u", 30)))
    decision = e.process(parse_event(proof("p1", "u")))
    reason = decision.reasons[0]
    assert reason["signal"] == "age_proof_accepted"
    assert (reason["method"], reason["assurance"], reason["issuer"], reason["age_low"]) == ("vendor_attestation", "standard", "age-vendor.example", 18)
    assert reason["band"] == "18+"
    assert e.ages["u"].evidence[-1]["kind"] == "proof"


def test_a_proof_for_a_method_without_a_verifier_is_rejected_with_that_reason():
    decision = Engine().process(parse_event(proof("p1", "u")))
    assert decision.reasons[0]["signal"] == "age_proof_rejected" and decision.reasons[0]["reason"] == "unsupported_method"


def test_a_verifier_that_raises_something_else_is_a_bug_and_surfaces():
    class Broken:
        def verify(self, payload, nonce):
            raise RuntimeError("verifier bug")

    e = Engine()
    e.age_verifiers["vendor_attestation"] = Broken()
    with pytest.raises(RuntimeError):
        e.process(parse_event(proof("p1", "u")))


def _scan_two_proofs(url: str) -> set[str]:
    """An accepted and a rejected proof scanned into the store at ``url``; no table holds any of
    either document. Returns the documents' secrets (for a look at the database file)."""
    store = Store(url)
    accepted = proof("p1", "u")
    rejected = proof("p2", "w", nonce="n-9", signed_nonce="n-1")
    lines = [json.dumps(o) for o in (account("u", 16), account("w", 30), accepted, rejected)]
    report = scan(read_lines(lines), engine(), store)
    assert report.processed == 2
    secrets = set()
    for obj in (accepted, rejected):
        raw = base64.b64decode(obj["payload"])
        secrets |= {obj["payload"], raw.decode(), raw.rpartition(b".")[2].decode()}
    with store.engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        assert {"events", "users", "decisions"} <= set(tables)
        for table in tables:
            for row in connection.execute(text(f'select * from "{table}"')):
                cells = " ".join(str(c) for c in row)
                assert not any(s in cells for s in secrets), table
        pictures = [json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in connection.execute(text("select age_picture from users"))]
    assert any(e.get("kind") == "proof" for p in pictures for e in p.get("evidence", []))
    store.engine.dispose()
    return secrets


def test_the_document_is_in_no_table(database_url):
    _scan_two_proofs(database_url)


@pytest.mark.sqlite_only(reason="reads the bytes of the SQLite file, freed pages included")
def test_the_document_is_not_in_the_database_file(database_url):
    secrets = _scan_two_proofs(database_url)
    blob = Path(make_url(database_url).database or "").read_bytes()
    assert not any(s.encode() in blob for s in secrets)
