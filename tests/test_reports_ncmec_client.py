"""The CyberTipline flow against a fake NCMEC on 127.0.0.1 that fails its first attempts.

The fake is a real HTTP server in a thread (http.server); nothing leaves the machine. It checks
basic auth, validates every XML body against the schema as NCMEC would, and records each call
so the tests can assert the flow's order and that nothing confirmed is sent twice.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

pytest.importorskip("lxml", reason="the reports extra (lxml) is not installed")
pytest.importorskip("httpx", reason="the reports extra (httpx) is not installed")

from sqlalchemy import create_engine, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from trygg.reports import tables  # noqa: E402
from trygg.reports.ncmec import (  # noqa: E402
    ChatIncident,
    ChatMessage,
    ReportFile,
    ReportInput,
    Reporter,
    build_ncmec_report,
    chat_csv,
    chat_log_file,
    validation_errors,
)
from trygg.reports.ncmec_client import (  # noqa: E402
    PRODUCTION_BASE_URL,
    TEST_BASE_URL,
    ConfigError,
    CyberTiplineClient,
    NcmecConfig,
    NcmecError,
    SubmissionQueue,
)

USER, PASSWORD = "esp-test", "s3cret"
WHEN = datetime(2026, 3, 1, 20, 15, tzinfo=timezone.utc)


@dataclass
class FakeNcmec:
    """State of the fake server: scripted failures per endpoint and a log of every call."""

    fail_next: dict[str, int] = field(default_factory=dict)  # endpoint -> 503s still to answer
    fail_upload_of: dict[str, int] = field(default_factory=dict)  # file name -> 503s still to answer
    refuse: dict[str, int] = field(default_factory=dict)  # endpoint -> responseCode to answer with
    calls: list[tuple[str, str]] = field(default_factory=list)  # (endpoint, detail) of accepted calls
    attempts: list[str] = field(default_factory=list)  # every request, failed or not
    uploads: dict[str, bytes] = field(default_factory=dict)
    next_report: int = 1000
    next_file: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(state: FakeNcmec) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:  # keep test output quiet
            pass

        def _answer(self, status: int, body: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._handle(b"")

        def do_POST(self) -> None:  # noqa: N802
            self._handle(self.rfile.read(int(self.headers.get("Content-Length", "0"))))

        def _handle(self, body: bytes) -> None:
            endpoint = self.path.rsplit("/", 1)[-1]
            expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            with state.lock:
                state.attempts.append(endpoint)
                if self.headers.get("Authorization") != expected:
                    return self._answer(401, "<error>unauthorised</error>")
                if state.fail_next.get(endpoint, 0) > 0:
                    state.fail_next[endpoint] -= 1
                    return self._answer(503, "<error>try later</error>")
                if endpoint in state.refuse:
                    code = state.refuse[endpoint]
                    return self._answer(200, f"<reportResponse><responseCode>{code}</responseCode><responseDescription>refused</responseDescription></reportResponse>")
                return self._dispatch(endpoint, body)

        def _form(self, body: bytes) -> dict[str, list[str]]:
            return parse_qs(body.decode("utf-8"))

        def _dispatch(self, endpoint: str, body: bytes) -> None:
            ok = "<responseCode>0</responseCode><responseDescription>Success</responseDescription>"
            if endpoint == "status":
                state.calls.append(("status", ""))
                return self._answer(200, f"<reportResponse>{ok}</reportResponse>")
            if endpoint == "submit":
                errors = validation_errors(body)
                if errors:
                    return self._answer(200, "<reportResponse><responseCode>4000</responseCode><responseDescription>invalid</responseDescription></reportResponse>")
                state.next_report += 1
                report_id = str(state.next_report)
                state.calls.append(("submit", report_id))
                return self._answer(200, f"<reportResponse>{ok}<reportId>{report_id}</reportId></reportResponse>")
            if endpoint == "upload":
                message = BytesParser(policy=HTTP).parsebytes(
                    b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body
                )
                parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
                report_id = parts["id"].get_content().strip()
                data = parts["file"].get_payload(decode=True)
                name = parts["file"].get_filename()
                if state.fail_upload_of.get(name, 0) > 0:
                    state.fail_upload_of[name] -= 1
                    return self._answer(503, "<error>try later</error>")
                state.next_file += 1
                file_id = f"f{state.next_file}"
                state.uploads[file_id] = data
                state.calls.append(("upload", f"{report_id}:{name}"))
                md5 = hashlib.md5(data).hexdigest()  # noqa: S324 - what NCMEC answers
                return self._answer(200, f"<reportResponse>{ok}<reportId>{report_id}</reportId><fileId>{file_id}</fileId><hash>{md5}</hash></reportResponse>")
            if endpoint == "fileinfo":
                if validation_errors(body):
                    return self._answer(200, "<reportResponse><responseCode>4000</responseCode><responseDescription>invalid</responseDescription></reportResponse>")
                from lxml import etree

                root = etree.fromstring(body)
                state.calls.append(("fileinfo", f"{root.findtext('reportId')}:{root.findtext('fileId')}"))
                return self._answer(200, f"<reportResponse>{ok}<reportId>{root.findtext('reportId')}</reportId></reportResponse>")
            if endpoint == "finish":
                report_id = self._form(body)["id"][0]
                state.calls.append(("finish", report_id))
                return self._answer(200, f"<reportDoneResponse>{ok}<reportId>{report_id}</reportId></reportDoneResponse>")
            return self._answer(404, "<error>no such endpoint</error>")

    return Handler


@pytest.fixture
def fake() -> Iterator[tuple[FakeNcmec, str]]:
    state = FakeNcmec()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/ispws"
    finally:
        server.shutdown()
        server.server_close()


def make_client(base_url: str, delays: list[float], attempts: int = 4) -> CyberTiplineClient:
    config = NcmecConfig(username=USER, password=PASSWORD, base_url=base_url, max_attempts=attempts, backoff_base_s=0.5, backoff_max_s=3)
    return CyberTiplineClient(config, sleep=delays.append)


def make_queue(tmp_path: Path, client: CyberTiplineClient, url: str) -> SubmissionQueue:
    engine = create_engine(url)
    return SubmissionQueue(engine, tmp_path / "spool", client)


def sample_report() -> tuple[bytes, list[tuple[ReportFile, bytes]]]:
    messages = (ChatMessage(WHEN, "u2", "u1", "how old r u, send a pic", "e1"), ChatMessage(WHEN, "u1", "u2", "13", "e2"))
    report = ReportInput(
        incident_time=WHEN,
        reporter=Reporter(email="safety@example.org"),
        annotations=("csamSolicitation",),
        chat=ChatIncident(chat_client="Example Chat", content="how old r u, send a pic"),
        messages=messages,
    )
    image = b"\x89PNG not a real image, just bytes"
    image_file = ReportFile(file_name="img.png", md5=hashlib.md5(image).hexdigest(), pdq="a" * 64)  # noqa: S324
    log = chat_log_file(report)
    assert log is not None
    return build_ncmec_report(report), [(image_file, image), (log, chat_csv(messages))]


def test_flow_runs_in_order_through_failures(fake: tuple[FakeNcmec, str], tmp_path: Path, database_url: str) -> None:
    state, url = fake
    state.fail_next = {"submit": 2, "upload": 1, "finish": 1}
    delays: list[float] = []
    queue = make_queue(tmp_path, make_client(url, delays), database_url)
    xml, files = sample_report()
    queue.enqueue("case:k-1", xml, files)

    [outcome] = queue.run()

    assert outcome.state == tables.FINISHED and outcome.report_id == "1001"
    assert state.calls == [
        ("submit", "1001"),
        ("upload", "1001:img.png"),
        ("fileinfo", "1001:f1"),
        ("upload", "1001:chat-log.csv"),
        ("fileinfo", "1001:f2"),
        ("finish", "1001"),
    ]
    assert delays == [0.5, 1.0, 0.5, 0.5]  # exponential per call: submit failed twice, upload and finish once
    assert state.uploads["f1"] == files[0][1] and state.uploads["f2"] == files[1][1]
    assert not (tmp_path / "spool").exists() or not any((tmp_path / "spool").iterdir())  # text deleted once finished


def test_restart_resumes_and_never_resubmits(fake: tuple[FakeNcmec, str], tmp_path: Path, database_url: str) -> None:
    state, url = fake
    xml, files = sample_report()
    # First process: the second upload keeps failing until the client gives up.
    state.fail_next = {"upload": 1}  # the first upload fails once and then goes through
    state.fail_upload_of = {"chat-log.csv": 3}  # the second fails as often as the client tries
    first = make_queue(tmp_path, make_client(url, [], attempts=3), database_url)
    first.enqueue("case:k-2", xml, files)
    [stopped] = first.run()
    assert stopped.state == tables.SUBMITTED and "gave up after 3 attempts" in (stopped.error or "")
    assert state.calls == [("submit", "1001"), ("upload", "1001:img.png"), ("fileinfo", "1001:f1")]

    # A new process over the same database and spool resumes at the second upload.
    state.calls.clear()
    second = make_queue(tmp_path, make_client(url, []), database_url)
    assert second.enqueue("case:k-2", xml, files).state == tables.SUBMITTED  # same key: no new report
    [done] = second.run()
    assert done.state == tables.FINISHED and done.report_id == "1001"
    assert state.calls == [("upload", "1001:chat-log.csv"), ("fileinfo", "1001:f2"), ("finish", "1001")]

    # Yet another restart: a finished report is not sent again, not even re-queued.
    state.calls.clear()
    third = make_queue(tmp_path, make_client(url, []), database_url)
    assert third.run() == []
    assert third.enqueue("case:k-2", xml, files).state == tables.FINISHED
    assert third.advance("case:k-2").state == tables.FINISHED
    assert state.calls == []
    with Session(third.engine) as session:
        assert session.scalars(select(tables.NcmecSubmissionRow)).one().attempts == 1


def test_enqueue_report_sends_files_and_chat_log(fake: tuple[FakeNcmec, str], tmp_path: Path, database_url: str) -> None:
    state, url = fake
    queue = make_queue(tmp_path, make_client(url, []), database_url)
    image = b"bytes of a picture"
    messages = (ChatMessage(WHEN, "u2", "u1", 'send one, "now"', "e1"),)
    report = ReportInput(
        incident_time=WHEN,
        reporter=Reporter(email="safety@example.org"),
        files=(ReportFile(file_name="p.jpg", md5=hashlib.md5(image).hexdigest()),),  # noqa: S324
        messages=messages,
    )
    with pytest.raises(ValueError, match="p.jpg"):
        queue.enqueue_report("case:k-9", report, {})
    assert queue.pending_keys() == []
    queue.enqueue_report("case:k-9", report, {"p.jpg": image})
    [outcome] = queue.run()
    assert outcome.state == tables.FINISHED
    assert [c for c in state.calls if c[0] == "upload"] == [("upload", "1001:p.jpg"), ("upload", "1001:chat-log.csv")]
    assert state.uploads["f1"] == image and state.uploads["f2"] == chat_csv(messages)


def test_refused_report_fails_without_retry_and_others_go_on(fake: tuple[FakeNcmec, str], tmp_path: Path, database_url: str) -> None:
    state, url = fake
    delays: list[float] = []
    queue = make_queue(tmp_path, make_client(url, delays), database_url)
    xml, _files = sample_report()
    queue.enqueue("case:bad", xml)
    queue.enqueue("case:good", xml)
    state.refuse = {"finish": 2000}
    outcomes = {o.key: o for o in queue.run()}
    assert all(o.state == tables.FAILED and "responseCode 2000" in (o.error or "") for o in outcomes.values())
    assert delays == []  # a refusal on the merits is not retried
    assert queue.run() == []  # failed reports are left for a person, not resent


def test_text_only_report_submits_and_finishes(fake: tuple[FakeNcmec, str], tmp_path: Path, database_url: str) -> None:
    state, url = fake
    queue = make_queue(tmp_path, make_client(url, []), database_url)
    report = ReportInput(incident_time=WHEN, reporter=Reporter(email="safety@example.org"), chat=ChatIncident(content="meet me"))
    queue.enqueue("case:text", build_ncmec_report(report))
    [outcome] = queue.run()
    assert outcome.state == tables.FINISHED
    assert [call for call, _ in state.calls] == ["submit", "finish"]


def test_spooled_report_changed_on_disk_is_not_sent(fake: tuple[FakeNcmec, str], tmp_path: Path, database_url: str) -> None:
    state, url = fake
    queue = make_queue(tmp_path, make_client(url, []), database_url)
    xml, _ = sample_report()
    queue.enqueue("case:tampered", xml)
    [spooled] = list((tmp_path / "spool").rglob("report.xml"))
    assert spooled.stat().st_mode & 0o077 == 0  # readable by the owner only
    spooled.write_bytes(xml.replace(b"Example Chat", b"Other Chat"))
    [outcome] = queue.run()
    assert outcome.state == tables.FAILED and "changed since it was queued" in (outcome.error or "")
    assert state.attempts == []


def test_invalid_report_is_refused_at_enqueue(fake: tuple[FakeNcmec, str], tmp_path: Path, database_url: str) -> None:
    _state, url = fake
    queue = make_queue(tmp_path, make_client(url, []), database_url)
    with pytest.raises(ValueError):
        queue.enqueue("case:broken", b"<report><reporter/></report>")
    assert queue.pending_keys() == []


def test_wrong_credentials_are_not_retried(fake: tuple[FakeNcmec, str]) -> None:
    state, url = fake
    delays: list[float] = []
    client = CyberTiplineClient(NcmecConfig(username=USER, password="wrong", base_url=url), sleep=delays.append)
    with pytest.raises(NcmecError) as caught:
        client.status()
    assert "HTTP 401" in str(caught.value) and not caught.value.retryable
    assert delays == [] and state.attempts == ["status"]


def test_config_defaults_to_the_test_environment_and_guards_production(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-file\n", encoding="utf-8")
    config = NcmecConfig.from_env({"TRYGG_NCMEC_USERNAME": "u", "TRYGG_NCMEC_PASSWORD_FILE": str(secret)})
    assert config.base_url == TEST_BASE_URL and config.password == "from-file"
    assert "from-file" not in repr(config)
    with pytest.raises(ConfigError, match="production"):
        NcmecConfig.from_env({"TRYGG_NCMEC_USERNAME": "u", "TRYGG_NCMEC_PASSWORD": "p", "TRYGG_NCMEC_BASE_URL": PRODUCTION_BASE_URL})
    allowed = NcmecConfig.from_env(
        {"TRYGG_NCMEC_USERNAME": "u", "TRYGG_NCMEC_PASSWORD": "p", "TRYGG_NCMEC_BASE_URL": PRODUCTION_BASE_URL, "TRYGG_NCMEC_ALLOW_PRODUCTION": "1"}
    )
    assert allowed.base_url == PRODUCTION_BASE_URL
    with pytest.raises(ConfigError, match="required"):
        NcmecConfig.from_env({})
