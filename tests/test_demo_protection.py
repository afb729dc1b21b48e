"""The demo's protective cases decide what the demo says they do."""

from trygg.demo.protection import cases


def test_the_four_demo_cases():
    (gate, g), (ad, a), (accepted, ok), (rejected, bad) = cases()
    assert g.actions == ("nudge_recipient",) and g.reasons[0]["outcome"] == "message_request"
    assert a.actions == ("block",) and a.reasons[0]["rule"] == "ads.blocked_categories_for_minors"
    assert ok.reasons[0]["signal"] == "age_proof_accepted" and ok.reasons[0]["age_low"] == 18
    assert bad.reasons[0]["signal"] == "age_proof_rejected" and bad.reasons[0]["reason"] == "nonce_mismatch"
