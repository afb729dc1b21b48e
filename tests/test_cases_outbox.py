"""The outbox: deliveries to a real local HTTP server that fails at first, backoff, dead rows,
and nothing lost across a restart."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cases_fixtures import db_engine  # noqa: F401  (fixture)
from sqlalchemy.orm import Session

from trygg.cases import outbox
from trygg.cases.outbox import Backoff, deliver_due, enqueue, webhook_sender
from trygg.cases.tables import OutboxRow
from trygg.store.base import make_engine

T0 = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)


class FlakyReceiver:
    """An HTTP server on 127.0.0.1 that answers 503 to the first ``failures`` requests."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k: v for k, v in self.headers.items()}, body))
                status = 503 if len(receiver.requests) <= receiver.failures else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory():  # type: ignore[no-untyped-def]
    made: list[FlakyReceiver] = []

    def make(failures: int) -> FlakyReceiver:
        made.append(FlakyReceiver(failures))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def _row(engine, row_id: int) -> OutboxRow:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        row = session.get(OutboxRow, row_id)
        session.expunge(row)
        return row


def _enqueue(engine, payload, **kwargs) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session, session.begin():
        return enqueue(session, "account_restricted", payload, at=T0, **kwargs)


def test_delivers_after_failures_with_backoff(db_engine, receiver_factory) -> None:  # noqa: F811
    receiver = receiver_factory(failures=2)
    row_id = _enqueue(db_engine, {"user_id": "u9", "restriction": "no_minor_contact"})
    backoff = Backoff(base_seconds=10, cap_seconds=1000, jitter=0.5)
    handlers = {"account_restricted": webhook_sender(receiver.url, secret=b"s3cret")}
    now = T0
    waits = []
    for attempt in (1, 2):
        result = deliver_due(db_engine, handlers, now=now, backoff=backoff, rng=random.Random(attempt))
        assert (result.delivered, result.failed, result.dead) == (0, 1, 0)
        row = _row(db_engine, row_id)
        assert row.status == "pending" and row.attempts == attempt and "HTTP 503" in row.last_error
        wait = (row.next_attempt_at.replace(tzinfo=timezone.utc) - now).total_seconds()
        low, high = backoff.bounds(attempt)
        assert low <= wait <= high
        waits.append(wait)
        # Not due yet: nothing is sent.
        assert deliver_due(db_engine, handlers, now=now + timedelta(seconds=low / 2), backoff=backoff) == outbox.RunResult()
        now = now + timedelta(seconds=wait)
    assert backoff.bounds(2) == (10.0, 20.0)
    result = deliver_due(db_engine, handlers, now=now, backoff=backoff)
    assert result.delivered == 1
    row = _row(db_engine, row_id)
    assert row.status == "delivered" and row.attempts == 3 and row.last_error is None
    assert len(receiver.requests) == 3
    headers, body = receiver.requests[-1]
    assert json.loads(body) == {"user_id": "u9", "restriction": "no_minor_contact"}
    assert headers["X-Trygg-Delivery"] == str(row_id) and headers["X-Trygg-Kind"] == "account_restricted"
    assert headers["X-Trygg-Signature"] == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    # Delivered rows are not sent again.
    assert deliver_due(db_engine, handlers, now=now + timedelta(days=1)).delivered == 0
    assert len(receiver.requests) == 3


def test_max_attempts_leads_to_dead_and_retry_revives(db_engine, receiver_factory) -> None:  # noqa: F811
    receiver = receiver_factory(failures=3)
    row_id = _enqueue(db_engine, {"n": 1}, max_attempts=3)
    handlers = {"account_restricted": webhook_sender(receiver.url)}
    now = T0
    outcomes = []
    for _ in range(3):
        outcomes.append(deliver_due(db_engine, handlers, now=now))
        now += timedelta(days=1)
    assert [(r.failed, r.dead) for r in outcomes] == [(1, 0), (1, 0), (0, 1)]
    row = _row(db_engine, row_id)
    assert row.status == "dead" and row.attempts == 3 and "503" in row.last_error
    assert deliver_due(db_engine, handlers, now=now).delivered == 0
    with Session(db_engine) as session, session.begin():
        outbox.retry_dead(session, row_id, at=now)
        with pytest.raises(ValueError, match="not dead"):
            outbox.retry_dead(session, row_id)
    assert deliver_due(db_engine, handlers, now=now).delivered == 1
    assert len(receiver.requests) == 4


def test_a_restart_loses_nothing(db_engine, receiver_factory) -> None:  # noqa: F811
    receiver = receiver_factory(failures=0)
    url = db_engine.url.render_as_string(hide_password=False)
    ids = [_enqueue(db_engine, {"n": n}) for n in range(3)]

    def crash(delivery: outbox.Delivery) -> None:
        raise SystemExit("process killed mid-delivery")  # not an Exception: the run dies here

    with pytest.raises(SystemExit):
        deliver_due(db_engine, {"account_restricted": crash}, now=T0, limit=1)
    db_engine.dispose()
    restarted = make_engine(url)  # a new process: nothing in memory
    handlers = {"account_restricted": webhook_sender(receiver.url)}
    # The claimed row waits out its lease; the other two go at once.
    assert deliver_due(restarted, handlers, now=T0).delivered == 2
    assert deliver_due(restarted, handlers, now=T0 + outbox.DEFAULT_LEASE).delivered == 1
    assert sorted(json.loads(body)["n"] for _, body in receiver.requests) == [0, 1, 2]
    assert all(_row(restarted, i).status == "delivered" for i in ids)
    restarted.dispose()


def test_unreachable_receiver_and_kinds_without_a_handler(db_engine, receiver_factory) -> None:  # noqa: F811
    receiver = receiver_factory(failures=0)
    closed_url = receiver.url
    receiver.close()
    row_id = _enqueue(db_engine, {"n": 1})
    with Session(db_engine) as session, session.begin():
        other = enqueue(session, "report", {"case_id": "k-1"}, at=T0)
    assert deliver_due(db_engine, {"account_restricted": webhook_sender(closed_url, timeout=2)}, now=T0).failed == 1
    assert "could not reach" in _row(db_engine, row_id).last_error
    assert _row(db_engine, other).attempts == 0  # left for a process that delivers reports


def test_dedupe_key_keeps_one_delivery(db_engine) -> None:  # noqa: F811
    first = _enqueue(db_engine, {"case_id": "k-1"}, dedupe_key="report:k-1")
    assert _enqueue(db_engine, {"case_id": "k-1"}, dedupe_key="report:k-1") == first
    with Session(db_engine) as session:
        assert len(outbox.pending(session)) == 1
    with Session(db_engine) as session, session.begin():
        with pytest.raises(TypeError):
            enqueue(session, "x", {"bad": object()})
        with pytest.raises(ValueError, match="max_attempts"):
            enqueue(session, "x", {}, max_attempts=0)


def test_backoff_bounds() -> None:
    backoff = Backoff(base_seconds=30, cap_seconds=600, jitter=0.25)
    assert [backoff.bounds(n)[1] for n in range(1, 8)] == [30, 60, 120, 240, 480, 600, 600]
    rng = random.Random(7)
    for attempt in range(1, 12):
        low, high = backoff.bounds(attempt)
        assert low == pytest.approx(high * 0.75)
        assert all(low <= backoff.wait(attempt, rng) <= high for _ in range(50))
    with pytest.raises(ValueError):
        Backoff(base_seconds=0)
    with pytest.raises(ValueError):
        Backoff(jitter=1.5)


def test_cli_delivers_account_restrictions(db_engine, receiver_factory, monkeypatch) -> None:  # noqa: F811
    from typer.testing import CliRunner

    from trygg.cli import app

    receiver = receiver_factory(failures=1)
    _enqueue(db_engine, {"user_id": "u9"})
    url = db_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("HOOK_SECRET", "k")
    runner = CliRunner()
    first = runner.invoke(app, ["outbox", "deliver", "--db", url, "--url", receiver.url, "--secret-env", "HOOK_SECRET"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {"delivered": 0, "failed": 1, "dead": 0}
    with Session(db_engine) as session, session.begin():
        (row,) = outbox.pending(session)
        row.next_attempt_at = T0  # due again now
    second = runner.invoke(app, ["outbox", "deliver", "--db", url, "--url", receiver.url, "--secret-env", "HOOK_SECRET"])
    assert json.loads(second.output) == {"delivered": 1, "failed": 0, "dead": 0}
    headers, body = receiver.requests[-1]
    assert headers["X-Trygg-Signature"] == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert runner.invoke(app, ["outbox", "deliver", "--db", url, "--url", receiver.url, "--secret-env", "UNSET_VAR_X"]).exit_code == 2
