"""NCMEC CyberTipline documents: the report XML, the per-file details XML and the chat CSV.

The CyberTipline Reporting API takes one ``<report>`` document (POST /submit), then each file
(POST /upload) and, for each uploaded file, a ``<fileDetails>`` document (POST /fileinfo) that
carries its hashes. Every element sequence there has a fixed order and NCMEC rejects a document
whose elements are out of it, so every document built here is validated against
``ncmec.xsd`` (written from the public documentation) before it leaves this module.

Inputs are plain dataclasses so that whoever assembles a case (the case module, a CLI, a test)
needs nothing from the engine. Text from users (chat content, screen names) is hostile: XML
special characters are escaped by the serializer, and characters XML 1.0 cannot carry at all
(NUL, most C0 controls, lone surrogates) are written as a visible ``[U+XXXX]`` marker instead of
being dropped, so the evidence still shows that they were there.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources

from lxml import etree

ONLINE_ENTICEMENT = "Online Enticement of Children for Sexual Acts"
CHILD_PORNOGRAPHY = "Child Pornography (possession, manufacture, and distribution)"
UNSOLICITED_OBSCENE_MATERIAL = "Unsolicited Obscene Material Sent to a Child"

#: Report annotations in the order the schema's sequence lists them.
REPORT_ANNOTATIONS = ("sextortion", "csamSolicitation", "minorToMinorInteraction", "spam", "sadisticOnlineExploitation")

#: NCMEC's schema location, named on the root element as NCMEC's examples do.
NCMEC_XSD_LOCATION = "https://report.cybertip.org/ispws/xsd"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"

CHAT_CSV_COLUMNS = ("time", "sender", "recipient", "message", "event_id")


class ReportValidationError(ValueError):
    """A document does not satisfy the schema; ``errors`` holds one line per problem."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(self.errors) or "invalid document")


# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Reporter:
    """The person at the platform who files the report (an email is required by NCMEC)."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    company_template: str | None = None
    terms_of_service: str | None = None
    legal_url: str | None = None


@dataclass(frozen=True)
class IpCapture:
    """An IP address the reported user was seen with, and when (what makes a report routable)."""

    ip_address: str
    event_name: str | None = None
    at: datetime | None = None
    possible_proxy: bool | None = None
    port: int | None = None


@dataclass(frozen=True)
class ReportedUser:
    """The account reported (NCMEC shows it as the suspect).

    ``age_assertion_discrepancy`` is True when the age picture contradicts the declared age
    (for example an account declared 15 whose chats say 34); ``age`` is the best estimate.
    """

    esp_identifier: str | None = None
    esp_service: str | None = None
    screen_name: str | None = None
    display_names: tuple[str, ...] = ()
    profile_urls: tuple[str, ...] = ()
    ip_captures: tuple[IpCapture, ...] = ()
    age: int | None = None
    age_assertion_discrepancy: bool | None = None
    prior_reports: tuple[int, ...] = ()
    account_temporarily_disabled: bool | None = None
    account_permanently_disabled: bool | None = None
    additional_info: str | None = None


@dataclass(frozen=True)
class Victim:
    """A child the reported user targeted, as the platform knows the account."""

    esp_identifier: str | None = None
    esp_service: str | None = None
    screen_name: str | None = None
    display_names: tuple[str, ...] = ()
    age: int | None = None
    age_assertion_discrepancy: bool | None = None
    additional_info: str | None = None


@dataclass(frozen=True)
class ChatIncident:
    """Where the chat happened. ``content`` is an excerpt; the full log goes as the CSV file."""

    chat_client: str | None = None
    chat_room_name: str | None = None
    content: str | None = None
    additional_info: str | None = None


@dataclass(frozen=True)
class ChatMessage:
    """One line of the chat log attachment."""

    time: datetime
    sender: str
    recipient: str | None
    text: str
    event_id: str


@dataclass(frozen=True)
class ReportFile:
    """A file to upload with the report, and what /fileinfo says about it.

    ``pdq`` is the 256-bit PDQ hash as 64 hex digits; ``md5``/``sha1`` are of the original
    bytes. ``relevance`` is ``Reported`` for the material itself and ``Supplemental Reported``
    for context such as the chat log.
    """

    file_name: str
    md5: str | None = None
    sha1: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    original_file_name: str | None = None
    uploaded_at: datetime | None = None
    viewed_by_esp: bool | None = None
    publicly_available: bool | None = None
    relevance: str = "Reported"
    additional_info: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportInput:
    """Everything one CyberTipline report says. Only ``incident_time`` and ``reporter`` are
    required by NCMEC; a text-only enticement report has no ``files``."""

    incident_time: datetime
    reporter: Reporter
    incident_type: str = ONLINE_ENTICEMENT
    annotations: tuple[str, ...] = ()
    platform: str | None = None
    escalate_reason: str | None = None
    incident_time_description: str | None = None
    chat: ChatIncident | None = None
    reported: ReportedUser | None = None
    victims: tuple[Victim, ...] = ()
    files: tuple[ReportFile, ...] = ()
    messages: tuple[ChatMessage, ...] = ()
    additional_info: str | None = None


# ----------------------------------------------------------------------------- text safety

# XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_NOT_XML_CHAR = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 cannot hold replaced by a visible ``[U+XXXX]``."""
    return _NOT_XML_CHAR.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


def _iso(moment: datetime, what: str) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must carry a time zone (got a naive datetime {moment.isoformat()})")
    return moment.isoformat(timespec="seconds")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _el(parent: etree._Element, tag: str, text: object | None = None, **attributes: str) -> etree._Element:
    child = etree.SubElement(parent, tag, {k: xml_safe(v) for k, v in attributes.items()})
    if text is not None:
        child.text = xml_safe(str(text))
    return child


def _opt(parent: etree._Element, tag: str, value: object | None) -> None:
    """Add ``<tag>`` only when there is a value: an empty element would claim a blank fact."""
    if value is None or value == "":
        return
    _el(parent, tag, _bool(value) if isinstance(value, bool) else value)


# ----------------------------------------------------------------------------- schema


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    """The packaged schema (parsed once)."""
    source = resources.files("trygg.reports").joinpath("ncmec.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(source, _safe_parser()))


def _safe_parser() -> etree.XMLParser:
    # Documents may come from elsewhere (ncmec-validate, server answers): no entities, no network.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def validation_errors(document: bytes) -> list[str]:
    """Problems with ``document`` against the schema, one line each with its line number."""
    try:
        root = etree.fromstring(document, _safe_parser())
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    checker = schema()
    if checker.validate(root):
        return []
    return [f"line {error.line}: {error.message}" for error in checker.error_log]


def validate(document: bytes) -> bytes:
    """``document`` unchanged, or :class:`ReportValidationError` naming what is wrong."""
    errors = validation_errors(document)
    if errors:
        raise ReportValidationError(errors)
    return document


def _serialise(root: etree._Element) -> bytes:
    return validate(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


# ----------------------------------------------------------------------------- report


def build_ncmec_report(report: ReportInput) -> bytes:
    """The ``<report>`` document for POST /submit, validated against the schema."""
    unknown = [a for a in report.annotations if a not in REPORT_ANNOTATIONS]
    if unknown:
        raise ValueError(f"unknown report annotation(s) {unknown}; known: {', '.join(REPORT_ANNOTATIONS)}")
    root = etree.Element("report", nsmap={"xsi": _XSI})
    root.set(f"{{{_XSI}}}noNamespaceSchemaLocation", NCMEC_XSD_LOCATION)
    _incident_summary(root, report)
    if report.chat is not None:
        _chat(root, report.chat)
    _reporter(root, report.reporter)
    if report.reported is not None:
        _reported(root, report.reported)
    for victim in report.victims:
        _victim(root, victim)
    _opt(root, "additionalInfo", report.additional_info)
    return _serialise(root)


def _incident_summary(root: etree._Element, report: ReportInput) -> None:
    summary = _el(root, "incidentSummary")
    _el(summary, "incidentType", report.incident_type)
    _opt(summary, "platform", report.platform)
    _opt(summary, "escalateToHighPriority", report.escalate_reason)
    wanted = set(report.annotations)
    if wanted:
        annotations = _el(summary, "reportAnnotations")
        for name in REPORT_ANNOTATIONS:  # the schema's order, whatever order the caller gave
            if name in wanted:
                _el(annotations, name)
    _el(summary, "incidentDateTime", _iso(report.incident_time, "incident_time"))
    _opt(summary, "incidentDateTimeDescription", report.incident_time_description)


def _chat(root: etree._Element, chat: ChatIncident) -> None:
    incident = _el(_el(root, "internetDetails"), "chatImIncident")
    _opt(incident, "chatClient", chat.chat_client)
    _opt(incident, "chatRoomName", chat.chat_room_name)
    _opt(incident, "content", chat.content)
    _opt(incident, "additionalInfo", chat.additional_info)


def _reporter(root: etree._Element, reporter: Reporter) -> None:
    element = _el(root, "reporter")
    person = _el(element, "reportingPerson")
    _opt(person, "firstName", reporter.first_name)
    _opt(person, "lastName", reporter.last_name)
    _opt(person, "phone", reporter.phone)
    _el(person, "email", reporter.email)
    _opt(element, "companyTemplate", reporter.company_template)
    _opt(element, "termsOfService", reporter.terms_of_service)
    _opt(element, "legalURL", reporter.legal_url)


def _person(parent: etree._Element, tag: str, age: int | None, discrepancy: bool | None) -> None:
    if age is None and discrepancy is None:
        return
    person = _el(parent, tag)
    _opt(person, "age", age)
    _opt(person, "ageAssertionDiscrepancy", discrepancy)


def _reported(root: etree._Element, user: ReportedUser) -> None:
    element = _el(root, "personOrUserReported")
    _person(element, "personOrUserReportedPerson", user.age, user.age_assertion_discrepancy)
    _opt(element, "espIdentifier", user.esp_identifier)
    _opt(element, "espService", user.esp_service)
    _opt(element, "screenName", user.screen_name)
    for name in user.display_names:
        _el(element, "displayName", name)
    for url in user.profile_urls:
        _el(element, "profileUrl", url)
    for capture in user.ip_captures:
        event = _el(element, "ipCaptureEvent")
        _el(event, "ipAddress", capture.ip_address)
        _opt(event, "eventName", capture.event_name)
        if capture.at is not None:
            _el(event, "dateTime", _iso(capture.at, "ip capture time"))
        _opt(event, "possibleProxy", capture.possible_proxy)
        _opt(event, "port", capture.port)
    for prior in user.prior_reports:
        _el(element, "priorCTReports", prior)
    _opt(element, "accountTemporarilyDisabled", user.account_temporarily_disabled)
    _opt(element, "accountPermanentlyDisabled", user.account_permanently_disabled)
    _opt(element, "additionalInfo", user.additional_info)


def _victim(root: etree._Element, victim: Victim) -> None:
    element = _el(root, "victim")
    _person(element, "victimPerson", victim.age, victim.age_assertion_discrepancy)
    _opt(element, "espIdentifier", victim.esp_identifier)
    _opt(element, "espService", victim.esp_service)
    _opt(element, "screenName", victim.screen_name)
    for name in victim.display_names:
        _el(element, "displayName", name)
    _opt(element, "additionalInfo", victim.additional_info)


# ----------------------------------------------------------------------------- file details

_HEX = re.compile(r"[0-9a-fA-F]+")


def _hex(value: str, digits: int, what: str) -> str:
    if len(value) != digits or not _HEX.fullmatch(value):
        raise ValueError(f"{what} must be {digits} hex digits, got {value!r}")
    return value.lower()


def build_file_details(report_id: int | str, file_id: str, file: ReportFile) -> bytes:
    """The ``<fileDetails>`` document for POST /fileinfo once /upload returned ``file_id``.

    MD5 and SHA-1 go in ``originalFileHash``; PDQ has no slot of its own there, so it goes
    as a ``details`` entry of type HASH (with its quality score when known).
    """
    root = etree.Element("fileDetails")
    _el(root, "reportId", report_id)
    _el(root, "fileId", file_id)
    _opt(root, "originalFileName", file.original_file_name or file.file_name)
    if file.uploaded_at is not None:
        _el(root, "uploadedToEspTimestamp", _iso(file.uploaded_at, "uploaded_at"))
    _opt(root, "fileViewedByEsp", file.viewed_by_esp)
    _opt(root, "publiclyAvailable", file.publicly_available)
    _el(root, "fileRelevance", file.relevance)
    if file.md5:
        _el(root, "originalFileHash", _hex(file.md5, 32, "md5"), hashType="MD5")
    if file.sha1:
        _el(root, "originalFileHash", _hex(file.sha1, 40, "sha1"), hashType="SHA1")
    if file.pdq:
        details = _el(root, "details", type="HASH")
        pair = _el(details, "nameValuePair")
        _el(pair, "name", "PDQ")
        _el(pair, "value", _hex(file.pdq, 64, "pdq"))
        if file.pdq_quality is not None:
            quality = _el(details, "nameValuePair")
            _el(quality, "name", "PDQ quality")
            _el(quality, "value", file.pdq_quality)
    for line in file.additional_info:
        _el(root, "additionalInfo", line)
    return _serialise(root)


# ----------------------------------------------------------------------------- chat CSV


def chat_csv(messages: Iterable[ChatMessage]) -> bytes:
    """The chat log as RFC 4180 CSV (UTF-8, CRLF), one row per message in the order given.

    Messages are written verbatim (quotes doubled, fields with commas, quotes or line breaks
    quoted): this is evidence, so nothing is normalised or neutralised.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CHAT_CSV_COLUMNS)
    for message in messages:
        writer.writerow(
            (_iso(message.time, f"time of {message.event_id}"), message.sender, message.recipient or "", message.text, message.event_id)
        )
    return buffer.getvalue().encode("utf-8")


#: The file name the chat log is uploaded under.
CHAT_LOG_FILE_NAME = "chat-log.csv"


def chat_log_file(report: ReportInput) -> ReportFile | None:
    """The chat log as a supplemental file of the report, or None when there are no messages."""
    if not report.messages:
        return None
    return ReportFile(
        file_name=CHAT_LOG_FILE_NAME,
        relevance="Supplemental Reported",
        additional_info=(f"Chat log of {len(report.messages)} messages (columns: {', '.join(CHAT_CSV_COLUMNS)}).",),
    )


__all__ = [
    "CHAT_CSV_COLUMNS",
    "CHAT_LOG_FILE_NAME",
    "CHILD_PORNOGRAPHY",
    "ONLINE_ENTICEMENT",
    "REPORT_ANNOTATIONS",
    "UNSOLICITED_OBSCENE_MATERIAL",
    "ChatIncident",
    "ChatMessage",
    "IpCapture",
    "ReportFile",
    "ReportInput",
    "ReportValidationError",
    "ReportedUser",
    "Reporter",
    "Victim",
    "build_file_details",
    "build_ncmec_report",
    "chat_csv",
    "chat_log_file",
    "schema",
    "validate",
    "validation_errors",
    "xml_safe",
]
