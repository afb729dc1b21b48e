"""Contact gates: may this sender start contact with this recipient, and is the sender an adult
who should lose access to minors?

Functions of (graph, age pictures, policy, event) -> findings, each finding an (actions, reason)
pair whose reason names its policy rule; the policy turns findings into a Decision
(:meth:`trygg.policy.Policy.conclude`). The graph is updated in place, like a conversation step.

Who counts as what: the *recipient* is protected as a minor by the protective reading (the
youngest credible evidence, trygg.age.assurance); the *sender* counts as an adult unless that
reading says minor, and also when they claim to be a teen while their chat shows an adult (an
adult posing as a teen must not pass the gate as a peer).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from trygg.age.assurance import protective_reading
from trygg.age.picture import AgeBook, AgePicture
from trygg.contact.graph import ContactGraph
from trygg.policy.protection import AgeRules, ContactRules

Finding = tuple[tuple[str, ...], dict[str, object]]

#: Risk of an adult asking to contact an unconnected minor (a nudge, not an alert), and of an
#: adult the policy found suspicious.
CONTACT_RISK = 0.45
SUSPICIOUS_RISK = 0.7
#: What each gate outcome does to the request.
OUTCOME_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "deny": ("block",),
    "message_request": ("nudge_recipient",),
    "needs_consent": ("nudge_recipient",),
    "allow": (),
}


def _epoch(at: datetime | None) -> float | None:
    return at.timestamp() if at is not None else None


def sender_is_adult(picture: AgePicture, age_rules: AgeRules) -> bool:
    return not protective_reading(picture, age_rules).minor or picture.suspected_age_deception


def gate_contact_request(
    graph: ContactGraph, ages: AgeBook, contact: ContactRules, age_rules: AgeRules, event: object, enforce: bool = True
) -> tuple[list[Finding], float]:
    """Findings and risk for one contact request (``dm``, ``follow``, ``friend``, ``group_add``).

    ``enforce`` false (a shadow policy): the findings say what would happen, and nobody is
    restricted in the graph."""
    sender_id: str = event.sender_id  # type: ignore[attr-defined]
    recipient_id: str = event.recipient_id  # type: ignore[attr-defined]
    event_id: str = event.event_id  # type: ignore[attr-defined]
    surface: str = event.surface  # type: ignore[attr-defined]
    sender = ages.peek(sender_id)
    recipient = ages.peek(recipient_id)
    recipient_reading = protective_reading(recipient, age_rules)
    findings: list[Finding] = []
    if not recipient_reading.minor:
        return findings, 0.0
    base = {"event_id": event_id, "surface": surface, "recipient": {**recipient.as_reason(), **recipient_reading.as_reason()}}
    if surface == "group_add" and contact.group_add_minor == "needs_consent":
        findings.append((OUTCOME_ACTIONS["needs_consent"], {"signal": "group_add_minor", "rule": "contact.group_add_minor", "outcome": "needs_consent", **base}))
    if graph.connected(sender_id, recipient_id) or not sender_is_adult(sender, age_rules):
        return findings, 0.0
    base["sender"] = sender.as_reason()
    restriction = graph.restriction(sender_id)
    if restriction is not None:
        outcome = contact.restricted_sender_to_minor
        findings.append(
            (
                OUTCOME_ACTIONS[outcome],
                {"signal": "restricted_sender", "rule": "contact.restricted_sender_to_minor", "outcome": outcome, "restricted_by": dict(restriction), **base},
            )
        )
        return findings, SUSPICIOUS_RISK
    outcome = contact.adult_to_unconnected_minor
    if surface != "group_add" or contact.group_add_minor != "needs_consent":
        findings.append(
            (
                OUTCOME_ACTIONS[outcome],
                {
                    "signal": "adult_contacting_minor",
                    "score": round(sender.p_adult * recipient.p_minor, 3),
                    "rule": "contact.adult_to_unconnected_minor",
                    "outcome": outcome,
                    **base,
                },
            )
        )
    at = _epoch(event.sent_at)  # type: ignore[attr-defined]
    reached = graph.note_minor_contact(sender_id, recipient_id, at, contact.fan_out_window_minutes * 60)
    suspicions: list[Finding] = []
    if reached >= contact.fan_out_minors:
        suspicions.append(
            (contact.fan_out, {"signal": "contact_fan_out", "rule": "contact.fan_out", "value": reached, "window_minutes": contact.fan_out_window_minutes})
        )
    complaints = len(graph.user(sender_id).complaints_by_minors)
    if complaints >= contact.reports_or_blocks_by_minors:
        suspicions.append((contact.reported_or_blocked_by_minors, {"signal": "complaints_by_minors", "rule": "contact.reported_or_blocked_by_minors", "value": complaints}))
    created = graph.user(sender_id).created_at
    if created is not None and at is not None and at - created < contact.new_account_days * 86_400:
        suspicions.append((contact.new_account, {"signal": "new_account", "rule": "contact.new_account", "value": round((at - created) / 86_400, 2)}))
    if sender.suspected_age_deception:
        suspicions.append((contact.age_contradiction, {"signal": "age_contradiction", "rule": "contact.age_contradiction", "value": sender.best_age_estimate}))
    for actions, reason in suspicions:
        reason.update(event_id=event_id, user_id=sender_id)
        findings.append((actions, reason))
        if enforce and "restrict_sender" in actions:
            graph.restrict(sender_id, str(reason["rule"]), event_id)
    if suspicions:
        return findings, SUSPICIOUS_RISK
    return findings, CONTACT_RISK + (0.1 if sender.suspected_age_deception else 0.0)


def record_complaint(
    graph: ContactGraph, ages: AgeBook, contact: ContactRules, age_rules: AgeRules, complainant_id: str, target_id: str, event_id: str, kind: str,
    enforce: bool = True,
) -> list[Finding]:
    """A user blocked or reported ``target``: when a minor did it to an adult, count it, and
    restrict the adult once enough distinct minors have."""
    if not protective_reading(ages.peek(complainant_id), age_rules).minor:
        return []
    target = ages.peek(target_id)
    if not sender_is_adult(target, age_rules):
        return []
    count = graph.note_complaint(target_id, complainant_id)
    if count < contact.reports_or_blocks_by_minors or graph.restriction(target_id) is not None:
        return []
    actions = contact.reported_or_blocked_by_minors
    if enforce and "restrict_sender" in actions:
        graph.restrict(target_id, "contact.reported_or_blocked_by_minors", event_id)
    return [
        (
            actions,
            {"signal": "complaints_by_minors", "rule": "contact.reported_or_blocked_by_minors", "value": count, "kind": kind, "event_id": event_id, "user_id": target_id},
        )
    ]
