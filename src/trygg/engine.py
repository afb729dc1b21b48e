"""The Engine: events in, decisions out, all state in memory and no I/O.

It glues the pipeline — normalise, settle the conversation's language, detect signals, update
the sender's age picture, step the conversation, apply the policy — and owns the state that the
pure parts need: one :class:`ConversationState` per conversation, one :class:`AgePicture` per
user, a bounded set of seen event ids (re-sent events are no-ops) and the sets of states changed
since the last :meth:`Engine.drain_dirty`, which is how a store persists only what changed.

Adapters (CLI, HTTP, store, Ray) wrap it; they snapshot and restore state through
``dump_*`` / ``load_*`` so a scan can stop and resume without double-counting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Protocol

from trygg import protect
from trygg.age.addressee import assign_cues, drop_heard_ages
from trygg.age.picture import AgeBook, AgePicture
from trygg.age.proofs import AgeProofVerifier
from trygg.contact.graph import ContactGraph
from trygg.conversation.age_answer import age_answer
from trygg.conversation.relationships import RelationshipBook
from trygg.conversation.state import Assessment, ConversationState, record_report, sender_assessment, step
from trygg.decision import Decision
from trygg.events import (
    AccountEvent,
    AdRequestEvent,
    AgeEstimateEvent,
    AgeProofEvent,
    BlockEvent,
    ConnectionEvent,
    ContactRequestEvent,
    MediaEvent,
    MessageEvent,
    RelationshipEvent,
    ReportEvent,
    addressee_of,
    text_for_detection,
)
from trygg.media.errors import MediaError
from trygg.policy import Policy, merge
from trygg.signals.base import DetectionContext, Detector, Signal, by_event_type
from trygg.signals.detect import TextDetector
from trygg.text.language import LanguageTracker
from trygg.text.normalize import normalize

#: Event ids remembered for de-duplication (oldest forgotten first).
MAX_SEEN_IDS = 1_000_000
#: Warnings kept (the count goes on beyond).
MAX_WARNINGS = 10_000
#: Events decided by the protective sections of the policy (trygg.protect).
PROTECTIVE_EVENTS = (ContactRequestEvent, AdRequestEvent, AgeProofEvent, AgeEstimateEvent, ConnectionEvent, BlockEvent)
#: Signal families that feed the sender's age picture.
_AGE_SIGNALS = frozenset({"age_disclosure", "adult_indicator", "implied_age"})


class ModelLike(Protocol):
    def new_state(self) -> dict[str, object]: ...

    def resume_state(self, stored: Mapping[str, object]) -> dict[str, object]: ...

    def update(
        self,
        state: dict[str, object],
        sender_id: str,
        normalized_text: str,
        signals: list[Signal],
        sender_age_hint: float | None = None,
        language: str | None = None,
        language_settled: bool = False,
        prior_risk: float = 0.0,
    ) -> Mapping[str, object]:
        """Fold one message into ``state``; ``prior_risk`` is the conversation's fused risk
        before this message (what a cascade gates its costly second opinion on)."""
        ...


class Engine:
    """In-memory orchestrator; ``process(event)`` returns the Decision for that event (or None)."""

    def __init__(
        self,
        policy: Policy | None = None,
        model: ModelLike | None = None,
        media: Detector | None = None,
        detectors: Sequence[Detector] | Mapping[str, Sequence[Detector]] | None = None,
    ) -> None:
        """``detectors``: by event type (``trygg.detectors.discover``) or a list; None gives the
        language-pack text detector for messages. ``media`` adds a media detector (a shorthand
        for tests and embedders that build one themselves)."""
        self.policy = policy or Policy.default()
        self.model = model
        self.detectors = by_event_type(detectors if detectors is not None else [TextDetector()])
        if media is not None:
            self.detectors.setdefault("media", []).append(media)
        self._message_detectors = self.detectors.get("message", [])
        self._media_detectors = self.detectors.get("media", [])
        self.ages = AgeBook()
        self.contacts = ContactGraph()
        #: Age proof verifiers by the proof event's ``method`` (e.g. ``eu_av_mdoc``).
        self.age_verifiers: dict[str, AgeProofVerifier] = {}
        self.relations = RelationshipBook(self.contacts)
        self.conversations: dict[str, ConversationState] = {}
        self._trackers: dict[str, LanguageTracker] = {}
        self._seen: dict[str, None] = {}
        self.duplicates = 0
        self._last_duplicate: str | None = None
        #: ``(event_id, message)`` for inputs processed with a caveat (e.g. truncated text).
        self.warnings: list[tuple[str, str]] = []
        self._dirty_conversations: set[str] = set()
        self._dirty_users: set[str] = set()

    # ------------------------------------------------------------------ processing
    def process(self, event: object) -> Decision | None:
        """Decide on one event. Repeats of a seen event id, and connection events, return None."""
        self._last_duplicate = None
        if isinstance(event, AccountEvent):
            return self._protect(event)
        event_id = getattr(event, "event_id", None)
        if event_id is not None:
            if event_id in self._seen:
                self.duplicates += 1
                self._last_duplicate = event_id
                return None
            self._seen[event_id] = None
            if len(self._seen) > MAX_SEEN_IDS:
                del self._seen[next(iter(self._seen))]
        if isinstance(event, MessageEvent):
            return self._message(event)
        if isinstance(event, MediaEvent):
            return self._media(event)
        if isinstance(event, PROTECTIVE_EVENTS):
            return self._protect(event)
        if isinstance(event, ReportEvent):
            return self._report(event)
        if isinstance(event, RelationshipEvent):
            if self.relations.record(event.user_id, event.other_id, event.relationship, event.ended):
                self._dirty_users.update((event.user_id, event.other_id))  # links are stored with users
        return None

    def _state(self, conversation_id: str) -> ConversationState:
        state = self.conversations.get(conversation_id)
        if state is None:
            state = self.conversations[conversation_id] = ConversationState(conversation_id)
        self._dirty_conversations.add(conversation_id)
        return state

    def _warn(self, event_id: str, message: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append((event_id, message))

    def _message(self, event: MessageEvent) -> Decision:
        text, truncated = text_for_detection(event.text)
        if truncated:
            self._warn(event.event_id, f"text of {len(event.text)} characters truncated to {len(text)} for detection")
        normalized = normalize(text)
        state = self._state(event.conversation_id)
        tracker = self._track_language(state, text)
        language = tracker.language
        context = DetectionContext(normalized, language)
        detectors = self._message_detectors
        if len(detectors) == 1:
            signals = detectors[0].detect(event, context)
        else:
            signals = [signal for detector in detectors for signal in detector.detect(event, context)]
        if signals and any(s.name == "age_disclosure" for s in signals):
            signals = drop_heard_ages(signals, text, self._heard_ages(state, event))  # "wow 9 år och så duktig!"
        if len(text) <= 40 and (answer := age_answer(state, event.sender_id, text, event.event_id)) is not None:
            signals = [*signals, answer]  # "12" after "how old are you?" (trygg.conversation.age_answer)
        if signals and any(s.name == "implied_age" for s in signals):
            signals = assign_cues(signals, text)  # "I'll pick you up after fritids" is the child's fritids
        age_flags = None
        if signals and any(s.name in _AGE_SIGNALS for s in signals) and self.ages.picture(
            event.sender_id
        ).observe(signals, text):
            self._dirty_users.add(event.sender_id)
            age_flags = protect.message_flags(event.sender_id, event.event_id, self.ages, self.contacts, self.policy)
        addressee = addressee_of(event)
        if signals and addressee is not None and any(s.name == "ascribed_age" for s in signals):
            # One-to-one, or in a room to the one user the message mentions: otherwise the text
            # does not say whom an ascribed age is about.
            if self.ages.picture(addressee).ascribe(signals):
                self._dirty_users.add(addressee)
        model_scores = None
        if self.model is not None:
            if state.model_state is None:
                state.model_state = self.model.new_state()
            sender = self.ages.get(event.sender_id)
            hint = sender.best_age_estimate if sender is not None else None
            model_scores = self.model.update(
                state.model_state,
                event.sender_id,
                normalized.text,
                signals,
                hint,
                state.language,
                tracker.settled,
                prior_risk=state.risk,
            )
        state, assessment = step(
            state, event, signals, self.ages, model_scores, alert_risk=self.policy.alert_risk, relations=self.relations
        )
        decision = self._decide(state, assessment, event)
        return decision if age_flags is None else merge(decision, age_flags)

    def _heard_ages(self, state: ConversationState, event: MessageEvent) -> set[int]:
        """The ages the others in the conversation stated: the recipient's one-to-one, everyone
        else's in a room."""
        others = [event.recipient_id] if event.recipient_id is not None else [u for u in state.participants if u != event.sender_id]
        heard: set[int] = set()
        for uid in others:
            picture = self.ages.get(uid)
            if picture is not None:
                heard.update(int(age) for age, *_ in picture.stated_ages)
        return heard

    def _track_language(self, state: ConversationState, text: str) -> LanguageTracker:
        """The conversation's language tracker, after taking ``text`` in (the model also needs
        to know whether the language has settled, not only what it is)."""
        tracker = self._trackers.get(state.conversation_id)
        if tracker is None:
            tracker = LanguageTracker.from_dict(state.language_state) if state.language_state else LanguageTracker()
            self._trackers[state.conversation_id] = tracker
        state.language = tracker.observe(text)
        return tracker

    def _decide(self, state: ConversationState, assessment: Assessment, event: object) -> Decision:
        decision = self.policy.decide(assessment, event)
        if decision.severe:
            state.mark_alert(decision.event_id, assessment.offender_id, assessment.label_guess)
        return decision

    def _media(self, event: MediaEvent) -> Decision | None:
        """Media signals (bank matches, nudity) meet the policy like any other signals.

        The detector only matches what the ingest computed; the policy decides every action, a
        bank's own action included (it rides on the ``hash_match`` signal, see the policy's
        ``signal_action``). Media that could not be read get an ``allow`` naming the error, and
        a warning.
        """
        if not self._media_detectors:
            return None
        sender = self.ages.peek(event.sender_id)
        recipient = self.ages.peek(event.recipient_id)
        context = DetectionContext(sender_minor=sender.likely_minor, recipient_minor=recipient.likely_minor)
        try:
            signals = [signal for detector in self._media_detectors for signal in detector.detect(event, context)]
        except MediaError as exc:
            self._warn(event.event_id, str(exc))
            reason = {"signal": "media_error", "event_id": event.event_id, "value": str(exc)}
            return Decision(event.event_id, ("allow",), 0.0, (reason,), self.policy.id, event.conversation_id)
        assessment = sender_assessment(
            event,
            "media",
            max((s.score for s in signals), default=0.0),
            tuple(s.as_reason() for s in signals),
            sender,
            recipient,
            event_signals=tuple((s.name, s.score) for s in signals),
        )
        named = tuple((s.name, s.action) for s in signals if s.action)
        if named:
            assessment = dataclasses.replace(assessment, event_signal_actions=named)
        decision = self.policy.decide(assessment, event)
        if event.conversation_id and decision.severe:
            self._state(event.conversation_id).mark_alert(event.event_id, event.sender_id, reasons=list(assessment.reasons))
        return decision

    def _protect(self, event: object) -> Decision | None:
        decision, users = protect.handle(event, self.policy, self.ages, self.contacts, self.age_verifiers)
        self._dirty_users.update(users)
        return decision

    def _report(self, event: ReportEvent) -> Decision:
        complaint = protect.report_complaint(event, self.policy, self.ages, self.contacts)
        if complaint is not None:
            self._dirty_users.add(event.reported_id)
        if event.conversation_id:
            state = self._state(event.conversation_id)
            state, assessment = record_report(
                state, event, self.ages, alert_risk=self.policy.alert_risk, relations=self.relations
            )
            return merge(self._decide(state, assessment, event), complaint)
        reported = self.ages.peek(event.reported_id)
        assessment = Assessment(
            conversation_id="",
            event_id=event.event_id,
            event_type="report",
            risk=0.75,
            stage="none",
            label_guess="benign",
            offender_id=event.reported_id,
            minor_id=None,
            adult_id=event.reported_id if reported.likely_adult else None,
            sender_id=None,
            reasons=({"signal": "user_report", "score": 1.0, "event_id": event.event_id, "value": event.reason},),
        )
        return merge(self.policy.decide(assessment, event), complaint)

    # ------------------------------------------------------------------ reading
    def conversation_ids(self) -> list[str]:
        return list(self.conversations)

    def summary(self, conversation_id: str) -> dict[str, object]:
        """One conversation's outcome in the alerts format (``trygg scan --out``)."""
        state = self.conversations[conversation_id]
        flagged = state.flagged
        return {
            "conversation_id": conversation_id,
            "flagged": flagged,
            "label_guess": state.label_guess if flagged else "benign",
            "risk": round(max(state.peak_risk, state.risk), 4),  # the highest the conversation reached
            "offender_id": state.offender_id if flagged else None,
            "first_alert_event_id": state.first_alert_event_id,
            "reasons": list(state.reasons),
        }

    def summaries(self) -> list[dict[str, object]]:
        return [self.summary(cid) for cid in self.conversations]

    # ------------------------------------------------------------------ persistence
    def dump_conversation(self, conversation_id: str) -> dict[str, object]:
        state = self.conversations[conversation_id]
        tracker = self._trackers.get(conversation_id)
        if tracker is not None:
            state.language_state = tracker.to_dict()
        return state.to_dict()

    def load_conversation(self, conversation_id: str, data: Mapping[str, object]) -> None:
        state = ConversationState.from_dict(data)
        if state.conversation_id != conversation_id:
            raise ValueError(f"state is for conversation {state.conversation_id!r}, not {conversation_id!r}")
        if state.model_state is not None and self.model is not None:
            state.model_state = self.model.resume_state(state.model_state)
        self.conversations[conversation_id] = state
        self._trackers.pop(conversation_id, None)

    def dump_user(self, user_id: str) -> dict[str, object]:
        """The user's age picture, with their contact state under ``"contact"`` when they have one."""
        out = self.ages.picture(user_id).to_dict()
        contact = self.contacts.dump(user_id)
        if contact:
            out["contact"] = contact
        links = self.relations.for_user(user_id)
        if links:
            out["relationships"] = links
        return out

    def load_user(self, user_id: str, data: Mapping[str, object]) -> None:
        picture = AgePicture.from_dict(data)
        if picture.user_id != user_id:
            raise ValueError(f"age picture is for user {picture.user_id!r}, not {user_id!r}")
        self.ages[user_id] = picture
        contact = data.get("contact")
        if isinstance(contact, Mapping):
            self.contacts.load(user_id, contact)
        links = data.get("relationships")
        if isinstance(links, Mapping):
            self.relations.load_user(user_id, links)

    def is_duplicate(self, event_id: str) -> bool:
        """Whether the latest :meth:`process` call skipped ``event_id`` as already seen."""
        return self._last_duplicate == event_id

    def drain_dirty(self) -> tuple[set[str], set[str]]:
        """Conversations and users changed since the last call (then forgets them)."""
        conversations, users = self._dirty_conversations, self._dirty_users
        self._dirty_conversations, self._dirty_users = set(), set()
        return conversations, users
