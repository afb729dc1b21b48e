"""DSA transparency figures for "Protection of minors", in the shape of the EU templates.

Commission Implementing Regulation (EU) 2024/2835 fixes the transparency report templates
(Articles 15, 24 and 42 DSA). Its quantitative template has the sections used here:

* 1.4 own-initiative content moderation: actions by category, type of restriction and
  detection method, and whether the decision was automated;
* 1.3 notices (here only those from users, Art. 16), counted apart because they are not
  own-initiative;
* 1.5.1 complaints through the internal complaint-handling system and decisions reversed;
* 1.6 use of automated means, with indicators of accuracy and error rate.

The figures are computed from :class:`~trygg.reports.moderation.ModerationRecord` inputs for one
period (records whose action falls in ``[start, end]``, dates inclusive, UTC). Accuracy is read
from reviewers' outcomes on automated decisions: ``confirmed / reviewed`` and the error rate
``overturned / reviewed``; with no reviewed decision both are reported as absent, not as zero.

Outputs: a JSON document, a CSV in the template's long form (one row per figure: section, field,
category, subcategory, breakdown, value) and an SVG bar chart of actions per day.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from xml.sax.saxutils import escape

from trygg.reports.moderation import CATEGORY, DETECTION_METHODS, RESTRICTIONS, SUBCATEGORIES, ModerationRecord

TEMPLATE = "Commission Implementing Regulation (EU) 2024/2835, Annex I, quantitative template"
SECTION_IDENTIFICATION = "1.1 Report identification"
SECTION_NOTICES = "1.3 Notices submitted in accordance with Article 16"
SECTION_OWN_INITIATIVE = "1.4 Own-initiative content moderation"
SECTION_COMPLAINTS = "1.5.1 Internal complaints"
SECTION_AUTOMATED = "1.6 Use of automated means and indicators of accuracy"


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment.astimezone(timezone.utc).date() <= self.end

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def _restriction(record: ModerationRecord) -> str:
    return RESTRICTIONS[record.action][1]


def _median_seconds(records: list[ModerationRecord]) -> float | None:
    return round(statistics.median(r.seconds_to_action for r in records), 1) if records else None


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _moderation_block(records: list[ModerationRecord]) -> dict[str, Any]:
    return {
        "actions": len(records),
        "by_type_of_restriction": dict(sorted(Counter(_restriction(r) for r in records).items())),
        "by_detection_method": {m: n for m in DETECTION_METHODS if (n := sum(r.detection == m for r in records))},
        "automated_decisions": sum(r.automated for r in records),
        "human_decisions": sum(not r.automated for r in records),
        "median_seconds_event_to_action": _median_seconds(records),
    }


def _accuracy_block(records: list[ModerationRecord]) -> dict[str, Any]:
    reviewed = [r for r in records if r.reviewer_outcome is not None]
    confirmed = sum(r.reviewer_outcome == "confirmed" for r in reviewed)
    overturned = len(reviewed) - confirmed
    return {
        "automated_decisions": len(records),
        "reviewed": len(reviewed),
        "confirmed": confirmed,
        "overturned": overturned,
        "accuracy": _ratio(confirmed, len(reviewed)),
        "error_rate": _ratio(overturned, len(reviewed)),
    }


def transparency_figures(records: Iterable[ModerationRecord], period: Period) -> dict[str, Any]:
    """Every figure of the report for ``period``, as one JSON-ready dict."""
    selected = sorted((r for r in records if period.contains(r.action_time)), key=lambda r: (r.action_time, r.decision_id))
    own = [r for r in selected if r.own_initiative]
    notices = [r for r in selected if not r.own_initiative]
    automated = [r for r in selected if r.automated]
    by_sub = {key: [r for r in own if SUBCATEGORIES[r.category] == key] for key in SUBCATEGORIES.values()}
    complaints = [r for r in selected if r.complaint]
    per_day = Counter(r.action_time.astimezone(timezone.utc).date() for r in selected)
    return {
        "template": TEMPLATE,
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "category": CATEGORY,
        "own_initiative": {
            **_moderation_block(own),
            "by_subcategory": {key: _moderation_block(rows) for key, rows in by_sub.items()},
        },
        "notices": {
            **_moderation_block(notices),
            "by_subcategory": {key: _moderation_block([r for r in notices if SUBCATEGORIES[r.category] == key]) for key in SUBCATEGORIES.values()},
        },
        "complaints": {
            "received": len(complaints),
            "decisions_reversed": sum(r.reversed for r in selected),
            "reversed_after_complaint": sum(r.reversed for r in complaints),
            "by_subcategory": {
                key: {
                    "received": sum(SUBCATEGORIES[r.category] == key for r in complaints),
                    "decisions_reversed": sum(r.reversed and SUBCATEGORIES[r.category] == key for r in selected),
                }
                for key in SUBCATEGORIES.values()
            },
        },
        "automated_means": {
            **_accuracy_block(automated),
            "by_detection_method": {
                m: _accuracy_block(rows) for m in DETECTION_METHODS if (rows := [r for r in automated if r.detection == m])
            },
            "by_subcategory": {
                key: _accuracy_block([r for r in automated if SUBCATEGORIES[r.category] == key]) for key in SUBCATEGORIES.values()
            },
        },
        "actions_per_day": {day.isoformat(): per_day.get(day, 0) for day in period.days()},
    }


def figures_json(figures: dict[str, Any]) -> str:
    return json.dumps(figures, indent=2, ensure_ascii=False) + "\n"


# ----------------------------------------------------------------------------- CSV

CSV_COLUMNS = ("section", "field", "category", "subcategory", "breakdown", "value")


def _value(value: object) -> str:
    return "" if value is None else str(value)


def _moderation_rows(section: str, block: dict[str, Any], subcategory: str) -> Iterable[tuple[str, ...]]:
    yield section, "number_of_actions", CATEGORY, subcategory, "", _value(block["actions"])
    for restriction, count in block["by_type_of_restriction"].items():
        yield section, "number_of_actions", CATEGORY, subcategory, f"type_of_restriction={restriction}", _value(count)
    for method, count in block["by_detection_method"].items():
        yield section, "number_of_actions", CATEGORY, subcategory, f"detection_method={method}", _value(count)
    yield section, "number_of_actions", CATEGORY, subcategory, "decision=automated", _value(block["automated_decisions"])
    yield section, "number_of_actions", CATEGORY, subcategory, "decision=human", _value(block["human_decisions"])
    yield section, "median_seconds_event_to_action", CATEGORY, subcategory, "", _value(block["median_seconds_event_to_action"])


def _accuracy_rows(block: dict[str, Any], subcategory: str, breakdown: str) -> Iterable[tuple[str, ...]]:
    for name in ("automated_decisions", "reviewed", "confirmed", "overturned", "accuracy", "error_rate"):
        yield SECTION_AUTOMATED, name, CATEGORY, subcategory, breakdown, _value(block[name])


def figures_csv(figures: dict[str, Any]) -> str:
    """The figures as CSV rows in the template's long form; empty value = not measurable."""
    rows: list[tuple[str, ...]] = [
        (SECTION_IDENTIFICATION, "template", "", "", "", figures["template"]),
        (SECTION_IDENTIFICATION, "period_start", "", "", "", figures["period"]["start"]),
        (SECTION_IDENTIFICATION, "period_end", "", "", "", figures["period"]["end"]),
    ]
    for section, key in ((SECTION_OWN_INITIATIVE, "own_initiative"), (SECTION_NOTICES, "notices")):
        block = figures[key]
        rows.extend(_moderation_rows(section, block, ""))
        for subcategory, sub in block["by_subcategory"].items():
            rows.extend(_moderation_rows(section, sub, subcategory))
    complaints = figures["complaints"]
    rows.append((SECTION_COMPLAINTS, "complaints_received", CATEGORY, "", "", _value(complaints["received"])))
    rows.append((SECTION_COMPLAINTS, "decisions_reversed", CATEGORY, "", "", _value(complaints["decisions_reversed"])))
    rows.append((SECTION_COMPLAINTS, "decisions_reversed", CATEGORY, "", "after_complaint", _value(complaints["reversed_after_complaint"])))
    for subcategory, sub in complaints["by_subcategory"].items():
        rows.append((SECTION_COMPLAINTS, "complaints_received", CATEGORY, subcategory, "", _value(sub["received"])))
        rows.append((SECTION_COMPLAINTS, "decisions_reversed", CATEGORY, subcategory, "", _value(sub["decisions_reversed"])))
    automated = figures["automated_means"]
    rows.extend(_accuracy_rows(automated, "", ""))
    for method, block in automated["by_detection_method"].items():
        rows.extend(_accuracy_rows(block, "", f"detection_method={method}"))
    for subcategory, block in automated["by_subcategory"].items():
        rows.extend(_accuracy_rows(block, subcategory, ""))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- SVG


def actions_per_day_svg(figures: dict[str, Any], width: int = 800, height: int = 320) -> str:
    """A bar chart of actions per day as a standalone SVG document (no scripts, no fonts to load)."""
    per_day: dict[str, int] = figures["actions_per_day"]
    days = list(per_day)
    left, right, top, bottom = 48, 16, 40, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(per_day.values(), default=0)
    scale = plot_h / peak if peak else 0.0
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.8, 1.0)
    title = f"Protection of minors: actions per day, {figures['period']['start']} to {figures['period']['end']}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title, {chr(34): "&quot;"})}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{left}" y="24" font-family="sans-serif" font-size="14">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-family="sans-serif" font-size="11">{peak}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" font-family="sans-serif" font-size="11">0</text>',
    ]
    label_every = max(1, len(days) // 10)
    for index, day in enumerate(days):
        count = per_day[day]
        bar_h = count * scale
        x = left + index * slot + (slot - bar_w) / 2
        parts.append(
            f'<rect class="bar" data-day="{day}" data-count="{count}" x="{x:.2f}" y="{top + plot_h - bar_h:.2f}" '
            f'width="{bar_w:.2f}" height="{bar_h:.2f}" fill="#3b6ea5"><title>{day}: {count}</title></rect>'
        )
        if index % label_every == 0:
            parts.append(
                f'<text x="{left + index * slot + slot / 2:.2f}" y="{top + plot_h + 16}" text-anchor="middle" '
                f'font-family="sans-serif" font-size="10">{day[5:]}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
