"""Recall and offender identification on Perverted-Justice chats (skipped without the data).

The corpus is 1.3 million lines; by default every 4th conversation is replayed (about 150) so
the suite stays minutes, not tens of minutes. ``TRYGG_FULL_DATA=1`` replays all of them.
Nothing from the chats is printed: failures name conversation ids only.
"""

import os
from pathlib import Path

import pytest

from trygg.lab import datasets
from trygg.engine import Engine
from trygg.lab.evaluation import evaluate_conversations

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def report():
    if not (DATA / "pj").is_dir():
        pytest.skip(f"{DATA / 'pj'} not present (shared data is needed for quality tests)")
    conversations = datasets.pj(DATA)
    if os.environ.get("TRYGG_FULL_DATA") != "1":
        conversations = conversations[::4]
    return evaluate_conversations(conversations, Engine())


def test_pj_at_least_ninety_percent_flagged(report):
    grooming = report["per_label"]["grooming"]
    assert grooming["flagged_share"] >= 0.90, grooming


def test_pj_offender_identified(report):
    assert report["offender_identification"]["accuracy"] >= 0.95, report["offender_identification"]
