"""DSA transparency figures, their CSV/SVG forms, statements of reasons and the CLI."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trygg.cli import app
from trygg.reports.dsa import (
    CSV_COLUMNS,
    SECTION_AUTOMATED,
    SECTION_OWN_INITIATIVE,
    Period,
    actions_per_day_svg,
    figures_csv,
    transparency_figures,
)
from trygg.reports.moderation import TRYGG_ACTIONS, ModerationRecord, RESTRICTIONS, parse_record, read_records, RecordError
from trygg.reports.sor import SorSettings, statement_of_reasons, write_statements

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
GROOMING = "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS"
CSAM = "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"
AGE = "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS"


def record(decision_id: str, day: int, delay_s: float, **fields: object) -> ModerationRecord:
    values: dict[str, object] = dict(
        action="interaction_restricted", category="grooming", detection="automated", automated=True
    )
    values.update(fields)
    event = T0 + timedelta(days=day)
    return ModerationRecord(decision_id, event, event + timedelta(seconds=delay_s), **values)  # type: ignore[arg-type]


def sample() -> list[ModerationRecord]:
    return [
        record("g1", 0, 10, reviewer_outcome="confirmed"),
        record("g2", 0, 30, reviewer_outcome="overturned", complaint=True, reversed=True),
        record("g3", 1, 50, automated=False, detection="manual", action="account_suspended"),
        record("c1", 1, 5, category="csam", detection="hash_match", action="content_removed", reviewer_outcome="confirmed"),
        record("c2", 2, 7, category="csam", detection="hash_match", action="content_removed"),
        record("a1", 2, 3600, category="age_restriction", detection="automated", action="content_age_restricted", complaint=True),
        record("u1", 2, 600, detection="user_report", automated=False, action="account_terminated"),
        record("late", 40, 1),  # outside the period
    ]


PERIOD = Period(date(2026, 1, 1), date(2026, 1, 7))


def test_figures_count_own_initiative_by_type_detection_and_automation() -> None:
    figures = transparency_figures(sample(), PERIOD)
    own = figures["own_initiative"]
    assert own["actions"] == 6  # u1 is a notice, "late" is outside the period
    assert own["by_type_of_restriction"] == {
        "DECISION_ACCOUNT_SUSPENDED": 1,
        "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED": 1,
        "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED": 2,
        "DECISION_VISIBILITY_CONTENT_REMOVED": 2,
    }
    assert own["by_detection_method"] == {"automated": 3, "hash_match": 2, "manual": 1}
    assert (own["automated_decisions"], own["human_decisions"]) == (5, 1)
    assert own["median_seconds_event_to_action"] == 20.0  # median of 10, 30, 50, 5, 7, 3600
    assert own["by_subcategory"][GROOMING]["actions"] == 3
    assert own["by_subcategory"][GROOMING]["median_seconds_event_to_action"] == 30.0
    assert own["by_subcategory"][CSAM]["by_detection_method"] == {"hash_match": 2}
    assert figures["notices"]["actions"] == 1
    assert figures["notices"]["by_type_of_restriction"] == {"DECISION_ACCOUNT_TERMINATED": 1}


def test_complaints_reversals_and_accuracy() -> None:
    figures = transparency_figures(sample(), PERIOD)
    complaints = figures["complaints"]
    assert (complaints["received"], complaints["decisions_reversed"], complaints["reversed_after_complaint"]) == (2, 1, 1)
    assert complaints["by_subcategory"][AGE] == {"received": 1, "decisions_reversed": 0}
    automated = figures["automated_means"]
    assert (automated["automated_decisions"], automated["reviewed"], automated["confirmed"], automated["overturned"]) == (5, 3, 2, 1)
    assert automated["accuracy"] == round(2 / 3, 4) and automated["error_rate"] == round(1 / 3, 4)
    assert automated["by_detection_method"]["hash_match"]["accuracy"] == 1.0
    assert automated["by_subcategory"][AGE]["reviewed"] == 0
    assert automated["by_subcategory"][AGE]["accuracy"] is None  # nothing reviewed: unknown, not 0


def test_actions_per_day_cover_every_day_of_the_period() -> None:
    figures = transparency_figures(sample(), PERIOD)
    assert figures["actions_per_day"] == {
        "2026-01-01": 2, "2026-01-02": 2, "2026-01-03": 3, "2026-01-04": 0, "2026-01-05": 0, "2026-01-06": 0, "2026-01-07": 0,
    }


def test_empty_period_gives_zero_counts_and_absent_medians() -> None:
    figures = transparency_figures([], PERIOD)
    assert figures["own_initiative"]["actions"] == 0
    assert figures["own_initiative"]["median_seconds_event_to_action"] is None
    assert figures["automated_means"]["error_rate"] is None
    rows = list(csv.DictReader(io.StringIO(figures_csv(figures))))
    assert any(r["field"] == "median_seconds_event_to_action" and r["value"] == "" for r in rows)


def test_csv_has_template_columns_and_matches_json() -> None:
    figures = transparency_figures(sample(), PERIOD)
    rows = list(csv.DictReader(io.StringIO(figures_csv(figures), newline="")))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    total = [r for r in rows if r["section"] == SECTION_OWN_INITIATIVE and r["field"] == "number_of_actions" and not r["subcategory"] and not r["breakdown"]]
    assert [r["value"] for r in total] == ["6"]
    removed = [r for r in rows if r["subcategory"] == CSAM and r["breakdown"] == "type_of_restriction=DECISION_VISIBILITY_CONTENT_REMOVED" and r["section"] == SECTION_OWN_INITIATIVE]
    assert [r["value"] for r in removed] == ["2"]
    error_rate = [r for r in rows if r["section"] == SECTION_AUTOMATED and r["field"] == "error_rate" and not r["subcategory"] and not r["breakdown"]]
    assert [float(r["value"]) for r in error_rate] == [figures["automated_means"]["error_rate"]]


def test_svg_has_one_bar_per_day_with_heights_in_proportion() -> None:
    figures = transparency_figures(sample(), PERIOD)
    root = ET.fromstring(actions_per_day_svg(figures))
    bars = [e for e in root.iter("{http://www.w3.org/2000/svg}rect") if e.get("class") == "bar"]
    assert [b.get("data-day") for b in bars] == list(figures["actions_per_day"])
    heights = {b.get("data-day"): float(b.get("height")) for b in bars}
    assert heights["2026-01-04"] == 0.0
    assert heights["2026-01-03"] == pytest.approx(heights["2026-01-01"] * 3 / 2, abs=0.02)  # 2 decimals in the SVG


def test_parse_record_names_the_bad_field() -> None:
    good = {"decision_id": "d", "event_time": "2026-01-01T00:00:00Z", "action_time": "2026-01-01T00:01:00Z",
            "action": "content_removed", "category": "csam", "detection": "hash_match", "automated": True}
    assert parse_record(good).seconds_to_action == 60
    with pytest.raises(ValueError, match="detection"):
        parse_record({**good, "detection": "magic"})
    with pytest.raises(ValueError, match="before event_time"):
        parse_record({**good, "action_time": "2025-12-31T00:00:00Z"})
    with pytest.raises(ValueError, match="automated: expected true or false"):
        parse_record({**good, "automated": "yes"})
    with pytest.raises(ValueError, match="missing field"):
        parse_record({"decision_id": "d"})
    with pytest.raises(ValueError, match="time zone"):
        parse_record({**good, "event_time": "2026-01-01T00:00:00"})


def test_every_trygg_restriction_maps_to_a_dsa_restriction() -> None:
    assert set(TRYGG_ACTIONS.values()) <= set(RESTRICTIONS)


def test_statement_of_reasons_fields() -> None:
    grooming = statement_of_reasons(record("g1", 0, 10))
    assert grooming["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert grooming["category_specification"] == [GROOMING]
    assert grooming["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED"]
    assert grooming["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT" and grooming["illegal_content_legal_ground"]
    assert (grooming["automated_detection"], grooming["automated_decision"]) == ("Yes", "AUTOMATED_DECISION_FULLY")
    assert grooming["source_type"] == "SOURCE_VOLUNTARY"
    assert grooming["application_date"] == "2026-01-01" and grooming["content_date"] == "2026-01-01"
    assert len(grooming["territorial_scope"]) == 27

    human = statement_of_reasons(record("g3", 1, 50, automated=False, detection="automated", action="account_suspended"))
    assert human["decision_account"] == "DECISION_ACCOUNT_SUSPENDED" and "decision_visibility" not in human
    assert human["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"

    reported = statement_of_reasons(record("u1", 2, 600, detection="user_report", automated=False, category="age_restriction",
                                           action="content_age_restricted", territorial_scope=("SE",)))
    assert reported["source_type"] == "SOURCE_ARTICLE_16"
    assert (reported["automated_detection"], reported["automated_decision"]) == ("No", "AUTOMATED_DECISION_NOT_AUTOMATED")
    assert reported["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT" and reported["incompatible_content_illegal"] == "No"
    assert reported["territorial_scope"] == ["SE"]
    assert "10 minutes" in reported["decision_facts"]


def test_statements_contain_no_ids_beyond_the_puid_and_bad_puids_are_reported() -> None:
    records = [record("user-42_decision", 0, 10), record("bad id/with spaces", 0, 10)]
    out = io.StringIO()
    errors = write_statements(records, out, SorSettings(puid_prefix="p-"))
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["puid"] for line in lines] == ["p-user-42_decision"]
    assert len(errors) == 1 and "bad id/with spaces" in errors[0]


def test_read_records_keeps_valid_lines_around_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    good = {"decision_id": "d", "event_time": "2026-01-01T00:00:00Z", "action_time": "2026-01-01T00:01:00Z",
            "action": "content_removed", "category": "csam", "detection": "hash_match", "automated": True}
    path.write_text("\n".join([json.dumps(good), "{broken", json.dumps({**good, "category": "spam"}), json.dumps({**good, "decision_id": "e"})]) + "\n")
    items = list(read_records(path))
    assert [type(i).__name__ for i in items] == ["ModerationRecord", "RecordError", "RecordError", "ModerationRecord"]
    assert isinstance(items[2], RecordError) and items[2].line == 3 and "category" in items[2].message


def test_cli_writes_every_output(tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    lines = []
    for r in sample():
        lines.append(json.dumps({
            "decision_id": r.decision_id, "event_time": r.event_time.isoformat(), "action_time": r.action_time.isoformat(),
            "action": r.action, "category": r.category, "detection": r.detection, "automated": r.automated,
            "complaint": r.complaint, "reversed": r.reversed, "reviewer_outcome": r.reviewer_outcome,
        }))
    records.write_text("\n".join(lines + ["not json"]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["report", "dsa", "--from", "2026-01-01", "--to", "2026-01-07", "--records", str(records), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "7 actions" in result.output and "1 lines rejected" in result.output
    figures = json.loads((out / "dsa-figures.json").read_text())
    assert figures == transparency_figures(sample(), PERIOD)
    assert len((out / "statements-of-reasons.jsonl").read_text().splitlines()) == 7
    assert (out / "dsa-figures.csv").read_text().startswith("section,field,")
    ET.fromstring((out / "actions-per-day.svg").read_text())

    bad = CliRunner().invoke(app, ["report", "dsa", "--from", "2026-01-07", "--to", "2026-01-01", "--records", str(records), "--out", str(out)])
    assert bad.exit_code == 2


def test_cli_validates_ncmec_documents(tmp_path: Path) -> None:
    pytest.importorskip("lxml", reason="the reports extra (lxml) is not installed")
    from trygg.reports.ncmec import ReportInput, Reporter, build_ncmec_report

    good = tmp_path / "good.xml"
    good.write_bytes(build_ncmec_report(ReportInput(incident_time=T0, reporter=Reporter(email="a@example.org"))))
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<report><reporter><reportingPerson><email>a@example.org</email></reportingPerson></reporter></report>")
    runner = CliRunner()
    assert runner.invoke(app, ["report", "ncmec-validate", str(good)]).exit_code == 0
    result = runner.invoke(app, ["report", "ncmec-validate", str(bad)])
    assert result.exit_code == 1 and "incidentSummary" in result.output
