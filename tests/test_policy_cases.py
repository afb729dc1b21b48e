"""The default policy on the table of cases in docs/policy.md: the table is the expectation."""

import re
from pathlib import Path

import pytest

from policy_cases import CASES, run_case

DOC = Path(__file__).resolve().parent.parent / "docs" / "policy.md"


def _table() -> dict[str, tuple[tuple[str, ...], set[str]]]:
    section = DOC.read_text(encoding="utf-8").split("## Decisions on a table of cases", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        name = cells[0].strip("`")
        actions = tuple(re.findall(r"`([a-z_]+)`", cells[2]))
        rules = set(re.findall(r"`([a-z_]+(?:\.[a-z0-9_+-]+)*)`", cells[3])) & set(_known_rules())
        rows[name] = (actions, rules)
    return rows


def _known_rules() -> list[str]:
    return [
        "contact.adult_to_unconnected_minor",
        "contact.group_add_minor",
        "contact.fan_out",
        "contact.restricted_sender_to_minor",
        "contact.new_account",
        "contact.reported_or_blocked_by_minors",
        "age.actions.suspected_adult_posing_as_teen",
        "age.actions.minor_claim_on_adult_account",
        "teen_defaults",
        "ads.blocked_categories_for_minors",
        "ads.profiling_for_minors",
        "content_ratings.13-15",
        "age.adult_proof_assurance",
        "age.methods",
    ]


def test_every_case_is_in_the_table_and_every_row_has_a_case():
    assert set(_table()) == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_default_policy_decides_as_the_table_says(name):
    actions, rules = _table()[name]
    decision, _ = run_case(name)
    assert decision.actions == actions
    assert {r["rule"] for r in decision.reasons if "rule" in r} & set(_known_rules()) == rules


def test_the_gate_reason_names_the_outcome_for_the_platform():
    decision, _ = run_case("adult_dm_to_unconnected_13")
    assert decision.reasons[0]["outcome"] == "message_request"
    decision, _ = run_case("fan_out_20th_minor_in_an_hour")
    assert decision.reasons[0]["restricted_by"]["rule"] == "contact.fan_out"


def test_dropped_targeting_lists_only_the_profiling_keys():
    decision, _ = run_case("interest_targeted_ad_to_15")
    dropped = [r for r in decision.reasons if r["signal"] == "ad_targeting_dropped"]
    assert dropped[0]["value"] == ["interest:cars"]


def test_a_rejected_proof_names_the_verifiers_reason():
    decision, engine = run_case("proof_for_another_nonce")
    assert decision.reasons[0]["reason"] == "nonce_mismatch"
    assert not [e for e in engine.ages["u"].evidence if e["kind"] == "proof"]


@pytest.mark.parametrize("text", ["driving to work now, my kids are at school", "my wife is home", "jag kör till jobbet"])
def test_a_declared_teen_who_talks_like_an_adult_is_restricted_and_reviewed(text):
    from trygg.engine import Engine
    from trygg.events import parse_event

    engine = Engine()
    for obj in ({"type": "account", "user_id": "t", "declared_age": 15}, {"type": "account", "user_id": "k", "declared_age": 13}):
        engine.process(parse_event(obj))
    message = {"type": "message", "event_id": "m1", "conversation_id": "c", "sender_id": "t", "recipient_id": "k", "text": text}
    decision = engine.process(parse_event(message))
    assert {"restrict_sender", "hold_for_review"} <= set(decision.actions)
    assert "age.actions.suspected_adult_posing_as_teen" in {r.get("rule") for r in decision.reasons}
    again = engine.process(parse_event(dict(message, event_id="m2")))
    assert "age.actions.suspected_adult_posing_as_teen" not in {r.get("rule") for r in again.reasons}  # raised once
