"""The Signal: what a detector found, with the evidence a moderator can check."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Signal:
    """One finding in one event.

    ``span`` is a half-open character range ``[start, end)`` into the *original* text the user
    wrote (not the normalised text), so evidence can be highlighted exactly as sent.
    ``value`` carries an extracted fact where the family has one (e.g. the stated age).
    """

    name: str
    score: float
    event_id: str
    span: tuple[int, int] | None = None
    language: str | None = None
    value: int | str | None = None
    pattern_id: str | None = None

    def as_reason(self) -> dict[str, object]:
        reason: dict[str, object] = {"signal": self.name, "score": round(self.score, 4), "event_id": self.event_id}
        if self.span is not None:
            reason["span"] = list(self.span)
        if self.language is not None:
            reason["language"] = self.language
        if self.value is not None:
            reason["value"] = self.value
        return reason


#: The tactic families every language pack defines (issue 2 lists them). ``adult_indicator``
#: (adult life cues: work commute, spouse, mortgage) lets the age picture catch an adult posing as a teen.
#: The learned model reads exactly these as features, so this tuple stays as the model was trained.
SIGNAL_FAMILIES: tuple[str, ...] = (
    "age_inquiry",
    "age_disclosure",
    "adult_indicator",
    "personal_info_request",
    "compliments_trust",
    "secrecy",
    "isolation",
    "platform_migration",
    "meeting_request",
    "gift_or_money_offer",
    "image_request",
    "sexual_talk",
    "threat",
    "payment_details",
)

#: Context families (issue 9): they say who is speaking and how, not which tactic is used, so the
#: learned model does not read them (it was trained on :data:`SIGNAL_FAMILIES`); the age picture
#: and the conversation state combine them with the tactics.
#:
#: ``deadline``: time pressure ("you have 24 hours", "innan ikväll"), what turns a threat and a
#: demand into an ultimatum. ``implied_age``: life-stage cues of the speaker's own age (school
#: stage, bedtimes, parents' rules, a first phone) with an estimated age as ``value``.
#: ``protective``: safety advice to a peer (screenshot, block, report, tell an adult, Bris).
#: ``reported_speech``: the speaker retells what someone else wrote ("a guy offered me...").
#: ``family_cue``: the speaker writes as the other's family ("love, grandma", "mormor här").
#: ``distress``: the speaker is frightened or in crisis ("I don't want to live", "snälla sluta").
CONTEXT_FAMILIES: tuple[str, ...] = (
    "deadline",
    "implied_age",
    "protective",
    "reported_speech",
    "family_cue",
    "distress",
)

#: Every family a language pack may define.
ALL_FAMILIES: tuple[str, ...] = SIGNAL_FAMILIES + CONTEXT_FAMILIES
