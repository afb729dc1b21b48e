"""The HTTP API over a real socket (uvicorn in a thread): auth, scopes, audit, bad input."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn
from sqlalchemy import text

from trygg.api.app import MAX_BODY_BYTES, create_app
from trygg.api.keys import create_key, revoke_key
from trygg.store.repository import Store

MSG = {"type": "message", "event_id": "a1", "conversation_id": "c1", "sender_id": "adult", "recipient_id": "kid", "text": "hej"}


@pytest.fixture
def server(database_url: str):
    store = Store(database_url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.time() + 15
    while not instance.started and time.time() < deadline:
        time.sleep(0.05)
    assert instance.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", store
    instance.should_exit = True
    thread.join(timeout=10)


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_health_needs_no_key(server) -> None:
    url, _ = server
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}


def test_events_need_a_valid_key_with_the_right_scope(server) -> None:
    url, store = server
    assert httpx.post(f"{url}/v1/events", json=MSG).status_code == 401
    assert httpx.post(f"{url}/v1/events", json=MSG, headers=_auth("trygg_nope_nope")).status_code == 401
    reader = create_key(store.engine, "reader", ["conversations:read"])
    response = httpx.post(f"{url}/v1/events", json=MSG, headers=_auth(reader))
    assert response.status_code == 403 and "events:write" in response.json()["detail"]
    writer = create_key(store.engine, "writer", ["events:write"])
    assert httpx.post(f"{url}/v1/events", json=MSG, headers=_auth(writer)).status_code == 200
    revoke_key(store.engine, writer.split("_")[1])
    assert httpx.post(f"{url}/v1/events", json=dict(MSG, event_id="a2"), headers=_auth(writer)).status_code == 401
    with store.engine.connect() as connection:
        statuses = [row[0] for row in connection.execute(text("select status from api_audit order by id"))]
    assert statuses == [401, 401, 403, 200, 401]


def test_a_grooming_sequence_gets_decisions_and_the_summary_is_readable(server) -> None:
    url, store = server
    key = create_key(store.engine, "platform", ["events:write", "conversations:read"])
    events = [
        {"type": "account", "user_id": "kid", "declared_age": 13},
        {"type": "account", "user_id": "adult", "declared_age": 31},
    ] + [
        dict(MSG, event_id=f"g{i}", text=text)
        for i, text in enumerate(
            ["how old are you?", "you're so mature for your age", "don't tell your parents about us", "add me on snapchat, it's more private", "send me a pic of you"],
            start=1,
        )
    ]
    body = httpx.post(f"{url}/v1/events", json=events, headers=_auth(key)).json()
    assert [d["event_id"] for d in body["decisions"]] == ["account:kid", "account:adult"] + [f"g{i}" for i in range(1, 6)]
    assert any(d["actions"] != ["allow"] for d in body["decisions"])
    summary = httpx.get(f"{url}/v1/conversations/c1", headers=_auth(key)).json()
    assert summary["flagged"] and summary["offender_id"] == "adult"
    assert httpx.get(f"{url}/v1/conversations/nope", headers=_auth(key)).status_code == 404


def test_bad_events_are_reported_by_index_and_good_ones_kept(server) -> None:
    url, store = server
    key = create_key(store.engine, "platform", ["events:write"])
    batch = [dict(MSG, event_id="k1"), {"type": "message", "event_id": "k2"}, {"type": "nope"}, dict(MSG, event_id="k1")]
    response = httpx.post(f"{url}/v1/events", json=batch, headers=_auth(key))
    assert response.status_code == 207
    body = response.json()
    assert [d["event_id"] for d in body["decisions"]] == ["k1"]
    # every bad field of the bad message is named, not only the first
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "conversation_id"), (1, "sender_id"), (1, "text"), (2, "type")]
    assert body["duplicates"] == 1
    assert Store(str(store.engine.url)).known_event_ids(["k1", "k2"]) == {"k1"}


def test_malformed_and_oversized_bodies(server) -> None:
    url, store = server
    key = create_key(store.engine, "platform", ["events:write"])
    response = httpx.post(f"{url}/v1/events", content=b"{nope", headers=_auth(key) | {"content-type": "application/json"})
    assert response.status_code == 400 and "not JSON" in response.json()["detail"]
    response = httpx.post(f"{url}/v1/events", content=b"\xff\xfe", headers=_auth(key))
    assert response.status_code == 400 and "UTF-8" in response.json()["detail"]
    big = b"[" + b" " * (MAX_BODY_BYTES + 10) + b"]"
    assert httpx.post(f"{url}/v1/events", content=big, headers=_auth(key)).status_code == 413


def test_keys_are_stored_hashed(database_url: str) -> None:
    store = Store(database_url)
    key = create_key(store.engine, "x", ["events:write"])
    secret = key.split("_", 2)[2]
    with store.engine.connect() as connection:
        dump = str(list(connection.execute(text("select * from api_keys"))))
    assert secret not in dump
    with pytest.raises(ValueError, match="unknown scope"):
        create_key(store.engine, "x", ["root"])


def test_take_it_down_accepts_only_hashes_with_the_submit_scope(server) -> None:
    url, store = server
    pytest.importorskip("trygg.media.banks", reason="media extra not installed")
    from trygg.media.banks import BankStore

    key = create_key(store.engine, "helpline-app", ["banks:submit"])
    pdq = "f" * 64
    assert httpx.post(f"{url}/v1/take-it-down", json={"pdq": pdq}, headers=_auth(create_key(store.engine, "w", ["events:write"]))).status_code == 403
    response = httpx.post(f"{url}/v1/take-it-down", json={"pdq": pdq, "quality": 90}, headers=_auth(key))
    assert response.status_code == 201, response.text
    entries = list(BankStore(engine=store.engine).entries("take_it_down"))
    assert [e.pdq for e in entries] == [pdq]
    bad = httpx.post(f"{url}/v1/take-it-down", json={"pdq": "xyz"}, headers=_auth(key))
    assert bad.status_code == 422
    extra = httpx.post(f"{url}/v1/take-it-down", json={"pdq": pdq, "name": "Alva"}, headers=_auth(key))
    assert extra.status_code == 422 and "only hashes" in extra.json()["detail"]


def test_every_call_is_audited_by_the_middleware_without_bodies(server) -> None:
    """One row per call, whatever the route did: key, method, route template, status, a note."""
    url, store = server
    key = create_key(store.engine, "t", ["ingest", "review"])
    secret_text = "a message body that must never reach the audit log"
    event = {"type": "message", "event_id": "e1", "conversation_id": "c1", "sender_id": "a", "text": secret_text}
    httpx.post(f"{url}/v1/events", headers=_auth(key), json=[event])
    httpx.get(f"{url}/v1/conversations/c1", headers=_auth(key))
    httpx.get(f"{url}/v1/conversations/nope", headers=_auth(key))
    httpx.get(f"{url}/v1/cases", headers=_auth("trygg_wrong_wrong"))
    with store.engine.connect() as connection:
        rows = [tuple(r) for r in connection.execute(text("select method, path, status, detail from api_audit order by id"))]
    assert rows[0][:3] == ("POST", "/v1/events", 200) and "1 processed" in rows[0][3]
    assert rows[1][:3] == ("GET", "/v1/conversations/{conversation_id}", 200)
    assert rows[2][:3] == ("GET", "/v1/conversations/{conversation_id}", 404)
    assert rows[3][:3] == ("GET", "/v1/cases", 401)
    assert all(secret_text not in str(row) for row in rows)
