"""Age assurance: the youngest credible evidence wins; no minor becomes an adult without a proof."""

from datetime import date, datetime, timezone

from trygg.age.assurance import (
    TREATED_AS_MINOR,
    add_estimate,
    add_proof,
    age_on,
    band_of,
    declare,
    protective_reading,
    update_flags,
)
from trygg.age.picture import AgePicture
from trygg.policy import Policy
from trygg.policy.protection import AgeRules
from trygg.signals.base import Signal

RULES = Policy.default().protection.age
TODAY = date(2026, 3, 1)
WHEN = datetime(2026, 3, 1, tzinfo=timezone.utc)


def said(age, event_id="m1", score=0.9):
    return Signal("age_disclosure", score, event_id, value=age)


def test_bands():
    assert [band_of(a) for a in (9, 13, 15, 16, 17, 18, 40)] == ["under_13", "13-15", "13-15", "16-17", "16-17", "18+", "18+"]


def test_unknown_user_reads_as_the_policy_says():
    assert protective_reading(AgePicture("u"), RULES).minor is False
    assert protective_reading(AgePicture("u"), AgeRules(unknown_age="minor")).minor is True
    assert protective_reading(AgePicture("u"), RULES).band == "unknown"


def test_declared_minor_is_a_minor_with_the_declaration_as_basis():
    pic = AgePicture("u")
    declare(pic, 14, None, TODAY)
    reading = protective_reading(pic, RULES)
    assert (reading.band, reading.minor) == ("13-15", True)
    assert reading.basis["kind"] == "declared" and reading.basis["assurance"] == "asserted"


def test_birth_date_gives_the_age_on_the_day():
    pic = AgePicture("u")
    declare(pic, None, date(2011, 3, 2), TODAY)  # 15 until tomorrow
    assert pic.declared_age == age_on(date(2011, 3, 2), TODAY) == 14
    assert protective_reading(pic, RULES).band == "13-15"


def test_youngest_credible_evidence_wins():
    pic = AgePicture("u")
    declare(pic, 17, None, TODAY)
    add_estimate(pic, 13, 15, "os_age_range", None, WHEN, "e1", RULES)
    assert protective_reading(pic, RULES).band == "13-15"


def test_an_estimate_below_the_policys_level_is_not_believed():
    pic = AgePicture("u")
    declare(pic, 25, None, TODAY)
    add_estimate(pic, 12, 14, "some_quiz", "asserted", WHEN, "e1", RULES)
    assert not protective_reading(pic, RULES).minor
    add_estimate(pic, 12, 14, "facial_estimation", None, WHEN, "e2", RULES)  # standard by policy
    assert protective_reading(pic, RULES).band == "13-15"  # the band of the range's upper end


def test_declared_adult_who_says_13_is_a_minor_and_flagged_for_an_age_check():
    pic = AgePicture("u", declared_age=21)
    pic.observe([said(13)])
    assert protective_reading(pic, RULES).minor
    assert update_flags(pic, RULES) == ["minor_claim_on_adult_account"]
    assert update_flags(pic, RULES) == []  # raised once


def test_a_loose_number_is_not_a_credible_claim():
    pic = AgePicture("u", declared_age=21)
    pic.observe([said(13, score=0.4)])
    assert not protective_reading(pic, RULES).minor
    assert update_flags(pic, RULES) == []


def test_declared_teen_who_shows_an_adult_is_flagged_as_posing_and_stays_protected():
    pic = AgePicture("u")
    declare(pic, 15, None, TODAY)
    pic.observe([Signal("adult_indicator", 0.8, "m2")])  # "my kids", "driving to work"
    assert update_flags(pic, RULES) == ["suspected_adult_posing_as_teen"]
    assert protective_reading(pic, RULES).minor  # protections stay; the flag restricts them as sender


def test_no_move_from_minor_to_adult_by_redeclaring():
    pic = AgePicture("u")
    declare(pic, 15, None, TODAY)
    update_flags(pic, RULES)
    declare(pic, 19, None, TODAY)
    update_flags(pic, RULES)
    assert protective_reading(pic, RULES).minor
    assert pic.p_adult > 0.5  # the grooming reading follows the new claim; protection does not


def test_minor_status_is_sticky_even_when_the_evidence_is_forgotten():
    pic = AgePicture("u", declared_age=30)
    pic.observe([said(14, "m1")])
    update_flags(pic, RULES)
    pic.stated_ages.clear()  # bounded history moved on
    assert TREATED_AS_MINOR in pic.flags
    assert protective_reading(pic, RULES).minor


def test_ageing_along_the_same_birth_date_is_not_a_claim():
    pic = AgePicture("u")
    declare(pic, None, date(2008, 6, 1), TODAY)  # 17
    update_flags(pic, RULES)
    assert protective_reading(pic, RULES).band == "16-17"
    declare(pic, None, date(2008, 6, 1), date(2026, 6, 1))  # 18 today
    update_flags(pic, RULES)
    assert not protective_reading(pic, RULES).minor


def test_a_new_birth_date_that_makes_an_adult_is_a_claim():
    pic = AgePicture("u")
    declare(pic, None, date(2010, 1, 1), TODAY)  # 16
    update_flags(pic, RULES)
    declare(pic, None, date(2000, 1, 1), TODAY)  # now says 26
    update_flags(pic, RULES)
    assert protective_reading(pic, RULES).minor


def test_a_strict_proof_lifts_a_minor_and_a_standard_one_does_not():
    pic = AgePicture("u")
    declare(pic, 16, None, TODAY)
    update_flags(pic, RULES)
    add_proof(pic, True, "vendor_attestation", WHEN, "vendor", "p1", RULES)  # standard
    assert protective_reading(pic, RULES).minor and pic.verified_adult is None
    add_proof(pic, True, "eu_av_mdoc", WHEN, "SE issuer", "p2", RULES)  # strict
    reading = protective_reading(pic, RULES)
    assert not reading.minor and reading.band == "18+" and reading.basis["event_id"] == "p2"
    assert pic.verified_adult is True
    assert update_flags(pic, RULES) == ["verified_adult_claims_minor"]  # declared 16, proved 18+


def test_a_proof_of_a_minor_is_minor_evidence():
    pic = AgePicture("u", declared_age=30)
    add_proof(pic, False, "eu_av_mdoc", WHEN, "SE issuer", "p1", RULES)
    assert protective_reading(pic, RULES).band == "16-17"


def test_unknown_methods_count_as_asserted():
    assert RULES.method_assurance("eu_av_mdoc") == "strict"
    assert RULES.method_assurance("homebrew") == "asserted"


def test_the_proof_records_no_document_and_round_trips():
    pic = AgePicture("u")
    add_proof(pic, True, "eu_av_mdoc", WHEN, "SE issuer", "p1", RULES)
    assert set(pic.evidence[0]) == {"kind", "method", "assurance", "age_low", "age_high", "at", "issuer", "event_id"}
    again = AgePicture.from_dict(pic.to_dict())
    assert again.evidence == pic.evidence and again.verified_adult is True


def test_evidence_is_bounded_and_minor_evidence_is_kept_longest():
    pic = AgePicture("u")
    add_estimate(pic, 13, 15, "os_age_range", None, WHEN, "minor", RULES)
    for i in range(30):
        add_estimate(pic, 20, 30, "facial_estimation", None, WHEN, f"e{i}", RULES)
    assert len(pic.evidence) == 12
    assert any(e["event_id"] == "minor" for e in pic.evidence)
