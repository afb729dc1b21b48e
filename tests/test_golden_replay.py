"""Golden replay: the pipeline's decisions, summaries and stored rows, digest for digest.

A change to the edges (composition, sinks, storage, layout) must leave every outcome as it was.
A deliberate change of behaviour updates tests/golden/digests.json with
``python -m trygg.lab.golden --update`` in the same commit, which says why.
"""

from __future__ import annotations

import functools
import json

import pytest

from trygg.events import Event
from trygg.lab import golden

EXPECTED = json.loads(golden.DIGESTS.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _events(stream: str) -> list[Event]:
    return golden._stream_events(stream)


@pytest.mark.data
@pytest.mark.parametrize("mode", ["rules", "model"])
@pytest.mark.parametrize("stream", golden.STREAMS)
def test_replay_matches_the_golden_digests(stream: str, mode: str, shared_data, database_url: str) -> None:  # noqa: ARG001 - skips without data
    got = golden.digest(golden.replay(_events(stream), mode == "model", database_url))
    expected = EXPECTED[f"{stream}/{mode}"]
    assert got == expected, f"{stream}/{mode}: outcomes moved ({', '.join(k for k in got if got[k] != expected[k])})"


def test_digest_sees_a_changed_risk() -> None:
    outcome = {"decisions": [{"event_id": "e1", "risk": 0.5}], "summaries": [], "rows": {}}
    moved = {"decisions": [{"event_id": "e1", "risk": 0.5001}], "summaries": [], "rows": {}}
    assert golden.digest(outcome)["decisions"] != golden.digest(moved)["decisions"]
    assert golden.digest(outcome)["rows"] == golden.digest(moved)["rows"]
