"""Submitting reports to the CyberTipline: the submit / upload / fileinfo / finish flow.

:class:`CyberTiplineClient` speaks NCMEC's Reporting API (HTTP basic auth, XML bodies and
answers, ``responseCode`` 0 for success) with retries and exponential backoff for what is worth
retrying (connection errors, HTTP 5xx and 429); an answer that NCMEC refused on its merits
(a non-zero ``responseCode``, another 4xx) is not retried, because sending it again gives the
same answer.

:class:`SubmissionQueue` persists every step (``trygg.reports.tables``) so that a restart resumes
where it stopped and nothing confirmed is sent twice. It is aimed at NCMEC's **test**
environment unless production is asked for explicitly: a production report is a legal act.

Configuration (:meth:`NcmecConfig.from_env`): ``TRYGG_NCMEC_BASE_URL`` (default the test
environment), ``TRYGG_NCMEC_USERNAME``, ``TRYGG_NCMEC_PASSWORD`` or ``TRYGG_NCMEC_PASSWORD_FILE``
(a file holding only the password, so it stays out of the environment and shell history), and
``TRYGG_NCMEC_ALLOW_PRODUCTION=1`` to allow the production URL.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
from lxml import etree
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from trygg.store.schema import create_schema
from trygg.reports.ncmec import ReportFile, ReportInput, build_file_details, build_ncmec_report, chat_csv, chat_log_file, validate
from trygg.reports.tables import (
    DESCRIBED,
    FAILED,
    FINISHED,
    PENDING,
    QUEUED,
    SUBMITTED,
    UPLOADED,
    NcmecSubmissionFileRow,
    NcmecSubmissionRow,
)

TEST_BASE_URL = "https://exttest.cybertip.org/ispws"
PRODUCTION_BASE_URL = "https://report.cybertip.org/ispws"


class NcmecError(Exception):
    """The flow could not complete a step. ``retryable`` says whether a later run may succeed."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class ConfigError(ValueError):
    """The NCMEC configuration is missing or unsafe."""


@dataclass(frozen=True)
class NcmecConfig:
    username: str
    password: str = field(repr=False)
    base_url: str = TEST_BASE_URL
    allow_production: bool = False
    timeout_s: float = 60.0
    max_attempts: int = 5
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0

    def __post_init__(self) -> None:
        if not self.username or not self.password:
            raise ConfigError("NCMEC username and password are required")
        if self.base_url.rstrip("/") == PRODUCTION_BASE_URL and not self.allow_production:
            raise ConfigError("the production CyberTipline URL needs allow_production (TRYGG_NCMEC_ALLOW_PRODUCTION=1)")
        if self.max_attempts < 1:
            raise ConfigError("max_attempts must be at least 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NcmecConfig:
        env = os.environ if environ is None else environ
        password = env.get("TRYGG_NCMEC_PASSWORD")
        password_file = env.get("TRYGG_NCMEC_PASSWORD_FILE")
        if password_file:
            try:
                password = Path(password_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"TRYGG_NCMEC_PASSWORD_FILE {password_file}: {exc.strerror}") from None
        return cls(
            username=env.get("TRYGG_NCMEC_USERNAME", ""),
            password=password or "",
            base_url=env.get("TRYGG_NCMEC_BASE_URL", TEST_BASE_URL),
            allow_production=env.get("TRYGG_NCMEC_ALLOW_PRODUCTION") == "1",
        )


@dataclass(frozen=True)
class NcmecAnswer:
    """What a CyberTipline endpoint answered (``responseCode`` 0 is success)."""

    response_code: int
    description: str
    report_id: str | None
    file_id: str | None
    md5: str | None


def _parse_answer(body: bytes) -> NcmecAnswer:
    try:
        root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    except etree.XMLSyntaxError as exc:
        raise NcmecError(f"the server's answer is not XML: {exc}", retryable=True) from None

    def first(tag: str) -> str | None:
        found = root.find(f".//{tag}") if root.tag != tag else root
        return found.text.strip() if found is not None and found.text else None

    code = first("responseCode")
    if code is None or not code.lstrip("-").isdigit():
        raise NcmecError("the server's answer has no responseCode", retryable=True)
    return NcmecAnswer(int(code), first("responseDescription") or "", first("reportId"), first("fileId"), first("hash"))


class CyberTiplineClient:
    """One call per endpoint; each is retried with exponential backoff where retrying helps.

    ``sleep`` is injectable so that a caller (or a test) decides how waiting happens; the delay
    before attempt n+1 is ``backoff_base_s * 2**(n-1)``, capped at ``backoff_max_s``, or the
    server's ``Retry-After`` when it gives one within that cap.
    """

    def __init__(self, config: NcmecConfig, http: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self._http = http or httpx.Client(timeout=config.timeout_s)
        self._sleep = sleep
        self._base = config.base_url.rstrip("/")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CyberTiplineClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def status(self) -> NcmecAnswer:
        return self._call("GET", "/status")

    def submit(self, report_xml: bytes) -> str:
        answer = self._call("POST", "/submit", content=report_xml, headers={"Content-Type": "text/xml; charset=utf-8"})
        if not answer.report_id:
            raise NcmecError("/submit succeeded without a reportId", retryable=False)
        return answer.report_id

    def upload(self, report_id: str, file_name: str, data: bytes) -> NcmecAnswer:
        answer = self._call("POST", "/upload", data={"id": report_id}, files={"file": (file_name, data, "application/octet-stream")})
        if not answer.file_id:
            raise NcmecError(f"/upload of {file_name} succeeded without a fileId", retryable=False)
        return answer

    def file_info(self, file_details_xml: bytes) -> NcmecAnswer:
        return self._call("POST", "/fileinfo", content=file_details_xml, headers={"Content-Type": "text/xml; charset=utf-8"})

    def finish(self, report_id: str) -> NcmecAnswer:
        return self._call("POST", "/finish", data={"id": report_id})

    def retract(self, report_id: str) -> NcmecAnswer:
        return self._call("POST", "/retract", data={"id": report_id})

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        delay = min(self.config.backoff_max_s, self.config.backoff_base_s * 2 ** (attempt - 1))
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.isdigit():
            delay = min(self.config.backoff_max_s, float(retry_after))
        return delay

    def _call(self, method: str, path: str, **kwargs: Any) -> NcmecAnswer:
        auth = (self.config.username, self.config.password)
        last: str = ""
        for attempt in range(1, self.config.max_attempts + 1):
            response: httpx.Response | None = None
            try:
                response = self._http.request(method, self._base + path, auth=auth, **kwargs)
            except httpx.TransportError as exc:
                last = f"{path}: {exc.__class__.__name__}: {exc}"
            else:
                if response.status_code == 429 or response.status_code >= 500:
                    last = f"{path}: HTTP {response.status_code}"
                elif response.status_code >= 400:
                    raise NcmecError(f"{path}: HTTP {response.status_code}: {response.text[:500]}", retryable=False)
                else:
                    answer = _parse_answer(response.content)
                    if answer.response_code != 0:
                        raise NcmecError(
                            f"{path}: responseCode {answer.response_code} ({answer.description})", retryable=False
                        )
                    return answer
            if attempt < self.config.max_attempts:
                self._sleep(self._delay(attempt, response))
        raise NcmecError(f"{last} (gave up after {self.config.max_attempts} attempts)", retryable=True)


# ----------------------------------------------------------------------------- queue


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_to_json(file: ReportFile) -> dict[str, Any]:
    data = asdict(file)
    if file.uploaded_at is not None:
        data["uploaded_at"] = file.uploaded_at.isoformat()
    data["additional_info"] = list(file.additional_info)
    return data


def _file_from_json(data: Mapping[str, Any]) -> ReportFile:
    values = dict(data)
    if values.get("uploaded_at"):
        values["uploaded_at"] = datetime.fromisoformat(values["uploaded_at"])
    values["additional_info"] = tuple(values.get("additional_info") or ())
    return ReportFile(**values)


@dataclass(frozen=True)
class SubmissionOutcome:
    key: str
    state: str
    report_id: str | None
    error: str | None = None


class SubmissionQueue:
    """Reports waiting for NCMEC, persisted so that a restart resumes where it stopped.

    ``enqueue`` is idempotent per key; ``run`` advances every unfinished report as far as the
    server lets it. A step's result is committed as soon as the server confirms it, so at most
    the one step in flight when a process dies is repeated (NCMEC then holds a duplicate file or
    report, which /retract can withdraw; nothing confirmed is ever sent twice).
    """

    def __init__(self, engine: Engine, spool_dir: Path | str, client: CyberTiplineClient) -> None:
        self.engine = engine
        self.spool = Path(spool_dir)
        self.client = client
        create_schema(engine)  # the queue's own tables, registered by importing trygg.reports.tables

    # -- enqueue

    def enqueue(self, key: str, report_xml: bytes, attachments: Sequence[tuple[ReportFile, bytes]] = ()) -> SubmissionOutcome:
        """Queue a report (validated here) with its files; a known key returns what it has."""
        validate(report_xml)
        with Session(self.engine) as session:
            existing = session.scalars(select(NcmecSubmissionRow).where(NcmecSubmissionRow.key == key)).first()
            if existing is not None:
                return SubmissionOutcome(existing.key, existing.state, existing.report_id, existing.last_error)
            folder = self._folder(key)
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._write(folder / "report.xml", report_xml)
            now = _now()
            row = NcmecSubmissionRow(key=key, state=QUEUED, report_sha256=_sha256(report_xml), created_at=now, updated_at=now)
            session.add(row)
            session.flush()
            for position, (file, data) in enumerate(attachments):
                spool_name = f"file-{position}"
                self._write(folder / spool_name, data)
                session.add(
                    NcmecSubmissionFileRow(
                        submission_id=row.id,
                        position=position,
                        file_name=file.file_name,
                        spool_name=spool_name,
                        sha256=_sha256(data),
                        details=_file_to_json(file),
                        state=PENDING,
                    )
                )
            session.commit()
            return SubmissionOutcome(key, QUEUED, None)

    def enqueue_report(self, key: str, report: ReportInput, file_data: Mapping[str, bytes]) -> SubmissionOutcome:
        """Queue ``report`` with its files (bytes by ``file_name``) and, when it has messages,
        the chat log CSV as a supplemental file. A file without bytes is refused before anything
        is queued, so a report never goes out with part of its evidence silently missing."""
        missing = [f.file_name for f in report.files if f.file_name not in file_data]
        if missing:
            raise ValueError(f"no bytes given for file(s) {', '.join(missing)}")
        attachments = [(f, file_data[f.file_name]) for f in report.files]
        log = chat_log_file(report)
        if log is not None:
            attachments.append((log, chat_csv(report.messages)))
        return self.enqueue(key, build_ncmec_report(report), attachments)

    def _folder(self, key: str) -> Path:
        # The key comes from the caller; hashing it keeps it out of the file system's grammar.
        return self.spool / hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)

    def _read(self, key: str, name: str, sha256: str) -> bytes:
        path = self._folder(key) / name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise NcmecError(f"spooled {name} is unreadable: {exc.strerror}", retryable=False) from None
        if _sha256(data) != sha256:
            raise NcmecError(f"spooled {name} changed since it was queued (SHA-256 differs)", retryable=False)
        return data

    # -- run

    def pending_keys(self) -> list[str]:
        with Session(self.engine) as session:
            rows = session.scalars(
                select(NcmecSubmissionRow.key).where(NcmecSubmissionRow.state.in_((QUEUED, SUBMITTED))).order_by(NcmecSubmissionRow.id)
            )
            return list(rows)

    def run(self) -> list[SubmissionOutcome]:
        """Advance every unfinished report; one report's failure does not stop the others."""
        return [self.advance(key) for key in self.pending_keys()]

    def advance(self, key: str) -> SubmissionOutcome:
        with Session(self.engine) as session:
            row = session.scalars(select(NcmecSubmissionRow).where(NcmecSubmissionRow.key == key)).one()
            if row.state in (FINISHED, FAILED):
                return SubmissionOutcome(row.key, row.state, row.report_id, row.last_error)
            try:
                self._advance(session, row)
            except (NcmecError, ValueError) as exc:
                # A ValueError is a document that no longer builds or validates: not retryable.
                session.rollback()
                row.attempts += 1
                row.last_error = str(exc)[:2000]
                if not (isinstance(exc, NcmecError) and exc.retryable):
                    row.state = FAILED
                row.updated_at = _now()
                session.commit()
            return SubmissionOutcome(row.key, row.state, row.report_id, row.last_error)

    def _advance(self, session: Session, row: NcmecSubmissionRow) -> None:
        if row.state == QUEUED:
            row.report_id = self.client.submit(self._read(row.key, "report.xml", row.report_sha256))
            row.state = SUBMITTED
            self._commit(session, row)
        assert row.report_id is not None
        files = session.scalars(
            select(NcmecSubmissionFileRow).where(NcmecSubmissionFileRow.submission_id == row.id).order_by(NcmecSubmissionFileRow.position)
        ).all()
        for file in files:
            if file.state == PENDING:
                data = self._read(row.key, file.spool_name, file.sha256)
                answer = self.client.upload(row.report_id, file.file_name, data)
                if answer.md5 and answer.md5.lower() != hashlib.md5(data).hexdigest():  # noqa: S324 - NCMEC's integrity check, not security
                    raise NcmecError(f"NCMEC received {file.file_name} with another MD5 than was sent", retryable=True)
                file.file_id = answer.file_id
                file.state = UPLOADED
                self._commit(session, row)
            if file.state == UPLOADED:
                assert file.file_id is not None
                self.client.file_info(build_file_details(row.report_id, file.file_id, _file_from_json(file.details)))
                file.state = DESCRIBED
                self._commit(session, row)
        self.client.finish(row.report_id)
        row.state = FINISHED
        row.finished_at = _now()
        row.last_error = None
        self._commit(session, row)
        shutil.rmtree(self._folder(row.key), ignore_errors=True)  # keep report text no longer than needed

    @staticmethod
    def _commit(session: Session, row: NcmecSubmissionRow) -> None:
        row.updated_at = _now()
        session.commit()
