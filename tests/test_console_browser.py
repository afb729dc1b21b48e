"""The review console in a real headless browser (Debian chromium driven by Playwright).

The demo service runs under uvicorn on 127.0.0.1 over a temporary SQLite database. Skipped, with
the reason, when chromium or the playwright package is absent.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest

from live_server import running

CHROMIUM = os.environ.get("TRYGG_TEST_CHROMIUM", "/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed (pip install playwright)")
if not Path(CHROMIUM).is_file():
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium): browser tests skipped", allow_module_level=True)


@pytest.fixture
def demo(tmp_path: Path, database_url: str):
    from trygg.demo.serve import build_demo

    service = build_demo(tmp_path, database_url)
    with running(service.app) as url:
        yield url, service


@pytest.fixture
def page(demo):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
        yield context.new_page()
        context.close()
        browser.close()


def _sign_in(page, url: str, service) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/console/")
    page.fill("input[name=reviewer_id]", service.reviewer_id)
    page.fill("input[name=password]", service.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/console/queue")


def test_sign_in_open_the_top_case_see_evidence_act_and_find_it_audited(demo, page) -> None:
    url, service = demo
    page.goto(f"{url}/console/queue")
    assert page.url.endswith("/console/login")  # no session: sent to sign in
    page.fill("input[name=reviewer_id]", service.reviewer_id)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert page.locator(".error").is_visible()
    _sign_in(page, url, service)

    session = next(c for c in page.context.cookies() if c["name"] == "trygg_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"

    top = page.locator("a.case-link").first
    case_id = top.inner_text()
    top.click()
    page.wait_for_url(f"{url}/console/cases/{case_id}")
    marks = page.locator("mark.evidence")
    assert marks.count() >= 3
    # The highlighted words are the spans of the case's reasons, cut from the messages' text.
    highlighted = " ".join(marks.all_inner_texts()).lower()
    assert "old are you" in highlighted or "mature" in highlighted

    page.fill("textarea[name=note]", "")
    page.check("input[value=restrict_account]")
    page.fill("textarea[name=note]", "asks a 13-year-old her age, then to keep it secret")
    page.click("form.act button[type=submit]")
    page.wait_for_url(f"{url}/console/cases/{case_id}?done=1")
    audit_rows = page.locator("table.audit tbody tr")
    trail = " | ".join(audit_rows.all_inner_texts())
    assert "case.restrict_account" in trail and "asks a 13-year-old her age, then to keep it secret" in trail
    assert service.reviewer_id in trail


def test_media_is_blurred_until_revealed(demo, page) -> None:
    url, service = demo
    _sign_in(page, url, service)
    page.locator("a.case-link").first.click()
    media = page.locator(".media-tile .media-content").first
    assert "blur" in media.evaluate("e => getComputedStyle(e).filter") and "grayscale" in media.evaluate("e => getComputedStyle(e).filter")
    reveal = page.locator("button.reveal").first
    reveal.click()
    sync_api.expect(media).to_have_css("filter", "none")  # waits out the short transition
    assert reveal.get_attribute("aria-pressed") == "true"
    reveal.click()
    sync_api.expect(media).to_have_css("filter", "blur(24px) grayscale(1)")


def test_the_language_toggle_switches_to_swedish(demo, page) -> None:
    url, service = demo
    _sign_in(page, url, service)
    assert page.locator("h1").inner_text() == "Review queue"
    page.click("a[lang=sv]")
    page.wait_for_url(f"{url}/console/queue")
    assert page.locator("h1").inner_text() == "Granskningskö"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_screenshot_of_the_case_page(demo, page, tmp_path: Path) -> None:
    url, service = demo
    _sign_in(page, url, service)
    page.locator("a.case-link").first.click()
    page.locator("mark.evidence").first.wait_for()
    shot = tmp_path / "case-page.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    width, height = _png_size(data)
    assert width >= 1000 and height >= 900
    # Non-trivial: a blank page compresses to almost nothing; a rendered case page does not.
    assert len(data) > 30_000
    assert len(zlib.compress(data)) > 20_000
    keep = os.environ.get("TRYGG_TEST_SCREENSHOT")
    if keep:  # to look at it: TRYGG_TEST_SCREENSHOT=/tmp/case.png pytest ...
        Path(keep).write_bytes(data)
