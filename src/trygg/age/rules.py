"""How age evidence is weighed: assurance levels, age bands, the flags a picture can raise, and
the rules a policy sets for them.

Defined beside the age picture, below the policy that parses them from its file, so that the
age package never imports the policy package (the policy reads ages, not the other way round).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: IEEE 2089.1 age assurance levels, weakest first (index = strength).
ASSURANCE_LEVELS: tuple[str, ...] = ("asserted", "standard", "enhanced", "strict")
#: Age bands used by teen defaults and content ratings.
AGE_BANDS: tuple[str, ...] = ("under_13", "13-15", "16-17", "18+")
#: Flags an age picture can raise, each acting once with the actions in [age.actions].
AGE_FLAGS: tuple[str, ...] = ("minor_claim_on_adult_account", "suspected_adult_posing_as_teen", "verified_adult_claims_minor")
_RANKS = {level: rank for rank, level in enumerate(ASSURANCE_LEVELS)}


def assurance_rank(level: str) -> int:
    """0 for asserted up to 3 for strict (KeyError for a level that is none of them)."""
    return _RANKS[level]


@dataclass(frozen=True)
class AgeRules:
    """How evidence about age is weighed for protection (trygg.age.assurance reads this)."""

    #: A proof of adulthood at this level or above lifts a minor's protections; nothing else does.
    adult_proof_assurance: str = "enhanced"
    #: Age estimates from providers below this level are recorded but not believed.
    min_estimate_assurance: str = "standard"
    #: How a user with no credible age evidence is treated: "adult" (the DSA's Art. 28 duty on
    #: ads applies when a platform is aware, with reasonable certainty, of a minor) or "minor".
    unknown_age: str = "adult"
    #: Assurance level of each proof or estimate method (an unknown method counts as asserted).
    methods: Mapping[str, str] = field(default_factory=dict)
    #: Actions on the event where a flag is first raised (empty: the reason alone tells).
    minor_claim_on_adult_account: tuple[str, ...] = ()
    suspected_adult_posing_as_teen: tuple[str, ...] = ("restrict_sender", "hold_for_review")
    verified_adult_claims_minor: tuple[str, ...] = ("hold_for_review",)

    def method_assurance(self, method: str) -> str:
        return self.methods.get(method, "asserted")
