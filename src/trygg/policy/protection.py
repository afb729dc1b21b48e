"""The protective part of a policy: age assurance, teen defaults, contact gates, ads, ratings.

Conversation rules ([[rules]]) map an assessment to actions; the sections here say how the
platform around a child is set up (what a teen account starts with, who may contact them, which
ads they may see). They are data for the same reason the rules are: the figures and choices
differ by country and change with regulation (the default is for Sweden / the EU, see
docs/policy.md), and every decision they produce names the rule that produced it
(``"rule": "contact.adult_to_unconnected_minor"``) so a reviewer can trace it to a line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from trygg.age.rules import AGE_BANDS, AGE_FLAGS, ASSURANCE_LEVELS, AgeRules, assurance_rank
from trygg.decision import ACTIONS


#: The categories DSA Art. 28 and the Commission's 2025 guidelines keep away from minors: the
#: default policy blocks them.
MINOR_BLOCKED_AD_CATEGORIES = frozenset(
    {"gambling", "alcohol", "tobacco_vaping", "dating", "weight_loss", "cosmetic_procedures", "adult_content", "loot_boxes"}
)
#: Ad categories the engine knows as names (a policy may block others too; these are checked
#: for spelling so that "gamblng" is an error, not a silently unblocked category).
KNOWN_AD_CATEGORIES = MINOR_BLOCKED_AD_CATEGORIES | frozenset({"financial_speculation", "weapons", "energy_drinks"})

Fail = Callable[[str, str], Exception]


@dataclass(frozen=True)
class TeenDefaults:
    """Account settings a minor's account starts with (the platform applies them)."""

    private_account: bool = True
    discoverable_by_unconnected_adults: bool = False
    direct_messages: str = "connections"
    location_sharing: bool = False
    downloads_of_content: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "private_account": self.private_account,
            "discoverable_by_unconnected_adults": self.discoverable_by_unconnected_adults,
            "direct_messages": self.direct_messages,
            "location_sharing": self.location_sharing,
            "downloads_of_content": self.downloads_of_content,
        }


@dataclass(frozen=True)
class ContactRules:
    """Who may start contact with a minor, and what makes an adult suspicious."""

    adult_to_unconnected_minor: str = "message_request"  # "deny" | "message_request" | "allow"
    group_add_minor: str = "needs_consent"  # "needs_consent" | "allow"
    restricted_sender_to_minor: str = "deny"  # "deny" | "message_request"
    fan_out_minors: int = 10
    fan_out_window_minutes: int = 60
    reports_or_blocks_by_minors: int = 2
    new_account_days: int = 7
    fan_out: tuple[str, ...] = ("restrict_sender", "hold_for_review")
    reported_or_blocked_by_minors: tuple[str, ...] = ("restrict_sender", "hold_for_review")
    new_account: tuple[str, ...] = ("restrict_sender",)
    age_contradiction: tuple[str, ...] = ("restrict_sender", "hold_for_review")


@dataclass(frozen=True)
class AdRules:
    """What may be shown to a minor, and on what basis."""

    profiling_for_minors: str = "drop_targeting"  # "drop_targeting" | "refuse"
    #: Targeting keys with these prefixes are contextual (not profiling) and may stay.
    contextual_targeting: tuple[str, ...] = ("context:", "language:", "country:")
    blocked_categories_for_minors: frozenset[str] = MINOR_BLOCKED_AD_CATEGORIES


@dataclass(frozen=True)
class Protection:
    """All protective sections of one policy."""

    age: AgeRules = field(default_factory=AgeRules)
    teen_defaults: TeenDefaults = field(default_factory=TeenDefaults)
    contact: ContactRules = field(default_factory=ContactRules)
    ads: AdRules = field(default_factory=AdRules)
    #: Age band -> content rating labels allowed for it.
    content_ratings: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def allowed_ratings(self, band: str) -> frozenset[str] | None:
        """Labels allowed for ``band``; None when the policy rates nothing."""
        if not self.content_ratings:
            return None
        if band in self.content_ratings:
            return self.content_ratings[band]
        # A band the table leaves out gets the labels of the youngest band it lists.
        for known in AGE_BANDS:
            if known in self.content_ratings:
                return self.content_ratings[known]
        return frozenset()


SECTIONS = ("age", "teen_defaults", "contact", "ads", "content_ratings")


def parse_protection(data: Mapping[str, object], fail: Fail) -> Protection:
    """Validate the protective sections of a policy document (absent sections keep defaults)."""
    return Protection(
        age=_age(_table(data, "age", fail), fail),
        teen_defaults=_teen(_table(data, "teen_defaults", fail), fail),
        contact=_contact(_table(data, "contact", fail), fail),
        ads=_ads(_table(data, "ads", fail), fail),
        content_ratings=_ratings(_table(data, "content_ratings", fail), fail),
    )


# ---------------------------------------------------------------------------- sections
def _age(raw: Mapping[str, object], fail: Fail) -> AgeRules:
    _known(raw, "age", {"adult_proof_assurance", "min_estimate_assurance", "unknown_age", "methods", "actions"}, fail)
    methods = _table(raw, "methods", fail, "age")
    for method, level in methods.items():
        _choice(methods, method, ASSURANCE_LEVELS, "age.methods", fail)
    actions = _table(raw, "actions", fail, "age")
    flags = set(AGE_FLAGS)
    _known(actions, "age.actions", flags, fail)
    base = AgeRules()
    return AgeRules(
        adult_proof_assurance=_choice(raw, "adult_proof_assurance", ASSURANCE_LEVELS, "age", fail, base.adult_proof_assurance),
        min_estimate_assurance=_choice(raw, "min_estimate_assurance", ASSURANCE_LEVELS, "age", fail, base.min_estimate_assurance),
        unknown_age=_choice(raw, "unknown_age", ("adult", "minor"), "age", fail, base.unknown_age),
        methods={str(k): str(v) for k, v in methods.items()},
        **{flag: _actions(actions, flag, "age.actions", fail, getattr(base, flag)) for flag in flags},  # type: ignore[arg-type]
    )


def _teen(raw: Mapping[str, object], fail: Fail) -> TeenDefaults:
    flags = ("private_account", "discoverable_by_unconnected_adults", "location_sharing", "downloads_of_content")
    _known(raw, "teen_defaults", set(flags) | {"direct_messages"}, fail)
    base = TeenDefaults()
    return TeenDefaults(
        direct_messages=_choice(raw, "direct_messages", ("everyone", "connections", "nobody"), "teen_defaults", fail, base.direct_messages),
        **{flag: _bool(raw, flag, "teen_defaults", fail, getattr(base, flag)) for flag in flags},  # type: ignore[arg-type]
    )


def _contact(raw: Mapping[str, object], fail: Fail) -> ContactRules:
    counts = ("fan_out_minors", "fan_out_window_minutes", "reports_or_blocks_by_minors", "new_account_days")
    suspicious = ("fan_out", "reported_or_blocked_by_minors", "new_account", "age_contradiction")
    choices = {
        "adult_to_unconnected_minor": ("deny", "message_request", "allow"),
        "group_add_minor": ("needs_consent", "allow"),
        "restricted_sender_to_minor": ("deny", "message_request"),
    }
    _known(raw, "contact", set(counts) | set(choices) | {"actions"}, fail)
    actions = _table(raw, "actions", fail, "contact")
    _known(actions, "contact.actions", set(suspicious), fail)
    base = ContactRules()
    return ContactRules(
        **{k: _choice(raw, k, allowed, "contact", fail, getattr(base, k)) for k, allowed in choices.items()},  # type: ignore[arg-type]
        **{k: _count(raw, k, "contact", fail, getattr(base, k)) for k in counts},
        **{k: _actions(actions, k, "contact.actions", fail, getattr(base, k)) for k in suspicious},
    )


def _ads(raw: Mapping[str, object], fail: Fail) -> AdRules:
    _known(raw, "ads", {"profiling_for_minors", "contextual_targeting", "blocked_categories_for_minors"}, fail)
    base = AdRules()
    contextual = _strings(raw, "contextual_targeting", "ads", fail, base.contextual_targeting, allow_empty=True)
    blocked = _strings(raw, "blocked_categories_for_minors", "ads", fail, tuple(sorted(base.blocked_categories_for_minors)), allow_empty=True)
    unknown = [c for c in blocked if c not in KNOWN_AD_CATEGORIES]
    if unknown:
        raise fail(
            "ads.blocked_categories_for_minors",
            f"unknown category {unknown[0]!r}; expected one of {', '.join(sorted(KNOWN_AD_CATEGORIES))}",
        )
    return AdRules(
        profiling_for_minors=_choice(raw, "profiling_for_minors", ("drop_targeting", "refuse"), "ads", fail, base.profiling_for_minors),
        contextual_targeting=contextual,
        blocked_categories_for_minors=frozenset(blocked),
    )


def _ratings(raw: Mapping[str, object], fail: Fail) -> dict[str, frozenset[str]]:
    _known(raw, "content_ratings", set(AGE_BANDS), fail)
    return {band: frozenset(_strings(raw, band, "content_ratings", fail, (), allow_empty=True)) for band in raw}


# ---------------------------------------------------------------------------- value checks
def _table(raw: Mapping[str, object], key: str, fail: Fail, where: str = "") -> Mapping[str, object]:
    value = raw.get(key, {})
    path = f"{where}.{key}" if where else key
    if not isinstance(value, dict):
        raise fail(path, "must be a table")
    return value


def _known(raw: Mapping[str, object], where: str, allowed: set[str], fail: Fail) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise fail(f"{where}.{min(unknown)}", f"unknown key; expected one of {', '.join(sorted(allowed))}")


def _choice(raw: Mapping[str, object], key: str, allowed: tuple[str, ...], where: str, fail: Fail, default: str = "") -> str:
    value = raw.get(key, default)
    if value not in allowed:
        raise fail(f"{where}.{key}", f"must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _bool(raw: Mapping[str, object], key: str, where: str, fail: Fail, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise fail(f"{where}.{key}", f"must be true or false, got {value!r}")
    return value


def _count(raw: Mapping[str, object], key: str, where: str, fail: Fail, default: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise fail(f"{where}.{key}", f"must be an integer >= 1, got {value!r}")
    return value


def _strings(raw: Mapping[str, object], key: str, where: str, fail: Fail, default: tuple[str, ...], allow_empty: bool = False) -> tuple[str, ...]:
    value = raw.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value) or (not value and not allow_empty):
        raise fail(f"{where}.{key}", "must be a list of non-empty strings")
    return tuple(value)


def _actions(raw: Mapping[str, object], key: str, where: str, fail: Fail, default: tuple[str, ...]) -> tuple[str, ...]:
    value = _strings(raw, key, where, fail, default, allow_empty=True)
    bad = [a for a in value if a not in ACTIONS or a == "allow"]
    if bad:
        raise fail(f"{where}.{key}", f"unknown action {bad[0]!r}; expected one of {', '.join(ACTIONS[1:])}")
    return tuple(a for a in ACTIONS if a in value)
