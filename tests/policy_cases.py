"""The default policy's table of cases (docs/policy.md, "Decisions on a table of cases").

Each case: the events that set the scene, then the probe event whose decision the table shows.
Shared by the test that checks the table and by ``trygg policy cases`` style tooling in tests.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from trygg.age.attestation import SharedKeyAttestationVerifier, sign_attestation
from trygg.events import parse_event

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
ISSUER = "age-vendor.example"
KEY = b"shared key agreed with the vendor"


def at(minutes: float = 0) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def account(uid, age=None, **kw):
    return {"type": "account", "user_id": uid, **({"declared_age": age} if age is not None else {}), **kw}


def contact(eid, sender, recipient, minutes=0, surface="dm"):
    return {"type": "contact_request", "event_id": eid, "sender_id": sender, "recipient_id": recipient, "surface": surface, "sent_at": at(minutes)}


def ad(eid, uid, categories=(), targeting=(), rating=None):
    out = {"type": "ad_request", "event_id": eid, "user_id": uid, "ad_id": f"ad-{eid}", "categories": list(categories), "targeting": list(targeting)}
    if rating:
        out["rating"] = rating
    return out


def message(eid, sender, recipient, text, conversation="c1"):
    return {"type": "message", "event_id": eid, "conversation_id": conversation, "sender_id": sender, "recipient_id": recipient, "text": text}


def proof(eid, uid, over_18=True, nonce="n-1", signed_nonce=None, key=KEY):
    import base64

    payload = sign_attestation(key, over_18, ISSUER, signed_nonce or nonce, T0)
    return {"type": "age_proof", "event_id": eid, "user_id": uid, "method": "vendor_attestation", "payload": base64.b64encode(payload).decode(), "nonce": nonce}


def verifier() -> SharedKeyAttestationVerifier:
    return SharedKeyAttestationVerifier(ISSUER, KEY, now=T0 + timedelta(minutes=1))


def _fan_out(n):
    events = [account("trawler", 41)] + [account(f"kid{i}", 13 + i % 4) for i in range(n)]
    return events + [contact(f"fan{i}", "trawler", f"kid{i}", minutes=i * 2.5) for i in range(n - 1)]


#: name -> (scene events, probe event)
CASES: dict[str, tuple[list[dict], dict]] = {
    "adult_dm_to_unconnected_13": ([account("man", 35), account("kid", 13)], contact("p", "man", "kid")),
    "adult_dm_to_connected_13": (
        [account("man", 35), account("kid", 13), {"type": "connection", "event_id": "x1", "user_id": "kid", "other_id": "man"}],
        contact("p", "man", "kid"),
    ),
    "teen_to_teen": ([account("a", 14), account("b", 13)], contact("p", "a", "b")),
    "adult_to_adult": ([account("a", 30), account("b", 45)], contact("p", "a", "b")),
    "adult_adds_minor_to_group": ([account("man", 35), account("kid", 14)], contact("p", "man", "kid", surface="group_add")),
    "teen_adds_teen_to_group": ([account("a", 15), account("kid", 14)], contact("p", "a", "kid", surface="group_add")),
    "fan_out_10th_minor_in_an_hour": (_fan_out(10), contact("p", "trawler", "kid9", minutes=9 * 2.5)),
    "fan_out_20th_minor_in_an_hour": (_fan_out(20), contact("p", "trawler", "kid19", minutes=19 * 2.5)),
    "new_adult_account_to_minor": (
        [account("fresh", 29, created_at=at(-2 * 24 * 60)), account("kid", 14)],
        contact("p", "fresh", "kid"),
    ),
    "adult_blocked_by_two_minors": (
        [account("man", 40), account("k1", 13), account("k2", 14), {"type": "block", "event_id": "b1", "blocker_id": "k1", "blocked_id": "man"}],
        {"type": "block", "event_id": "p", "blocker_id": "k2", "blocked_id": "man"},
    ),
    "declared_teen_says_34": ([account("t", 16), account("kid", 13)], message("p", "t", "kid", "i'm 34 btw")),
    "posing_teen_then_contacts_minor": (
        [account("t", 16), account("kid", 13), account("kid2", 14), message("m1", "t", "kid", "i'm 34 btw")],
        contact("p", "t", "kid2"),
    ),
    "declared_adult_says_13": ([account("a", 21), account("b", 14)], message("p", "a", "b", "im 13")),
    "account_of_a_14_year_old": ([], account("kid", 14)),
    "account_redeclared_adult_after_15": ([account("kid", 15)], account("kid", 19)),
    "gambling_ad_to_15": ([account("kid", 15)], ad("p", "kid", categories=["gambling"])),
    "gambling_ad_to_adult": ([account("man", 30)], ad("p", "man", categories=["gambling"])),
    "interest_targeted_ad_to_15": ([account("kid", 15)], ad("p", "kid", categories=["sports"], targeting=["interest:cars", "context:football"])),
    "mature_teen_ad_to_14": ([account("kid", 14)], ad("p", "kid", rating="mature_teen")),
    "mature_teen_ad_to_16": ([account("kid", 16)], ad("p", "kid", rating="mature_teen")),
    "verified_adult_proof": ([account("u", 30)], proof("p", "u")),
    "proof_for_another_nonce": ([account("u", 30)], proof("p", "u", nonce="n-2", signed_nonce="n-1")),
    "verified_adult_dm_to_unconnected_13": ([account("man", 30), proof("v", "man"), account("kid", 13)], contact("p", "man", "kid")),
}


def run_case(name: str, policy=None):
    """The engine's decision on the case's probe event, and the engine."""
    from trygg.engine import Engine

    engine = Engine(policy=policy)
    engine.age_verifiers["vendor_attestation"] = verifier()
    scene, probe = CASES[name]
    for obj in scene:
        engine.process(parse_event(obj))
    return engine.process(parse_event(probe)), engine
