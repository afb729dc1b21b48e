"""Quality targets of issue 2 on the labelled scenarios (skipped when ../shared/data is absent).

These tests assert behaviour on the shared development set; the engine is also measured on
unseen chats, so they guard against regressions, they are not what the rules were written from.
"""

from pathlib import Path

import pytest

from trygg.lab import datasets
from trygg.engine import Engine
from trygg.lab.evaluation import evaluate_conversations

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def report():
    if not (DATA / "scenarios").is_dir():
        pytest.skip(f"shared data not present at {DATA} (needed for quality tests)")
    return evaluate_conversations(datasets.scenarios(DATA), Engine())


@pytest.mark.parametrize("language", ["sv", "en"])
def test_f05_per_language(report, language):
    assert report["per_language"][language]["f0_5"] >= 0.90, report["per_language"][language]


def test_hard_negatives_flagged_at_most_two(report):
    assert report["hard_negatives"]["conversations"] == 24
    assert report["hard_negatives"]["flagged"] <= 2, report["hard_negatives"]["flagged_ids"]


def test_offender_identified(report):
    assert report["offender_identification"]["accuracy"] >= 0.95, report["offender_identification"]


def test_alerts_are_early(report):
    assert report["early_warning"]["median_messages_after_first_harmful"] <= 2, report["early_warning"]
