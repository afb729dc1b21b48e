"""Per-conversation state, updated message by message, and the Assessment of each step.

The state is deliberately small and JSON-friendly: per participant, one entry per signal family
(decayed maximum score, when it was last seen, how often, the first event and the best evidence),
plus the conversation's current and peak risk. Nothing re-reads history, so one step costs the
same at message 10 and at message 10,000, and a state can be stored and resumed anywhere.

Combination logic is per candidate offender: a participant's own signals are fused with the age
asymmetry between them and their counterpart (the recipient in a one-to-one chat; in a group
room, the likeliest minor present). Cues from different people in a chat room never add up. A
sender in a room who singles one person out (another app, a secret, where they live) is judged
from then on as in a one-to-one chat with the likeliest minor present.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from trygg.age.picture import AgePicture
from trygg.conversation.relationships import RelationshipBook
from trygg.conversation.risk import CONTEXT_PRESENT, NO_CONTEXT, STAGES, TEXT_FAMILY, WEIGHTS, Context, Fusion, decayed, fuse
from trygg.events import MessageEvent, addressee_of
from trygg.signals.base import Signal
from trygg.taxonomy import DETECTOR_FAMILIES

#: Participants tracked per conversation; the least recently active one is dropped beyond this.
MAX_PARTICIPANTS = 32
#: Evidence entries kept in the state and returned per assessment.
MAX_REASONS = 10
#: Below this risk nobody is named as the likely offender.
OFFENDER_FLOOR = 0.35
#: Default risk at which a conversation becomes an alert (the policy passes its own).
DEFAULT_ALERT_RISK = 0.6
#: Signal families that describe an age (the speaker's own, or the one the speaker ascribes to
#: the recipient), not a tactic used on someone.
AGE_FAMILIES = frozenset({"age_disclosure", "adult_indicator", "implied_age", "ascribed_age"})
#: Families that mark a message as retelling or warning about someone else's words ("a guy
#: offered me money for pics", "block him"): the tactics found in that same message are not the
#: speaker's own, so they are recorded at a fraction of their score.
RETELLING_FAMILIES = frozenset({"reported_speech", "protective"})
RETOLD_FACTOR = 0.3
#: Tactic families a retelling discounts (context families are recorded as they are).
_TACTICS = frozenset(WEIGHTS)
#: How much the likeliest minor's age counts in a group room (1 = as in a one-to-one chat).
GROUP_TARGET_WEIGHT = 0.5
#: Tactics that single one person out of a room (see _singles_out), and the score from which
#: they count.
SINGLING_FAMILIES = ("platform_migration", "secrecy", "isolation", "personal_info_request")
SINGLING_PRESENT = 0.6
#: How many users a sender in a room is remembered to have written to by name.
MAX_ADDRESSEES = 4
#: How strongly a message from outside the counterpart's platform contacts counts as a stranger's
#: approach (``RelationshipBook.stranger``; as the text's "saw ur video" does, see risk.STRANGER).
PLATFORM_STRANGER = 0.6
#: Years between two minors from which the older one is not treated as the younger one's peer.
AGE_GAP = 3
#: ... and the p_adult they are then judged with (see _older_teen).
PEER_FLOOR = 0.4
#: Pseudo-family recorded when a participant is reported by another user.
REPORT_FAMILY = "user_report"
#: A message that is a chat transcript the semantic model reads as predatory
#: (``trygg.detectors.transcript``; one of ``trygg.taxonomy.DETECTOR_FAMILIES``).
TRANSCRIPT = DETECTOR_FAMILIES[0]
#: Evidence that asks for a moderator whatever the text's tactics say, and the risk it lifts its
#: candidate to (the policy's review level): a user's report (a human's judgement), and a
#: predatory transcript (no speaker in it can be named, so it is read before anything further).
#: A transcript retold with safety advice by the counterpart (protective talk) does not.
REVIEW_FAMILIES = (REPORT_FAMILY, TRANSCRIPT)
REVIEW_RISK = 0.75

_BLANK = AgePicture("")


@dataclass(slots=True)
class Assessment:
    """What one step concluded about the conversation, for the policy to act on.

    Treat it as read-only; it is not frozen only because frozen dataclasses are several times
    slower to build, and one is built per message.
    """

    conversation_id: str
    event_id: str
    event_type: str
    risk: float
    stage: str
    label_guess: str
    offender_id: str | None
    minor_id: str | None
    adult_id: str | None
    sender_id: str | None
    reasons: tuple[dict[str, object], ...]
    first_alert: bool = False
    #: Whether the event's sender is the likely offender (recipient-facing actions need this).
    sender_is_offender: bool = False
    sender_likely_minor: bool = False
    #: ``(name, score)`` of the signals seen in this very event (media rules key on them).
    event_signals: tuple[tuple[str, float], ...] = ()
    #: ``(signal name, action)`` for signals of this event that name an action (a hash bank's own).
    event_signal_actions: tuple[tuple[str, str], ...] = ()

    @property
    def minor_target(self) -> bool:
        return self.minor_id is not None

    @property
    def adult_offender(self) -> bool:
        return self.adult_id is not None and self.adult_id == self.offender_id


@dataclass
class ConversationState:
    """The running picture of one conversation (JSON round trip via to_dict / from_dict)."""

    conversation_id: str
    messages: int = 0
    group: bool = False
    #: user_id -> {"n": messages, "last": index, "risk": float, "f": {family: [score, last, count, first_event, reason]}}
    participants: dict[str, dict] = field(default_factory=dict)
    risk: float = 0.0
    peak_risk: float = 0.0
    stage: int = 0
    label_guess: str = "benign"
    offender_id: str | None = None
    first_alert_event_id: str | None = None
    #: The evidence at the peak risk (bounded).
    reasons: list[dict[str, object]] = field(default_factory=list)
    language: str | None = None
    #: Opaque state of the conversation's language tracker (owned by the engine).
    language_state: dict | None = None
    #: Opaque per-conversation state of the learned model (issue 3), when one is used.
    model_state: dict | None = None
    #: The latest full assessment made without model scores (not persisted): a message with no
    #: signals changes no evidence, so it reuses this instead of re-fusing — most messages take
    #: this path when no model is used.
    _view: Assessment | None = field(default=None, init=False, repr=False, compare=False)
    #: The participants' age beliefs the view was computed with (an account event can change them).
    _view_ages: list[float] = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def flagged(self) -> bool:
        return self.first_alert_event_id is not None

    def mark_alert(
        self,
        event_id: str,
        offender_id: str | None = None,
        label: str | None = None,
        reasons: list[dict[str, object]] | None = None,
    ) -> bool:
        """Record the conversation's first alert; False (and nothing changes) once it has one.

        The one place the first alert is set, whichever path raised it: the risk crossing the
        alert line in :func:`step`, or a severe decision (a user report, a media match). The
        offender, label and evidence are taken when given; otherwise they stay as the peak set them.
        """
        if self.first_alert_event_id is not None:
            return False
        self.first_alert_event_id = event_id
        if offender_id is not None:
            self.offender_id = offender_id
        if label is not None and label != "benign":
            self.label_guess = label
        if reasons is not None:
            self.reasons = reasons
        return True

    def to_dict(self) -> dict[str, object]:
        return {
            "conversation_id": self.conversation_id,
            "messages": self.messages,
            "group": self.group,
            "participants": _copy_participants(self.participants),
            "risk": self.risk,
            "peak_risk": self.peak_risk,
            "stage": self.stage,
            "label_guess": self.label_guess,
            "offender_id": self.offender_id,
            "first_alert_event_id": self.first_alert_event_id,
            "reasons": list(self.reasons),
            "language": self.language,
            "language_state": self.language_state,
            "model_state": self.model_state,
            **self._view_dict(),
        }

    def _view_dict(self) -> dict[str, object]:
        """The reused assessment, so that a conversation resumed from the store assesses its
        next quiet message exactly as the process that stored it would have: without it, the
        first message after a restart is fused afresh and its risk differs in the last digits
        from an uninterrupted run's (a crash would then change decisions)."""
        view = self._view
        if view is None or self.group:
            return {}
        fields = [view.risk, view.stage, view.label_guess, view.offender_id, view.minor_id, view.adult_id]
        return {"view": [*fields, list(view.reasons), list(self._view_ages)]}

    def _restore_view(self, stored: object) -> None:
        if not stored:
            return
        risk, stage, label, offender, minor, adult, reasons, ages = stored  # type: ignore[misc]
        self._view = Assessment(
            self.conversation_id, "", "message", float(risk), str(stage), str(label), offender, minor, adult, None, tuple(reasons)
        )
        self._view_ages = [float(a) for a in ages]

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ConversationState:
        try:
            participants = {
                str(uid): {
                    "n": int(p["n"]),
                    "last": int(p["last"]),
                    "risk": float(p["risk"]),
                    "f": {str(k): list(v) for k, v in p["f"].items()},
                    **({"to": [str(a) for a in p["to"]]} if p.get("to") else {}),
                }
                for uid, p in dict(data.get("participants", {})).items()  # type: ignore[call-overload]
            }
            state = cls(
                conversation_id=str(data["conversation_id"]),
                messages=int(data.get("messages", 0)),  # type: ignore[arg-type]
                group=bool(data.get("group", False)),
                participants=participants,
                risk=float(data.get("risk", 0.0)),  # type: ignore[arg-type]
                peak_risk=float(data.get("peak_risk", 0.0)),  # type: ignore[arg-type]
                stage=int(data.get("stage", 0)),  # type: ignore[arg-type]
                label_guess=str(data.get("label_guess", "benign")),
                offender_id=data.get("offender_id"),  # type: ignore[arg-type]
                first_alert_event_id=data.get("first_alert_event_id"),  # type: ignore[arg-type]
                reasons=list(data.get("reasons", [])),  # type: ignore[call-overload]
                language=data.get("language"),  # type: ignore[arg-type]
                language_state=data.get("language_state"),  # type: ignore[arg-type]
                model_state=data.get("model_state"),  # type: ignore[arg-type]
            )
            state._restore_view(data.get("view"))
            return state
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"invalid conversation state: {exc!r}") from None


def _copy_participants(participants: dict[str, dict]) -> dict[str, dict]:
    """A copy the caller may keep while the state goes on changing in place.

    Dumped for every conversation a persistence batch touched, so it is kept cheap: a dict copy
    per participant, and one list copy per family entry (most participants have none).
    """
    out = {}
    for uid, p in participants.items():
        copy = out[uid] = p.copy()
        families = p["f"]
        copy["f"] = {family: entry.copy() for family, entry in families.items()} if families else {}
        if "to" in p:
            copy["to"] = p["to"].copy()
    return out


def step(
    state: ConversationState,
    event: object,
    signals: Sequence[Signal],
    ages: Mapping[str, AgePicture],
    model_scores: Mapping[str, object] | None = None,
    alert_risk: float = DEFAULT_ALERT_RISK,
    relations: RelationshipBook | None = None,
) -> tuple[ConversationState, Assessment]:
    """Advance ``state`` by one message (or media) event and assess the conversation.

    No I/O and no globals: the result depends only on the arguments. For speed the state is
    updated in place and returned (the engine owns it; copy it first to keep the old one).
    ``model_scores`` is the learned model's ``{"conversation": p, "authors": {user_id: p}}``;
    ``relations`` what the platform said about who knows whom (family links lower ordinary cues).
    """
    sender: str = event.sender_id  # type: ignore[attr-defined]
    recipient: str | None = getattr(event, "recipient_id", None)
    state.messages += 1
    if recipient is None:
        state.group = True
    now = state.messages
    me = _participant(state, sender, now)
    me["n"] += 1
    if state.group and isinstance(event, MessageEvent) and (addressee := addressee_of(event)) is not None:
        _note_addressee(state, me, addressee, now)
    retold = bool(signals) and any(s.name in RETELLING_FAMILIES for s in signals)
    for signal in signals:
        if signal.name in AGE_FAMILIES:
            continue
        score = float(signal.score)
        if retold and signal.name in _TACTICS:
            score *= RETOLD_FACTOR
        _record(me, signal.name, score, now, signal)
    if recipient is not None:
        _participant(state, recipient, now, False)
    if not signals and model_scores is None:
        quiet = _unchanged(state, event, sender, ages)
        if quiet is not None:
            return state, quiet
    event_signals = tuple([(s.name, s.score) for s in signals]) if signals else ()
    return _assess(state, event, sender, recipient, ages, model_scores, alert_risk, event_signals, relations)


def record_report(
    state: ConversationState,
    event: object,
    ages: Mapping[str, AgePicture],
    alert_risk: float = DEFAULT_ALERT_RISK,
    relations: RelationshipBook | None = None,
) -> tuple[ConversationState, Assessment]:
    """A user reported someone in this conversation: that counts as evidence against them."""
    reported: str = event.reported_id  # type: ignore[attr-defined]
    reporter: str = event.reporter_id  # type: ignore[attr-defined]
    now = max(state.messages, 1)
    target = _participant(state, reported, now, active=False)
    reason = {"signal": REPORT_FAMILY, "score": 1.0, "event_id": event.event_id, "value": event.reason}  # type: ignore[attr-defined]
    _record(target, REPORT_FAMILY, 1.0, now, None, reason)
    _participant(state, reporter, now, active=False)
    return _assess(state, event, reported, reporter, ages, None, alert_risk, ((REPORT_FAMILY, 1.0),), relations)


def _unchanged(state: ConversationState, event: object, sender: str, ages: Mapping[str, AgePicture]) -> Assessment | None:
    """The assessment of a message that brings no new evidence, or None if it must be fused."""
    if state.group:
        risk = state.participants[sender]["risk"]
        if risk >= OFFENDER_FLOOR:
            return None
        view = None
    else:
        view = state._view
        if view is None or state._view_ages != _age_key(state, ages):
            return None
        risk = view.risk
    # Positional (fields in declaration order): one is built for nearly every message, and
    # binding fifteen keyword arguments costs more than the rest of this function.
    return Assessment(
        state.conversation_id,
        event.event_id,  # type: ignore[attr-defined]
        getattr(event, "type", "message"),
        risk,
        view.stage if view else STAGES[0],
        view.label_guess if view else "benign",
        view.offender_id if view else None,
        view.minor_id if view else None,
        view.adult_id if view else None,
        sender,  # sender_id
        view.reasons if view else (),
        False,  # first_alert
        view is not None and view.offender_id == sender,  # sender_is_offender
        ages.get(sender, _BLANK).likely_minor,  # sender_likely_minor
    )


def _participant(state: ConversationState, user_id: str, now: int, active: bool = True) -> dict:
    participants = state.participants
    p = participants.get(user_id)
    if p is None:
        if len(participants) >= MAX_PARTICIPANTS:
            # Drop the least recently active participant that is not the offender guess.
            victim = min(
                (uid for uid in participants if uid != state.offender_id), key=lambda uid: participants[uid]["last"]
            )
            del participants[victim]
        p = participants[user_id] = {"n": 0, "last": now, "risk": 0.0, "f": {}}
    elif active:
        p["last"] = now
    return p


def _note_addressee(state: ConversationState, me: dict, addressee: str, now: int) -> None:
    """Remember whom a sender in a room wrote to by name (``trygg.events.addressee_of``).

    Why: the room discount assumes talk to everyone, and "zoe shoot me a dm", "theo svara i
    privat" are written to one child in front of the room. A sender keeps their last
    :data:`MAX_ADDRESSEES`.
    """
    _participant(state, addressee, now, False)
    addressed = me.setdefault("to", [])
    if addressee in addressed:
        addressed.remove(addressee)
    addressed.append(addressee)
    del addressed[:-MAX_ADDRESSEES]


def _record(p: dict, family: str, score: float, now: int, signal: Signal | None, reason: dict | None = None) -> None:
    entry = p["f"].get(family)
    if entry is None:
        p["f"][family] = [score, now, 1, signal.event_id if signal else reason["event_id"], reason or signal.as_reason()]  # type: ignore[union-attr]
        return
    current = decayed(entry[0], entry[1], now)
    entry[2] += 1
    if score >= current:
        entry[0] = score
        entry[1] = now
        if score > current:
            entry[4] = reason or signal.as_reason()  # type: ignore[union-attr]
    else:
        entry[0] = current
        entry[1] = now


def _fuse_candidate(
    state: ConversationState,
    uid: str,
    counterpart: str | None,
    ages: Mapping[str, AgePicture],
    model_scores: Mapping[str, object] | None,
    relations: RelationshipBook | None = None,
) -> tuple[Fusion, AgePicture, AgePicture, float | None]:
    families = state.participants[uid]["f"]
    now = state.messages
    scores = {fam: (decayed(e[0], e[1], now), e[2]) for fam, e in families.items()} if families else {}
    addressed = state.participants[uid].get("to") if state.group else None
    if state.group:
        counterpart = _likeliest_minor(state, uid, ages, addressed)
    me = ages.get(uid, _BLANK)
    other = ages.get(counterpart, _BLANK) if counterpart is not None else _BLANK
    model_p = _model_p(model_scores, uid)
    p_minor = other.p_minor
    crowd = state.group and not addressed and not _singles_out(families)
    if crowd:
        # In a room nobody is addressed by name: the likeliest minor present may not be who the
        # sender is talking to, so their age counts for half.
        p_minor = 0.5 + (p_minor - 0.5) * GROUP_TARGET_WEIGHT
    context = _context(state, uid, counterpart, scores, relations) if scores else NO_CONTEXT
    fusion = fuse(
        scores, _older_teen(me, other), p_minor, me.suspected_age_deception, crowd, model_p, context, _semantic_p(model_scores, uid)
    )
    if fusion.risk < REVIEW_RISK and (
        REPORT_FAMILY in scores or (TRANSCRIPT in scores and context.protected < CONTEXT_PRESENT)
    ):
        fusion = Fusion(REVIEW_RISK, fusion.stage, fusion.label, fusion.contributions, fusion.severe, fusion.semantic)
    return fusion, me, other, model_p


def _singles_out(families: Mapping[str, list]) -> bool:
    """Whether a sender in a room has drawn one person out of it.

    The room discount assumes talk to everyone. Moving to another app or a private chat,
    asking to keep something secret, cutting someone off from others, or asking where someone
    lives is said to one person, never to a room: from then on the sender is judged as in a
    one-to-one chat with the likeliest minor present. Read from the strongest signal each family
    recorded (its reason's score), not the decayed score: having singled someone out stays a
    fact, where a decayed 0.6 flickered back under the line a message later.
    """
    for family in SINGLING_FAMILIES:
        entry = families.get(family)
        if entry is not None and max(entry[0], entry[4].get("score", 0.0)) >= SINGLING_PRESENT:
            return True
    return False


def _context(
    state: ConversationState,
    uid: str,
    counterpart: str | None,
    scores: Mapping[str, tuple[float, int]],
    relations: RelationshipBook | None,
) -> Context:
    """The pair's context for one candidate: family link, the counterpart's protective talk and
    distress. Family cues in the text may come from either side ("love, grandma" from the
    candidate, "thanks grandma!" from the child) and count at most :data:`TEXT_FAMILY`."""
    if counterpart is None:
        return NO_CONTEXT
    now = state.messages
    other = state.participants.get(counterpart)
    other_families = other["f"] if other is not None else {}

    def theirs(family: str) -> float:
        entry = other_families.get(family)
        return decayed(entry[0], entry[1], now) if entry is not None else 0.0

    own_cue = scores.get("family_cue", (0.0, 0))[0]
    text_family = TEXT_FAMILY * max(own_cue, theirs("family_cue"))
    known = relations.familiarity(uid, counterpart) if relations is not None else 0.0
    family = max(known, text_family)
    protected = theirs("protective")
    distress = theirs("distress")
    wary = theirs("wary")
    stranger = scores.get("first_contact", (0.0, 0))[0]
    if relations is not None and relations.stranger(uid, counterpart):
        stranger = max(stranger, PLATFORM_STRANGER)
    if not family and max(protected, distress, wary, stranger) < CONTEXT_PRESENT:
        return NO_CONTEXT
    return Context(family, protected, distress, wary, stranger)


def _older_teen(me: AgePicture, other: AgePicture) -> float:
    """p_adult of the candidate, raised toward "unknown" for a teen much older than a child.

    A 15-year-old courting a 12-year-old with secrecy and a meeting is not two peers flirting;
    neither is an "age 15" account that may be an adult's. A gap of AGE_GAP years between two
    minors therefore stops shrinking the older one's evidence as a peer's would be.
    """
    p = me.p_adult
    if p < PEER_FLOOR and other.p_minor > 0.5:
        mine, theirs = me.best_age_estimate, other.best_age_estimate
        if mine is not None and theirs is not None and mine - theirs >= AGE_GAP:
            return PEER_FLOOR
    return p


def _likeliest_minor(
    state: ConversationState, uid: str, ages: Mapping[str, AgePicture], addressed: Sequence[str] | None = None
) -> str | None:
    """The likeliest minor among those ``uid`` wrote to by name, else among everyone present."""
    if addressed:
        best = max(addressed, key=lambda other: ages.get(other, _BLANK).p_minor)
        if ages.get(best, _BLANK).p_minor > 0.5:
            return best
    best, best_p = None, 0.5
    for other in state.participants:
        if other == uid:
            continue
        pic = ages.get(other)
        if pic is not None and pic.p_minor > best_p:
            best, best_p = other, pic.p_minor
    return best


def _model_p(model_scores: Mapping[str, object] | None, uid: str) -> float | None:
    if not model_scores:
        return None
    authors = model_scores.get("authors")
    # dict first: it is what the model returns, and the check costs a fraction of the ABC's
    if isinstance(authors, (dict, Mapping)) and uid in authors:
        return float(authors[uid])  # type: ignore[arg-type]
    conversation = model_scores.get("conversation")
    return None if conversation is None else float(conversation)  # type: ignore[arg-type]


def _semantic_p(model_scores: Mapping[str, object] | None, uid: str) -> float | None:
    """The semantic cascade's score for ``uid`` (``model_scores["semantic"]``), if it gave one."""
    semantic = model_scores.get("semantic") if model_scores else None
    return float(semantic[uid]) if semantic and uid in semantic else None  # type: ignore[index]


def _assess(
    state: ConversationState,
    event: object,
    sender: str,
    recipient: str | None,
    ages: Mapping[str, AgePicture],
    model_scores: Mapping[str, object] | None,
    alert_risk: float,
    event_signals: tuple[tuple[str, float], ...],
    relations: RelationshipBook | None = None,
) -> tuple[ConversationState, Assessment]:
    # Candidates whose fused risk may have changed: the sender (new signals) and, one-to-one,
    # the recipient (the sender may just have revealed being a minor, which changes asymmetry).
    candidates = [(sender, recipient)]
    if recipient is not None and not state.group and recipient in state.participants:
        candidates.append((recipient, sender))
    fused: dict[str, tuple[Fusion, AgePicture, AgePicture, float | None, str | None]] = {}
    for uid, counterpart in candidates:
        fusion, me, other, model_p = _fuse_candidate(state, uid, counterpart, ages, model_scores, relations)
        state.participants[uid]["risk"] = fusion.risk
        fused[uid] = (fusion, me, other, model_p, counterpart)

    riskiest, state.risk = _riskiest(state.participants)
    # In a room each sender is judged on their own words; others' risks are not this message's.
    offender: str | None = sender if state.group else riskiest
    risk = state.participants[sender]["risk"] if state.group else state.risk
    if risk < OFFENDER_FLOOR:
        offender = None

    first_alert = False
    reasons: tuple[dict[str, object], ...] = ()
    stage, label, minor_id, adult_id = 0, "benign", None, None
    if offender is not None:
        if offender not in fused:
            counterpart = recipient if offender == sender else sender
            fusion, me, other, model_p = _fuse_candidate(state, offender, counterpart, ages, model_scores, relations)
            fused[offender] = (fusion, me, other, model_p, counterpart)
        fusion, me, other, model_p, counterpart = fused[offender]
        stage = fusion.stage
        label = fusion.label if risk >= alert_risk else "benign"
        if other.likely_minor and counterpart is not None:
            minor_id = counterpart
        if me.likely_adult:
            adult_id = offender
        reasons = _reasons(state.participants[offender], fusion, me, other, counterpart, model_p, offender)
        if fusion.severe is not None and offender == getattr(event, "sender_id", None):
            # The pattern names this message: policies key on it like on a signal of the event
            # (the default policy reports it, for a target of unknown age too).
            event_signals = event_signals + ((f"{fusion.severe}_pattern", 1.0),)
        if risk >= alert_risk:
            first_alert = state.mark_alert(event.event_id)  # type: ignore[attr-defined]
        if risk >= state.peak_risk:
            state.peak_risk = risk
            state.stage = max(state.stage, stage)
            state.offender_id = offender
            state.reasons = list(reasons)
            if risk >= alert_risk:
                state.label_guess = label
    event_sender = getattr(event, "sender_id", None)
    sender_pic = ages.get(getattr(event, "sender_id", sender), _BLANK)
    assessment = Assessment(  # positional, in declaration order: see _unchanged
        state.conversation_id,
        event.event_id,  # type: ignore[attr-defined]
        getattr(event, "type", "message"),
        risk,
        STAGES[stage],
        label,
        offender,
        minor_id,
        adult_id,
        event_sender,
        reasons,
        first_alert,
        offender is not None and offender == event_sender,  # sender_is_offender
        sender_pic.likely_minor,
        event_signals,
    )
    if model_scores is None:
        state._view = assessment
        if not state.group:
            state._view_ages = _age_key(state, ages)
    else:
        # With model scores every step fuses anew (see step), so the view would never be read:
        # not reading every participant's age for it saves a part of each such step.
        state._view = None
    return state, assessment


def _riskiest(participants: dict[str, dict]) -> tuple[str, float]:
    """The participant with the highest risk (the first one on a tie) and that risk."""
    items = iter(participants.items())
    best, p = next(items)
    best_risk = p["risk"]
    for uid, p in items:
        if p["risk"] > best_risk:
            best, best_risk = uid, p["risk"]
    return best, best_risk


def _age_key(state: ConversationState, ages: Mapping[str, AgePicture]) -> list[float]:
    get = ages.get
    return [get(uid, _BLANK).p_adult for uid in state.participants]


def _reasons(
    p: dict,
    fusion: Fusion,
    me: AgePicture,
    other: AgePicture,
    counterpart: str | None,
    model_p: float | None,
    offender: str,
) -> tuple[dict[str, object], ...]:
    """The evidence: the offender's strongest tactics, then the age facts and the model."""
    out: list[dict[str, object]] = []
    if fusion.severe is not None:
        out.append({"signal": f"{fusion.severe}_pattern", "score": 1.0, "user_id": offender})
    for family, _ in fusion.contributions:
        entry = p["f"].get(family)
        if entry is not None:
            out.append(entry[4])
    for family in REVIEW_FAMILIES:  # they weigh nothing in the fusion but set its floor: first
        if family in p["f"]:
            out.insert(0, p["f"][family][4])
    out = out[: MAX_REASONS - 3]
    if me.suspected_age_deception:
        out.append({"signal": "suspected_age_deception", "score": round(me.p_adult, 3), "user": me.as_reason()})
    asym = me.p_adult * other.p_minor
    if asym >= 0.5 and counterpart is not None:
        out.append(
            {
                "signal": "adult_minor_asymmetry",
                "score": round(asym, 3),
                "offender": me.as_reason(),
                "minor": other.as_reason(),
            }
        )
    if model_p is not None and model_p >= 0.5:
        out.append({"signal": "model", "score": round(model_p, 4), "user_id": offender})
    if fusion.semantic is not None and fusion.semantic > 0.5:
        out.append({"signal": "semantic", "score": round(fusion.semantic, 4), "user_id": offender})
    return tuple(out[:MAX_REASONS])


def sender_assessment(
    event: object,
    event_type: str,
    risk: float,
    reasons: tuple[dict[str, object], ...],
    sender: AgePicture,
    recipient: AgePicture,
    event_signals: tuple[tuple[str, float], ...] = (),
) -> Assessment:
    """The assessment of one event from a sender to a recipient judged on its own (media, a
    contact request): whenever it has reasons, the sender is the one they point at."""
    return Assessment(
        conversation_id=event.__dict__.get("conversation_id") or "",
        event_id=event.event_id,  # type: ignore[attr-defined]
        event_type=event_type,
        risk=risk,
        stage="none",
        label_guess="benign",
        offender_id=event.sender_id if reasons else None,  # type: ignore[attr-defined]
        minor_id=event.recipient_id if recipient.likely_minor else None,  # type: ignore[attr-defined]
        adult_id=event.sender_id if sender.likely_adult else None,  # type: ignore[attr-defined]
        sender_id=event.sender_id,  # type: ignore[attr-defined]
        reasons=reasons,
        sender_is_offender=bool(reasons),
        sender_likely_minor=sender.likely_minor,
        event_signals=event_signals,
    )
