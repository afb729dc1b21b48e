"""Schema-driven fuzzing of the API (schemathesis): no input the OpenAPI schema describes makes
the server fail. Bounded: a few dozen examples per operation, over a real socket. The
operations are driven with hypothesis directly (schemathesis' pytest plugin is not needed)."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install schemathesis)")
from hypothesis import HealthCheck, given, settings  # noqa: E402

from live_server import running  # noqa: E402
from trygg.api.app import create_app  # noqa: E402
from trygg.api.keys import create_key  # noqa: E402
from trygg.ratelimit import RateLimit  # noqa: E402
from trygg.cases.vault import Keyring  # noqa: E402
from trygg.store.repository import Store  # noqa: E402

EXAMPLES_PER_OPERATION = 30


def test_no_operation_answers_with_a_server_error(database_url: str) -> None:
    store = Store(database_url)
    headers = {"Authorization": f"Bearer {create_key(store.engine, 'fuzz', ['admin'])}"}
    with running(create_app(store, keyring=Keyring.generate(), rate_limit=RateLimit(rate=10_000, burst=10_000))) as url:
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 8
        failures: list[str] = []
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def check(case) -> None:  # type: ignore[no-untyped-def]
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} body={str(case.body)[:200]}: {response.status_code} {response.text[:300]}")

            check()
        assert not failures, "\n".join(failures[:10])
    assert store.counts()["events"] > 0  # the schema made real events, not only rejects
