"""The written corpus format: parsing, precise errors, the stable split, and the events it builds."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from trygg.events import AccountEvent, MessageEvent, parse_event
from trygg.lab.written import (
    LOCKED_SHARE,
    WrittenCorpusError,
    build,
    load_written,
    main,
    message_events,
    read_written,
    split_of,
    to_events,
)

REPO = Path(__file__).resolve().parents[1]

GROOMING = """\
# conversation sv-g-017
label: grooming            # a comment after the value
language: sv
hard_negative: false
kind: implied_age
room: dm
users: kid=14, man=?
offender: man
first_harmful: 3
start: 2026-03-02T19:05
---
man: hej! såg att du också spelar fortnite
kid: ja haha
[+3m]
man: vad gör du ikväll? #ärlig fråga
[+2d]
kid: inget: sitter hemma
"""

GROUP = """\
# conversation sv-b-001
label: benign
language: sv
hard_negative: true
kind: class_group
room: group
users: ella=13, noor=13, sixten=14
start: 2026-04-10T16:00
---
ella: vem har läxan i matte
noor: jag! skickar
[+1h]
sixten: tack 🙏
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def one_error(tmp_path: Path, text: str) -> str:
    """The single error a file with one broken conversation produces, as ``line: message``."""
    write(tmp_path / "chats", "x.chat", text)
    conversations, errors = load_written(tmp_path)
    assert conversations == []
    assert len(errors) == 1, errors
    return f"{errors[0].line}: {errors[0].message}"


def test_parses_header_messages_gaps_and_comments(tmp_path: Path) -> None:
    write(tmp_path / "sv", "g.chat", GROOMING + "\n" + GROUP)
    conversations = read_written(tmp_path)
    assert [c.id for c in conversations] == ["sv-g-017", "sv-b-001"]
    grooming, group = conversations
    assert grooming.label == "grooming" and grooming.offender == "man" and grooming.first_harmful == 3
    assert grooming.users == {"kid": 14, "man": None}
    assert not grooming.hard_negative and group.hard_negative
    # '#' inside a message is text, and so is a colon after the speaker's.
    assert grooming.messages[2].text == "vad gör du ikväll? #ärlig fråga"
    assert grooming.messages[3].text == "inget: sitter hemma"
    assert [m.line for m in grooming.messages] == [12, 13, 15, 17]
    times = [m.sent_at for m in grooming.messages]
    assert times[0] == datetime(2026, 3, 2, 19, 5, tzinfo=timezone.utc)
    assert timedelta(seconds=30) <= times[1] - times[0] <= timedelta(seconds=90)
    assert times[2] - times[1] == timedelta(minutes=3)
    assert times[3] - times[2] == timedelta(days=2)
    assert group.messages[2].sent_at - group.messages[1].sent_at == timedelta(hours=1)


def test_byte_order_mark_is_ignored_and_invalid_utf8_is_located(tmp_path: Path) -> None:
    write(tmp_path / "sv", "bom.chat", "\ufeff" + GROUP)
    # Line 12 holds the first non-ASCII letter: 'å' of 'såg', one byte (0xe5) in Latin-1.
    (tmp_path / "sv" / "latin1.chat").write_bytes(GROOMING.replace("sv-g-017", "sv-g-018").encode("latin-1"))
    conversations, errors = load_written(tmp_path)
    assert [c.id for c in conversations] == ["sv-b-001"]
    assert [(e.path.name, e.line, e.message) for e in errors] == [("latin1.chat", 12, "not valid UTF-8 (byte 0xe5)")]


def test_default_spacing_is_deterministic(tmp_path: Path) -> None:
    write(tmp_path / "sv", "g.chat", GROOMING)
    first = [m.sent_at for m in read_written(tmp_path)[0].messages]
    second = [m.sent_at for m in read_written(tmp_path)[0].messages]
    assert first == second


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("kid: ja haha", "mamma: ja haha", "13: unknown speaker 'mamma'; users are kid, man"),
        ("first_harmful: 3", "first_harmful: 9", "1: conversation sv-g-017: first_harmful 9 is out of range (it has 4 messages)"),
        ("first_harmful: 3", "first_harmful: tre", "9: first_harmful 'tre': expected a message number from 1"),
        ("offender: man\n", "", "1: conversation sv-g-017: harmful (grooming) but no 'offender'"),
        ("offender: man", "offender: boss", "8: offender 'boss' is not one of the users (kid, man)"),
        ("[+3m]", "[+3w]", "14: bad gap syntax '[+3w]': expected [+Nm], [+Nh] or [+Nd]"),
        ("[+3m]", "[3m]", "14: bad gap syntax '[3m]': expected [+Nm], [+Nh] or [+Nd]"),
        ("[+2d]\n", "[+2d]\n[+1h]\n", "17: two gaps in a row (the other on line 16); write one"),
        ("label: grooming ", "label: groming ", "2: label 'groming': expected one of grooming, solicitation, sextortion, benign"),
        ("hard_negative: false", "hard_negative: true", "4: hard_negative is true on a harmful conversation; only benign ones are hard negatives"),
        ("room: dm", "room: group", "7: a group room has three or more users, not 2"),
        ("users: kid=14, man=?", "users: kid=fjorton, man=?", "7: users: age of 'kid' is 'fjorton'; expected a number 0-130 or ?"),
        ("users: kid=14, man=?", "users: kid=14, man=?, tjej=13", "7: a dm room has exactly two users, not 3"),
        ("start: 2026-03-02T19:05", "start: 2 mars", "10: start '2 mars': expected YYYY-MM-DDTHH:MM"),
        ("# conversation sv-g-017", "# conversation sv-x-017", "1: conversation id 'sv-x-017': a grooming id has '-g-'"),
        ("# conversation sv-g-017", "# conversation g17", "1: conversation id 'g17': expected <lang>-<g|s|x|b>-NNN, e.g. sv-g-017"),
        ("language: sv", "language: en", "1: conversation id 'sv-g-017' does not start with its language 'en'"),
        ("kind: implied_age", "kind: implied_age\ncolour: red", "6: unknown header key 'colour'; expected one of label, language, hard_negative, kind, room, users, start, offender, first_harmful"),
        ("room: dm", "room: dm\nroom: dm", "7: header key 'room' given twice (first on line 6)"),
        ("kid: ja haha", "kid ja haha", "13: expected 'speaker: text' or a gap like [+5m], found 'kid ja haha'"),
        ("kid: ja haha", "kid:", "13: message from 'kid' has no text"),
        ("---\n", "", "1: conversation sv-g-017: header has no '---' line"),
        ("start: 2026-03-02T19:05\n", "\nstart: 2026-03-02T19:05\n", "1: conversation sv-g-017: header has no '---' line"),
        ("kid: inget: sitter hemma\n", "kid: inget: sitter hemma\n[+5m]\n", "18: gap after the last message; a gap applies before a message"),
    ],
)
def test_errors_name_the_line_and_the_problem(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GROOMING
    assert one_error(tmp_path, GROOMING.replace(old, new, 1)) == expected


def test_benign_conversation_may_not_name_an_offender(tmp_path: Path) -> None:
    text = GROUP.replace("start:", "offender: ella\nstart:")
    assert one_error(tmp_path, text) == "8: 'offender' on a benign conversation; only harmful ones have it"


def test_every_user_must_speak(tmp_path: Path) -> None:
    text = GROUP.replace("sixten=14", "sixten=14, alva=?")
    assert one_error(tmp_path, text) == "1: conversation sv-b-001: user 'alva' never speaks"


def test_folder_must_match_language(tmp_path: Path) -> None:
    write(tmp_path / "en", "g.chat", GROOMING)
    _, errors = load_written(tmp_path)
    assert [e.message for e in errors] == ["conversation sv-g-017 is language 'sv' but lies in folder 'en'"]


def test_bad_conversation_is_reported_and_the_good_ones_kept(tmp_path: Path) -> None:
    broken = GROOMING.replace("kid: ja haha", "mormor: ja haha")
    path = write(tmp_path / "sv", "mixed.chat", GROUP + "\n" + broken + "\n" + GROUP.replace("sv-b-001", "sv-b-002"))
    conversations, errors = load_written(tmp_path)
    assert [c.id for c in conversations] == ["sv-b-001", "sv-b-002"]
    assert [(e.path, e.line) for e in errors] == [(path, 27)]
    with pytest.raises(WrittenCorpusError) as raised:
        read_written(tmp_path)
    assert str(raised.value) == f"{path}:27: unknown speaker 'mormor'; users are kid, man"


def test_duplicate_ids_across_files_drop_both_and_name_both_places(tmp_path: Path) -> None:
    first = write(tmp_path / "sv", "a.chat", GROUP)
    second = write(tmp_path / "sv", "b.chat", GROOMING + "\n" + GROUP)
    conversations, errors = load_written(tmp_path)
    assert [c.id for c in conversations] == ["sv-g-017"]
    assert [str(e) for e in errors] == [f"{second}:19: duplicate id sv-b-001 (also at {first}:1)"]


def test_split_is_stable_and_about_thirty_percent_locked() -> None:
    ids = [f"sv-g-{n:03d}" for n in range(1000)]
    splits = [split_of(i) for i in ids]
    assert splits == [split_of(i) for i in ids]
    locked = splits.count("locked") / len(ids)
    assert abs(locked - LOCKED_SHARE) < 0.05
    assert set(splits) == {"dev", "locked"}


def test_split_does_not_depend_on_the_rest_of_the_corpus(tmp_path: Path) -> None:
    write(tmp_path / "alone" / "sv", "g.chat", GROOMING)
    write(tmp_path / "crowd" / "sv", "g.chat", GROUP + "\n" + GROOMING)
    alone = {c.id: c.split for c in read_written(tmp_path / "alone")}
    crowd = {c.id: c.split for c in read_written(tmp_path / "crowd")}
    assert alone["sv-g-017"] == crowd["sv-g-017"] == split_of("sv-g-017")


def test_events_validate_and_carry_the_label(tmp_path: Path) -> None:
    write(tmp_path / "sv", "g.chat", GROOMING)
    events, label = to_events(read_written(tmp_path)[0])
    parsed = [parse_event(e) for e in events]
    accounts = [e for e in parsed if isinstance(e, AccountEvent)]
    messages = [e for e in parsed if isinstance(e, MessageEvent)]
    # Only the declared age makes an account event, and accounts come first.
    assert [(a.user_id, a.declared_age) for a in accounts] == [("sv-g-017:kid", 14)]
    assert isinstance(parsed[0], AccountEvent)
    assert [m.event_id for m in messages] == [f"sv-g-017-{n}" for n in range(1, 5)]
    assert [(m.sender_id, m.recipient_id) for m in messages[:2]] == [
        ("sv-g-017:man", "sv-g-017:kid"),
        ("sv-g-017:kid", "sv-g-017:man"),
    ]
    assert all(m.sent_at is not None and m.sent_at.tzinfo is not None for m in messages)
    assert label == {
        "conversation_id": "sv-g-017",
        "label": "grooming",
        "offender_id": "sv-g-017:man",
        "first_harmful_event_id": "sv-g-017-3",
        "language": "sv",
        "hard_negative": False,
        "kind": "implied_age",
        "split": split_of("sv-g-017"),
    }
    assert label["first_harmful_event_id"] in {m.event_id for m in messages}


def test_group_rooms_have_no_recipient(tmp_path: Path) -> None:
    write(tmp_path / "sv", "b.chat", GROUP)
    events, label = to_events(read_written(tmp_path)[0])
    messages = [parse_event(e) for e in events if e["type"] == "message"]
    assert len(messages) == 3
    assert all(isinstance(m, MessageEvent) and m.recipient_id is None for m in messages)
    assert all("recipient_id" not in e for e in events)
    assert label["offender_id"] is None and label["first_harmful_event_id"] is None


MENTIONS = GROUP.replace("users: ella=13, noor=13, sixten=14", "users: ella=13, noor_k=13, sixten=14").replace(
    "ella: vem har läxan i matte\nnoor: jag! skickar\n[+1h]\nsixten: tack 🙏\n",
    "ella: noor har du läxan\nnoor_k: ja ella, @sixten också\nsixten: tack noor_k 🙏\nella: noorish är inte ett namn\n",
)


def test_a_room_message_lists_the_speakers_it_names_as_mentions(tmp_path: Path) -> None:
    write(tmp_path / "sv", "b.chat", MENTIONS)
    conversation = read_written(tmp_path)[0]
    events = message_events(conversation, mentions=True)
    assert [e.get("mentions") for e in events] == [
        ["sv-b-001:noor_k"],  # the first part of a name is how chat writes it
        ["sv-b-001:ella", "sv-b-001:sixten"],
        ["sv-b-001:noor_k"],
        None,  # a word that only starts like a name is not the name
    ]
    assert all(parse_event(e).mentions == tuple(e.get("mentions", ())) for e in events)
    assert all("mentions" not in e for e in to_events(conversation)[0])  # written chat carries none
    main(["build", str(tmp_path), str(tmp_path / "plain")])
    assert "mentions" not in (tmp_path / "plain" / "events.jsonl").read_text(encoding="utf-8")
    main(["build", str(tmp_path), str(tmp_path / "named"), "--mentions"])
    assert "mentions" in (tmp_path / "named" / "events.jsonl").read_text(encoding="utf-8")


def test_build_writes_events_and_labels_per_split(tmp_path: Path) -> None:
    many = "\n".join(GROUP.replace("sv-b-001", f"sv-b-{n:03d}") for n in range(1, 21))
    write(tmp_path / "corpus" / "sv", "b.chat", many)
    conversations = read_written(tmp_path / "corpus")
    for split in ("dev", "locked"):
        out = tmp_path / split
        build(conversations, out, split)
        labels = [json.loads(line) for line in (out / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
        expected = sorted(c.id for c in conversations if c.split == split)
        assert sorted(label["conversation_id"] for label in labels) == expected
        events = [json.loads(line) for line in (out / "events.jsonl").read_text(encoding="utf-8").splitlines()]
        assert {e["conversation_id"] for e in events if e["type"] == "message"} == set(expected)
        kinds = [e["type"] for e in events]
        assert kinds == sorted(kinds)  # every account before the first message
        for event in events:
            parse_event(event)


def test_command_line_check_and_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "corpus" / "sv", "g.chat", GROOMING + "\n" + GROUP)
    assert main(["check", str(tmp_path / "corpus")]) == 0
    printed = capsys.readouterr().out
    assert "conversations 2, messages 7, harmful 1, benign 1, hard negatives 1" in printed
    assert main(["build", str(tmp_path / "corpus"), str(tmp_path / "out")]) == 0
    assert len((tmp_path / "out" / "labels.jsonl").read_text(encoding="utf-8").splitlines()) == 2

    write(tmp_path / "corpus" / "sv", "bad.chat", GROOMING.replace("sv-g-017", "sv-g-018").replace("[+2d]", "[+2 days]"))
    assert main(["build", str(tmp_path / "corpus"), str(tmp_path / "out2")]) == 1
    err = capsys.readouterr().err
    assert "bad.chat:16: bad gap syntax '[+2 days]'" in err
    assert not (tmp_path / "out2").exists()


def test_project_corpus_is_valid() -> None:
    corpus = REPO / "corpus" / "written"
    if not corpus.is_dir():
        pytest.skip("corpus/written is absent in this checkout")
    conversations, errors = load_written(corpus)
    assert errors == []
    for conversation in conversations:
        events, _ = to_events(conversation)
        for event in events:
            parse_event(event)


def test_build_keeps_the_languages_asked_for(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    german = GROUP.replace("sv-b-001", "de-b-001").replace("language: sv", "language: de")
    write(tmp_path / "corpus" / "sv", "g.chat", GROOMING + "\n" + GROUP)
    write(tmp_path / "corpus" / "de", "b.chat", german)
    assert main(["build", str(tmp_path / "corpus"), str(tmp_path / "out"), "--languages", "de"]) == 0
    labels = [json.loads(line) for line in (tmp_path / "out" / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [label["conversation_id"] for label in labels] == ["de-b-001"]
    with pytest.raises(SystemExit):
        main(["build", str(tmp_path / "corpus"), str(tmp_path / "out2"), "--languages", "de,fr"])
    assert "expected a comma-separated list of sv, en, de, nl" in capsys.readouterr().err


def test_an_unknown_language_is_still_an_error(tmp_path: Path) -> None:
    french = GROUP.replace("sv-b-001", "fr-b-001").replace("language: sv", "language: fr")
    write(tmp_path / "fr", "b.chat", french)
    _, errors = load_written(tmp_path)
    assert any("language 'fr': expected one of sv, en, de, nl" in e.message for e in errors), errors
