"""Protective decisions: accounts, contact requests, age proofs and estimates, ads, connections,
blocks, and the age flags a message can raise.

The engine dispatches these events here; each handler is a function of (state, policy, event)
that updates the age pictures and the contact graph in place and returns the Decision with the
rule behind every reason, plus the users whose state changed (for the store). The logic lives
in :mod:`trygg.age.assurance`, :mod:`trygg.contact.gate` and :mod:`trygg.ads`; this
module only wires each event type to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone

from trygg.age.assurance import add_estimate, add_proof, declare, flag_actions, protective_reading, update_flags
from trygg.age.picture import AgeBook
from trygg.age.proofs import AgeProofVerifier, ProofRejected, decode_payload
from trygg.contact.gate import Finding, gate_contact_request, record_complaint
from trygg.contact.graph import ContactGraph
from trygg.conversation.state import Assessment, sender_assessment
from trygg.decision import Decision
from trygg.events import (
    AccountEvent,
    AdRequestEvent,
    AgeEstimateEvent,
    AgeProofEvent,
    BlockEvent,
    ConnectionEvent,
    ContactRequestEvent,
)
from trygg.policy import Policy, merge
from trygg.ads import decide_ad

Handled = tuple[Decision | None, tuple[str, ...]]


def account_event_id(user_id: str) -> str:
    """Account events carry no event id; their decision is named after the user."""
    return f"account:{user_id}"


def flag_findings(flags: list[str], user_id: str, event_id: str, policy: Policy, contacts: ContactGraph) -> list[Finding]:
    """Findings for age flags raised for the first time (each acts once)."""
    findings: list[Finding] = []
    for flag in flags:
        actions = flag_actions(flag, policy.protection.age)
        findings.append((actions, {"signal": flag, "rule": f"age.actions.{flag}", "event_id": event_id, "user_id": user_id}))
        if "restrict_sender" in actions and policy.mode == "enforce":
            contacts.restrict(user_id, f"age.actions.{flag}", event_id)
    return findings


def message_flags(user_id: str, event_id: str, ages: AgeBook, contacts: ContactGraph, policy: Policy) -> Decision | None:
    """After a message changed its sender's age picture: the decision for any flag it raised."""
    raised = update_flags(ages.picture(user_id), policy.protection.age)
    if not raised:
        return None
    return policy.conclude(event_id, flag_findings(raised, user_id, event_id, policy, contacts), 0.0)


def handle(
    event: object,
    policy: Policy,
    ages: AgeBook,
    contacts: ContactGraph,
    verifiers: Mapping[str, AgeProofVerifier],
    today: date | None = None,
) -> Handled:
    """The decision for one protective event, and the users whose state it changed."""
    if isinstance(event, AccountEvent):
        return _account(event, policy, ages, contacts, today or datetime.now(timezone.utc).date())
    if isinstance(event, ContactRequestEvent):
        findings, risk = gate_contact_request(
            contacts, ages, policy.protection.contact, policy.protection.age, event, policy.mode == "enforce"
        )
        decision = policy.conclude(event.event_id, findings, risk)
        if policy.has_rules_for("contact_request"):
            decision = merge(decision, policy.decide(_contact_assessment(event, decision, ages), event))
        return decision, (event.sender_id,) if findings else ()
    if isinstance(event, AdRequestEvent):
        reading = protective_reading(ages.peek(event.user_id), policy.protection.age)
        return policy.conclude(event.event_id, decide_ad(reading, policy.protection, event)), ()
    if isinstance(event, AgeProofEvent):
        return _age_proof(event, policy, ages, contacts, verifiers)
    if isinstance(event, AgeEstimateEvent):
        picture = ages.picture(event.user_id)
        entry = add_estimate(
            picture, event.age_low, event.age_high, event.method, event.assurance, event.estimated_at, event.event_id, policy.protection.age
        )
        return _after_evidence(event.event_id, event.user_id, "age_estimate", entry, policy, ages, contacts), (event.user_id,)
    if isinstance(event, ConnectionEvent):
        if event.state == "accepted":
            contacts.connect(event.user_id, event.other_id)
        else:
            contacts.disconnect(event.user_id, event.other_id)
        return None, (event.user_id, event.other_id)
    if isinstance(event, BlockEvent):
        findings = record_complaint(
            contacts, ages, policy.protection.contact, policy.protection.age, event.blocker_id, event.blocked_id, event.event_id, "block",
            policy.mode == "enforce",
        )
        return policy.conclude(event.event_id, findings, 0.7 if findings else 0.0), (event.blocked_id,)
    return None, ()


def _contact_assessment(event: ContactRequestEvent, gate: Decision, ages: AgeBook) -> Assessment:
    """The gate's verdict as an assessment, so that [[rules]] with ``event_types =
    ["contact_request"]`` still apply on top of the [contact] section."""
    reasons = tuple(r for r in gate.reasons if r.get("signal") != "policy_shadow")
    return sender_assessment(event, "contact_request", gate.risk, reasons, ages.peek(event.sender_id), ages.peek(event.recipient_id))


def report_complaint(event: object, policy: Policy, ages: AgeBook, contacts: ContactGraph) -> Decision | None:
    """A report by a minor against an adult counts toward the complaints rule."""
    findings = record_complaint(
        contacts,
        ages,
        policy.protection.contact,
        policy.protection.age,
        event.reporter_id,  # type: ignore[attr-defined]
        event.reported_id,  # type: ignore[attr-defined]
        event.event_id,  # type: ignore[attr-defined]
        "report",
        policy.mode == "enforce",
    )
    return policy.conclude(event.event_id, findings, 0.7) if findings else None  # type: ignore[attr-defined]


def _account(event: AccountEvent, policy: Policy, ages: AgeBook, contacts: ContactGraph, today: date) -> Handled:
    picture = ages.picture(event.user_id)
    created_on = event.created_at.date() if event.created_at is not None else None
    changed = declare(picture, event.declared_age, event.birth_date, today, created_on)
    changed |= picture.estimate(event.estimated_age)  # the platform's own estimate, weaker than a declaration
    if event.created_at is not None:
        created = event.created_at.timestamp()
        if contacts.user(event.user_id).created_at != created:
            contacts.user(event.user_id).created_at = created
            changed = True
    event_id = account_event_id(event.user_id)
    raised = update_flags(picture, policy.protection.age)
    if not (changed or raised):
        # The same facts again (accounts carry no event id, so a resumed scan re-applies them):
        # nothing to decide, and outputs must not repeat the first answer.
        return None, ()
    reading = protective_reading(picture, policy.protection.age)
    findings = flag_findings(raised, event.user_id, event_id, policy, contacts)
    if reading.minor:
        findings.insert(
            0,
            ((), {"signal": "teen_defaults", "rule": "teen_defaults", "user_id": event.user_id, "settings": policy.protection.teen_defaults.as_dict(), **reading.as_reason()}),
        )
    else:
        findings.insert(0, ((), {"signal": "age_band", "rule": "age", "user_id": event.user_id, **reading.as_reason()}))
    return policy.conclude(event_id, findings), (event.user_id,) if changed or raised else ()


def _age_proof(event: AgeProofEvent, policy: Policy, ages: AgeBook, contacts: ContactGraph, verifiers: Mapping[str, AgeProofVerifier]) -> Handled:
    base = {"event_id": event.event_id, "user_id": event.user_id, "method": event.method}
    verifier = verifiers.get(event.method)
    if verifier is None:
        reason = {"signal": "age_proof_rejected", "rule": "age.methods", "reason": "unsupported_method", "message": f"no verifier for method {event.method!r}", **base}
        return policy.conclude(event.event_id, [((), reason)]), ()
    try:
        result = verifier.verify(decode_payload(event.payload), event.nonce)
    except ProofRejected as exc:
        reason = {"signal": "age_proof_rejected", "rule": "age.methods", "reason": exc.reason, "message": exc.message, **base}
        return policy.conclude(event.event_id, [((), reason)]), ()
    picture = ages.picture(event.user_id)
    entry = add_proof(picture, result.over_18, result.method, result.verified_at, result.issuer, event.event_id, policy.protection.age)
    return _after_evidence(event.event_id, event.user_id, "age_proof_accepted", entry, policy, ages, contacts), (event.user_id,)


def _after_evidence(event_id: str, user_id: str, signal: str, entry: Mapping[str, object], policy: Policy, ages: AgeBook, contacts: ContactGraph) -> Decision:
    picture = ages.picture(user_id)
    raised = update_flags(picture, policy.protection.age)
    reading = protective_reading(picture, policy.protection.age)
    reason = {"signal": signal, "rule": "age.adult_proof_assurance" if entry["kind"] == "proof" else "age.min_estimate_assurance", **dict(entry), **reading.as_reason()}
    reason["event_id"], reason["user_id"] = event_id, user_id
    return policy.conclude(event_id, [((), reason), *flag_findings(raised, user_id, event_id, policy, contacts)])
