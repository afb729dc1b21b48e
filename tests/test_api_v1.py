"""The v1 API over a real socket (uvicorn on 127.0.0.1, httpx): every endpoint's auth refusals,
scopes, per-key rate limits, batches, cases from decisions, age pictures, signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
from sqlalchemy import text

from live_server import running
from trygg.api.app import MAX_BATCH, create_app
from trygg.api.keys import create_key
from trygg.ratelimit import RateLimit
from trygg.api.webhooks import WebhookSettings
from trygg.cases.outbox import Backoff
from trygg.cases.vault import Keyring
from trygg.store.repository import Store

GROOMING = [
    {"type": "account", "user_id": "kid", "declared_age": 13},
    {"type": "account", "user_id": "adult", "declared_age": 31},
] + [
    {"type": "message", "event_id": f"g{i}", "conversation_id": "c1", "sender_id": "adult", "recipient_id": "kid", "text": said}
    for i, said in enumerate(
        ["how old are you?", "you're so mature for your age", "don't tell your parents about us", "add me on snapchat, it's more private", "send me a pic of you"],
        start=1,
    )
]
MSG = {"type": "message", "event_id": "m1", "conversation_id": "c9", "sender_id": "a", "recipient_id": "b", "text": "hej"}

#: (method, path, body, the broad scope that opens it)
ENDPOINTS = [
    ("POST", "/v1/events", MSG, "ingest"),
    ("POST", "/v1/take-it-down", {"pdq": "f" * 64}, "ingest"),
    ("GET", "/v1/conversations/c1", None, "review"),
    ("GET", "/v1/users/kid/age", None, "review"),
    ("GET", "/v1/cases", None, "review"),
    ("GET", "/v1/cases/k-0000000000000000", None, "review"),
    ("POST", "/v1/cases/k-0000000000000000/actions", {"action": "dismiss", "note": "x"}, "review"),
]
OTHER = {"ingest": "review", "review": "ingest"}


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def api(database_url: str):
    store = Store(database_url)
    with running(create_app(store, keyring=Keyring.generate(), rate_limit=RateLimit(rate=1000, burst=1000))) as url:
        yield url, store


@pytest.mark.parametrize(("method", "path", "body", "scope"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_every_endpoint_refuses_missing_wrong_and_under_scoped_keys(api, method, path, body, scope) -> None:
    url, store = api
    missing = httpx.request(method, url + path, json=body)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert httpx.request(method, url + path, json=body, headers=_auth("trygg_0000_wrong")).status_code == 401
    right_id = create_key(store.engine, "x", [scope]).split("_")[1]
    assert httpx.request(method, url + path, json=body, headers=_auth(f"trygg_{right_id}_wrongsecret")).status_code == 401
    under = httpx.request(method, url + path, json=body, headers=_auth(create_key(store.engine, "other", [OTHER[scope]])))
    assert under.status_code == 403 and f"'{scope}'" in under.json()["detail"]
    allowed = httpx.request(method, url + path, json=body, headers=_auth(create_key(store.engine, "right", [scope])))
    assert allowed.status_code not in (401, 403), allowed.text
    admin = httpx.request(method, url + path, json=body, headers=_auth(create_key(store.engine, "root", ["admin"])))
    assert admin.status_code not in (401, 403), admin.text


def test_openapi_is_served_and_documents_the_event_format(api) -> None:
    url, _ = api
    schema = httpx.get(f"{url}/openapi.json").json()
    assert {"/v1/events", "/v1/cases", "/v1/cases/{case_id}/actions", "/v1/users/{user_id}/age"} <= set(schema["paths"])
    assert "MessageEvent" in schema["components"]["schemas"]
    assert not any(path.startswith("/console") for path in schema["paths"])


def test_rate_limit_per_key_answers_429_with_retry_after(database_url: str) -> None:
    store = Store(database_url)
    with running(create_app(store, rate_limit=RateLimit(rate=0.5, burst=3))) as url:
        busy, calm = create_key(store.engine, "busy", ["review"]), create_key(store.engine, "calm", ["review"])
        statuses = [httpx.get(f"{url}/v1/cases", headers=_auth(busy)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = httpx.get(f"{url}/v1/cases", headers=_auth(busy))
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert httpx.get(f"{url}/v1/cases", headers=_auth(calm)).status_code == 200  # its own bucket
        with store.engine.connect() as connection:
            assert connection.execute(text("select count(*) from api_audit where status = 429")).scalar() == 2


def test_a_batch_names_every_bad_field_keeps_the_good_events_and_is_idempotent(api) -> None:
    url, store = api
    key = create_key(store.engine, "platform", ["ingest"])
    batch = [dict(MSG, event_id="k1"), {"type": "message", "event_id": "k2", "text": 5}, {"type": "nope"}, "not an object", dict(MSG, event_id="k3")]
    response = httpx.post(f"{url}/v1/events", json=batch, headers=_auth(key))
    assert response.status_code == 207
    body = response.json()
    assert [d["event_id"] for d in body["decisions"]] == ["k1", "k3"]
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "conversation_id"), (1, "sender_id"), (1, "text"), (2, "type"), (3, "<line>")]
    again = httpx.post(f"{url}/v1/events", json=[dict(MSG, event_id="k1"), dict(MSG, event_id="k3")], headers=_auth(key)).json()
    assert again["duplicates"] == 2 and again["decisions"] == []
    assert store.counts()["events"] == 2
    too_many = [dict(MSG, event_id=f"b{i}") for i in range(MAX_BATCH + 1)]
    assert httpx.post(f"{url}/v1/events", json=too_many, headers=_auth(key)).status_code == 413
    assert httpx.post(f"{url}/v1/events", json=[{"type": "nope"}], headers=_auth(key)).status_code == 422


def test_decisions_open_a_case_that_a_review_key_lists_reads_and_acts_on(api) -> None:
    url, store = api
    ingest, review = create_key(store.engine, "platform", ["ingest"]), create_key(store.engine, "t&s", ["review"])
    decisions = httpx.post(f"{url}/v1/events", json=GROOMING, headers=_auth(ingest)).json()["decisions"]
    case_ids = {d["case_id"] for d in decisions if "case_id" in d}
    assert len(case_ids) == 1
    case_id = case_ids.pop()
    listed = httpx.get(f"{url}/v1/cases", headers=_auth(review)).json()["cases"]
    assert [c["case_id"] for c in listed] == [case_id] and listed[0]["offender_id"] == "adult"
    case = httpx.get(f"{url}/v1/cases/{case_id}", headers=_auth(review)).json()
    assert case["victims"] == ["kid"] and case["age_pictures"]["kid"]["likely_minor"]
    assert case["history"][0]["action"] == "case.open"

    no_note = httpx.post(f"{url}/v1/cases/{case_id}/actions", json={"action": "dismiss", "note": ""}, headers=_auth(review))
    assert no_note.status_code == 422 and "note" in json.dumps(no_note.json())
    evidence = [{"event_id": "g5", "text": "send me a pic of you", "conversation_id": "c1", "sender_id": "adult"}]
    escalated = httpx.post(f"{url}/v1/cases/{case_id}/actions", json={"action": "escalate", "note": "asks a 13-year-old for a picture", "evidence": evidence}, headers=_auth(review))
    assert escalated.status_code == 200 and escalated.json()["case"]["status"] == "escalated" and escalated.json()["preserved"] == 1
    report = httpx.post(f"{url}/v1/cases/{case_id}/actions", json={"action": "prepare_report", "note": "to the hotline"}, headers=_auth(review))
    assert report.status_code == 403  # a review key does not read evidence
    admin = create_key(store.engine, "lead", ["admin"])
    report = httpx.post(f"{url}/v1/cases/{case_id}/actions", json={"action": "prepare_report", "note": "to the hotline"}, headers=_auth(admin))
    assert report.status_code == 200 and report.json()["report"]["messages"] == 1
    wrong_move = httpx.post(f"{url}/v1/cases/{case_id}/actions", json={"action": "dismiss", "note": "changed my mind"}, headers=_auth(review))
    assert wrong_move.status_code == 409 and "reported" in wrong_move.json()["detail"]
    actions = [e["action"] for e in httpx.get(f"{url}/v1/cases/{case_id}", headers=_auth(review)).json()["history"]]
    assert "case.escalate" in actions and "case.prepare_report" in actions and "permission.denied" in actions
    assert httpx.get(f"{url}/v1/cases/k-nope", headers=_auth(review)).status_code == 404


def test_a_users_age_picture(api) -> None:
    url, store = api
    httpx.post(f"{url}/v1/events", json=GROOMING, headers=_auth(create_key(store.engine, "p", ["ingest"])))
    key = create_key(store.engine, "r", ["review"])
    kid = httpx.get(f"{url}/v1/users/kid/age", headers=_auth(key)).json()
    assert kid["declared_age"] == 13 and kid["likely_minor"] and kid["p_minor"] > 0.5
    assert httpx.get(f"{url}/v1/users/nobody/age", headers=_auth(key)).status_code == 404


class _Receiver(BaseHTTPRequestHandler):
    """A platform's webhook endpoint that fails its first call and accepts the rest."""

    received: list[tuple[dict[str, str], bytes]] = []
    calls = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        type(self).calls += 1
        body = self.rfile.read(int(self.headers["content-length"]))
        if type(self).calls == 1:
            self.send_response(503)
        else:
            type(self).received.append((dict(self.headers), body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_decision_webhooks_are_signed_and_retried_from_the_outbox(database_url: str) -> None:
    receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    secret = b"shared-secret"
    settings = WebhookSettings(f"http://127.0.0.1:{receiver.server_port}/hook", secret, interval_seconds=0.05, backoff=Backoff(0.05, 0.2, 0.5))
    store = Store(database_url)
    try:
        with running(create_app(store, webhooks=settings)) as url:
            key = create_key(store.engine, "p", ["ingest"])
            acting = [d for d in httpx.post(f"{url}/v1/events", json=GROOMING, headers=_auth(key)).json()["decisions"] if d["actions"] != ["allow"]]
            assert acting
            deadline = time.time() + 20
            while len(_Receiver.received) < len(acting) and time.time() < deadline:
                time.sleep(0.05)
    finally:
        receiver.shutdown()
    assert _Receiver.calls == len(acting) + 1  # the first failed and was retried
    delivered = {}
    for headers, body in _Receiver.received:
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Trygg-Signature"], expected)
        payload = json.loads(body)
        assert headers["X-Trygg-Kind"] == payload["type"] == "decision"
        delivered[payload["event_id"]] = payload
    assert set(delivered) == {d["event_id"] for d in acting}
    assert all(delivered[d["event_id"]].get("case_id") == d.get("case_id") for d in acting)


def test_a_nul_character_is_refused_where_it_cannot_be_kept_and_never_fails_the_server(api) -> None:
    """PostgreSQL keeps no NUL (U+0000) in a text column: an identifier or a URL holding one is
    refused (4xx) on every database, and nothing answers 500. Message text may hold one (it is
    analysed, and only its hash is kept), and so may a note (kept in JSON, which escapes it)."""
    url, store = api
    admin = _auth(create_key(store.engine, "root", ["admin"]))
    decisions = httpx.post(f"{url}/v1/events", json=GROOMING, headers=admin).json()["decisions"]
    case_id = next(d["case_id"] for d in decisions if "case_id" in d)

    for field in ("event_id", "conversation_id", "sender_id", "recipient_id"):
        refused = httpx.post(f"{url}/v1/events", json=[{**MSG, "event_id": "n1", field: "n\x001"}], headers=admin)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, refused.text
    relationship = {"type": "relationship", "event_id": "r1", "user_id": "p", "other_id": "k\x00", "relationship": "parent"}
    assert httpx.post(f"{url}/v1/events", json=relationship, headers=admin).status_code == 422
    report = {"type": "report", "event_id": "rp1", "reporter_id": "kid", "reported_id": "adult", "conversation_id": "c\x001", "reason": "grooming"}
    assert httpx.post(f"{url}/v1/events", json=report, headers=admin).status_code == 422
    said = httpx.post(f"{url}/v1/events", json=dict(MSG, event_id="n2", text="hej\x00 hej"), headers=admin)
    assert said.status_code == 200 and [d["event_id"] for d in said.json()["decisions"]] == ["n2"]

    for path in ("/v1/conversations/c%001", "/v1/users/k%00id/age", "/v1/cases/k-%00", "/v1/cases?offender_id=a%00", "/v1/nowhere%00"):
        assert 400 <= httpx.get(url + path, headers=admin).status_code < 500, path
    for body in (
        {"action": "restrict_account", "note": "restrict", "restriction": "no\x00pe"},
        {"action": "escalate", "note": "evidence", "evidence": [{"event_id": "g\x005", "text": "send me a pic of you"}]},
    ):
        acted = httpx.post(f"{url}/v1/cases/{case_id}/actions", json=body, headers=admin)
        assert acted.status_code == 422, acted.text
    assert httpx.post(f"{url}/v1/take-it-down", json={"md5": "\x00" * 32}, headers=admin).status_code == 422
    with store.engine.connect() as connection:  # the server went on recording calls
        assert connection.execute(text("SELECT count(*) FROM api_audit WHERE status >= 500")).scalar_one() == 0
    assert httpx.get(f"{url}/v1/cases/{case_id}", headers=admin).json()["status"] == "open"
    noted = httpx.post(f"{url}/v1/cases/{case_id}/actions", json={"action": "dismiss", "note": "no\x00te"}, headers=admin)
    assert noted.status_code == 200 and noted.json()["case"]["status"] == "dismissed"
    assert httpx.get(f"{url}/v1/cases/{case_id}", headers=admin).json()["history"][-1]["detail"]["note"] == "no\x00te"
