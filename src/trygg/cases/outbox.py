"""A persisted outbox: deliveries (webhooks, report submissions) that survive restarts.

A change that must be told to someone else is written as an outbox row in the same
transaction as the change itself (:func:`enqueue`), so it is never lost nor sent for a change
that rolled back. :func:`deliver_due` later hands each due row to the delivery function of its
``kind``. Delivery is at least once: a row is claimed by moving its next attempt a lease ahead
and committing, before the delivery runs, so a process that dies mid-delivery leaves the row
to be tried again once the lease has passed. Receivers should de-duplicate by the ``X-Trygg-
Delivery`` id (``webhook_sender`` sends it).

Failures back off exponentially with jitter (:class:`Backoff`): after attempt ``n`` the wait is
``min(cap, base * 2**(n-1))`` scaled by a random factor in ``[1 - jitter, 1]``, so retries from
many rows do not arrive together and a wait never exceeds the cap. After ``max_attempts``
failures the row is ``dead``: kept, with its last error, for a person to look at and
:func:`retry_dead`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trygg.cases import clock
from trygg.cases.tables import OutboxRow

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
DEFAULT_MAX_ATTEMPTS = 8
#: How long a claimed row is left alone before another run may try it again.
DEFAULT_LEASE = timedelta(minutes=5)
_MAX_ERROR = 2000

#: A delivery function: raises on failure (the message is kept as the row's last error).
Deliver = Callable[["Delivery"], None]


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 30.0
    cap_seconds: float = 6 * 3600.0
    #: Share of the wait that is random: the wait lies in ``[d * (1 - jitter), d]``.
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.base_seconds <= 0 or self.cap_seconds < self.base_seconds:
            raise ValueError("backoff needs 0 < base_seconds <= cap_seconds")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("backoff jitter must be within [0, 1]")

    def bounds(self, attempt: int) -> tuple[float, float]:
        """The (shortest, longest) wait in seconds after failed attempt number ``attempt`` (1-based)."""
        longest = min(self.cap_seconds, self.base_seconds * 2.0 ** max(0, attempt - 1))
        return longest * (1.0 - self.jitter), longest

    def wait(self, attempt: int, rng: random.Random | None = None) -> float:
        low, high = self.bounds(attempt)
        return (rng or random).uniform(low, high)


@dataclass(frozen=True)
class Delivery:
    """What a delivery function gets: the row's id (a stable idempotency key), kind, payload
    and which attempt this is (1-based)."""

    id: int
    kind: str
    payload: Mapping[str, Any]
    attempt: int


@dataclass(frozen=True)
class RunResult:
    delivered: int = 0
    failed: int = 0
    dead: int = 0


def enqueue(
    session: Session,
    kind: str,
    payload: Mapping[str, Any],
    dedupe_key: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    at: datetime | None = None,
) -> int:
    """Add a delivery in the caller's transaction; its id. With ``dedupe_key``, a second
    enqueue of the same key returns the first row's id and adds nothing."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    payload = dict(payload)
    json.dumps(payload)  # fail now, not at commit
    if dedupe_key is not None:
        existing = session.execute(select(OutboxRow.id).where(OutboxRow.dedupe_key == dedupe_key)).scalar_one_or_none()
        if existing is not None:
            return existing
    at = clock.utc(at or clock.now())
    row = OutboxRow(
        kind=kind, dedupe_key=dedupe_key, payload=payload, status=PENDING, attempts=0, max_attempts=max_attempts, next_attempt_at=at, created_at=at
    )
    if dedupe_key is None:
        session.add(row)
        session.flush()
        return row.id
    try:
        with session.begin_nested():  # a concurrent enqueue of the same key may win the race
            session.add(row)
    except IntegrityError:
        return session.execute(select(OutboxRow.id).where(OutboxRow.dedupe_key == dedupe_key)).scalar_one()
    return row.id


def deliver_due(
    engine: Engine,
    handlers: Mapping[str, Deliver],
    now: datetime | None = None,
    backoff: Backoff | None = None,
    limit: int = 100,
    lease: timedelta = DEFAULT_LEASE,
    rng: random.Random | None = None,
) -> RunResult:
    """Deliver up to ``limit`` due rows whose kind has a handler; each outcome committed as it
    comes. Rows of kinds without a handler here are left for a process that has one."""
    backoff = backoff or Backoff()
    now = clock.utc(now or clock.now())
    with Session(engine) as session, session.begin():
        query = (
            select(OutboxRow)
            .where(OutboxRow.status == PENDING, OutboxRow.next_attempt_at <= now, OutboxRow.kind.in_(list(handlers)))
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = []
        for row in session.execute(query).scalars():
            row.attempts += 1
            row.next_attempt_at = now + lease
            claimed.append(Delivery(row.id, row.kind, dict(row.payload), row.attempts))
    delivered = failed = dead = 0
    for delivery in claimed:
        error: str | None = None
        try:
            handlers[delivery.kind](delivery)
        except Exception as exc:  # noqa: BLE001 - any failure of a delivery is recorded, not raised
            error = f"{exc.__class__.__name__}: {exc}"[:_MAX_ERROR]
        with Session(engine) as session, session.begin():
            row = session.get(OutboxRow, delivery.id)
            if row is None:
                continue
            if error is None:
                row.status, row.delivered_at, row.last_error = DELIVERED, now, None
                delivered += 1
            elif row.attempts >= row.max_attempts:
                row.status, row.last_error = DEAD, error
                dead += 1
            else:
                row.last_error = error
                row.next_attempt_at = now + timedelta(seconds=backoff.wait(row.attempts, rng))
                failed += 1
    return RunResult(delivered, failed, dead)


def retry_dead(session: Session, row_id: int, at: datetime | None = None) -> None:
    """Give a dead delivery a fresh set of attempts, due now."""
    row = session.get(OutboxRow, row_id)
    if row is None or row.status != DEAD:
        raise ValueError(f"outbox row {row_id} is not dead")
    row.status, row.attempts, row.next_attempt_at = PENDING, 0, clock.utc(at or clock.now())


def pending(session: Session, status: str = PENDING, kind: str | None = None) -> list[OutboxRow]:
    query = select(OutboxRow).where(OutboxRow.status == status).order_by(OutboxRow.id)
    if kind is not None:
        query = query.where(OutboxRow.kind == kind)
    return list(session.execute(query).scalars())


def webhook_sender(url: str, secret: bytes | None = None, timeout: float = 10.0) -> Deliver:
    """A delivery function that POSTs the payload as JSON to ``url``; any answer but 2xx fails.

    Headers: ``X-Trygg-Delivery`` (the outbox id, for de-duplication), ``X-Trygg-Kind``, and
    with ``secret`` an ``X-Trygg-Signature: sha256=<hex HMAC of the body>`` the receiver checks.
    """

    def send(delivery: Delivery) -> None:
        body = json.dumps(dict(delivery.payload), sort_keys=True, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "X-Trygg-Delivery": str(delivery.id), "X-Trygg-Kind": delivery.kind}
        if secret is not None:
            headers["X-Trygg-Signature"] = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - operator-configured URL
                status = response.status
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"HTTP {exc.code} from {url}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise RuntimeError(f"could not reach {url}: {getattr(exc, 'reason', exc)}") from None
        if not 200 <= status < 300:
            raise RuntimeError(f"HTTP {status} from {url}")

    return send
