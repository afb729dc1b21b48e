"""Declarative, versioned policies: an Assessment in, a Decision (actions + reasons) out.

Why data rather than code: trust & safety teams change thresholds far more often than detectors,
and each change must be reviewable, diffable and attributable (every Decision names
``policy.id``, e.g. ``default@1``). A policy in ``mode = "shadow"`` computes what it would do
and returns it as evidence on an ``allow`` decision, so a new rule set can run beside the
enforced one before it acts on anyone.

The protective sections (age assurance, teen defaults, contact gates, ads, content ratings) are
parsed by :mod:`trygg.policy.protection` into ``Policy.protection``; schema errors name the file,
the line (found by :mod:`trygg.policy.lines`) and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from trygg.conversation.state import Assessment
from trygg.decision import ACTIONS, SEVERE_ACTIONS, Decision
from trygg.policy.lines import key_lines, line_of
from trygg.policy.protection import SECTIONS, Protection, parse_protection

_RULE_KEYS = {
    "action",
    "min_risk",
    "event_types",
    "sender",
    "labels",
    "minor_target",
    "adult_offender",
    "sender_minor",
    "first_alert",
    "signals",
    "min_score",
    "signal_action",
}
_LABELS = {"grooming", "solicitation", "sextortion", "benign"}
_EVENT_TYPES = {"message", "media", "contact_request", "report", "age_proof", "ad_request"}


class PolicyError(ValueError):
    """A policy file is invalid; the message names the key at fault."""


@dataclass(frozen=True)
class Rule:
    """One condition set for one action; all given conditions must hold."""

    action: str
    min_risk: float = 0.0
    event_types: frozenset[str] = frozenset({"message"})
    sender_offender: bool = False
    labels: frozenset[str] | None = None
    minor_target: bool = False
    adult_offender: bool = False
    sender_minor: bool = False
    first_alert: bool = False
    signals: frozenset[str] | None = None
    min_score: float = 0.0
    #: The rule holds only when a signal of this event (one of ``signals``, if given) names this
    #: action as its data: a hash bank's own action, chosen by the bank's owner.
    signal_action: str | None = None

    def matches(self, a: Assessment) -> bool:
        if a.event_type not in self.event_types or a.risk < self.min_risk:
            return False
        if self.sender_offender and not a.sender_is_offender:
            return False
        if self.labels is not None and a.label_guess not in self.labels:
            return False
        if self.minor_target and not a.minor_target:
            return False
        if self.adult_offender and not a.adult_offender:
            return False
        if self.sender_minor and not a.sender_likely_minor:
            return False
        if self.first_alert and not a.first_alert:
            return False
        if self.signal_action is not None and not any(
            action == self.signal_action and (self.signals is None or name in self.signals) for name, action in a.event_signal_actions
        ):
            return False
        return not (self.signals is not None and not any(name in self.signals and score >= self.min_score for name, score in a.event_signals))


@dataclass(frozen=True)
class Policy:
    """A named, versioned rule set; ``decide`` maps an Assessment to a Decision."""

    name: str
    version: int
    rules: tuple[Rule, ...]
    alert_risk: float = 0.6
    mode: str = "enforce"
    protection: Protection = field(default_factory=Protection)

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    @classmethod
    def default(cls) -> Policy:
        text = resources.files("trygg.policy").joinpath("default.toml").read_text(encoding="utf-8")
        return cls.from_toml(text, source="default.toml")

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
        return cls.from_toml(text, source=str(path))

    @classmethod
    def from_toml(cls, text: str, source: str = "<policy>") -> Policy:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"{source}: invalid TOML: {exc}") from None
        return cls.from_dict(data, source, text)

    @classmethod
    def from_dict(cls, data: Mapping[str, object], source: str = "<policy>", text: str | None = None) -> Policy:
        lines = key_lines(text) if text is not None else {}

        def fail(key: str, message: str) -> PolicyError:
            line = line_of(lines, key)
            where = f"{source}:{line}" if line is not None else source
            return PolicyError(f"{where}: {key}: {message}")

        unknown = set(data) - {"name", "version", "mode", "alert_risk", "rules", *SECTIONS}
        if unknown:
            raise fail(min(unknown), "unknown key")
        name = data.get("name")
        if not isinstance(name, str) or not name or "@" in name:
            raise fail("name", "required, a non-empty string without '@'")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise fail("version", "required, an integer >= 1")
        mode = data.get("mode", "enforce")
        if mode not in ("enforce", "shadow"):
            raise fail("mode", "must be 'enforce' or 'shadow'")
        alert_risk = _risk(data.get("alert_risk", 0.6), "alert_risk", fail)
        raw_rules = data.get("rules")
        if not isinstance(raw_rules, list) or not raw_rules:
            raise fail("rules", "required, a non-empty array of tables ([[rules]])")
        rules = tuple(_rule(raw, f"rules[{i}]", fail) for i, raw in enumerate(raw_rules))
        protection = parse_protection(data, fail)
        return cls(name=name, version=version, rules=rules, alert_risk=alert_risk, mode=str(mode), protection=protection)

    def __post_init__(self) -> None:
        # Rules grouped by event type, so a message is checked against message rules only.
        by_type: dict[str, tuple[Rule, ...]] = {}
        for rule in self.rules:
            for event_type in rule.event_types:
                by_type[event_type] = by_type.get(event_type, ()) + (rule,)
        object.__setattr__(self, "_by_type", by_type)

    def decide(self, assessment: Assessment, event: object | None = None) -> Decision:
        """The actions whose rules match, with the assessment's evidence as reasons.

        Rules never act on nothing: without evidence the answer is ``allow`` whatever the rules
        say, so most messages (which carry no evidence) skip the rules altogether.
        """
        event_id = getattr(event, "event_id", None) or assessment.event_id
        reasons = assessment.reasons
        if not reasons:
            return Decision(event_id, ("allow",), assessment.risk, reasons, self.id, assessment.conversation_id or None)
        rules = self._by_type.get(assessment.event_type, ())  # type: ignore[attr-defined]
        actions = {rule.action for rule in rules if rule.matches(assessment)}
        if "warn_recipient" in actions and assessment.event_type != "media":
            # The warning is the stronger form of the nudge. Not for media: there the nudge is the
            # minor sender's prompt and the warning the recipient's, so both stand.
            actions.discard("nudge_recipient")
        ordered = tuple(a for a in ACTIONS if a in actions)
        if self.mode == "shadow" and ordered:
            reasons = reasons + ({"signal": "policy_shadow", "would": list(ordered), "policy": self.id},)
            ordered = ()
        return Decision(
            event_id=event_id,
            actions=ordered or ("allow",),
            risk=assessment.risk,
            reasons=reasons,
            policy=self.id,
            conversation_id=assessment.conversation_id or None,
        )

    def has_rules_for(self, event_type: str) -> bool:
        """Whether any [[rules]] entry applies to ``event_type`` (saves building an assessment)."""
        return event_type in self._by_type  # type: ignore[attr-defined]

    def conclude(
        self,
        event_id: str,
        findings: list[tuple[tuple[str, ...], dict[str, object]]],
        risk: float = 0.0,
        conversation_id: str | None = None,
    ) -> Decision:
        """The decision of the protective sections: each finding is (actions, reason naming its rule).

        Findings without actions still become reasons (teen defaults applied, targeting dropped),
        and a shadow policy reports what it would do instead of doing it, as ``decide`` does.
        """
        actions = {action for acts, _ in findings for action in acts}
        ordered = tuple(a for a in ACTIONS if a in actions)
        reasons = tuple(reason for _, reason in findings)
        if self.mode == "shadow" and ordered:
            reasons = reasons + ({"signal": "policy_shadow", "would": list(ordered), "policy": self.id},)
            ordered = ()
        return Decision(event_id, ordered or ("allow",), risk, reasons, self.id, conversation_id)

    @property
    def severe_actions(self) -> frozenset[str]:
        return frozenset(r.action for r in self.rules) & SEVERE_ACTIONS


def _risk(value: object, key: str, fail) -> float:  # type: ignore[no-untyped-def]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise fail(key, f"must be a number in [0, 1], got {value!r}")
    return float(value)


def _flag(raw: Mapping[str, object], key: str, where: str, fail) -> bool:  # type: ignore[no-untyped-def]
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise fail(f"{where}.{key}", f"must be true or false, got {value!r}")
    return value


def _names(raw: Mapping[str, object], key: str, where: str, allowed: set[str] | None, fail) -> frozenset[str] | None:  # type: ignore[no-untyped-def]
    if key not in raw:
        return None
    value = raw[key]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise fail(f"{where}.{key}", "must be a non-empty list of strings")
    if allowed is not None:
        bad = [v for v in value if v not in allowed]
        if bad:
            raise fail(f"{where}.{key}", f"unknown value {bad[0]!r}; expected one of {', '.join(sorted(allowed))}")
    return frozenset(value)


def _rule(raw: object, where: str, fail) -> Rule:  # type: ignore[no-untyped-def]
    if not isinstance(raw, dict):
        raise fail(where, "must be a table")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise fail(f"{where}.{min(unknown)}", "unknown key")
    action = raw.get("action")
    if action not in ACTIONS or action == "allow":
        raise fail(f"{where}.action", f"must be one of {', '.join(ACTIONS[1:])}, got {action!r}")
    sender = raw.get("sender")
    if sender not in (None, "offender", "any"):
        raise fail(f"{where}.sender", f"must be 'offender' or 'any', got {sender!r}")
    signal_action = raw.get("signal_action")
    if signal_action is not None and (signal_action not in ACTIONS or signal_action == "allow"):
        raise fail(f"{where}.signal_action", f"must be one of {', '.join(ACTIONS[1:])}, got {signal_action!r}")
    return Rule(
        action=action,
        min_risk=_risk(raw.get("min_risk", 0.0), f"{where}.min_risk", fail),
        event_types=_names(raw, "event_types", where, _EVENT_TYPES, fail) or frozenset({"message"}),
        sender_offender=sender == "offender",
        labels=_names(raw, "labels", where, _LABELS, fail),
        minor_target=_flag(raw, "minor_target", where, fail),
        adult_offender=_flag(raw, "adult_offender", where, fail),
        sender_minor=_flag(raw, "sender_minor", where, fail),
        first_alert=_flag(raw, "first_alert", where, fail),
        signals=_names(raw, "signals", where, None, fail),
        min_score=_risk(raw.get("min_score", 0.0), f"{where}.min_score", fail),
        signal_action=signal_action,
    )


def merge(first: Decision, second: Decision | None) -> Decision:
    """One decision for an event that two parts decided on (the conversation rules and a flag)."""
    if second is None or not second.reasons:
        return first
    actions = (set(first.actions) | set(second.actions)) - {"allow"}
    return Decision(
        first.event_id,
        tuple(a for a in ACTIONS if a in actions) or ("allow",),
        max(first.risk, second.risk),
        first.reasons + tuple(r for r in second.reasons if r not in first.reasons),
        first.policy,
        first.conversation_id,
        first.case_id,
    )


__all__ = ["Policy", "PolicyError", "Protection", "Rule", "merge"]
