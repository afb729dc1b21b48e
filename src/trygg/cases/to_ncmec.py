"""A case's report data as the input of a CyberTipline report (:mod:`trygg.reports.ncmec`).

The mapping, and what it leaves to the caller:

- **incident time**: the earliest sending time among the preserved items, else when the case
  opened;
- **incident type**: child sexual abuse material when a preserved media item matched a hash
  bank, otherwise online enticement; annotations ``sextortion`` / ``csamSolicitation`` from the
  case's label;
- **reported user** and **victims**: platform ids, with the best age estimate and the
  age-assertion discrepancy (declared a minor, talks or says an adult age) read from the age
  pictures passed in;
- **messages**: the preserved messages with a sending time become the chat log; one without a
  time cannot be placed in the log and is counted in ``additional_info`` instead;
- **files**: none. trygg keeps hashes, never media; the platform attaches the files it holds
  (their hashes are listed in ``additional_info`` so the report names them either way).

Needs the ``reports`` extra (lxml), like :mod:`trygg.reports.ncmec` itself.
"""

from __future__ import annotations

from datetime import datetime

from trygg.age.picture import AgePicture
from trygg.cases import clock
from trygg.cases.case_report import CaseReport, ReportPerson
from trygg.reports.ncmec import (
    CHILD_PORNOGRAPHY,
    ONLINE_ENTICEMENT,
    ChatIncident,
    ChatMessage,
    Reporter,
    ReportedUser,
    ReportInput,
    Victim,
)

_ANNOTATION_OF_LABEL = {"sextortion": "sextortion", "solicitation": "csamSolicitation"}


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return clock.utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _age(person: ReportPerson) -> tuple[int | None, bool | None]:
    if person.age_picture is None:
        return None, None
    picture = AgePicture.from_dict(person.age_picture)
    return picture.best_age_estimate, picture.suspected_age_deception


def ncmec_report_input(report: CaseReport, reporter: Reporter, esp_service: str | None = None, platform: str | None = None) -> ReportInput:
    """The CyberTipline report input for a prepared case (see the module docstring)."""
    times = [t for t in (_time(m.sent_at) for m in (*report.messages, *report.media)) if t is not None]
    matched = [m for m in report.media if m.bank]
    offender_age, offender_discrepancy = _age(report.offender)
    victims = []
    for person in report.victims:
        age, discrepancy = _age(person)
        victims.append(Victim(esp_identifier=person.user_id, esp_service=esp_service, age=age, age_assertion_discrepancy=discrepancy))
    messages = tuple(
        ChatMessage(time=sent, sender=m.sender_id or "", recipient=m.recipient_id, text=m.text or "", event_id=m.event_id)
        for m in report.messages
        if (sent := _time(m.sent_at)) is not None
    )
    notes = [f"trygg case {report.case_id}: {report.label}, highest risk {report.max_risk:.2f}, {report.user_reports} user reports."]
    untimed = len(report.messages) - len(messages)
    if untimed:
        notes.append(f"{untimed} preserved messages had no sending time and are not in the chat log.")
    for media in report.media:
        hashes = ", ".join(f"{kind} {value}" for kind, value in sorted(media.hashes.items()))
        notes.append(f"Media {media.event_id}" + (f" matched hash bank {media.bank}" if media.bank else "") + (f": {hashes}" if hashes else "") + ".")
    annotation = _ANNOTATION_OF_LABEL.get(report.label)
    return ReportInput(
        incident_time=min(times) if times else report.first_seen_at,
        reporter=reporter,
        incident_type=CHILD_PORNOGRAPHY if matched else ONLINE_ENTICEMENT,
        annotations=(annotation,) if annotation else (),
        platform=platform,
        chat=ChatIncident(chat_client=platform) if messages else None,
        reported=ReportedUser(
            esp_identifier=report.offender.user_id,
            esp_service=esp_service,
            age=offender_age,
            age_assertion_discrepancy=offender_discrepancy,
        ),
        victims=tuple(victims),
        messages=messages,
        additional_info=" ".join(notes),
    )
