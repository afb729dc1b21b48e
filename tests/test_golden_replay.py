"""Golden replay: the pipeline's decisions, summaries and stored rows, digest for digest.

A change to the edges (composition, sinks, storage, layout) must leave every outcome as it was.
A deliberate change of behaviour updates tests/golden/digests.json with
``python -m trygg.lab.golden --update`` in the same commit, which says why.
"""

from __future__ import annotations

import json

import pytest

from trygg.lab import golden

EXPECTED = json.loads(golden.DIGESTS.read_text(encoding="utf-8"))


@pytest.mark.data
@pytest.mark.parametrize("stream", golden.STREAMS)
def test_replay_matches_the_golden_digests(stream: str, shared_data) -> None:  # noqa: ARG001 - skips without data
    events = golden._stream_events(stream)
    for mode, use_model in (("rules", False), ("model", True)):
        got = golden.digest(golden.replay(events, use_model))
        assert got == EXPECTED[f"{stream}/{mode}"], f"{stream}/{mode}: outcomes moved ({', '.join(k for k in got if got[k] != EXPECTED[f'{stream}/{mode}'][k])})"


def test_digest_sees_a_changed_risk() -> None:
    outcome = {"decisions": [{"event_id": "e1", "risk": 0.5}], "summaries": [], "rows": {}}
    moved = {"decisions": [{"event_id": "e1", "risk": 0.5001}], "summaries": [], "rows": {}}
    assert golden.digest(outcome)["decisions"] != golden.digest(moved)["decisions"]
    assert golden.digest(outcome)["rows"] == golden.digest(moved)["rows"]
