"""Evaluation metrics checked against figures computed by hand."""

from __future__ import annotations

import math

import pytest

from trygg.lab.evaluation import ConversationOutcome, Counts, Evaluation, f_beta, latency_penalty


def test_latency_penalty_matches_vogt_formula() -> None:
    assert latency_penalty(1) == 0.0
    assert latency_penalty(101) == pytest.approx(-1 + 2 / (1 + math.exp(-0.5)))
    assert 0 < latency_penalty(10) < latency_penalty(1000) < 1


def test_f_beta_by_hand() -> None:
    # P = 0.5, R = 1.0: F1 = 2*0.5/1.5 = 0.6667; F0.5 = 1.25*0.5/(0.25*0.5+1) = 0.5556
    assert f_beta(0.5, 1.0, 1.0) == pytest.approx(2 / 3)
    assert f_beta(0.5, 1.0, 0.5) == pytest.approx(0.625 / 1.125)
    assert f_beta(0.0, 0.0, 0.5) == 0.0


def test_counts_confusion() -> None:
    c = Counts()
    for harmful, flagged in [(True, True), (True, True), (True, False), (False, True), (False, False)]:
        c.add(harmful, flagged)
    d = c.as_dict()
    assert (d["tp"], d["fn"], d["fp"], d["tn"]) == (2, 1, 1, 1)
    assert d["precision"] == pytest.approx(2 / 3, abs=1e-4) and d["recall"] == pytest.approx(2 / 3, abs=1e-4)


def _outcome(cid, label, flagged, offender=None, first_alert=None, first_harmful=None, lang="en", hard=False, severe=0, n=10):
    return ConversationOutcome(
        conversation_id=cid,
        label={"label": label, "offender_id": f"{cid}-off" if label != "benign" else None, "language": lang,
               "first_harmful_event_id": first_harmful, "hard_negative": hard},
        flagged=flagged,
        offender_id=offender,
        label_guess=label if flagged else "benign",
        message_ids=[f"{cid}-{i}" for i in range(1, n + 1)],
        first_alert_event_id=first_alert,
        severe_actions=severe,
    )


def test_report_by_hand() -> None:
    ev = Evaluation()
    ev.add(_outcome("g1", "grooming", True, "g1-off", "g1-5", "g1-4"))  # 1 message late
    ev.add(_outcome("g2", "grooming", True, "someone-else", "g2-3", "g2-4", lang="sv"))  # 1 early
    ev.add(_outcome("s1", "sextortion", False))
    ev.add(_outcome("b1", "benign", True, hard=True, severe=2))
    ev.add(_outcome("b2", "benign", False, severe=1, n=500))
    r = ev.report()
    assert r["overall"]["tp"] == 2 and r["overall"]["fp"] == 1 and r["overall"]["fn"] == 1
    assert r["per_language"]["sv"]["recall"] == 1.0
    assert r["per_label"]["sextortion"]["flagged"] == 0
    assert r["hard_negatives"]["flagged"] == 1 and r["hard_negatives"]["flagged_ids"] == ["b1"]
    assert r["offender_identification"] == {"flagged_harmful": 2, "correct": 1, "accuracy": 0.5}
    ew = r["early_warning"]
    assert ew["median_messages_after_first_harmful"] == 0.0  # delays +1 and -1
    assert ew["alerts_before_first_harmful"] == 1
    # alerts at the 5th and 3rd message: speed = 1 - median(penalty(5), penalty(3))
    expected_speed = 1 - (latency_penalty(5) + latency_penalty(3)) / 2
    assert ew["speed"] == pytest.approx(expected_speed, abs=1e-4)
    assert r["false_alarms"]["per_1000_messages"] == 2.0  # 1 severe in 500 plain benign messages
    assert r["false_alarms"]["hard_negative_severe_actions"] == 2
