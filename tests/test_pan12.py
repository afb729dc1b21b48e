"""PAN 2012 reader and official predator-identification metrics, on a fixture written for trygg."""

from __future__ import annotations

from pathlib import Path

import pytest

from trygg.lab.pan12 import Pan12Error, predator_identification, read_corpus, read_predators

FIXTURE = Path(__file__).parent / "fixtures" / "pan12"


def test_reader_gives_conversations_in_line_order_with_authors() -> None:
    conversations = list(read_corpus(FIXTURE / "corpus.xml"))
    assert [c.conversation_id for c in conversations] == ["c0a1", "c0b2", "c0c3"]
    first = conversations[0]
    assert first.authors == {"a1b2predator", "f00dvictim1"}
    assert [m.line for m in first.messages] == list(range(1, 9))
    assert first.messages[1].text == "13 f, u?" and first.messages[1].time == "21:03"
    # line attributes out of file order are put back in order; empty text is kept as ""
    second = conversations[1]
    assert [m.author for m in second.messages] == ["cc22user", "bb11user", "cc22user"]
    assert second.messages[2].text == ""


def test_events_are_direct_messages_for_two_authors_and_a_group_otherwise() -> None:
    conversations = {c.conversation_id: c for c in read_corpus(FIXTURE / "corpus.xml")}
    events = conversations["c0a1"].events()
    assert events[0].sender_id == "a1b2predator" and events[0].recipient_id == "f00dvictim1"
    assert events[1].recipient_id == "a1b2predator"
    assert len({e.event_id for e in events}) == len(events)
    assert all(e.recipient_id is None for e in conversations["c0c3"].events())


def test_predator_list_ignores_blank_lines() -> None:
    assert read_predators(FIXTURE / "predators.txt") == {"a1b2predator", "zz99absentpredator"}


def test_metrics_match_hand_computed_values() -> None:
    # named {a, x}, truth {a, b, c}: tp = 1, P = 1/2, R = 1/3,
    # F0.5 = 1.25 * P * R / (0.25 * P + R) = (1.25/6) / (1/8 + 1/3) = 0.208333 / 0.458333 = 5/11
    m = predator_identification({"a", "x"}, {"a", "b", "c"})
    assert m["precision"] == pytest.approx(0.5)
    assert m["recall"] == pytest.approx(1 / 3)
    assert m["f05"] == pytest.approx(5 / 11)
    assert (m["true_positives"], m["predicted"], m["predators"]) == (1, 2, 3)


def test_metrics_edge_cases() -> None:
    assert predator_identification(set(), {"a"}) == pytest.approx(
        {"precision": 0.0, "recall": 0.0, "f05": 0.0, "true_positives": 0, "predicted": 0, "predators": 1}
    )
    perfect = predator_identification({"a", "b"}, {"a", "b"})
    assert perfect["f05"] == pytest.approx(1.0)


def test_malformed_xml_and_missing_author_are_precise_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<conversations><conversation id='x'><message>", encoding="utf-8")
    with pytest.raises(Pan12Error, match="not well-formed"):
        list(read_corpus(broken))
    anonymous = tmp_path / "anonymous.xml"
    anonymous.write_text(
        "<conversations><conversation id='k9'><message line='1'><text>hi</text></message></conversation></conversations>",
        encoding="utf-8",
    )
    with pytest.raises(Pan12Error, match="conversation k9, message 1: no <author>"):
        list(read_corpus(anonymous))


@pytest.mark.parametrize("with_model", [False, True], ids=["rules", "rules+model"])
def test_engine_on_the_fixture_names_the_predator_and_nobody_else(with_model: bool) -> None:
    from trygg.engine import Engine
    from trygg.model import load_default
    from trygg.lab.pan12 import evaluate_pan12

    model = load_default() if with_model else None
    if with_model and model is None:
        pytest.skip("no shipped model artefacts (run `trygg train`)")
    report = evaluate_pan12(FIXTURE / "corpus.xml", FIXTURE / "predators.txt", Engine(model=model))
    assert (report["conversations"], report["messages"]) == (3, 14)
    m = report["predator_identification"]
    # a1b2predator named, zz99absentpredator (not in the corpus) missed: P = 1, R = 1/2, F0.5 = 5/6
    assert (m["precision"], m["recall"]) == (1.0, 0.5)
    assert m["f05"] == pytest.approx(5 / 6)
