"""Webhook delivery from the persisted outbox, in a background thread of the API process.

Deliveries are HMAC-signed (``X-Trygg-Signature: sha256=<hex>`` over the body, by
:func:`trygg.cases.outbox.webhook_sender`) and retried with exponential backoff and jitter by
the outbox itself; this module only runs :func:`trygg.cases.outbox.deliver_due` every few
seconds while the server runs. Because the rows are in the database, a restart loses nothing:
the next process delivers what the last one left.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine as SqlEngine

from trygg.cases.sink import KIND_DECISION
from trygg.cases import outbox
from trygg.cases.service import KIND_ACCOUNT_RESTRICTED

log = logging.getLogger("trygg.webhooks")

#: Outbox kinds the platform's webhook receives.
WEBHOOK_KINDS = (KIND_DECISION, KIND_ACCOUNT_RESTRICTED)


@dataclass(frozen=True)
class WebhookSettings:
    """Where to deliver, the HMAC secret, how often to look, and the retry schedule."""

    url: str
    secret: bytes | None = None
    interval_seconds: float = 2.0
    backoff: outbox.Backoff = field(default_factory=outbox.Backoff)


class WebhookWorker:
    """Delivers due outbox rows of the webhook kinds until stopped."""

    def __init__(self, database: SqlEngine, settings: WebhookSettings) -> None:
        self.database = database
        self.settings = settings
        send = outbox.webhook_sender(settings.url, settings.secret)
        self._handlers = {kind: send for kind in WEBHOOK_KINDS}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> outbox.RunResult:
        return outbox.deliver_due(self.database, self._handlers, backoff=self.settings.backoff)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                result = self.run_once()
                if result.failed or result.dead:
                    log.warning("webhooks: %d delivered, %d failed, %d dead", result.delivered, result.failed, result.dead)
            except Exception:  # noqa: BLE001 - a database hiccup must not end deliveries for good
                log.exception("webhook delivery run failed")
            self._stop.wait(self.settings.interval_seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="trygg-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
