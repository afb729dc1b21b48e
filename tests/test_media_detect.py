"""The media detector over banks held in memory, the ingest hook, the wiring, and the policy's
``signal_action`` condition that applies a bank's own action."""

from __future__ import annotations

import base64
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("pdqhash", reason="needs the 'media' extra")

from sqlalchemy import text  # noqa: E402

from test_media_support import blocks, jpeg  # noqa: E402
from trygg.engine import Engine  # noqa: E402
from trygg.events import AccountEvent, MediaEvent, MessageEvent, ParsedLine, parse_event  # noqa: E402
from trygg.media.bank_files import add_image  # noqa: E402
from trygg.media.banks import BankStore, EntrySpec  # noqa: E402
from trygg.media.detect import MediaDetector  # noqa: E402
from trygg.media.errors import CorruptImageError  # noqa: E402
from trygg.media.facts import PreparedMedia  # noqa: E402
from trygg.media.hashing import hash_bytes  # noqa: E402
from trygg.media.ingest import MediaIngest  # noqa: E402
from trygg.media.matcher import Matcher  # noqa: E402
from trygg.media_wiring import build_media  # noqa: E402
from trygg.signals.base import DetectionContext  # noqa: E402
from trygg.policy import Policy, PolicyError  # noqa: E402
from trygg.scan import scan  # noqa: E402
from trygg.sinks import CollectingSink  # noqa: E402
from trygg.store.repository import Store  # noqa: E402

PDQ_A = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def _event(eid: str = "m1", **fields: object) -> MediaEvent:
    return MediaEvent(type="media", event_id=eid, sender_id="u1", recipient_id="u2", **fields)


def test_matching_needs_no_database_once_loaded(tmp_path: Path, database_url: str) -> None:
    store = BankStore(database_url)
    store.create_bank("review", action="hold_for_review")
    picture = jpeg(blocks(seed=5))
    (tmp_path / "p.jpg").write_bytes(picture)
    add_image(store, "review", tmp_path / "p.jpg", label="case-3")
    matcher = Matcher(store, follow=False)
    with store.engine.begin() as connection:  # the record is gone; the loaded tables still answer
        connection.execute(text("DELETE FROM media_bank_entries"))
        connection.execute(text("DELETE FROM media_banks"))
    (match,) = matcher.match(hash_bytes(picture))
    assert (match.bank, match.action, match.match, match.label) == ("review", "hold_for_review", "sha256", "case-3")
    (near,) = matcher.match_pdq([hash_bytes(picture).pdq], None)
    assert (near.label, near.distance) == ("case-3", 0)
    matcher.reload()  # and a reload reads the database again
    assert matcher.match(hash_bytes(picture)) == []


def test_changes_elsewhere_show_after_reload_changes_here_at_once(database_url: str) -> None:
    url = database_url
    store = BankStore(url)
    store.create_bank("local")
    detector = MediaDetector(Matcher(store))
    other_process = BankStore(url)
    other_process.add_entries("local", [EntrySpec(pdq=PDQ_A, md5="a" * 32, quality=100)])
    assert detector.detect(_event(pdq=PDQ_A), DetectionContext(sender_minor=None, recipient_minor=None)) == []
    detector.reload()
    assert [s.name for s in detector.detect(_event(pdq=PDQ_A), DetectionContext(sender_minor=None, recipient_minor=None))] == ["hash_match"]
    (entry_id,) = store.add_entries("local", [EntrySpec(md5="b" * 32)])
    assert [m.entry_id for m in detector.matcher.match_exact("b" * 32, None)] == [entry_id]
    store.remove_entries("local", ids=[entry_id])
    assert detector.matcher.match_exact("b" * 32, None) == []  # removed: gone from the exact table too


def test_the_bank_action_rides_on_the_signal_and_the_policy_applies_it(database_url: str) -> None:
    store = BankStore(database_url)
    store.create_bank("restrict", action="restrict_sender")
    store.add_entries("restrict", [EntrySpec(pdq=PDQ_A, quality=100)])
    detector = MediaDetector(Matcher(store))
    (signal,) = detector.detect(_event(pdq=PDQ_A), DetectionContext(sender_minor=None, recipient_minor=None))
    assert signal.action == "restrict_sender" and "action" not in signal.as_reason()  # not in the decision's reasons
    assert Engine(media=detector).process(_event(pdq=PDQ_A)).actions == ("restrict_sender", "block", "report")
    # A policy of one's own can map a bank's action to another, or ignore it.
    mapped = Policy.from_dict(
        {
            "name": "mapped",
            "version": 1,
            "rules": [
                {"action": "hold_for_review", "event_types": ["media"], "signals": ["hash_match"], "signal_action": "restrict_sender"},
                {"action": "block", "event_types": ["media"], "signals": ["hash_match"], "signal_action": "block"},
            ],
        }
    )
    assert Engine(policy=mapped, media=detector).process(_event(pdq=PDQ_A)).actions == ("hold_for_review",)
    # signal_action is tied to the listed signals: another signal naming the action does not count.
    other = Policy.from_dict(
        {"name": "o", "version": 1, "rules": [{"action": "block", "event_types": ["media"], "signals": ["nudity"], "signal_action": "restrict_sender"}]}
    )
    assert Engine(policy=other, media=detector).process(_event(pdq=PDQ_A)).actions == ("allow",)


def test_signal_action_must_be_an_action() -> None:
    base = {"name": "p", "version": 1}
    with pytest.raises(PolicyError, match=r"rules\[0\]\.signal_action: must be one of .*got 'allow'"):
        Policy.from_dict({**base, "rules": [{"action": "block", "signal_action": "allow"}]})
    with pytest.raises(PolicyError, match=r"rules\[0\]\.signal_action: must be one of .*got 'ban'"):
        Policy.from_dict({**base, "rules": [{"action": "block", "signal_action": "ban"}]})


def test_the_ingest_hook_keeps_errors_on_the_event_and_leaves_other_events_alone(tmp_path: Path, database_url: str) -> None:
    (tmp_path / "cut.jpg").write_bytes(jpeg(blocks(seed=3))[:300])
    ingest = MediaIngest(tmp_path)
    message = MessageEvent(type="message", event_id="t1", conversation_id="c", sender_id="a", text="hi")
    assert ingest(message) is message
    with pytest.raises(CorruptImageError, match="cut.jpg: cannot decode"):
        ingest.prepare(_event(path="cut.jpg"))
    kept = ingest(_event(path="cut.jpg"))
    assert isinstance(kept, PreparedMedia) and isinstance(kept.facts.error, CorruptImageError)
    decision = Engine(media=MediaDetector(Matcher(BankStore(database_url)))).process(kept)
    assert decision.actions == ("allow",) and decision.reasons[0]["signal"] == "media_error"
    assert "cut.jpg: cannot decode" in str(decision.reasons[0]["value"])
    # Platform fields the event carried are kept; the bytes are not.
    data = base64.b64encode(jpeg(blocks(seed=4))).decode()
    prepared = ingest(parse_event({"type": "media", "event_id": "m9", "sender_id": "a", "data": data, "platform_ref": "x-1"}, 0))
    assert prepared.data is None and prepared.platform_ref == "x-1" and prepared.facts.image is not None
    assert ingest(prepared) is prepared  # preparing twice does nothing


def test_unprepared_path_events_are_refused_inside_the_engine(database_url: str) -> None:
    engine = Engine(media=MediaDetector(Matcher(BankStore(database_url))))
    decision = engine.process(_event(path="pics/a.jpg"))
    assert decision.actions == ("allow",) and "media not prepared" in str(decision.reasons[0]["value"])
    assert engine.warnings and engine.warnings[0][0] == "m1"


def test_build_media_wires_ingest_and_detector_lazily(tmp_path: Path, database_url: str) -> None:
    store = Store(database_url)
    picture = jpeg(blocks(seed=8))
    (tmp_path / "p.jpg").write_bytes(picture)
    banks = BankStore(engine=store.engine)
    banks.create_bank("local")
    add_image(banks, "local", tmp_path / "p.jpg")
    ingest, detector = build_media(store.engine, tmp_path, nudity=False)
    engine = Engine(media=detector)
    events = [
        AccountEvent(type="account", user_id="u2", declared_age=12),
        MessageEvent(type="message", event_id="t1", conversation_id="c", sender_id="u1", recipient_id="u2", text="hi"),
        _event("m1", conversation_id="c", path="p.jpg"),
        _event("m2", conversation_id="c", path="../t.db"),
        _event("m3", conversation_id="c", data=base64.b64encode(picture).decode()),
    ]
    answer = CollectingSink()
    report = scan([ParsedLine(i, event=e) for i, e in enumerate(events)], engine, store, sinks=[answer], prepare=ingest)
    decisions = {d.event_id: d for d in reversed(answer.decisions)}
    assert report.processed == 4 and decisions["m1"].actions == ("block", "report") == decisions["m3"].actions
    assert [r["signal"] for r in decisions["m1"].reasons] == ["hash_match"]  # nudity off: no score
    assert decisions["m2"].reasons[0]["signal"] == "media_error"
    assert any("leaves the media base directory" in w for w in report.warnings)
    http_ingest, _ = build_media(store.engine, None, nudity=False)
    refused = http_ingest(_event(path="p.jpg"))
    assert "media paths are not accepted here" in str(refused.facts.error)


def test_the_http_api_runs_the_ingest_before_the_engine(database_url: str) -> None:
    httpx = pytest.importorskip("httpx")
    uvicorn = pytest.importorskip("uvicorn")
    from trygg.api.app import create_app
    from trygg.api.keys import create_key

    store = Store(database_url)
    picture = jpeg(blocks(seed=9))
    banks = BankStore(engine=store.engine)
    banks.create_bank("local", action="hold_for_review")
    banks.add_entries("local", [EntrySpec(sha256=hash_bytes(picture).sha256)])
    ingest, detector = build_media(store.engine, None, nudity=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(store, Engine(media=detector), prepare=ingest), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 15
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        key = create_key(store.engine, "platform", ["events:write"])
        body = [
            {"type": "media", "event_id": "h1", "sender_id": "a", "recipient_id": "b", "data": base64.b64encode(picture).decode()},
            {"type": "media", "event_id": "h2", "sender_id": "a", "recipient_id": "b", "path": "etc/x.jpg"},
        ]
        response = httpx.post(f"http://127.0.0.1:{port}/v1/events", json=body, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, response.text
        by_id = {d["event_id"]: d for d in response.json()["decisions"]}
        assert by_id["h1"]["actions"] == ["hold_for_review", "block", "report"]
        assert by_id["h2"]["actions"] == ["allow"] and "not accepted here" in by_id["h2"]["reasons"][0]["value"]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
