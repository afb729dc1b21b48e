"""The review console over a real socket with httpx (the browser tests drive it in chromium):
sign-in, CSRF, the evidence permission, notes, cookies, logout, languages, the reviewer CLI."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from live_server import running
from trygg.cases.permissions import add_reviewer
from trygg.demo.serve import build_demo
from trygg.web import ConsoleSettings, i18n
from trygg.web.auth import create_reviewer
from trygg.web.views import Segment, highlight


@pytest.fixture
def demo(tmp_path: Path, database_url: str):
    service = build_demo(tmp_path, database_url)
    with running(service.app) as url:
        yield url, service


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]*)"', html).group(1)  # type: ignore[union-attr]


def _sign_in(url: str, reviewer_id: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url)
    page = client.get("/console/login")
    response = client.post("/console/login", data={"reviewer_id": reviewer_id, "password": password, "csrf": _csrf(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/console/queue", response.text
    return client


def _top_case(client: httpx.Client) -> str:
    return re.search(r'href="/console/cases/(k-[0-9a-f]+)"', client.get("/console/queue").text).group(1)  # type: ignore[union-attr]


def _audit_actions(service, case_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    with service.app.state.store.engine.connect() as connection:
        return [row[0] for row in connection.execute(text("select action from audit_log where subject = :s order by seq"), {"s": f"case:{case_id}"})]


def test_highlight_cuts_merges_and_clips_spans() -> None:
    reasons = [{"signal": "a", "span": [0, 5]}, {"signal": "b", "span": [3, 8]}, {"signal": "c", "span": [40, 99]}, {"signal": "d"}]
    assert highlight("hello world", reasons) == [Segment("hel", ("a",)), Segment("lo", ("a", "b")), Segment(" wo", ("b",)), Segment("rld", ())]
    assert highlight("hi", []) == [Segment("hi", ())]


def test_catalogues_have_the_same_keys_and_accept_language_picks_one() -> None:
    assert set(i18n.catalogue("en")) == set(i18n.catalogue("sv"))
    assert i18n.from_accept_language("de-DE,sv;q=0.8,en;q=0.5") == "sv"
    assert i18n.from_accept_language("en;q=0.2, sv-SE;q=0.9") == "sv"
    assert i18n.from_accept_language("fr, de") is None
    assert i18n.choose("en", "sv", "sv") == "en"  # the toggle wins
    assert i18n.choose(None, None, "sv-FI") == "sv"


def test_pages_need_a_session_and_a_wrong_password_is_refused(demo) -> None:
    url, service = demo
    for path in ("/console/queue", f"/console/cases/{'k-' + '0' * 16}"):
        response = httpx.get(url + path)
        assert response.status_code == 303 and response.headers["location"] == "/console/login"
    client = httpx.Client(base_url=url)
    page = client.get("/console/login")
    wrong = client.post("/console/login", data={"reviewer_id": service.reviewer_id, "password": "nope", "csrf": _csrf(page.text)})
    assert wrong.headers["location"] == "/console/login?failed=1" and "trygg_session" not in wrong.cookies
    no_csrf = httpx.post(f"{url}/console/login", data={"reviewer_id": service.reviewer_id, "password": service.password, "csrf": "forged"})
    assert no_csrf.status_code == 403 and "trygg_session" not in no_csrf.cookies


def test_session_cookie_flags_and_the_secure_setting(demo, new_database_url: Callable[[], str]) -> None:
    url, service = demo
    client = httpx.Client(base_url=url)
    page = client.get("/console/login")
    response = client.post("/console/login", data={"reviewer_id": service.reviewer_id, "password": service.password, "csrf": _csrf(page.text)})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie  # plain http here
    from trygg.api.app import create_app
    from trygg.store.repository import Store

    store = Store(new_database_url())
    create_reviewer(store.engine, "test", "anna", ["viewer"], "correct horse battery")
    with running(create_app(store, console=ConsoleSettings(secure_cookies=True))) as secure_url:
        page = httpx.get(f"{secure_url}/console/login")
        assert "secure" in page.headers["set-cookie"].lower()
        signed = httpx.post(
            f"{secure_url}/console/login",
            data={"reviewer_id": "anna", "password": "correct horse battery", "csrf": _csrf(page.text)},
            headers={"cookie": f"trygg_login_csrf={page.cookies['trygg_login_csrf']}"},  # a client over http would not send a Secure cookie
        )
        assert "secure" in signed.headers["set-cookie"].lower()
    with store.engine.connect() as connection:
        stored = connection.execute(text("select password_hash from console_credentials")).scalar()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


def test_actions_need_the_sessions_csrf_token_and_a_note(demo) -> None:
    url, service = demo
    client = _sign_in(url, service.reviewer_id, service.password)
    case_id = _top_case(client)
    before = _audit_actions(service, case_id)
    forged = client.post(f"/console/cases/{case_id}/act", data={"action": "dismiss", "note": "x", "csrf": "forged"})
    assert forged.status_code == 403
    token = _csrf(client.get(f"/console/cases/{case_id}").text)
    no_note = client.post(f"/console/cases/{case_id}/act", data={"action": "dismiss", "note": "  ", "csrf": token})
    assert no_note.status_code == 400 and "A note is required" in no_note.text
    assert [a for a in _audit_actions(service, case_id) if a.startswith("case.")] == [a for a in before if a.startswith("case.")]
    done = client.post(f"/console/cases/{case_id}/act", data={"action": "dismiss", "note": "a coach's planning chat", "csrf": token})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=1")
    assert "case.dismiss" in _audit_actions(service, case_id)
    page = client.get(f"/console/cases/{case_id}").text
    assert "a coach&#39;s planning chat" in page and "dismissed" in page


def test_evidence_needs_its_own_permission_checked_on_every_request(demo) -> None:
    url, service = demo
    store = service.app.state.store
    create_reviewer(store.engine, "test", "vera", ["reviewer"], "correct horse battery")
    viewer = _sign_in(url, "vera", "correct horse battery")
    specialist = _sign_in(url, service.reviewer_id, service.password)
    case_id = _top_case(specialist)
    shown = specialist.get(f"/console/cases/{case_id}").text
    assert "<mark" in shown and "how old are you" in shown
    hidden = viewer.get(f"/console/cases/{case_id}").text
    assert "<mark" not in hidden and "how old are you" not in hidden and "permission to view child-safety evidence" in hidden
    assert 'value="restrict_account"' in hidden and 'value="prepare_report"' not in hidden  # a report reads evidence
    assert "demo-media.svg" not in hidden and "demo-media.svg" in shown  # media is not loaded without the permission
    # Granting the permission takes effect at the next request, without signing in again.
    with Session(store.engine) as session, session.begin():
        add_reviewer(session, "test", "vera", ["specialist"])
    assert "<mark" in viewer.get(f"/console/cases/{case_id}").text
    views = [a for a in _audit_actions(service, case_id) if a == "evidence.view"]
    assert len(views) == 2  # each read of the vault is audited, one per page that showed it


def test_evidence_text_is_escaped(demo) -> None:
    url, service = demo
    from trygg.cases.permissions import Reviewer
    from trygg.cases.vault import EvidenceItem

    from trygg.events import ParsedLine, parse_event

    app_service, ingest = service.app.state.service, service.app.state.ingest

    events = [
        {"type": "account", "user_id": "k2", "declared_age": 12},
        {"type": "account", "user_id": "a2", "declared_age": 40},
    ] + [
        {"type": "message", "event_id": f"x{i}", "conversation_id": "cx", "sender_id": "a2", "recipient_id": "k2", "text": t}
        for i, t in enumerate(["how old are you?", "<script>alert(1)</script> send me a pic of you", "don't tell your parents"])
    ]
    _, answers = ingest([ParsedLine(i, event=parse_event(e)) for i, e in enumerate(events)])
    case_id = next(a["case_id"] for a in answers if "case_id" in a)
    evidence = [EvidenceItem(event_id=e["event_id"], conversation_id="cx", sender_id="a2", text=e["text"]) for e in events[2:]]
    app_service.escalate(Reviewer("p", frozenset({"admin"})), case_id, "platform copy", evidence)
    page = _sign_in(url, service.reviewer_id, service.password).get(f"/console/cases/{case_id}").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_logout_ends_the_session(demo) -> None:
    url, service = demo
    client = _sign_in(url, service.reviewer_id, service.password)
    token = _csrf(client.get("/console/queue").text)
    cookie = client.cookies["trygg_session"]
    assert client.post("/console/logout", data={"csrf": token}).status_code == 303
    stale = httpx.get(f"{url}/console/queue", cookies={"trygg_session": cookie})
    assert stale.status_code == 303 and stale.headers["location"] == "/console/login"


def test_languages_by_header_and_toggle(demo) -> None:
    url, service = demo
    client = _sign_in(url, service.reviewer_id, service.password)
    assert "<h1>Granskningskö</h1>" in client.get("/console/queue", headers={"accept-language": "sv-SE,sv;q=0.9"}).text
    client.get("/console/lang/en?next=/console/queue")
    assert "<h1>Review queue</h1>" in client.get("/console/queue", headers={"accept-language": "sv"}).text
    assert client.get("/console/lang/en?next=https://evil.example/").headers["location"] == "/console/queue"


def test_reviewer_cli_creates_an_account_that_can_sign_in(demo) -> None:
    from typer.testing import CliRunner

    from trygg.cli import app

    url, service = demo
    result = CliRunner().invoke(app, ["reviewer", "create", "olle", "--role", "viewer", "--password-stdin", "--db", service.database_url], input="correct horse battery\n")
    assert result.exit_code == 0 and "cases:read" in result.output
    client = _sign_in(url, "olle", "correct horse battery")
    assert client.get("/console/queue").status_code == 200
    short = CliRunner().invoke(app, ["reviewer", "create", "kim", "--role", "viewer", "--password-stdin", "--db", service.database_url], input="short\n")
    assert short.exit_code == 2
    bad_role = CliRunner().invoke(app, ["reviewer", "create", "kim", "--role", "boss", "--password-stdin", "--db", service.database_url], input="correct horse battery\n")
    assert bad_role.exit_code == 2


def test_a_fresh_server_process_creates_the_console_tables(database_url: str) -> None:
    """In a new process (nothing imported yet), create_app alone sets up what sign-in needs."""
    import os
    import subprocess
    import sys

    url = database_url
    code = (
        "import sys; from sqlalchemy import inspect; from trygg.api.app import create_app; from trygg.store.repository import Store;"
        "s = Store(sys.argv[1]); create_app(s); print(sorted(inspect(s.engine).get_table_names()))"
    )
    src = str(Path(__file__).resolve().parents[1] / "src")
    out = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": src}).stdout
    assert "console_sessions" in out and "console_credentials" in out and "cases" in out and "outbox" in out


def test_a_viewer_reads_cases_but_is_offered_no_actions_and_cannot_post_one(demo) -> None:
    url, service = demo
    create_reviewer(service.app.state.store.engine, "test", "vic", ["viewer"], "correct horse battery")
    client = _sign_in(url, "vic", "correct horse battery")
    case_id = _top_case(client)
    page = client.get(f"/console/cases/{case_id}").text
    assert 'class="act"' not in page and "case.open" in page
    refused = client.post(f"/console/cases/{case_id}/act", data={"action": "dismiss", "note": "not mine to do", "csrf": _csrf(page)})
    assert refused.status_code == 403
    assert "permission.denied" in _audit_actions(service, case_id) and "case.dismiss" not in _audit_actions(service, case_id)


def test_sign_in_attempts_per_reviewer_are_limited(demo) -> None:
    url, service = demo
    client = httpx.Client(base_url=url)
    statuses = []
    for _ in range(10):
        page = client.get("/console/login")
        statuses.append(client.post("/console/login", data={"reviewer_id": service.reviewer_id, "password": "guess", "csrf": _csrf(page.text)}).status_code)
    assert statuses == [303] * 10
    page = client.get("/console/login")
    throttled = client.post("/console/login", data={"reviewer_id": service.reviewer_id, "password": service.password, "csrf": _csrf(page.text)})
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1 and "trygg_session" not in throttled.cookies
    # other accounts keep their own budget
    create_reviewer(service.app.state.store.engine, "test", "other", ["viewer"], "correct horse battery")
    assert _sign_in(url, "other", "correct horse battery").get("/console/queue").status_code == 200


def test_a_nul_character_in_a_sign_in_a_note_or_a_url_never_fails_the_server(demo) -> None:
    """PostgreSQL keeps no NUL in a text column: a reviewer id holding one is no reviewer, a URL
    holding one is a bad request, and a note may hold one (it is kept in JSON, escaped)."""
    url, service = demo
    client = httpx.Client(base_url=url)
    page = client.get("/console/login")
    nul_id = client.post("/console/login", data={"reviewer_id": service.reviewer_id + "\x00", "password": service.password, "csrf": _csrf(page.text)})
    assert nul_id.status_code == 303 and nul_id.headers["location"] == "/console/login?failed=1" and "trygg_session" not in nul_id.cookies
    signed = _sign_in(url, service.reviewer_id, service.password)
    assert signed.get("/console/cases/k-%00").status_code == 400
    case_id = _top_case(signed)
    page = signed.get(f"/console/cases/{case_id}").text
    acted = signed.post(f"/console/cases/{case_id}/act", data={"action": "dismiss", "note": "not\x00 this one", "csrf": _csrf(page)})
    assert acted.status_code == 303, acted.text
    assert "case.dismiss" in _audit_actions(service, case_id)
