"""The protective sections' schema: precise errors that name the line and the key."""

from dataclasses import replace
from importlib import resources

import pytest

from trygg.policy import Policy, PolicyError
from trygg.policy.lines import key_lines, line_of
from trygg.policy.protection import AdRules, AgeRules, ContactRules, TeenDefaults

HEAD = 'name = "x"\nversion = 1\n[[rules]]\naction = "warn_recipient"\n'
DEFAULT_TEXT = resources.files("trygg.policy").joinpath("default.toml").read_text(encoding="utf-8")


def error(text):
    with pytest.raises(PolicyError) as info:
        Policy.from_toml(text, source="p.toml")
    return str(info.value)


@pytest.mark.parametrize(
    "tail, where",
    [
        ("[contact]\nfan_out_minors = 0\n", "p.toml:6: contact.fan_out_minors:"),
        ("[contact]\nadult_to_unconnected_minor = \"maybe\"\n", "p.toml:6: contact.adult_to_unconnected_minor:"),
        ("[contact]\n\n[contact.actions]\nfan_out = [\"shout\"]\n", "p.toml:8: contact.actions.fan_out:"),
        ("[ads]\nblocked_categories_for_minors = [\n  \"gambling\",\n  \"gamblng\",\n]\n", "p.toml:6: ads.blocked_categories_for_minors:"),
        ("[ads]\nprofiling_for_minors = \"sometimes\"\n", "p.toml:6: ads.profiling_for_minors:"),
        ("[age]\nadult_proof_assurance = \"high\"\n", "p.toml:6: age.adult_proof_assurance:"),
        ("[age.methods]\neu_av_mdoc = \"very\"\n", "p.toml:6: age.methods.eu_av_mdoc:"),
        ("[teen_defaults]\nprivate_account = \"yes\"\n", "p.toml:6: teen_defaults.private_account:"),
        ("[teen_defaults]\ncolour = 1\n", "p.toml:6: teen_defaults.colour:"),
        ("[content_ratings]\n\"12-14\" = [\"teen\"]\n", "p.toml:6: content_ratings.12-14:"),
    ],
)
def test_errors_name_the_line_and_the_key(tail, where):
    assert where in error(HEAD + tail)


def test_a_section_that_is_not_a_table():
    assert "p.toml:1: teen_defaults: must be a table" in error("teen_defaults = 3\n" + HEAD)


def test_conversation_rule_errors_name_their_line_too():
    text = HEAD + '\n[[rules]]\naction = "warn_recipient"\nmin_risk = 7\n'
    assert "p.toml:8: rules[1].min_risk:" in error(text)


def test_a_missing_key_names_the_table_it_is_missing_from():
    text = 'name = "x"\nversion = 1\n[[rules]]\nmin_risk = 0.5\n'
    assert "p.toml:3: rules[0].action:" in error(text)


def test_line_lookup_handles_quoted_and_dotted_keys_and_falls_back():
    lines = key_lines('a = 1\n[t]\n"13-15" = []\nx.y = 2\ns = """\nk = 1\n"""\n[[r]]\n[[r]]\nq = 1\n')
    assert line_of(lines, "t.13-15") == 3
    assert line_of(lines, "t.x.y") == 4
    assert "t.k" not in lines  # inside a multi-line string
    assert line_of(lines, "r[1].q") == 10
    assert line_of(lines, "r[1].missing") == 9
    assert line_of(lines, "nowhere") is None


def test_the_default_file_states_the_code_defaults():
    protection = Policy.default().protection
    assert protection.teen_defaults == TeenDefaults()
    assert protection.contact == ContactRules()
    assert protection.ads == AdRules()
    assert replace(protection.age, methods={}) == AgeRules()


def test_sections_may_be_left_out_and_keep_the_defaults():
    policy = Policy.from_toml(HEAD)
    assert policy.protection.contact.fan_out_minors == ContactRules().fan_out_minors
    assert policy.protection.allowed_ratings("13-15") is None


def test_values_are_read():
    policy = Policy.from_toml(
        HEAD
        + '[contact]\nfan_out_minors = 3\n[contact.actions]\nnew_account = []\n[ads]\nblocked_categories_for_minors = ["weapons"]\n'
        + '[content_ratings]\n"13-15" = ["everyone"]\n'
    )
    assert policy.protection.contact.fan_out_minors == 3
    assert policy.protection.contact.new_account == ()
    assert policy.protection.ads.blocked_categories_for_minors == frozenset({"weapons"})
    assert policy.protection.allowed_ratings("16-17") == frozenset({"everyone"})  # unlisted band: the youngest listed


def test_the_default_policy_is_versioned_beyond_the_rules_only_one():
    assert Policy.default().version >= 2
    assert "version = 2" in DEFAULT_TEXT
