"""Moderation records read from trygg's own store, so the DSA figures need no hand-made file.

One record per stored decision in the period that restricted someone (``decisions`` rows whose
actions include one of :data:`~trygg.reports.moderation.TRYGG_ACTIONS`; the strongest one is the
restriction counted, so a decision that blocked and blurred is one account suspension). Warnings,
tips and holds for review restrict nobody and give no record.

What each field is taken from:

- **event time**: the event's ``sent_at``, else when trygg ingested it (a platform that sends no
  time); a sending time after the decision (clock skew) counts as no delay;
- **action time**: the decision's ``decided_at``;
- **category**: ``csam`` when a reason is a hash match; ``age_restriction`` when every reason is
  an age, advertising or contact rule (nothing said about harm, only who may reach a minor);
  otherwise ``grooming`` (grooming, solicitation and sextortion are one DSA keyword);
- **detection**: ``hash_match``, else ``user_report`` when a user reported the message, else
  ``automated``; the engine decided, so ``automated`` is always True;
- **reviewer outcome**: from the case holding the event. A confirmed case (escalated, restricted,
  reported) confirms the automated decision; a dismissed case overturns it and counts as reversed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Engine, bindparam, inspect, select, text
from sqlalchemy.orm import Session

from trygg.reports.moderation import TRYGG_ACTIONS, ModerationRecord

#: The restricting actions from weakest to strongest; a decision counts as its strongest.
_STRENGTH = ("blur", "restrict_sender", "block")

#: Reasons of the age, advertising and contact rules: they restrict what reaches a minor without
#: saying anyone did harm.
_AGE_RULE_SIGNALS = frozenset(
    {
        "adult_contacting_minor",
        "adult_minor_asymmetry",
        "age_band",
        "age_contradiction",
        "age_proof_rejected",
        "contact_fan_out",
        "group_add_minor",
        "new_account",
        "restricted_sender",
        "suspected_age_deception",
        "teen_defaults",
    }
)
#: Reasons that say nothing about the kind of harm (policy bookkeeping).
_NEUTRAL_SIGNALS = frozenset({"policy_shadow", "media_error"})

_OUTCOME_OF_CASE = {"confirmed": "confirmed", "dismissed": "overturned"}


def _utc(moment: datetime) -> datetime:
    """Times from SQLite come back without a zone; the store writes UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _signals(reasons: Iterable[Mapping[str, object]]) -> set[str]:
    return {str(r.get("signal")) for r in reasons if isinstance(r, Mapping) and r.get("signal")}


def category_of(signals: set[str]) -> str:
    """The DSA subcategory a decision with these reason signals falls under."""
    if "hash_match" in signals:
        return "csam"
    harm = signals - _NEUTRAL_SIGNALS - {"user_report"}
    if harm and all(s in _AGE_RULE_SIGNALS or s.startswith("ad_") for s in harm):
        return "age_restriction"
    return "grooming"


def detection_of(signals: set[str]) -> str:
    if "hash_match" in signals:
        return "hash_match"
    if "user_report" in signals:
        return "user_report"
    return "automated"


def _strongest_restriction(actions: Iterable[str]) -> str | None:
    present = [a for a in _STRENGTH if a in set(actions)]
    return TRYGG_ACTIONS[present[-1]] if present else None


#: The reviewer outcome of the case each event is in. Plain SQL over the case tables: the cases
#: package builds on the reports package (its NCMEC mapping), so reports may not import it back.
_CASE_OUTCOMES = text(
    "SELECT l.ref, c.outcome FROM case_links l JOIN cases c ON c.case_id = l.case_id WHERE l.kind = 'event' AND l.ref IN :refs"
).bindparams(bindparam("refs", expanding=True))


def _case_outcomes(session: Session, event_ids: list[str]) -> dict[str, str | None]:
    """``event id -> case outcome``; empty where trygg keeps no cases (no case tables)."""
    if not event_ids or not inspect(session.connection()).has_table("case_links"):
        return {}
    outcomes: dict[str, str | None] = {}
    for chunk in (event_ids[i : i + 500] for i in range(0, len(event_ids), 500)):
        for ref, outcome in session.execute(_CASE_OUTCOMES, {"refs": chunk}):
            outcomes[ref] = outcomes.get(ref) or outcome
    return outcomes


def moderation_records(sql_engine: Engine, start: date, end: date) -> list[ModerationRecord]:
    """The restricting decisions whose ``decided_at`` falls in ``[start, end]`` (UTC days,
    inclusive), as moderation records in decision-time order (see the module docstring)."""
    from trygg.store.tables import DecisionRow, EventRow

    since = datetime.combine(start, time.min, tzinfo=timezone.utc)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=timezone.utc)
    with Session(sql_engine) as session:
        rows = session.execute(
            select(DecisionRow, EventRow.sent_at, EventRow.ingested_at)
            .join(EventRow, EventRow.event_id == DecisionRow.event_id, isouter=True)
            .where(DecisionRow.decided_at >= since, DecisionRow.decided_at < until)
            .order_by(DecisionRow.decided_at, DecisionRow.event_id)
        ).all()
        restricting = [(d, sent, ingested) for d, sent, ingested in rows if _strongest_restriction(d.actions or ())]
        outcome_of_event = _case_outcomes(session, [d.event_id for d, _, _ in restricting])
    records = []
    for decision, sent_at, ingested_at in restricting:
        action_time = _utc(decision.decided_at)
        seen = sent_at or ingested_at
        event_time = min(_utc(seen), action_time) if seen is not None else action_time
        signals = _signals(decision.reasons or ())
        outcome = _OUTCOME_OF_CASE.get(outcome_of_event.get(decision.event_id) or "")
        records.append(
            ModerationRecord(
                decision_id=decision.event_id,
                event_time=event_time,
                action_time=action_time,
                action=_strongest_restriction(decision.actions) or "",
                category=category_of(signals),
                detection=detection_of(signals),
                automated=True,
                reversed=outcome == "overturned",
                reviewer_outcome=outcome,
            )
        )
    return records
