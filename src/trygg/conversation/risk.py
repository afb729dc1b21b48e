"""Risk fusion: one candidate offender's signals + the age asymmetry (+ a model score) -> risk.

Why a logistic sum with combination terms rather than "any strong signal alerts": every single
cue has an innocent reading (a coach says "meet at the field at 6", friends plan a surprise, a
buyer pays by Swish, a parent asks "are you home alone?"). What separates grooming is the
*combination* — tactics from several stages, coming from an adult, aimed at a minor. So:

    G = sum over grooming families  W[f] * s_f * (1 + REPEAT * min(n_f - 1, REPEAT_CAP))
        + COMBO * max(0, stages_present - 1)                 # tactics from several stages
    C = sum over coercion families (threat, image_request)  W[f] * s_f * (...)
        + SEXTORTION_BONUS (threat with images/sex/money; half of it, scaled by pm, for a threat
          alone) or SOLICITATION_BONUS (gifts + images)
        + PAID_MEETING * (1 - f)  money or a gift and a meeting, toward a likely minor (pm >= LIKELY_MINOR)
    z = BIAS + g(pa) * G + C
        + MINOR * (pm - 1/2) + ASYM * (pa - 1/2) * 2 * max(0, pm - 1/2)    # adult -> minor
        + SEXUAL_MINOR * max(s_sexual_talk, s_image_request) * 2 max(0, pm - 1/2) * min(1, 2 pa)
        + BREADTH * max(0, tactics - 2) * t(pm) * clamp(pa / 0.25 - 1)   # a wide repertoire, each
          tactic maybe phrased mildly (score >= 0.35), toward someone not known to be an adult
        + PROBE * clamp((pm - 1/2) / 0.3) * clamp(pa / 0.25 - 1)   # the candidate asked a likely
          minor's age and used another tactic (a stranger's question: family, coaches and
          teachers know the age); not in a room where the candidate talks to everyone
        + DECEPTION  if the offender poses as a minor but talks like an adult
        - GROUP      in a many-person room (nobody is singled out)
        + g(pa) * MODEL * max(0, 2p - 1)  when a learned model score p is given (adds, never
          vetoes, is bounded, and is never decisive alone)
        + g(pa) * SEMANTIC * max(0, 2q - 1)  when the semantic cascade read the conversation's
          recent window at q (trygg.model.cascade: only undecided conversations with tactics)
    risk = sigmoid(z),   g(pa) = min(1, 0.2 + 1.6 * pa)

Context (issue 9, :class:`Context`), all 0 when unknown:

    every term but the threat's  *= 1 - FAMILY_SHRINK * f       f = family link strength
    ASYM term                    *= 1 - f                       (a grandparent is an adult)
    z -= FAMILY * f
    z += DISTRESS * d            when there is coercion evidence (the target is frightened)
    z -= PROTECTED * p           the counterpart gave safety advice about someone else
    z += STRANGER * s * ...      the candidate said how they found the target online, beside tactics
    risk = max(risk, SEVERE_RISK)  when a severe pattern holds (trygg.conversation.severe),
                                   unless p is present (the words were a retold stranger's)

``f`` is 1 for a parent or guardian the platform knows of (``relationship`` event), less for
other links, and at most :data:`TEXT_FAMILY` from family cues in the text ("love, grandma"):
those are easy to write, so they only weigh lightly. Threats and severe patterns are never
lowered by family: extortion and solicitation inside a family are abuse too.

``pa`` is p_adult of the candidate offender and ``pm`` p_minor of their counterpart (from
:mod:`trygg.age.picture`; 0.5 when nothing is known). ``s_f`` is the family's decayed maximum in
the candidate's *own* messages, so a stray cue fades over a long chat while a conversation that
keeps escalating keeps its risk.

The age terms: a target known to be a minor raises the risk, more so when the candidate is
known to be an adult; a target known to be an adult lowers it; unknown ages are neutral. A
minor's own words are not evidence against them: ``g`` shrinks grooming-style evidence of a
likely minor (p_adult 0.12 keeps 39%), so teens may flirt and keep secrets. Coercion (threats,
requests for images, payment for images) is not shrunk: peers, and adults posing as peers,
extort and solicit too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trygg.conversation.severe import LIKELY_MINOR, SEVERE_RISK, severe_pattern
from trygg.taxonomy import FAMILY_STAGE, STAGES

#: Weight of each family's (decayed, max) score in the evidence sum.
WEIGHTS: dict[str, float] = {
    "compliments_trust": 0.7,
    "age_inquiry": 0.6,
    "gift_or_money_offer": 0.8,
    "personal_info_request": 1.0,
    "secrecy": 1.2,
    "isolation": 1.2,
    "platform_migration": 1.0,
    "image_request": 1.9,
    "sexual_talk": 1.7,
    "meeting_request": 1.0,
    "threat": 2.2,
    "payment_details": 0.4,
    "deadline": 0.5,
}

BIAS = -3.6
#: Extra weight of a repeated family (the 2nd..7th message with the same tactic): persistent
#: sexualisation or pressure is stronger evidence than one remark.
REPEAT = 0.1
REPEAT_CAP = 6
#: Per additional stage present (a family counts as present at a decayed score >= PRESENT).
COMBO = 0.85
PRESENT = 0.6
#: A gift or money offer counts toward solicitation from this score (offers are phrased loosely).
GIFT_PRESENT = 0.5
#: How far under PRESENT (or GIFT_PRESENT) a decayed score may fall and still count as present.
#: Decay is there to let old evidence fade over a long chat (half-life HALF_LIFE_MESSAGES), not to
#: drop a gift offered at 0.5 two messages ago out of the stages: a 0.5 signal is 0.498 one
#: message later. 0.02 is about a dozen messages of decay. On the written dev split it added 2
#: grooming conversations (sv gift + meeting toward an 11-year-old) and no hard negative.
PRESENT_SLACK = 0.02
#: Families that are harmful whoever uses them on a minor (coercion, asking for images): their
#: evidence is not shrunk for a likely-minor offender, because peers and adults posing as peers
#: extort and solicit too. Everything else (flattery, flirting, secrecy) is, so teens may flirt.
AGE_INDEPENDENT = frozenset({"threat", "image_request", "deadline"})
#: The tactic families the breadth term counts: every staged family but money and photos (a
#: parent's "swished you 200, send a pic in the new jacket" is mild gift + image talk every
#: week; those two have their own solicitation pairing) and coercion (its own terms).
_BREADTH_FAMILIES = frozenset(f for f, stage in FAMILY_STAGE.items() if stage) - {
    "gift_or_money_offer",
    "image_request",
    "sexual_talk",
    "threat",
}
#: The tactics that make an age question a stranger's probe (see _probe).
_PROBE_TACTICS = frozenset(f for f, stage in FAMILY_STAGE.items() if stage) - {"age_inquiry"}
#: What a threat pairs with to be sextortion (images, sexual talk, payment).
_SEXTORTION_PAIRS = frozenset({"image_request", "sexual_talk", "payment_details"})
#: Pair bonuses that name the harm: sextortion and solicitation.
SEXTORTION_BONUS = 1.5
SOLICITATION_BONUS = 1.3
#: Money or a gift offered to a likely minor together with a meeting ("1500 kr om du kommer hem
#: till mig", "i'll pay ur uber if u come over"): paying a child for company is how an adult buys
#: access. Not a severe pattern on its own (a grandparent's "come for dinner, I'll give you your
#: birthday money" has both words), so it is a coercion term that a family link shrinks, beside
#: the other tactics. On the written corpus's dev split it lifted 3 of 4 missed pay-for-meeting
#: solicitations over the alert with no hard negative; label guesses are left as they were.
PAID_MEETING = 1.0
#: The meeting's decayed score from which it pairs with an offer ("hem till mig" is 0.5).
PAID_MEETING_PRESENT = 0.45
MINOR = 2.5
ASYM = 2.0
#: Sexualisation aimed at a known minor: weighs sexual talk / image requests by how surely the
#: target is a minor (and, shrunk as g is, by how surely the speaker is not one).
SEXUAL_MINOR = 1.5
DECEPTION = 0.6
#: Breadth of the repertoire (see _breadth): per tactic family present beyond the first
#: BREADTH_FREE, at a score of at least BREADTH_PRESENT (milder than PRESENT: offenders phrase
#: each step loosely), scaled from 0 at a target p_minor of BREADTH_ADULT to 1 at
#: BREADTH_ADULT + BREADTH_SPAN.
BREADTH = 2.6
BREADTH_FREE = 2
BREADTH_PRESENT = 0.35
BREADTH_ADULT = 0.35
BREADTH_SPAN = 0.3
#: Breadth counts nothing for a speaker at p_adult <= BREADTH_PEER (a teen by their own account)
#: and in full from twice that (unknown age, 0.5): a repertoire is an adult's pattern.
BREADTH_PEER = 0.25
#: A stranger's probe (see _probe): the candidate asked the target's age and used another
#: tactic on them. Parents, grandparents, coaches and teachers know the child's age, so in the
#: written corpus's dev split no benign candidate who is not a likely minor asked it; the
#: question alone is ordinary between strangers of any age, so it needs a tactic beside it and
#: a target who is likely a minor, and counts nothing for a speaker who is a teen by their own
#: account (teens ask each other's age) nor in a room where the speaker talks to everyone.
PROBE = 1.0
#: ... counted from this p_minor of the target up (see _probe).
PROBE_MINOR = 0.5
GROUP = 0.6
MODEL = 0.5
#: Weight of the semantic cascade's reading of a window (trygg.model.cascade), apart from the
#: cheap model's so each can be weighed on its own. Chosen on the written corpus's dev split
#: with the scenarios' hard negatives as the guard: 1.0 flags none of them; 1.5 flagged 3 of 24
#: (parents and coaches near the alert line, whom any push lifts over). docs/model-card.md.
SEMANTIC = 1.0
#: Whether a low model score may subtract evidence. Off: the shipped model is trained on English
#: offender chats and is confidently wrong-low on what it has not seen (Swedish, offenders
#: posing as teens, sextortion), so it may add evidence but never veto the rules
#: (docs/model-card.md measures both).
MODEL_CAN_LOWER = False
#: Context terms (see the module docstring). A family link shrinks ordinary evidence ...
FAMILY_SHRINK = 0.6
#: ... and subtracts this from z at full strength.
FAMILY = 2.0
#: Most that family cues in the text alone count for (a platform's link counts 1).
TEXT_FAMILY = 0.4
#: The target's distress next to coercion evidence ("please stop", "I don't want to live").
DISTRESS = 1.0
#: The target's distrust of a candidate who uses tactics on them ("who is this", "du e ju vuxen").
WARY = 1.0
#: The candidate's own account of finding the target online ("saw ur video", "from the lobby
#: yesterday", "you don't know me"), beside their tactics: a stranger's approach. Family,
#: coaches, teachers and classmates have no need to say how they found a child; in the written
#: corpus's dev split such an opener came in the first six messages of 1 of 208 hard negatives
#: and of 29 of 166 harmful conversations. Never alone, never for a teen by their own account,
#: and weighed by how likely the target is a minor (as BREADTH). The platform's contact list says
#: the same where it is sent: a message from outside the target's connections (state.py,
#: PLATFORM_STRANGER).
STRANGER = 1.0
#: Safety advice from the counterpart (screenshot, block, report, tell an adult).
PROTECTED = 3.0
#: Scores from which protective talk and distress count as present.
CONTEXT_PRESENT = 0.5
#: Families not lowered by a family link.
_NOT_FAMILY_LOWERED = frozenset({"threat"})
#: Half-life, in conversation messages, of a signal's weight.
HALF_LIFE_MESSAGES = 200.0


@dataclass(frozen=True, slots=True)
class Context:
    """What is known about the pair beyond the candidate's tactics, each in [0, 1].

    ``family``: how surely the two are family (a platform link, or cues in the text);
    ``protected``: the counterpart's protective talk (safety advice about a third person);
    ``distress``: the counterpart's distress; ``wary``: the counterpart's distrust of the candidate;
    ``stranger``: the candidate's own account of finding the counterpart online.
    """

    family: float = 0.0
    protected: float = 0.0
    distress: float = 0.0
    wary: float = 0.0
    stranger: float = 0.0


NO_CONTEXT = Context()


@dataclass(slots=True)
class Fusion:
    """The outcome for one candidate offender: risk, stage reached and the harm it looks like.

    Treat it as read-only; it is not frozen only because frozen dataclasses are several times
    slower to build, and two are built per message when a model is used.
    """

    risk: float
    stage: int
    label: str
    #: (family, contribution to z) for the families present, largest first.
    contributions: tuple[tuple[str, float], ...]
    #: The severe pattern that set the risk floor ("sextortion", "solicitation"), if any.
    severe: str | None = None
    #: The semantic cascade's score that was fused in, if any.
    semantic: float | None = None


def decayed(score: float, last_index: int, now_index: int) -> float:
    """A family score faded by how many messages ago it was last seen."""
    age = now_index - last_index
    if age <= 0:
        return score
    return score * 0.5 ** (age / HALF_LIFE_MESSAGES)


#: Fusions of candidates without evidence, by their remaining inputs. Most candidates in most
#: conversations have no evidence, and then only their age beliefs (a handful of distinct
#: values), the room flag and a model score that adds something move the outcome; a model score
#: that adds nothing is keyed as no model score. Bounded: emptied when full.
_NO_EVIDENCE: dict[tuple[float, float, bool, bool, float | None], Fusion] = {}
_NO_EVIDENCE_SIZE = 1 << 12


def fuse(
    scores: dict[str, tuple[float, int]],
    p_adult_offender: float,
    p_minor_target: float,
    deception: bool = False,
    group: bool = False,
    model_p: float | None = None,
    context: Context = NO_CONTEXT,
    semantic_p: float | None = None,
) -> Fusion:
    """Fuse one candidate's per-family ``(decayed score, count)`` into a :class:`Fusion`.

    The result is shared between calls with the same inputs when there is no evidence: treat it
    as read-only. Without evidence ``context`` is not read: it only weighs evidence.
    """
    if scores:
        return _fuse(scores, p_adult_offender, p_minor_target, deception, group, model_p, context, semantic_p)
    if not MODEL_CAN_LOWER and (model_p is None or not model_p > 0.5):
        model_p = None  # max(0, 2p - 1) = 0: adds exactly nothing
    key = (p_adult_offender, p_minor_target, deception, group, model_p)
    fusion = _NO_EVIDENCE.get(key)
    if fusion is None:
        if len(_NO_EVIDENCE) >= _NO_EVIDENCE_SIZE:
            _NO_EVIDENCE.clear()
        fusion = _NO_EVIDENCE[key] = _fuse(scores, p_adult_offender, p_minor_target, deception, group, model_p, NO_CONTEXT, None)
    return fusion


def _fuse(
    scores: dict[str, tuple[float, int]],
    p_adult_offender: float,
    p_minor_target: float,
    deception: bool,
    group: bool,
    model_p: float | None,
    context: Context,
    semantic_p: float | None = None,
) -> Fusion:
    family_keep = 1.0 - FAMILY_SHRINK * context.family
    z = 0.0  # evidence shrunk for a likely-minor offender
    coercion = 0.0  # evidence that is not
    stages: set[int] = set()
    contributions = []
    present: set[str] = set()
    for family, (score, count) in scores.items():
        weight = WEIGHTS.get(family)
        if weight is None or score <= 0.0:
            continue
        term = weight * score * (1.0 + REPEAT * min(count - 1, REPEAT_CAP))
        if family not in _NOT_FAMILY_LOWERED:
            term *= family_keep
        if family in AGE_INDEPENDENT:
            coercion += term
        else:
            z += term
        contributions.append((family, term))
        if score + PRESENT_SLACK >= (GIFT_PRESENT if family == "gift_or_money_offer" else PRESENT):
            present.add(family)
            stage = FAMILY_STAGE[family]
            if stage:
                stages.add(stage)
    if len(stages) > 1:
        z += COMBO * (len(stages) - 1)
    breadth = _breadth(scores, p_minor_target) * family_keep * (1.0 - context.family)
    label = "grooming"
    if "threat" in present and present & _SEXTORTION_PAIRS:
        coercion += SEXTORTION_BONUS
        label = "sextortion"
    elif "gift_or_money_offer" in present and "image_request" in present:
        coercion += SOLICITATION_BONUS
        label = "solicitation"
    elif (
        "gift_or_money_offer" in present
        and scores.get("meeting_request", (0.0, 0))[0] >= PAID_MEETING_PRESENT
        and p_minor_target >= LIKELY_MINOR
    ):
        coercion += PAID_MEETING * (1.0 - context.family)
    elif "threat" in present:
        # A threat with nothing to pair it with yet: still the sextortion tactic when the target
        # is a child (the images may be old, or sent elsewhere).
        coercion += SEXTORTION_BONUS * 0.5 * max(0.0, p_minor_target - 0.5) * 2.0
        label = "sextortion"
    peer_scale = min(1.0, 0.2 + 1.6 * p_adult_offender)
    # Breadth is shrunk harder than other evidence for a likely minor: teens who like each other
    # compliment, ask the age, keep it secret and move to snap, all in one evening.
    adult_side = min(1.0, max(0.0, (p_adult_offender - BREADTH_PEER) / BREADTH_PEER))
    # In a room talking to everyone, "asl?" and "how old is everyone" are small talk: no probe.
    probe = 0.0 if group else _probe(present, p_minor_target) * family_keep * (1.0 - context.family)
    z = BIAS + z * peer_scale + coercion + (breadth + probe) * adult_side
    minor_excess = max(0.0, p_minor_target - 0.5)
    minor_side = minor_excess * 2.0
    if minor_side:
        sexual = scores.get("sexual_talk", (0.0, 0))[0]
        image = scores.get("image_request", (0.0, 0))[0]
        sexual = max(sexual, image if image >= PRESENT else 0.0)
        z += SEXUAL_MINOR * sexual * minor_side * min(1.0, 2.0 * p_adult_offender)
    z += MINOR * (p_minor_target - 0.5) + ASYM * (p_adult_offender - 0.5) * 2.0 * minor_excess * (1.0 - context.family)
    z -= FAMILY * context.family
    if context.distress >= CONTEXT_PRESENT and coercion > 0.0:
        z += DISTRESS * context.distress
    if context.wary >= CONTEXT_PRESENT and (stages or coercion > 0.0):
        # The child's own alarm at someone using tactics on them: "who is this", "how do you
        # know my school". Never alone: a wary reply to someone without tactics adds nothing.
        z += WARY * context.wary * peer_scale * (1.0 - context.family)
    if context.stranger >= CONTEXT_PRESENT and stages:
        towards_minor = min(1.0, max(0.0, (p_minor_target - BREADTH_ADULT) / BREADTH_SPAN))
        term = STRANGER * context.stranger * adult_side * towards_minor * (1.0 - context.family)
        if term:
            z += term
            contributions.append(("first_contact", term))
    protected = context.protected >= CONTEXT_PRESENT
    if protected:
        z -= PROTECTED * context.protected
    if deception:
        z += DECEPTION
    if group:
        z -= GROUP
    if model_p is not None:
        # Shrunk for a likely minor like grooming evidence: the model asks "is this an adult
        # working on a child?", and a teen retelling a school talk on sextortion is not one.
        term = 2.0 * min(1.0, max(0.0, model_p)) - 1.0
        z += MODEL * (term if MODEL_CAN_LOWER else max(0.0, term)) * peer_scale
    if semantic_p is not None and semantic_p > 0.5:
        z += SEMANTIC * (2.0 * min(1.0, semantic_p) - 1.0) * peer_scale * family_keep
    if len(contributions) > 1:
        contributions.sort(key=_largest_first)
    risk = _sigmoid(z)
    severe = None if protected else severe_pattern(scores, p_minor_target, context.distress)
    if severe is not None:
        risk = max(risk, SEVERE_RISK)
        label = severe
        stages.add(len(STAGES) - 1)
    # (max with a default= keyword costs more than the rest of an evidence-free fusion)
    return Fusion(risk, max(stages) if stages else 0, label, tuple(contributions), severe, semantic_p)


def _breadth(scores: dict[str, tuple[float, int]], p_minor_target: float) -> float:
    """The BREADTH term: many distinct tactics toward someone not known to be an adult.

    A parent's "don't tell mum, I'll pick you up" is two tactics; an offender's repertoire is
    wider (asking the age, flattering, moving the chat elsewhere, checking the child is alone,
    asking for a photo, arranging a meeting), and each tactic may be phrased only mildly. So
    every tactic family beyond :data:`BREADTH_FREE` that is at least :data:`BREADTH_PRESENT`
    adds, weighted by how far the target is from a known adult.
    """
    n = 0
    for family, (score, _count) in scores.items():
        if score >= BREADTH_PRESENT and family in _BREADTH_FAMILIES:
            n += 1
    if n <= BREADTH_FREE:
        return 0.0
    towards_minor = min(1.0, max(0.0, (p_minor_target - BREADTH_ADULT) / BREADTH_SPAN))
    return BREADTH * (n - BREADTH_FREE) * towards_minor


def _probe(present: set[str], p_minor_target: float) -> float:
    """The PROBE term: the candidate asked the target's age and used another tactic on them.

    Only toward a target who is likely a minor (from :data:`PROBE_MINOR`, in full
    :data:`BREADTH_SPAN` above it): between strangers of unknown age, "how old are you?" and
    "where can we meet?" are how people get to know each other (real two-person chat had two
    conversations flagged by this term when it counted for unknown ages too).
    """
    if "age_inquiry" not in present or present.isdisjoint(_PROBE_TACTICS):
        return 0.0
    towards_minor = min(1.0, max(0.0, (p_minor_target - PROBE_MINOR) / BREADTH_SPAN))
    return PROBE * towards_minor


def _largest_first(item: tuple[str, float]) -> float:
    return -item[1]


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
