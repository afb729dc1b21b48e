"""Age assurance: evidence about a user's age, each with its method, level and time, and the
protective reading of it (which band a user is treated as, and which flags they raise).

The :class:`~trygg.age.picture.AgePicture` answers "how likely is this person an adult?" for
the grooming risk, where a "15-year-old" who talks like a 34-year-old counts as the adult they
probably are. Protection asks the opposite question and must err the other way: a child who
lied up to get in, or says "I'm 13" in chat, needs the teen defaults at once, while an adult
who claims to be a teen must not lose protections for others by it. So here:

- evidence comes from declarations (a declared age or birth date), clear first-person claims in
  chat (the ``age_disclosure`` signal, with its message's event id), verified proofs (a
  verifier's result, never the document) and estimates from providers (facial estimation, an
  operating system's age range), each with an IEEE 2089.1 level: asserted < standard < enhanced
  < strict;
- for protection the youngest credible evidence wins;
- nobody moves from minor to adult without a verified proof at the policy's level: once treated
  as a minor, a user stays one (except by ageing along the same declared birth date).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from trygg.age.picture import ADULT_AGE, CLEAR_CLAIM, AgePicture
from trygg.policy.protection import AGE_FLAGS, AgeRules, assurance_rank

#: Evidence entries a picture keeps (minor evidence is the last to go).
MAX_EVIDENCE = 12
#: Flag kept while a user is treated as a minor (only an adult proof, or ageing, lifts it).
TREATED_AS_MINOR = "treated_as_minor"


def band_of(age: int) -> str:
    if age < 13:
        return "under_13"
    if age < 16:
        return "13-15"
    if age < ADULT_AGE:
        return "16-17"
    return "18+"


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


@dataclass(frozen=True)
class AgeReading:
    """How a user is treated for protection, and the evidence that decided it."""

    band: str  # one of AGE_BANDS, or "unknown"
    minor: bool
    basis: Mapping[str, object] | None

    @property
    def effective_band(self) -> str:
        """The band used for content ratings (an unknown age reads as the policy treats it)."""
        if self.band != "unknown":
            return self.band
        return "13-15" if self.minor else "18+"

    def as_reason(self) -> dict[str, object]:
        reason: dict[str, object] = {"band": self.band, "minor": self.minor}
        if self.basis is not None:
            reason["basis"] = dict(self.basis)
        return reason


# ---------------------------------------------------------------------------- recording
def declare(picture: AgePicture, age: int | None, birth_date: date | None, today: date, at: date | None = None) -> bool:
    """Record an account's declared age or birth date; returns whether anything changed.

    ``today`` ages a birth date; ``at`` is when the platform says the declaration was made (the
    account's ``created_at``), None when it does not say: the evidence never takes the wall
    clock of the run, so the same events give the same stored pictures on any day.

    A new declaration does not erase an earlier minor one (children lie up to get in; a child
    who lies up later is still a child), unless it is the same birth date, a year on."""
    if birth_date is not None:
        age = age_on(birth_date, today)
    changed = picture.declare(age)
    if age is None:
        return changed
    same_birth_date = birth_date is not None and picture.birth_date == birth_date.isoformat()
    if birth_date is not None:
        changed |= picture.birth_date != birth_date.isoformat()
        picture.birth_date = birth_date.isoformat()
    if same_birth_date:
        picture.evidence = [e for e in picture.evidence if e.get("method") != "birth_date"]
        if age >= ADULT_AGE and TREATED_AS_MINOR in picture.flags and not _other_minor_evidence(picture):
            picture.flags.remove(TREATED_AS_MINOR)  # grew up: not a claim, the calendar
    entry = {
        "kind": "declared",
        "method": "birth_date" if birth_date is not None else "self_declared",
        "assurance": "asserted",
        "age_low": age,
        "age_high": age,
        "at": at.isoformat() if at is not None else None,
    }
    if not any(e.get("kind") == "declared" and e.get("age_low") == age and e.get("method") == entry["method"] for e in picture.evidence):
        _keep(picture, entry)
        changed = True
    picture._reading = None
    return changed


def add_proof(
    picture: AgePicture, over_18: bool, method: str, verified_at: datetime, issuer: str, event_id: str, rules: AgeRules
) -> dict[str, object]:
    """Record a verified proof's outcome (the document itself is never kept)."""
    entry: dict[str, object] = {
        "kind": "proof",
        "method": method,
        "assurance": rules.method_assurance(method),
        "age_low": ADULT_AGE if over_18 else 0,
        "age_high": None if over_18 else ADULT_AGE - 1,
        "at": verified_at.isoformat(),
        "issuer": issuer,
        "event_id": event_id,
    }
    _keep(picture, entry)
    if assurance_rank(str(entry["assurance"])) >= assurance_rank(rules.adult_proof_assurance):
        picture.verify(over_18)
    return entry


def add_estimate(
    picture: AgePicture,
    age_low: int,
    age_high: int | None,
    method: str,
    assurance: str | None,
    at: datetime | None,
    event_id: str,
    rules: AgeRules,
) -> dict[str, object]:
    """Record an age estimate from a provider (a range; its level from the event or the policy)."""
    entry: dict[str, object] = {
        "kind": "estimate",
        "method": method,
        "assurance": assurance or rules.method_assurance(method),
        "age_low": age_low,
        "age_high": age_high,
        "at": at.isoformat() if at else None,
        "event_id": event_id,
    }
    _keep(picture, entry)
    return entry


def _keep(picture: AgePicture, entry: dict[str, object]) -> None:
    picture.evidence.append(entry)
    while len(picture.evidence) > MAX_EVIDENCE:
        # Drop the oldest entry that says nothing about being a minor, else the oldest.
        index = next((i for i, e in enumerate(picture.evidence) if not _says_minor(e)), 0)
        del picture.evidence[index]
    picture._belief = picture._reading = None


def _says_minor(entry: Mapping[str, object]) -> bool:
    high = entry.get("age_high")
    return high is not None and int(high) < ADULT_AGE  # type: ignore[arg-type]


def _other_minor_evidence(picture: AgePicture) -> bool:
    return any(_says_minor(e) for e in picture.evidence if e.get("method") != "birth_date") or any(
        age < ADULT_AGE and score >= CLEAR_CLAIM for age, _, score in picture.stated_ages
    )


# ---------------------------------------------------------------------------- reading
def credible_evidence(picture: AgePicture, rules: AgeRules) -> list[dict[str, object]]:
    """Evidence believed for protection: declarations, clear chat claims, proofs, estimates at
    or above the policy's level."""
    floor = assurance_rank(rules.min_estimate_assurance)
    out = [
        dict(e)
        for e in picture.evidence
        if e.get("kind") != "estimate" or assurance_rank(str(e.get("assurance", "asserted"))) >= floor
    ]
    out.extend(
        {"kind": "stated", "method": "chat", "assurance": "asserted", "age_low": int(age), "age_high": int(age), "event_id": event_id}
        for age, event_id, score in picture.stated_ages
        if score >= CLEAR_CLAIM
    )
    return out


def adult_proof(picture: AgePicture, rules: AgeRules) -> Mapping[str, object] | None:
    """The strongest proof of adulthood at or above the policy's level, if any."""
    floor = assurance_rank(rules.adult_proof_assurance)
    proofs = [
        e
        for e in picture.evidence
        if e.get("kind") == "proof" and int(e.get("age_low") or 0) >= ADULT_AGE and assurance_rank(str(e["assurance"])) >= floor
    ]
    return max(proofs, key=lambda e: assurance_rank(str(e["assurance"])), default=None)


def protective_reading(picture: AgePicture, rules: AgeRules) -> AgeReading:
    """The band a user is treated as: the youngest credible evidence, unless a verified proof of
    adulthood outranks every piece of minor evidence. Cached on the picture until it changes."""
    cached = picture._reading
    if cached is not None and cached[0] is rules:
        return cached[1]  # type: ignore[return-value]
    reading = _read(picture, rules)
    picture._reading = (rules, reading)
    return reading


def _read(picture: AgePicture, rules: AgeRules) -> AgeReading:
    credible = credible_evidence(picture, rules)
    minor = [e for e in credible if _says_minor(e)]
    proof = adult_proof(picture, rules)
    if proof is not None:
        level = assurance_rank(str(proof["assurance"]))
        stronger = [e for e in minor if assurance_rank(str(e["assurance"])) > level]
        if not stronger:
            return AgeReading("18+", False, proof)
        minor = stronger
    if minor:
        youngest = min(minor, key=lambda e: int(e["age_high"]))  # type: ignore[arg-type]
        return AgeReading(band_of(int(youngest["age_high"])), True, youngest)  # type: ignore[arg-type]
    if TREATED_AS_MINOR in picture.flags:
        return AgeReading("16-17", True, {"kind": "flag", "method": TREATED_AS_MINOR})
    adult = [e for e in credible if int(e.get("age_low") or 0) >= ADULT_AGE]
    if adult:
        return AgeReading("18+", False, max(adult, key=lambda e: assurance_rank(str(e["assurance"]))))
    return AgeReading("unknown", rules.unknown_age == "minor", None)


def update_flags(picture: AgePicture, rules: AgeRules) -> list[str]:
    """Raise the flags the picture now shows; returns the ones raised for the first time.

    Keeps TREATED_AS_MINOR in step with the reading, so a minor stays one without a proof."""
    reading = protective_reading(picture, rules)
    # The reading stays valid: it is minor already when the flag goes on, and a proof outranks
    # the flag when it comes off.
    if reading.minor and reading.band != "unknown" and TREATED_AS_MINOR not in picture.flags:
        picture.flags.append(TREATED_AS_MINOR)
    elif not reading.minor and TREATED_AS_MINOR in picture.flags:
        picture.flags.remove(TREATED_AS_MINOR)
    proof = adult_proof(picture, rules)
    clear_minor_claim = any(age < ADULT_AGE and score >= CLEAR_CLAIM for age, _, score in picture.stated_ages)
    raised = []
    if proof is not None:
        if clear_minor_claim or (picture.declared_age is not None and picture.declared_age < ADULT_AGE):
            raised.append("verified_adult_claims_minor")
    else:
        if clear_minor_claim and picture.declared_age is not None and picture.declared_age >= ADULT_AGE:
            raised.append("minor_claim_on_adult_account")
        if picture.suspected_age_deception:
            raised.append("suspected_adult_posing_as_teen")
    new = [flag for flag in raised if flag not in picture.flags]
    picture.flags.extend(new)
    return new


def flag_actions(flag: str, rules: AgeRules) -> tuple[str, ...]:
    return tuple(getattr(rules, flag))


__all__ = [
    "AGE_FLAGS",
    "AgeReading",
    "add_estimate",
    "add_proof",
    "adult_proof",
    "age_on",
    "band_of",
    "credible_evidence",
    "declare",
    "flag_actions",
    "protective_reading",
    "update_flags",
]
