"""False-alarm targets of issue 2 on everyday chat (skipped when ../shared/data is absent)."""

from pathlib import Path

import pytest

from trygg.lab import datasets
from trygg.engine import Engine
from trygg.lab.evaluation import evaluate_conversations

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
pytestmark = pytest.mark.data


def _need(*parts):
    if not DATA.joinpath(*parts).is_dir():
        pytest.skip(f"{DATA.joinpath(*parts)} not present (shared data is needed for quality tests)")


def test_dailydialog_at_most_one_percent_flagged():
    _need("benign", "dailydialog")
    report = evaluate_conversations(datasets.dailydialog(DATA), Engine())
    overall = report["overall"]
    assert overall["conversations"] > 2000
    assert overall["fp"] / overall["conversations"] <= 0.01, overall


def test_nps_chat_rooms_at_most_one_severe_action_per_thousand_messages():
    _need("benign", "nps-chat")
    report = evaluate_conversations(datasets.nps_chat(DATA), Engine())
    alarms = report["false_alarms"]
    assert alarms["benign_messages"] > 3000
    assert alarms["per_1000_messages"] <= 1.0, alarms
