"""From the engine's answer to a :class:`~trygg.cases.cases.CaseInput`: who the case is about.

A :class:`~trygg.decision.Decision` names actions and reasons, not parties; the engine's state
right after ``engine.process(event)`` knows them. This is the one place that reads them, so a
scan, the API and a Ray worker open cases the same way::

    decision = engine.process(event)
    item = case_input(engine, event, decision)
    if item is not None:
        service.record(item)
"""

from __future__ import annotations

from typing import Any

from trygg.cases.cases import LABELS, CaseInput
from trygg.decision import Decision
from trygg.events import ContactRequestEvent, MediaEvent, MessageEvent, ReportEvent


def case_input(engine: Any, event: object, decision: Decision | None, content_hash: str | None = None) -> CaseInput | None:
    """The case input for ``decision`` (None when there is no decision or no offender to name).

    - messages and reports in a conversation: the conversation's offender (the engine's
      ``offender_id``; a report's reported user), and as victims the other participants who are
      likely minors, or in a one-to-one conversation the other party whatever their age;
    - media and contact requests: the sender, and the recipient as victim.

    ``content_hash`` is the media's hash as the bank holds it (PDQ hex or SHA-256); without
    it, the hash the media ingest computed is used (:func:`_media_hash`).
    """
    if decision is None:
        return None
    ages = engine.ages
    label = "benign"
    victims: tuple[str, ...] = ()
    media_hashes: dict[str, str] = {}
    offender: str | None
    if isinstance(event, (MediaEvent, ContactRequestEvent)):
        offender = event.sender_id
        victims = (event.recipient_id,) if event.recipient_id else ()
        found = content_hash or (_media_hash(event) if isinstance(event, MediaEvent) else None)
        if found:
            media_hashes[event.event_id] = found
    elif isinstance(event, (MessageEvent, ReportEvent)):
        state = engine.conversations.get(event.conversation_id) if event.conversation_id else None
        if isinstance(event, ReportEvent):
            offender = event.reported_id
        else:
            offender = (state.offender_id if state is not None else None) or None
        if state is not None:
            label = state.label_guess if state.label_guess in LABELS else "benign"
            others = [uid for uid in state.participants if uid != offender]
            minors = [uid for uid in others if ages.peek(uid).likely_minor]
            victims = tuple(minors) if minors or state.group else tuple(others)
        elif isinstance(event, ReportEvent):
            victims = (event.reporter_id,) if event.reporter_id != event.reported_id else ()
    else:
        return None
    if not offender:
        return None
    minor_involved = any(ages.peek(uid).likely_minor for uid in victims)
    return CaseInput(decision, offender, victims, label, minor_involved, media_hashes)


def _media_hash(event: MediaEvent) -> str | None:
    """The media's own hash: an image's PDQ, a video's SHA-256 (banks match its frames, but the
    false-positive record names the video), or the PDQ the platform sent. The ingest attaches
    these as ``facts`` (``trygg.media.facts.PreparedMedia``); a bare event has only ``pdq``."""
    facts = getattr(event, "facts", None)
    if facts is not None:
        if facts.image is not None:
            return str(facts.image.pdq)
        if facts.video is not None:
            return str(facts.video.sha256)
        if facts.pdq:
            return str(facts.pdq)
    return event.pdq
