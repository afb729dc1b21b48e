"""Policies: loading with precise errors, and Assessment -> Decision with reasons."""

import pytest

from trygg.conversation.state import Assessment
from trygg.policy import Policy, PolicyError

REASON = ({"signal": "image_request", "score": 0.9, "event_id": "e1"},)


def assessment(risk, **kw):
    base = {
        "conversation_id": "c1",
        "event_id": "e1",
        "event_type": "message",
        "risk": risk,
        "stage": "sexualisation",
        "label_guess": "grooming" if risk >= 0.6 else "benign",
        "offender_id": "a",
        "minor_id": "k",
        "adult_id": "a",
        "sender_id": "a",
        "reasons": REASON,
        "sender_is_offender": True,
    }
    base.update(kw)
    return Assessment(**base)


def test_default_policy_is_versioned():
    policy = Policy.default()
    assert policy.id == f"default@{policy.version}"
    assert policy.mode == "enforce"


@pytest.mark.parametrize(
    "risk, expected",
    [
        (0.1, ("allow",)),
        (0.4, ("nudge_recipient",)),
        (0.65, ("warn_recipient",)),
        (0.8, ("warn_recipient", "hold_for_review")),
        (0.9, ("warn_recipient", "restrict_sender", "hold_for_review")),
    ],
)
def test_actions_escalate_with_risk(risk, expected):
    decision = Policy.default().decide(assessment(risk))
    assert decision.actions == expected
    assert decision.policy == Policy.default().id
    if expected != ("allow",):
        assert decision.reasons


def test_report_only_for_solicitation_or_sextortion_of_a_minor():
    policy = Policy.default()
    assert "report" in policy.decide(assessment(0.9, label_guess="sextortion")).actions
    assert "report" in policy.decide(assessment(0.9, label_guess="solicitation")).actions
    assert "report" not in policy.decide(assessment(0.9, label_guess="grooming")).actions
    assert "report" not in policy.decide(assessment(0.9, label_guess="sextortion", minor_id=None)).actions


def test_restrict_needs_an_adult_offender_and_a_minor_target():
    policy = Policy.default()
    assert "restrict_sender" not in policy.decide(assessment(0.95, adult_id=None)).actions
    assert "restrict_sender" not in policy.decide(assessment(0.95, minor_id=None)).actions


def test_recipient_actions_only_on_the_offenders_messages():
    policy = Policy.default()
    reply = assessment(0.8, sender_id="k", sender_is_offender=False)
    assert policy.decide(reply).actions == ("allow",)
    first = assessment(0.8, sender_id="k", sender_is_offender=False, first_alert=True)
    assert policy.decide(first).actions == ("hold_for_review",)


def test_no_action_without_reasons():
    assert Policy.default().decide(assessment(0.9, reasons=())).actions == ("allow",)


def test_media_rules_key_on_the_events_signals():
    policy = Policy.default()
    match = assessment(1.0, event_type="media", event_signals=(("hash_match", 1.0),), label_guess="benign")
    assert {"block", "report"} <= set(policy.decide(match).actions)
    nude = assessment(0.9, event_type="media", event_signals=(("nudity", 0.9),), label_guess="benign")
    assert {"blur", "warn_recipient"} <= set(policy.decide(nude).actions)
    unsure = assessment(0.3, event_type="media", event_signals=(("nudity", 0.3),), label_guess="benign")
    assert policy.decide(unsure).actions == ("allow",)
    to_adult = assessment(0.9, event_type="media", event_signals=(("nudity", 0.9),), minor_id=None, label_guess="benign")
    assert policy.decide(to_adult).actions == ("allow",)


def test_shadow_mode_computes_but_does_not_act(tmp_path):
    path = tmp_path / "p.toml"
    from importlib import resources

    text = resources.files("trygg.policy").joinpath("default.toml").read_text()
    path.write_text(text.replace('mode = "enforce"', 'mode = "shadow"').replace('name = "default"', 'name = "trial"'))
    policy = Policy.load(path)
    assert policy.id == f"trial@{Policy.default().version}"
    decision = policy.decide(assessment(0.9))
    assert decision.actions == ("allow",)
    shadow = [r for r in decision.reasons if r["signal"] == "policy_shadow"]
    assert shadow and "hold_for_review" in shadow[0]["would"]


@pytest.mark.parametrize(
    "text, key",
    [
        ('version = 1\n[[rules]]\naction = "warn_recipient"\n', "name"),
        ('name = "x"\nversion = 0\n[[rules]]\naction = "warn_recipient"\n', "version"),
        ('name = "x"\nversion = 1\n', "rules"),
        ('name = "x"\nversion = 1\n[[rules]]\naction = "shout"\n', "rules[0].action"),
        ('name = "x"\nversion = 1\n[[rules]]\naction = "warn_recipient"\nmin_risk = 2\n', "rules[0].min_risk"),
        ('name = "x"\nversion = 1\n[[rules]]\naction = "warn_recipient"\nlabels = ["spam"]\n', "rules[0].labels"),
        ('name = "x"\nversion = 1\n[[rules]]\naction = "warn_recipient"\ncolour = 1\n', "rules[0].colour"),
        ('name = "x"\nversion = 1\nmode = "maybe"\n[[rules]]\naction = "warn_recipient"\n', "mode"),
        ('name = "x"\nversion = 1\nthreshold = 1\n[[rules]]\naction = "warn_recipient"\n', "threshold"),
    ],
)
def test_invalid_policies_name_the_key(tmp_path, text, key):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(PolicyError) as info:
        Policy.load(path)
    assert f": {key}:" in str(info.value)


def test_invalid_toml_is_reported(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("name = ")
    with pytest.raises(PolicyError, match="invalid TOML"):
        Policy.load(path)


def test_decision_checks_its_actions_and_reasons() -> None:
    from trygg.decision import Decision

    assert Decision("e", ("allow",), 0.0).actions == ("allow",)
    assert Decision("e", (), 0.0).actions == ()
    with pytest.raises(ValueError, match="must name its reasons"):
        Decision("e", ("allow", "blur"), 0.5)
    with pytest.raises(ValueError, match="unknown actions"):
        Decision("e", ("explode",), 0.5, ({"signal": "x"},))
