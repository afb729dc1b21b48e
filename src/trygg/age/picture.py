"""Per-user age picture: what we know about a user's age, and how far to trust it.

A declared age is a claim made once at sign-up; what people say in chat is often more telling,
and a contradiction between the two is itself evidence: a "16-year-old" who says "I'm 34" or
mentions driving to work is a suspected adult posing as a teen. Grooming risk hinges on the
adult <-> minor asymmetry, so the rest of the engine asks this module one question per user:
how likely is this person a minor, and how likely an adult?

The picture only records facts about the user *themselves*: ages stated in their own messages
(``age_disclosure`` signals from the sender), life-stage cues that imply an age without stating
it (``implied_age``: mellanstadiet, a 9 pm bedtime, a first phone; issue 9), adult indicators in
their own messages, and an age estimate the platform may send (facial or behavioural age
estimation). Implied cues and estimates weigh less than a stated age: a child rarely says "I'm 11"
to a stranger, but often mentions school, bedtimes and parents' rules; and adults do too, now and
then, so one cue only tips an unknown user toward minor and never outweighs a clear claim. Ages
asked about ("13?") are dropped here; ages of other people ("my brother is 13") are the language
packs' job to not extract as a self-disclosure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from trygg.signals.base import Signal

#: Youngest and oldest stated ages taken at face value (anything else is noise or a joke).
MIN_PLAUSIBLE_AGE = 8
MAX_PLAUSIBLE_AGE = 99
#: Age of majority used for the minor/adult split.
ADULT_AGE = 18
#: How many stated ages and adult-indicator events a picture keeps (bounded state).
MAX_KEPT = 6
#: Probability above which a user counts as "likely" minor or adult.
LIKELY = 0.65
#: An adult-indicator score at or above this contradicts a minor claim.
ADULT_EVIDENCE_CONTRADICTS = 0.5
#: A stated age with a signal score at or above this is a clear first-person claim ("I'm 34",
#: "34/m"); below it (a bare "34" in reply, a loosely phrased number) it may be someone else's
#: age or a count of something, so on its own it never overturns a clear claim to be a minor.
CLEAR_CLAIM = 0.75
#: Total implied-age evidence (sum of the distinct cues' scores, capped at 1) at which a user
#: with no stated or declared age is as minor-like as implied cues can make them.
IMPLIED_FULL = 1.0
#: p_adult that full implied evidence gives a user with nothing else known (a clear claim gives
#: 0.12): one cue of score 0.55 gives about 0.33, enough for "likely minor" (p_minor >= 0.65).
IMPLIED_FLOOR = 0.18
#: p_adult of an account declared (or estimated) adult whose own words imply a child: children
#: lie up at sign-up, so this pulls the belief back to "unknown", not all the way to minor.
IMPLIED_VS_DECLARED_ADULT = 0.42
#: Most that ages ascribed by others ("for a 7th grader", "you're only 12") add to the implied
#: evidence: another person's words about someone weigh less than their own, and never make a
#: child of someone alone (0.6 gives p_adult 0.31 at most, and nothing against a declared adult).
ASCRIBED_CAP = 0.6
#: Prefix of the cue recorded for an ascribed age (the pattern id follows), so a moderator sees
#: which facts came from someone else.
ASCRIBED = "ascribed:"


@dataclass
class AgePicture:
    """Everything known about one user's age; mutated in place by :meth:`observe`."""

    user_id: str
    declared_age: int | None = None
    #: ``[age, event_id, score]`` in the order they were stated (most recent last, bounded).
    stated_ages: list[list] = field(default_factory=list)
    #: Strongest adult-indicator score seen in the user's own messages.
    adult_evidence: float = 0.0
    adult_indicator_events: list[str] = field(default_factory=list)
    #: ``[age, event_id, score, cue]`` implied by life-stage cues (bounded; one per cue pattern,
    #: so a bedtime said twice is one fact, while a bedtime and a school stage are two).
    implied_ages: list[list] = field(default_factory=list)
    #: The platform's own age estimate (an input weaker than a declared age).
    estimated_age: int | None = None
    #: Ages verified by an age-assurance method outrank everything else.
    verified_adult: bool | None = None
    #: Declared birth date (ISO), when the platform sends one: the declared age follows it.
    birth_date: str | None = None
    #: Age-assurance evidence besides chat (declarations, proofs, estimates): dicts written and
    #: weighed by :mod:`trygg.age.assurance` (kind, method, assurance, age range, time).
    evidence: list[dict] = field(default_factory=list)
    #: Flags raised once each (e.g. ``suspected_adult_posing_as_teen``), so a flag acts once.
    flags: list[str] = field(default_factory=list)
    #: Derived (p_adult, deception), recomputed on every change: read once per message per user.
    _belief: tuple[float, bool] | None = field(default=None, init=False, repr=False, compare=False)
    #: The protective reading under one policy's age rules (trygg.age.assurance), cached the same way.
    _reading: tuple[object, object] | None = field(default=None, init=False, repr=False, compare=False)

    # ---------------------------------------------------------------- updates
    def declare(self, age: int | None) -> bool:
        """Record the account's declared age; returns whether anything changed."""
        if age == self.declared_age:
            return False
        self.declared_age = age
        self._belief = self._reading = None
        return True

    def estimate(self, age: int | None) -> bool:
        """Record the platform's age estimate; returns whether anything changed."""
        if age == self.estimated_age:
            return False
        self.estimated_age = age
        self._belief = None
        return True

    def observe(self, signals: Iterable[Signal], text: str | None = None) -> bool:
        """Take the age facts out of one of the user's own messages; returns whether it changed.

        ``text`` is the original message, used to drop ages that are questions ("13?").
        """
        changed = False
        for signal in signals:
            if signal.name == "age_disclosure":
                age = _as_age(signal.value)
                if age is None or (text is not None and _is_question(text, signal.span)):
                    continue
                if self.stated_ages and self.stated_ages[-1][0] == age:
                    if signal.score > self.stated_ages[-1][2]:
                        self.stated_ages[-1][2] = float(signal.score)
                        changed = True
                    continue
                self.stated_ages.append([age, signal.event_id, float(signal.score)])
                del self.stated_ages[:-MAX_KEPT]
                changed = True
            elif signal.name == "implied_age":
                changed |= self._add_cue(signal, signal.pattern_id or "")
            elif signal.name == "adult_indicator":
                if signal.score > self.adult_evidence:
                    self.adult_evidence = float(signal.score)
                    changed = True
                if signal.event_id not in self.adult_indicator_events:
                    self.adult_indicator_events.append(signal.event_id)
                    del self.adult_indicator_events[:-MAX_KEPT]
                    changed = True
        if changed:
            self._belief = self._reading = None
        return changed

    def ascribe(self, signals: Iterable[Signal]) -> bool:
        """Take the ages that someone else's message ascribes to this user (``ascribed_age``:
        "u seem cool for a 7th grader", "du e ju bara 12", written to them in a one-to-one chat);
        returns whether anything changed.

        Why: a child's age is often never stated by the child, while the adult writing to them
        says what they take it to be. Kept with the implied cues (their evidence shown the same
        way), but capped at :data:`ASCRIBED_CAP` so others' words alone stay weaker than one's own.
        """
        changed = False
        for signal in signals:
            if signal.name == "ascribed_age":
                changed |= self._add_cue(signal, ASCRIBED + (signal.pattern_id or ""))
        if changed:
            self._belief = self._reading = None
        return changed

    def _add_cue(self, signal: Signal, cue: str) -> bool:
        """Keep one implied (or ascribed) age cue; one per message and per pattern, since a
        repeat is the same fact. Returns whether it was kept."""
        age = _as_age(signal.value)
        if age is None or any(kept[1] == signal.event_id or kept[3] == cue for kept in self.implied_ages):
            return False
        self.implied_ages.append([age, signal.event_id, float(signal.score), cue])
        del self.implied_ages[:-MAX_KEPT]
        return True

    def verify(self, adult: bool) -> None:
        """Record the outcome of an age-assurance check (outranks every claim)."""
        self.verified_adult = adult
        self._belief = self._reading = None

    # ---------------------------------------------------------------- reading
    def _last(self, adult: bool, min_score: float = 0.0) -> int | None:
        for age, _, score in reversed(self.stated_ages):
            if (age >= ADULT_AGE) == adult and score >= min_score:
                return int(age)
        return None

    @property
    def stated_adult_age(self) -> int | None:
        """The latest adult age the user clearly claimed for themselves."""
        return self._last(True, CLEAR_CLAIM)

    @property
    def stated_minor_age(self) -> int | None:
        """The latest minor age the user stated (even a bare "13" in reply)."""
        return self._last(False)

    @property
    def claims_minor(self) -> bool:
        """The user clearly presents as a minor (declared, or a clear claim in chat)."""
        return self._last(False, CLEAR_CLAIM) is not None or (
            self.declared_age is not None and self.declared_age < ADULT_AGE
        )

    @property
    def suspected_age_deception(self) -> bool:
        """Presents as a minor, yet says an adult age or talks like an adult (work, car, kids)."""
        belief = self._belief or self._derive()
        return belief[1]

    @property
    def p_adult(self) -> float:
        """Probability-like belief that the user is an adult (0.5 = nothing known)."""
        belief = self._belief or self._derive()
        return belief[0]

    def _derive(self) -> tuple[float, bool]:
        deception = self.claims_minor and (
            self.stated_adult_age is not None or self.adult_evidence >= ADULT_EVIDENCE_CONTRADICTS
        )
        self._belief = (self._p_adult(deception), deception)
        return self._belief

    def _p_adult(self, deception: bool) -> float:
        if self.verified_adult is not None:
            return 0.98 if self.verified_adult else 0.02
        if deception:
            return 0.85
        if self.stated_adult_age is not None:
            return 0.9
        if self._last(False, CLEAR_CLAIM) is not None:
            # A clear claim outweighs the sign-up form: children lie up to get in.
            return 0.12 if self.declared_age is None or self.declared_age < ADULT_AGE else 0.3
        implied = self.implied_minor_evidence
        if self.declared_age is not None:
            if self.declared_age < ADULT_AGE:
                return 0.2
            return IMPLIED_VS_DECLARED_ADULT if implied >= IMPLIED_FULL else 0.8
        if self.estimated_age is not None:
            if self.estimated_age < ADULT_AGE:
                return min(0.25, 0.5 - (0.5 - IMPLIED_FLOOR) * implied)
            return IMPLIED_VS_DECLARED_ADULT if implied >= IMPLIED_FULL else 0.75
        if implied > 0 and self._last(True) is None and self.adult_evidence < ADULT_EVIDENCE_CONTRADICTS:
            return 0.5 - (0.5 - IMPLIED_FLOOR) * implied
        # Only loose numbers ("13" in reply, "8" that may be a time): lean, and only one way.
        loose_minor, loose_adult = self._last(False) is not None, self._last(True) is not None
        if loose_minor and not loose_adult:
            return 0.2
        if loose_adult and not loose_minor:
            return 0.75
        if self.adult_evidence > 0:
            return 0.5 + 0.35 * min(1.0, self.adult_evidence)
        return 0.5

    @property
    def implied_minor_evidence(self) -> float:
        """Sum of the distinct implied minor ages' cue scores, capped at :data:`IMPLIED_FULL`
        (the part ascribed by others at :data:`ASCRIBED_CAP`)."""
        own = ascribed = 0.0
        for age, _, score, cue in self.implied_ages:
            if age < ADULT_AGE:
                if cue.startswith(ASCRIBED):
                    ascribed += score
                else:
                    own += score
        return min(IMPLIED_FULL, own + min(ASCRIBED_CAP, ascribed)) / IMPLIED_FULL

    @property
    def p_minor(self) -> float:
        return 1.0 - self.p_adult

    @property
    def likely_minor(self) -> bool:
        return self.p_minor >= LIKELY

    @property
    def likely_adult(self) -> bool:
        return self.p_adult >= LIKELY

    @property
    def best_age_estimate(self) -> int | None:
        """A single age to show a moderator: an adult age said in chat wins over a minor claim."""
        if self.stated_adult_age is not None:
            return self.stated_adult_age
        if self.stated_ages:
            return int(self.stated_ages[-1][0])
        if self.declared_age is not None:
            return self.declared_age
        if self.estimated_age is not None:
            return self.estimated_age
        return int(self.implied_ages[-1][0]) if self.implied_ages else None

    def as_reason(self) -> dict[str, object]:
        """The age facts as evidence for a decision."""
        reason: dict[str, object] = {"user_id": self.user_id, "p_adult": round(self.p_adult, 3)}
        if self.declared_age is not None:
            reason["declared_age"] = self.declared_age
        if self.stated_ages:
            reason["stated_ages"] = [int(a) for a, _, _ in self.stated_ages]
        if self.adult_indicator_events:
            reason["adult_indicator_events"] = list(self.adult_indicator_events)
        if self.implied_ages:
            reason["implied_ages"] = [[int(a), e] for a, e, *_ in self.implied_ages]
        if self.estimated_age is not None:
            reason["estimated_age"] = self.estimated_age
        return reason

    # ---------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"user_id": self.user_id}
        if self.declared_age is not None:
            out["declared_age"] = self.declared_age
        if self.stated_ages:
            out["stated_ages"] = [list(x) for x in self.stated_ages]
        if self.adult_evidence:
            out["adult_evidence"] = self.adult_evidence
        if self.adult_indicator_events:
            out["adult_indicator_events"] = list(self.adult_indicator_events)
        if self.implied_ages:
            out["implied_ages"] = [list(x) for x in self.implied_ages]
        if self.estimated_age is not None:
            out["estimated_age"] = self.estimated_age
        if self.verified_adult is not None:
            out["verified_adult"] = self.verified_adult
        if self.birth_date is not None:
            out["birth_date"] = self.birth_date
        if self.evidence:
            out["evidence"] = [dict(e) for e in self.evidence]
        if self.flags:
            out["flags"] = list(self.flags)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> AgePicture:
        try:
            return cls(
                user_id=str(data["user_id"]),
                declared_age=_opt_int(data.get("declared_age")),
                stated_ages=[[int(x[0]), str(x[1]), float(x[2])] for x in data.get("stated_ages", [])],  # type: ignore[union-attr]
                adult_evidence=float(data.get("adult_evidence", 0.0)),  # type: ignore[arg-type]
                adult_indicator_events=[str(e) for e in data.get("adult_indicator_events", [])],  # type: ignore[union-attr]
                implied_ages=[[int(x[0]), str(x[1]), float(x[2]), str(x[3])] for x in data.get("implied_ages", [])],  # type: ignore[union-attr]
                estimated_age=_opt_int(data.get("estimated_age")),
                verified_adult=data.get("verified_adult"),  # type: ignore[arg-type]
                birth_date=None if data.get("birth_date") is None else str(data["birth_date"]),
                evidence=[dict(e) for e in data.get("evidence", [])],  # type: ignore[union-attr]
                flags=[str(f) for f in data.get("flags", [])],  # type: ignore[union-attr]
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"invalid age picture: {exc}") from None


class AgeBook(dict[str, AgePicture]):
    """user_id -> :class:`AgePicture`; unknown users read as an empty (0.5/0.5) picture."""

    def picture(self, user_id: str) -> AgePicture:
        """The user's picture, created on first use."""
        pic = self.get(user_id)
        if pic is None:
            pic = self[user_id] = AgePicture(user_id)
        return pic

    def peek(self, user_id: str | None) -> AgePicture:
        """The user's picture without creating one (an unknown user gets a blank picture)."""
        if user_id is not None:
            pic = self.get(user_id)
            if pic is not None:
                return pic
        return AgePicture(user_id or "")


def _as_age(value: object) -> int | None:
    try:
        age = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return age if MIN_PLAUSIBLE_AGE <= age <= MAX_PLAUSIBLE_AGE else None


def _opt_int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[arg-type]


def _is_question(text: str, span: tuple[int, int] | None) -> bool:
    """An age followed by a question mark ("13?", "u 13 ?") is asked, not stated."""
    if span is None:
        return False
    tail = text[span[1] : span[1] + 4].lstrip(" \t")
    return tail.startswith("?")
