"""The batch writer bypasses SQLAlchemy's per-row machinery: what it stores must read back through
SQLAlchemy exactly as if SQLAlchemy had written it (datetimes with their instant, JSON as JSON),
on SQLite and PostgreSQL, and upserts must replace state rather than duplicate it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from trygg.decision import Decision
from trygg.events import MessageEvent
from trygg.store.repository import Store
from trygg.store.tables import ConversationRow, DecisionRow, EventRow, UserRow


@pytest.fixture
def store(database_url: str) -> Store:
    return Store(database_url)


def _message(event_id: str, sent_at: datetime | None) -> MessageEvent:
    return MessageEvent(
        type="message", event_id=event_id, conversation_id="c1", sender_id="a", recipient_id="b", text="hej", sent_at=sent_at
    )


def test_rows_read_back_as_written(store: Store) -> None:
    sent = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=timezone.utc)
    state = {"risk": 0.25, "nested": {"list": [1, 2.5, "å"], "none": None}, "first_alert_event_id": "e1"}
    decision = Decision("e1", ("warn_recipient",), 0.7, ({"signal": "secrecy", "span": [0, 3]},), "default@1", "c1")
    store.write_batch([_message("e1", sent), _message("e2", None)], [decision], {"c1": state}, {"a": {"declared": 13}})

    with store.engine.connect() as connection:
        events = {row.event_id: row for row in connection.execute(select(EventRow))}
        conversation = connection.execute(select(ConversationRow)).one()
        user = connection.execute(select(UserRow)).one()
        stored_decision = connection.execute(select(DecisionRow)).one()
    assert set(events) == {"e1", "e2"}
    assert events["e1"].sent_at.replace(tzinfo=timezone.utc) == sent
    assert events["e2"].sent_at is None
    assert events["e1"].ingested_at is not None and events["e1"].ingested_at == events["e2"].ingested_at
    assert conversation.state == state and conversation.risk == 0.25 and conversation.flagged == 1
    assert user.age_picture == {"declared": 13}
    assert stored_decision.actions == ["warn_recipient"] and stored_decision.reasons == [{"signal": "secrecy", "span": [0, 3]}]
    assert stored_decision.decided_at == events["e1"].ingested_at


def test_state_is_upserted_and_known_events_are_skipped(store: Store) -> None:
    store.write_batch([_message("e1", None)], [], {"c1": {"risk": 0.1}}, {})
    store.write_batch([_message("e1", None), _message("e3", None)], [], {"c1": {"risk": 0.9}}, {})

    assert store.counts()["events"] == 2
    assert store.counts()["conversations"] == 1
    assert store.load_conversations(["c1"]) == {"c1": {"risk": 0.9}}
    assert store.known_event_ids(["e1", "e3", "e4"]) == {"e1", "e3"}
