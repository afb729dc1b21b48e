"""Cases: grouping per offender, the queue order, reviewer actions, permissions, labels, reports."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from cases_fixtures import db_engine  # noqa: F401  (fixture)
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from trygg.cases import audit, cases
from trygg.cases.cases import CaseError, CaseInput, CasePolicy
from trygg.cases.intake import case_input
from trygg.cases.permissions import PermissionDenied, Reviewer, UnknownReviewer, add_reviewer, deactivate_reviewer, get_reviewer
from trygg.cases.service import CaseService
from trygg.cases.tables import AccountRestrictionRow
from trygg.cases.vault import EvidenceItem, Keyring
from trygg.decision import Decision
from trygg.engine import Engine
from trygg.events import parse_event
from trygg.lab.labels import read_labels

ADMIN = Reviewer("root", frozenset({"admin"}))
SPECIALIST = Reviewer("sara", frozenset({"cases:read", "cases:act", "evidence:view"}))
REVIEWER = Reviewer("rob", frozenset({"cases:read", "cases:act"}))
VIEWER = Reviewer("vic", frozenset({"cases:read"}))
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)


def decision(event_id: str, conversation_id: str | None, risk: float = 0.8, actions=("warn_recipient", "hold_for_review"), reasons=None):  # type: ignore[no-untyped-def]
    reasons = reasons or ({"signal": "platform_migration", "score": 0.9, "event_id": event_id, "span": [4, 12], "language": "en"},)
    return Decision(event_id, tuple(actions), risk, tuple(reasons), "default@1", conversation_id)


def item(event_id: str, conversation_id: str | None, offender: str = "adult", victims=("kid",), at=T0, **kwargs):  # type: ignore[no-untyped-def]
    fields = {k: kwargs.pop(k) for k in ("risk", "actions", "reasons") if k in kwargs}
    return CaseInput(decision(event_id, conversation_id, **fields), offender, tuple(victims), at=at, **kwargs)


@pytest.fixture
def service(db_engine):  # noqa: F811  # type: ignore[no-untyped-def]
    return CaseService(db_engine, keyring=Keyring.generate())


def test_one_offender_five_children_is_one_case(service) -> None:  # type: ignore[no-untyped-def]
    ids = {service.record(item(f"e{i}", f"c{i}", victims=(f"kid{i}",), label_guess="grooming", minor_involved=True)) for i in range(5)}
    assert len(ids) == 1
    case = service.case(VIEWER, ids.pop())
    assert case.case_id.startswith("k-") and len(case.case_id) == 18
    assert case.offender_id == "adult" and case.status == "open"
    assert case.victims == tuple(f"kid{i}" for i in range(5))
    assert case.conversations == tuple(f"c{i}" for i in range(5))
    assert case.event_ids == tuple(f"e{i}" for i in range(5))
    assert case.decisions == 5 and case.minor_involved and case.label_guess == "grooming"
    assert [r["event_id"] for r in case.reasons] == [f"e{i}" for i in range(5)]
    assert all(r["span"] == [4, 12] for r in case.reasons)
    other = service.record(item("x1", "c9", offender="someone-else"))
    assert other not in {case.case_id, None}


def test_recording_is_idempotent_and_keeps_the_maximum(service) -> None:  # type: ignore[no-untyped-def]
    first = service.record(item("e1", "c1", risk=0.9))
    assert service.record(item("e1", "c1", risk=0.9)) == first
    service.record(item("e2", "c1", risk=0.7))
    case = service.case(VIEWER, first)
    assert case.decisions == 2 and case.max_risk == pytest.approx(0.9) and case.victims == ("kid",)
    # A decision re-sent after its case was worked (a scan redoing a batch) opens nothing new.
    service.dismiss(REVIEWER, first, "friends")
    assert service.record(item("e2", "c1", risk=0.7)) == first
    assert [c.case_id for c in service.list(VIEWER, statuses=None)] == [first]
    assert service.list(VIEWER, statuses=None)[0].event_ids == ()  # lists leave event ids out


def test_one_batch_groups_like_single_calls(service) -> None:  # type: ignore[no-untyped-def]
    """record_many writes a batch in one transaction (rows flushed at the end): the grouping and
    de-duplication must be the same as one call at a time."""
    batch = [
        item("e1", "c1", victims=("kid1",)),
        item("e2", "c2", victims=("kid2", "kid1")),
        item("e1", "c1", victims=("kid1",)),  # the same decision again, in the same batch
        item("z1", "c9", offender="other", victims=("kid9",)),
        item("e3", "c1", victims=("kid1",), actions=("warn_recipient",)),  # no trigger
        item("e4", "c3", victims=("kid3",)),
    ]
    ids = service.record_many(batch)
    assert ids[0] == ids[1] == ids[2] == ids[5] and ids[3] not in (None, ids[0]) and ids[4] is None
    case = service.case(VIEWER, ids[0])
    assert case.event_ids == ("e1", "e2", "e4") and case.decisions == 3
    assert case.victims == ("kid1", "kid2", "kid3") and case.conversations == ("c1", "c2", "c3")
    assert service.record_many([item("e2", "c2"), item("e5", "c2", victims=("kid2",))]) == [ids[0], ids[0]]
    assert service.case(VIEWER, ids[0]).victims == ("kid1", "kid2", "kid3")


def test_only_trigger_actions_open_cases_and_they_are_configurable(db_engine) -> None:  # noqa: F811
    default = CaseService(db_engine)
    assert default.record(item("w1", "c1", actions=("warn_recipient",))) is None
    assert default.record(item("r1", "c1", actions=("block", "report"))) is not None
    strict = CaseService(db_engine, policy=CasePolicy(trigger_actions=frozenset({"block"})))
    assert strict.record(item("b1", "c2", offender="o2", actions=("block",))) is not None
    assert strict.record(item("h1", "c3", offender="o3", actions=("hold_for_review",))) is None


def test_bad_input_is_refused_precisely(service) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CaseError, match="needs an offender"):
        service.record(item("e1", "c1", offender=""))
    with pytest.raises(CaseError, match="unknown label 'predator'"):
        service.record(item("e1", "c1", label_guess="predator"))
    with pytest.raises(CaseError, match="no case 'k-nope'"):
        service.case(VIEWER, "k-nope")
    with pytest.raises(CaseError, match="unknown status"):
        service.list(VIEWER, statuses=["pending"])


def test_queue_orders_by_the_documented_priority(service) -> None:  # type: ignore[no-untyped-def]
    now = T0 + timedelta(days=10)
    service.record(item("a", "ca", offender="high-risk", risk=0.95, at=now))
    service.record(item("b", "cb", offender="minor-case", risk=0.7, minor_involved=True, at=now))
    service.record(item("c", "cc", offender="old", risk=0.99, minor_involved=True, at=now - timedelta(days=30)))
    reports = [{"signal": "user_report", "score": 1.0, "event_id": f"rep{i}"} for i in range(5)]
    service.record(item("d", "cd", offender="reported", risk=0.6, reasons=reports, at=now))
    queue = service.queue(VIEWER)
    expected = {
        "minor-case": 100 * 0.7 + 40,
        "reported": 100 * 0.6 + 15 * 3,  # five reports count as three
        "high-risk": 95.0,
        "old": 100 * 0.99 + 40 - 5 * 30,
    }
    assert [c.offender_id for c in queue] == sorted(expected, key=expected.get, reverse=True)
    for case in queue:
        assert case.priority(now) == pytest.approx(expected[case.offender_id])
    assert {c.offender_id: c.user_reports for c in queue}["reported"] == 5
    # The stored key orders as the priority does at any later moment too.
    later = now + timedelta(days=400)
    assert [c.priority(later) for c in queue] == sorted((c.priority(later) for c in queue), reverse=True)


def test_queue_leaves_out_worked_cases_and_pages(service) -> None:  # type: ignore[no-untyped-def]
    ids = [service.record(item(f"e{i}", f"c{i}", offender=f"o{i}", risk=0.5 + i / 10)) for i in range(4)]
    service.dismiss(REVIEWER, ids[3], "banter between adults")
    assert [c.case_id for c in service.queue(VIEWER)] == ids[2::-1]
    assert [c.case_id for c in service.queue(VIEWER, limit=1, offset=1)] == [ids[1]]
    assert [c.case_id for c in service.list(VIEWER, statuses=["dismissed"])] == [ids[3]]
    assert [c.case_id for c in service.list(VIEWER, conversation_id="c1")] == [ids[1]]


def test_every_action_needs_a_note_and_is_audited(service) -> None:  # type: ignore[no-untyped-def]
    case_id = service.record(item("e1", "c1"))
    for blank in ("", "   "):
        with pytest.raises(CaseError, match="note is required"):
            service.dismiss(REVIEWER, case_id, blank)
    assert service.case(VIEWER, case_id).status == "open"
    service.assign(REVIEWER, case_id, "rob")
    service.escalate(REVIEWER, case_id, "asks a 12-year-old to move to Snapchat")
    service.restrict_account(REVIEWER, case_id, "no more contact with minors")
    history = service.history(VIEWER, case_id)
    assert [e.action for e in history] == ["case.open", "case.assign", "vault.preserve", "case.escalate", "case.restrict_account"]
    escalation = history[3]
    assert escalation.actor == "rob" and escalation.detail["note"] == "asks a 12-year-old to move to Snapchat"
    assert (escalation.detail["status_before"], escalation.detail["status"]) == ("open", "escalated")
    assert service.case(VIEWER, case_id).assignee == "rob"
    with Session(service.engine) as session:
        assert audit.verify_chain(session).ok


def test_status_moves_follow_the_transitions(service) -> None:  # type: ignore[no-untyped-def]
    case_id = service.record(item("e1", "c1"))
    with pytest.raises(CaseError, match="cannot become reported"):
        service.prepare_report(SPECIALIST, case_id, "too early")
    with pytest.raises(CaseError, match="cannot become closed"):
        service.close(REVIEWER, case_id, "done?")
    service.dismiss(REVIEWER, case_id, "role play between adults")
    with pytest.raises(CaseError, match="dismissed; it cannot become escalated"):
        service.escalate(REVIEWER, case_id, "changed my mind")
    with pytest.raises(CaseError, match="only an open, escalated or reported case"):
        service.restrict_account(REVIEWER, case_id, "restrict")
    service.close(REVIEWER, case_id, "done")
    # The offender's next held decision opens a new case.
    again = service.record(item("e2", "c1"))
    assert again != case_id and service.case(VIEWER, again).status == "open"


def test_permissions_are_checked_and_refusals_audited(service) -> None:  # type: ignore[no-untyped-def]
    case_id = service.record(item("e1", "c1"))
    nobody = Reviewer("eve", frozenset())
    with pytest.raises(PermissionDenied, match="cases:read"):
        service.queue(nobody)
    with pytest.raises(PermissionDenied, match="cases:act"):
        service.dismiss(VIEWER, case_id, "not mine to do")
    service.escalate(REVIEWER, case_id, "grooming", [EvidenceItem("e1", text="add me on snap", conversation_id="c1")])
    with pytest.raises(PermissionDenied, match="evidence:view"):
        service.evidence(REVIEWER, case_id)
    with pytest.raises(PermissionDenied, match="evidence:view"):
        service.prepare_report(REVIEWER, case_id, "report it")
    with pytest.raises(PermissionDenied, match="admin"):
        service.extend_hold(SPECIALIST, case_id, T0 + timedelta(days=900), "police")
    assert service.case(VIEWER, case_id).status == "escalated"
    assert [item.text for item in service.evidence(SPECIALIST, case_id)] == ["add me on snap"]
    with Session(service.engine) as session:
        denied = [(e.actor, e.detail["permission"]) for e in audit.entries(session) if e.action == "permission.denied"]
        viewed = [e.actor for e in audit.entries(session) if e.action == "evidence.view"]
    assert denied == [("eve", "cases:read"), ("vic", "cases:act"), ("rob", "evidence:view"), ("rob", "evidence:view"), ("sara", "admin")]
    assert viewed == ["sara"]


def test_reviewers_are_stored_with_their_permissions(db_engine) -> None:  # noqa: F811
    with Session(db_engine) as session, session.begin():
        add_reviewer(session, "root", "anna", ["specialist"], name="Anna")
        add_reviewer(session, "root", "bo", ["viewer", "cases:act"])
        with pytest.raises(ValueError, match="unknown role or permission 'god'"):
            add_reviewer(session, "root", "eve", ["god"])
    with Session(db_engine) as session:
        anna, bo = get_reviewer(session, "anna"), get_reviewer(session, "bo")
        assert anna.permissions == {"cases:read", "cases:act", "evidence:view"} and anna.name == "Anna"
        assert bo.can("cases:act") and not bo.can("evidence:view")
        assert [e.subject for e in audit.entries(session)] == ["reviewer:anna", "reviewer:bo"]
    with Session(db_engine) as session, session.begin():
        deactivate_reviewer(session, "root", "bo")
    with Session(db_engine) as session:
        with pytest.raises(UnknownReviewer, match="no active reviewer 'bo'"):
            get_reviewer(session, "bo")
        assert audit.entries(session)[-1].action == "reviewer.deactivate"


def test_dismissed_hash_match_becomes_a_false_positive(service) -> None:  # type: ignore[no-untyped-def]
    pdq = "a" * 64
    reason = {"signal": "hash_match", "score": 0.95, "event_id": "m1", "value": "bank=local entry=17 distance=12 match=pdq"}
    case_id = service.record(
        item("m1", "c1", actions=("block", "report"), reasons=(reason,), media_hashes={"m1": pdq}, offender="sender")
    )
    service.dismiss(REVIEWER, case_id, "a beach photo of an adult, not in scope")
    rows = service.false_positives()
    assert [(bank, h, c) for bank, h, c, _ in rows] == [("local", pdq, case_id)]
    assert service.false_positives("ncmec") == []
    assert service.history(VIEWER, case_id)[-1].detail["false_positives"] == [["local", pdq]]


def test_escalation_preserves_hash_matched_media(service) -> None:  # type: ignore[no-untyped-def]
    reason = {"signal": "hash_match", "score": 1.0, "event_id": "m1", "value": "bank=ncmec entry=3 distance=0 match=md5"}
    case_id = service.record(item("m1", "c1", actions=("block", "report"), reasons=(reason,), media_hashes={"m1": "d" * 32}))
    assert service.escalate(REVIEWER, case_id, "known material") == 1
    (media,) = service.evidence(SPECIALIST, case_id)
    assert (media.kind, media.bank, dict(media.hashes), media.conversation_id) == ("media", "ncmec", {"content": "d" * 32}, "c1")


def test_escalation_asks_the_evidence_source_when_given_nothing(db_engine) -> None:  # noqa: F811
    texts = {"e1": "you're so mature", "e2": "delete our chat"}
    asked = []

    def platform(case):  # type: ignore[no-untyped-def]
        asked.append(case.event_ids)
        return [EvidenceItem(e, text=texts[e], sender_id=case.offender_id) for e in case.event_ids]

    service = CaseService(db_engine, keyring=Keyring.generate(), evidence_source=platform)
    case_id = service.record(item("e1", "c1"))
    service.record(item("e2", "c1"))
    assert service.escalate(REVIEWER, case_id, "grooming") == 2
    assert asked == [("e1", "e2")]
    assert [(i.event_id, i.text) for i in service.evidence(SPECIALIST, case_id)] == sorted(texts.items())
    other = service.record(item("f1", "c2", offender="o2"))
    service.escalate(REVIEWER, other, "supplied by the console", [EvidenceItem("f1", text="given")])
    assert len(asked) == 1  # supplied evidence is used as it is


def test_prepare_report_builds_the_report_input(service) -> None:  # type: ignore[no-untyped-def]
    for i in range(2):
        service.record(item(f"e{i}", f"c{i}", victims=(f"kid{i}",), label_guess="solicitation", minor_involved=True))
    (case,) = service.queue(VIEWER)
    evidence = [
        EvidenceItem("e0", conversation_id="c0", sender_id="adult", recipient_id="kid0", sent_at="2026-06-01T08:59:00Z", text="robux for pics?"),
        EvidenceItem("e1", conversation_id="c1", sender_id="adult", recipient_id="kid1", text="dont tell your mum"),
    ]
    service.escalate(SPECIALIST, case.case_id, "solicitation of two minors", evidence)
    pictures = {"kid0": {"user_id": "kid0", "declared_age": 12}, "adult": {"user_id": "adult", "declared_age": 34}}
    report = service.prepare_report(SPECIALIST, case.case_id, "CyberTipline report", age_pictures=pictures, submit=True)
    assert report.case_id == case.case_id and report.label == "solicitation"
    assert report.offender.user_id == "adult" and report.offender.age_picture == pictures["adult"]
    assert [(v.user_id, v.age_picture) for v in report.victims] == [("kid0", pictures["kid0"]), ("kid1", None)]
    assert [m.text for m in report.messages] == ["robux for pics?", "dont tell your mum"]
    assert report.messages[0].sent_at == "2026-06-01T08:59:00Z"
    assert report.reported_at is not None and report.conversations == ("c0", "c1")
    with Session(service.engine) as session:
        from trygg.cases import outbox, vault

        (delivery,) = outbox.pending(session, kind="report")
        assert delivery.payload == {"case_id": case.case_id}
        assert vault.hold_until(session, case.case_id) == report.reported_at + timedelta(days=365)
        views = [e.detail["purpose"] for e in audit.entries(session) if e.action == "evidence.view"]
    assert views == ["report"]
    assert service.case(VIEWER, case.case_id).status == "reported"


def test_restrict_account_queues_a_webhook(service) -> None:  # type: ignore[no-untyped-def]
    case_id = service.record(item("e1", "c1"))
    delivery_id = service.restrict_account(REVIEWER, case_id, "contacting minors", restriction="no_minor_contact")
    with Session(service.engine) as session:
        from trygg.cases import outbox

        (row,) = outbox.pending(session)
        restriction = session.query(AccountRestrictionRow).one()
    assert row.id == delivery_id and row.kind == "account_restricted"
    assert row.payload["user_id"] == "adult" and row.payload["restriction"] == "no_minor_contact"
    assert (restriction.user_id, restriction.case_id, restriction.reviewer_id) == ("adult", case_id, "rob")


def test_reviewer_outcomes_export_as_training_labels(service, tmp_path) -> None:  # type: ignore[no-untyped-def]
    confirmed = service.record(item("e1", "c1", victims=("kid1",), label_guess="grooming"))
    service.record(item("e2", "c1", victims=("kid1",)))
    service.record(item("e3", "c2", victims=("kid2",)))
    dismissed = service.record(item("x1", "c3", offender="banter"))
    service.record(item("x2", "c1", offender="banter"))  # c1 also in a dismissed case: confirmed wins
    unreviewed = service.record(item("u1", "c4", offender="pending"))
    service.escalate(REVIEWER, confirmed, "grooming")
    service.dismiss(REVIEWER, dismissed, "friends joking")
    labels = {label["conversation_id"]: label for label in service.export_labels(VIEWER)}
    assert set(labels) == {"c1", "c2", "c3"}
    assert labels["c1"] == {
        "conversation_id": "c1", "label": "grooming", "offender_id": "adult", "first_harmful_event_id": "e1",
        "hard_negative": False, "source": "review", "case_id": confirmed, "language": "en",
    }
    assert labels["c2"]["first_harmful_event_id"] == "e3"
    assert labels["c3"]["label"] == "benign" and labels["c3"]["hard_negative"] and labels["c3"]["offender_id"] is None
    assert unreviewed not in {label["case_id"] for label in labels.values()}
    # The CLI writes them in the labels format that trygg train reads.
    from trygg.cli import app

    out = tmp_path / "labels.jsonl"
    result = CliRunner().invoke(app, ["cases", "labels", "--db", service.engine.url.render_as_string(hide_password=False), "--out", str(out)])
    assert result.exit_code == 0, result.output
    read, errors = read_labels(out)
    assert errors == [] and read == labels


def test_confirmed_without_a_harm_label_gives_no_label(service) -> None:  # type: ignore[no-untyped-def]
    case_id = service.record(item("e1", "c1"))
    service.escalate(REVIEWER, case_id, "something is off")
    assert service.export_labels(VIEWER) == []
    other = service.record(item("f1", "c2", offender="o2"))
    service.escalate(REVIEWER, other, "sextortion, label corrected", label="sextortion")
    assert [label["label"] for label in service.export_labels(VIEWER)] == ["sextortion"]
    with pytest.raises(CaseError, match="unknown label"):
        service.escalate(REVIEWER, case_id, "x", label="bad")


def test_cases_from_the_real_engine(service) -> None:  # type: ignore[no-untyped-def]
    """The engine's own decisions, through case_input: one groomer, two children, one case."""
    engine = Engine()
    lines = [
        ("how old are you?", "im 12"),
        ("cool, i'm 29. do your parents check your phone?", "no"),
        ("this stays between us ok? don't tell anyone about our chats", "ok"),
        ("add me on snapchat, it's safer there", "ok"),
        ("send me a pic of you without clothes, nobody will see it", "no"),
    ]
    events = [parse_event({"type": "account", "user_id": "groomer", "declared_age": 29})]
    for child in ("kid-a", "kid-b"):
        events.append(parse_event({"type": "account", "user_id": child, "declared_age": 12}))
        for n, (said, answer) in enumerate(lines):
            cid = f"chat-{child}"
            events.append(parse_event({"type": "message", "event_id": f"{cid}-{n}a", "conversation_id": cid, "sender_id": "groomer", "recipient_id": child, "text": said}))
            events.append(parse_event({"type": "message", "event_id": f"{cid}-{n}b", "conversation_id": cid, "sender_id": child, "recipient_id": "groomer", "text": answer}))
    opened = set()
    for event in events:
        result = engine.process(event)
        candidate = case_input(engine, event, result)
        if candidate is not None:
            case_id = service.record(candidate)
            if case_id:
                opened.add(case_id)
    assert len(opened) == 1
    case = service.case(VIEWER, opened.pop())
    assert case.offender_id == "groomer" and set(case.victims) == {"kid-a", "kid-b"}
    assert set(case.conversations) == {"chat-kid-a", "chat-kid-b"} and case.minor_involved
    assert case.label_guess != "benign" and case.max_risk >= 0.75
    assert all(eid.startswith("chat-") and eid.endswith("a") for eid in case.event_ids)  # only the groomer's messages


def test_media_case_names_the_hash_the_ingest_computed(service) -> None:  # type: ignore[no-untyped-def]
    """A hash-matched image through case_input: sender as offender, recipient as victim, and on
    dismissal the false positive names the image's own PDQ from the ingest's facts."""
    from trygg.media.facts import ImageHashes, MediaFacts, PreparedMedia

    engine = Engine()
    engine.process(parse_event({"type": "account", "user_id": "kid", "declared_age": 13}))
    raw = parse_event({"type": "media", "event_id": "m1", "conversation_id": "c1", "sender_id": "adult", "recipient_id": "kid", "data": "aGk="})
    image = ImageHashes(pdq="c" * 64, quality=90, md5="1" * 32, sha256="2" * 64, width=8, height=8, dihedral=())
    prepared = PreparedMedia.of(raw, MediaFacts(image=image))
    reason = {"signal": "hash_match", "score": 0.97, "event_id": "m1", "value": "bank=local entry=4 distance=8 match=pdq"}
    made = case_input(engine, prepared, decision("m1", "c1", actions=("block", "report"), reasons=(reason,)))
    assert (made.offender_id, made.victim_ids, made.minor_involved, dict(made.media_hashes)) == ("adult", ("kid",), True, {"m1": "c" * 64})
    case_id = service.record(made)
    service.dismiss(REVIEWER, case_id, "not in scope")
    assert [(bank, h) for bank, h, _, _ in service.false_positives()] == [("local", "c" * 64)]
    bare = parse_event({"type": "media", "event_id": "m2", "sender_id": "adult", "pdq": "D" * 64})
    assert dict(case_input(engine, bare, decision("m2", None)).media_hashes) == {"m2": "d" * 64}
    assert case_input(engine, bare, None) is None


def test_cli_list_and_show(service) -> None:  # type: ignore[no-untyped-def]
    from trygg.cli import app

    url = service.engine.url.render_as_string(hide_password=False)
    first = service.record(item("e1", "c1", risk=0.9, minor_involved=True))
    service.record(item("e2", "c2", offender="o2", risk=0.6))
    runner = CliRunner()
    listed = runner.invoke(app, ["cases", "list", "--db", url, "--json"])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert [r["offender_id"] for r in rows] == ["adult", "o2"]
    assert runner.invoke(app, ["cases", "list", "--db", url, "--status", "dismissed"]).output == ""
    assert runner.invoke(app, ["cases", "list", "--db", url, "--status", "nonsense"]).exit_code == 2
    shown = runner.invoke(app, ["cases", "show", first, "--db", url])
    body = json.loads(shown.output)
    assert body["case_id"] == first and body["history"][0]["action"] == "case.open"
    assert runner.invoke(app, ["cases", "show", "k-missing", "--db", url]).exit_code == 2
    granted = runner.invoke(app, ["cases", "grant", "anna", "--grant", "specialist", "--db", url])
    assert json.loads(granted.output) == {"reviewer_id": "anna", "permissions": ["cases:act", "cases:read", "evidence:view"]}
    assert runner.invoke(app, ["cases", "grant", "eve", "--grant", "root", "--db", url]).exit_code == 2
    with Session(service.engine) as session:
        assert get_reviewer(session, "anna").can("evidence:view")


def test_prepared_case_becomes_a_valid_cybertipline_report(service) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("lxml", reason="the NCMEC report needs the reports extra (lxml)")
    from trygg.cases.to_ncmec import ncmec_report_input
    from trygg.reports.ncmec import ONLINE_ENTICEMENT, Reporter, build_ncmec_report, chat_csv

    for i in range(2):
        service.record(item(f"e{i}", f"c{i}", victims=(f"kid{i}",), label_guess="solicitation", minor_involved=True))
    (case,) = service.queue(VIEWER)
    evidence = [
        EvidenceItem("e0", conversation_id="c0", sender_id="adult", recipient_id="kid0", sent_at="2026-06-01T08:59:00Z", text="robux for <pics> & more"),
        EvidenceItem("e1", conversation_id="c1", sender_id="adult", recipient_id="kid1", sent_at="2026-05-30T20:00:00+02:00", text="dont tell"),
        EvidenceItem("e2", conversation_id="c1", sender_id="adult", recipient_id="kid1", text="no time given"),
    ]
    service.escalate(SPECIALIST, case.case_id, "solicitation", evidence)
    from trygg.age.picture import AgePicture

    pictures = {
        "adult": AgePicture("adult", declared_age=15, stated_ages=[[34, "e9", 0.9]]),  # says 34 while declared 15
        "kid0": AgePicture("kid0", declared_age=12).to_dict(),
    }
    prepared = service.prepare_report(SPECIALIST, case.case_id, "file it", age_pictures=pictures)
    report = ncmec_report_input(prepared, Reporter(email="safety@example.org"), esp_service="ExampleChat", platform="ExampleChat")
    assert report.incident_type == ONLINE_ENTICEMENT and report.annotations == ("csamSolicitation",)
    assert report.incident_time == datetime(2026, 5, 30, 18, 0, tzinfo=timezone.utc)  # the earliest message, in UTC
    assert (report.reported.esp_identifier, report.reported.age, report.reported.age_assertion_discrepancy) == ("adult", 34, True)
    assert [(v.esp_identifier, v.age) for v in report.victims] == [("kid0", 12), ("kid1", None)]
    assert [m.event_id for m in report.messages] == ["e0", "e1"]
    assert "1 preserved messages had no sending time" in report.additional_info and case.case_id in report.additional_info
    document = build_ncmec_report(report)  # validated against the schema inside
    assert b"adult" in document and b"kid0" in document
    assert "robux for <pics> & more".encode() in chat_csv(report.messages)  # the log carries the text as sent
