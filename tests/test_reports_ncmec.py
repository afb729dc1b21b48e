"""CyberTipline documents: schema validity, order, required elements, escaping, the chat CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("lxml", reason="the reports extra (lxml) is not installed")
from lxml import etree  # noqa: E402

from trygg.reports.ncmec import (  # noqa: E402
    CHAT_CSV_COLUMNS,
    REPORT_ANNOTATIONS,
    ChatIncident,
    ChatMessage,
    IpCapture,
    ReportedUser,
    ReportFile,
    ReportInput,
    Reporter,
    ReportValidationError,
    Victim,
    build_file_details,
    build_ncmec_report,
    chat_csv,
    chat_log_file,
    validation_errors,
    xml_safe,
)

WHEN = datetime(2026, 3, 1, 20, 15, tzinfo=timezone.utc)
REPORTER = Reporter(email="safety@example.org", first_name="Trust", last_name="Safety", legal_url="https://example.org/legal")


def full_report(**overrides: object) -> ReportInput:
    values: dict[str, object] = dict(
        incident_time=WHEN,
        reporter=REPORTER,
        annotations=("minorToMinorInteraction", "sextortion", "csamSolicitation"),
        platform="Example Chat",
        incident_time_description="First message of the conversation the alert fired on.",
        chat=ChatIncident(chat_client="Example Chat app", chat_room_name="dm:c1", content="excerpt"),
        reported=ReportedUser(
            esp_identifier="u2",
            esp_service="direct messages",
            screen_name="cool_guy",
            display_names=("Cool Guy",),
            profile_urls=("https://example.org/u/u2",),
            ip_captures=(IpCapture("203.0.113.7", event_name="Login", at=WHEN - timedelta(hours=1), port=443),),
            age=34,
            age_assertion_discrepancy=True,
            account_temporarily_disabled=True,
        ),
        victims=(Victim(esp_identifier="u1", screen_name="girl_13", age=13),),
        additional_info="Detected by trygg (policy default@3).",
    )
    values.update(overrides)
    return ReportInput(**values)  # type: ignore[arg-type]


def children(document: bytes, path: str) -> list[str]:
    element = etree.fromstring(document).find(path)
    assert element is not None, path
    return [child.tag for child in element]


def test_full_report_validates_and_keeps_documented_order() -> None:
    document = build_ncmec_report(full_report())
    assert validation_errors(document) == []
    assert children(document, ".") == ["incidentSummary", "internetDetails", "reporter", "personOrUserReported", "victim", "additionalInfo"]
    assert children(document, "incidentSummary") == [
        "incidentType", "platform", "reportAnnotations", "incidentDateTime", "incidentDateTimeDescription",
    ]
    # Annotations come out in the schema's order, whatever order the caller listed them in.
    assert children(document, "incidentSummary/reportAnnotations") == ["sextortion", "csamSolicitation", "minorToMinorInteraction"]
    root = etree.fromstring(document)
    assert root.findtext("incidentSummary/incidentType") == "Online Enticement of Children for Sexual Acts"
    assert root.findtext("incidentSummary/incidentDateTime") == "2026-03-01T20:15:00+00:00"
    assert root.findtext("personOrUserReported/personOrUserReportedPerson/ageAssertionDiscrepancy") == "true"
    assert root.findtext("personOrUserReported/ipCaptureEvent/ipAddress") == "203.0.113.7"
    assert root.findtext("victim/victimPerson/age") == "13"


def test_text_only_enticement_report_needs_no_file() -> None:
    report = ReportInput(incident_time=WHEN, reporter=Reporter(email="safety@example.org"), chat=ChatIncident(content="hi"))
    document = build_ncmec_report(report)
    assert validation_errors(document) == []
    assert etree.fromstring(document).find(".//fileDetails") is None
    assert chat_log_file(report) is None  # no messages, no attachment either


def test_elements_out_of_order_are_rejected() -> None:
    root = etree.fromstring(build_ncmec_report(full_report()))
    reporter = root.find("reporter")
    root.remove(reporter)
    root.insert(0, reporter)  # reporter before incidentSummary
    errors = validation_errors(etree.tostring(root))
    assert errors and any("reporter" in e for e in errors)

    summary_root = etree.fromstring(build_ncmec_report(full_report()))
    summary = summary_root.find("incidentSummary")
    when = summary.find("incidentDateTime")
    summary.remove(when)
    summary.insert(0, when)  # incidentDateTime before incidentType
    assert validation_errors(etree.tostring(summary_root))


def test_annotations_out_of_order_are_rejected() -> None:
    root = etree.fromstring(build_ncmec_report(full_report()))
    annotations = root.find("incidentSummary/reportAnnotations")
    first = annotations[0]
    annotations.remove(first)
    annotations.append(first)  # sextortion after minorToMinorInteraction
    assert validation_errors(etree.tostring(root))


@pytest.mark.parametrize("path", ["incidentSummary/incidentType", "incidentSummary/incidentDateTime", "reporter/reportingPerson/email"])
def test_missing_required_element_is_rejected(path: str) -> None:
    root = etree.fromstring(build_ncmec_report(full_report()))
    element = root.find(path)
    element.getparent().remove(element)
    errors = validation_errors(etree.tostring(root))
    assert errors and any("Missing child element" in e or "expected" in e.lower() for e in errors)


def test_missing_reporter_is_rejected() -> None:
    root = etree.fromstring(build_ncmec_report(full_report()))
    root.remove(root.find("reporter"))
    assert validation_errors(etree.tostring(root))


def test_unknown_incident_type_and_naive_time_are_refused() -> None:
    with pytest.raises(ReportValidationError) as caught:
        build_ncmec_report(full_report(incident_type="Something else"))
    assert any("incidentType" in e for e in caught.value.errors)
    with pytest.raises(ValueError, match="time zone"):
        build_ncmec_report(full_report(incident_time=datetime(2026, 3, 1, 20, 15)))
    with pytest.raises(ValueError, match="unknown report annotation"):
        build_ncmec_report(full_report(annotations=("grooming",)))


def test_hostile_text_is_escaped_and_control_characters_kept_visible() -> None:
    hostile = 'see </content><victim/> & "quotes" \'x\' ]]> \x00 bell\x07 esc\x1b lone\ud800 ok\ttab\nline'
    report = full_report(
        chat=ChatIncident(content=hostile),
        reported=ReportedUser(screen_name="<script>&amp;</script>", additional_info=hostile),
    )
    document = build_ncmec_report(report)
    assert validation_errors(document) == []
    root = etree.fromstring(document)
    content = root.findtext("internetDetails/chatImIncident/content")
    assert content == xml_safe(hostile)
    assert "[U+0000]" in content and "[U+0007]" in content and "[U+001B]" in content and "[U+D800]" in content
    assert "</content><victim/>" in content and "\ttab\nline" in content  # text, not markup; tab/newline kept
    assert len(root.findall("victim")) == 1  # the injected <victim/> did not become an element
    assert root.findtext("personOrUserReported/screenName") == "<script>&amp;</script>"


def test_file_details_carry_md5_and_pdq() -> None:
    file = ReportFile(
        file_name="img-1.jpg",
        md5="0123456789abcdef0123456789ABCDEF",
        pdq="f" * 64,
        pdq_quality=87,
        uploaded_at=WHEN,
        viewed_by_esp=False,
    )
    document = build_file_details(4242, "abc123", file)
    assert validation_errors(document) == []
    root = etree.fromstring(document)
    assert [c.tag for c in root] == [
        "reportId", "fileId", "originalFileName", "uploadedToEspTimestamp", "fileViewedByEsp", "fileRelevance",
        "originalFileHash", "details",
    ]
    assert root.find("originalFileHash").get("hashType") == "MD5"
    assert root.findtext("originalFileHash") == "0123456789abcdef0123456789abcdef"
    pairs = {p.findtext("name"): p.findtext("value") for p in root.iter("nameValuePair")}
    assert pairs == {"PDQ": "f" * 64, "PDQ quality": "87"}
    with pytest.raises(ValueError, match="pdq"):
        build_file_details(4242, "abc123", ReportFile(file_name="x", pdq="not-hex"))


def test_chat_csv_round_trips_hostile_messages() -> None:
    messages = [
        ChatMessage(WHEN, "u2", "u1", 'hi, "friend"\nsecond line', "e1"),
        ChatMessage(WHEN + timedelta(minutes=1), "u1", None, "=HYPERLINK(\"x\");,", "e2"),
        ChatMessage(WHEN + timedelta(minutes=2), "u2", "u1", "", "e3"),
    ]
    data = chat_csv(messages)
    assert data.startswith(b"time,sender,recipient,message,event_id\r\n")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert tuple(rows[0]) == CHAT_CSV_COLUMNS
    assert rows[1] == ["2026-03-01T20:15:00+00:00", "u2", "u1", 'hi, "friend"\nsecond line', "e1"]
    assert rows[2] == ["2026-03-01T20:16:00+00:00", "u1", "", '=HYPERLINK("x");,', "e2"]
    assert rows[3][3] == "" and len(rows) == 4


def test_chat_log_file_is_supplemental() -> None:
    report = full_report(messages=(ChatMessage(WHEN, "u2", "u1", "hi", "e1"),))
    file = chat_log_file(report)
    assert file is not None and file.relevance == "Supplemental Reported"
    assert validation_errors(build_file_details(1, "f", file)) == []


def test_every_annotation_is_accepted() -> None:
    document = build_ncmec_report(full_report(annotations=REPORT_ANNOTATIONS))
    assert children(document, "incidentSummary/reportAnnotations") == list(REPORT_ANNOTATIONS)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=60))
def test_any_text_gives_a_valid_report_that_reads_back_as_written(text: str) -> None:
    report = full_report(chat=ChatIncident(content=text or None), reported=ReportedUser(screen_name=text[:255] or None))
    document = build_ncmec_report(report)
    root = etree.fromstring(document)
    if text:
        assert root.findtext("internetDetails/chatImIncident/content") == xml_safe(text)
        # Only characters XML cannot carry differ from the original.
        assert xml_safe(text) == text or any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF or c in "\ufffe\uffff" for c in text)
