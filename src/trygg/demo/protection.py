"""The protective half of ``trygg demo``: a contact gate, a blocked ad, an age proof accepted and
one rejected, each decided by the default policy with the rule that decided it.

The age proofs are signed vendor attestations (trygg.age.attestation) made on the spot with a
throwaway key, so the demo needs no network, no wallet and no document.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timezone

from rich.console import Console
from rich.table import Table

from trygg.age.attestation import METHOD, SharedKeyAttestationVerifier, sign_attestation
from trygg.decision import Decision
from trygg.engine import Engine
from trygg.events import parse_event

ISSUER = "age-vendor.example"


def _proof(event_id: str, user: str, key: bytes, nonce: str, signed_for: str) -> dict[str, object]:
    payload = sign_attestation(key, True, ISSUER, signed_for, datetime.now(timezone.utc))
    return {"type": "age_proof", "event_id": event_id, "user_id": user, "method": METHOD, "payload": base64.b64encode(payload).decode(), "nonce": nonce}


def cases() -> list[tuple[str, Decision]]:
    """(what happened, the decision) for the four demo cases, in order."""
    key = secrets.token_bytes(32)
    engine = Engine()
    engine.age_verifiers[METHOD] = SharedKeyAttestationVerifier(ISSUER, key)
    scene = [
        {"type": "account", "user_id": "demo-adult", "declared_age": 35},
        {"type": "account", "user_id": "demo-kid13", "declared_age": 13},
        {"type": "account", "user_id": "demo-kid15", "declared_age": 15},
        {"type": "account", "user_id": "demo-user30", "declared_age": 30},
    ]
    for obj in scene:
        engine.process(parse_event(obj))
    probes = [
        ("a 35-year-old asks to DM an unconnected 13-year-old", {"type": "contact_request", "event_id": "demo-cr1", "sender_id": "demo-adult", "recipient_id": "demo-kid13", "surface": "dm"}),
        ("a gambling ad for a 15-year-old", {"type": "ad_request", "event_id": "demo-ad1", "user_id": "demo-kid15", "ad_id": "casino-7", "categories": ["gambling"], "targeting": ["interest:poker"]}),
        ("a valid over-18 attestation for a 30-year-old", _proof("demo-ap1", "demo-user30", key, "nonce-1", "nonce-1")),
        ("an attestation replayed for another request", _proof("demo-ap2", "demo-user30", key, "nonce-2", "nonce-1")),
    ]
    out = []
    for what, obj in probes:
        decision = engine.process(parse_event(obj))
        if decision is not None:  # every probe here is an event the policy decides
            out.append((what, decision))
    return out


def _outcome(decision: Decision) -> str:
    reason = decision.reasons[0]
    signal = str(reason["signal"])
    if signal == "age_proof_accepted":
        return f"accepted: over 18 ({reason['assurance']}, {reason['issuer']}); band {reason['band']}"
    if signal == "age_proof_rejected":
        return f"rejected: {reason['reason']} ({reason['message']})"
    detail = reason.get("outcome") or reason.get("value")
    return f"{signal}: {detail}" if detail else signal


def run_protection_demo(console: Console) -> None:
    table = Table(title=f"protection (policy {Engine().policy.id})")
    for column in ("event", "what happened", "actions", "why", "rule"):
        table.add_column(column)
    for what, decision in cases():
        table.add_row(decision.event_id, what, ", ".join(decision.actions), _outcome(decision), str(decision.reasons[0]["rule"]))
    console.print(table)
