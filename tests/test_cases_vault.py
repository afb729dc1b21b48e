"""The evidence vault: sealed at rest, keys rotate, holds end and extend, reads are checked."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from cases_fixtures import db_engine  # noqa: F401  (fixture)
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from trygg.cases import audit, vault
from trygg.cases.permissions import PermissionDenied, Reviewer
from trygg.cases.tables import VaultItemRow
from trygg.cases.vault import EvidenceItem, Keyring, VaultDecryptError, VaultKeyError

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
SPECIALIST = Reviewer("sara", frozenset({"cases:read", "cases:act", "evidence:view"}))
READER = Reviewer("rob", frozenset({"cases:read", "cases:act"}))
SECRET_TEXT = "kom till parken klockan 8, säg inget till mamma"


def _items() -> list[EvidenceItem]:
    return [
        EvidenceItem("e1", conversation_id="c1", sender_id="u9", recipient_id="u1", sent_at="2026-02-28T20:00:00Z", text=SECRET_TEXT),
        EvidenceItem("e2", kind="media", conversation_id="c1", sender_id="u9", hashes={"pdq": "f" * 64, "sha256": "ab" * 32}, bank="local"),
    ]


def _preserve(engine, keyring: Keyring, case_id: str = "k-1", at: datetime = T0) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session, session.begin():
        return vault.preserve(session, keyring, "sara", case_id, _items(), at)


def _read(engine, keyring: Keyring, reviewer: Reviewer = SPECIALIST, case_id: str = "k-1") -> list[EvidenceItem]:  # type: ignore[no-untyped-def]
    with Session(engine) as session, session.begin():
        return vault.read_evidence(session, keyring, reviewer, case_id)


def test_stored_ciphertext_holds_no_plaintext(db_engine) -> None:  # noqa: F811
    keyring = Keyring.generate("k2026")
    assert _preserve(db_engine, keyring) == 2
    with db_engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM vault_items")).mappings().all()
    assert len(rows) == 2
    stored = b"".join(bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode() for row in rows for v in row.values())
    for secret in (SECRET_TEXT.encode("utf-8"), "parken".encode(), b"u9", b"ffffffffffffffff", ("ab" * 32).encode()):
        assert secret not in stored
    assert _read(db_engine, keyring) == _items()


def test_preserve_is_idempotent_per_event_and_audited(db_engine) -> None:  # noqa: F811
    keyring = Keyring.generate()
    _preserve(db_engine, keyring)
    assert _preserve(db_engine, keyring) == 0
    with Session(db_engine) as session:
        assert len(session.execute(select(VaultItemRow)).all()) == 2
        actions = [e.action for e in audit.entries(session, subject="case:k-1")]
    assert actions == ["vault.preserve", "vault.preserve"]


def test_wrong_key_fails_clearly(db_engine) -> None:  # noqa: F811
    right = Keyring.generate("main")
    _preserve(db_engine, right)
    wrong = Keyring.generate("main")  # same id, different key
    with pytest.raises(VaultDecryptError, match="failed authentication.*'main'"):
        _read(db_engine, wrong)
    with pytest.raises(VaultKeyError, match="sealed with key 'main', which is not in the keyring"):
        _read(db_engine, Keyring.generate("other"))


def test_ciphertext_is_bound_to_its_case(db_engine) -> None:  # noqa: F811
    keyring = Keyring.generate()
    _preserve(db_engine, keyring, "k-1")
    _preserve(db_engine, keyring, "k-2")
    with db_engine.begin() as connection:  # move k-1's message onto k-2 (after making room)
        connection.execute(text("DELETE FROM vault_items WHERE case_id = 'k-2' AND event_id = 'e1'"))
        connection.execute(text("UPDATE vault_items SET case_id = 'k-2' WHERE case_id = 'k-1' AND event_id = 'e1'"))
    with pytest.raises(VaultDecryptError):
        _read(db_engine, keyring, case_id="k-2")


def test_altered_ciphertext_fails(db_engine) -> None:  # noqa: F811
    keyring = Keyring.generate()
    _preserve(db_engine, keyring)
    with Session(db_engine) as session, session.begin():
        row = session.execute(select(VaultItemRow).where(VaultItemRow.event_id == "e1")).scalar_one()
        row.ciphertext = bytes([row.ciphertext[0] ^ 1]) + row.ciphertext[1:]
    with pytest.raises(VaultDecryptError):
        _read(db_engine, keyring)


def test_rotation_new_key_for_new_writes_old_keys_decrypt_and_rewrap(db_engine) -> None:  # noqa: F811
    first = Keyring.generate("v1")
    _preserve(db_engine, first, "k-1")
    second = first.rotated("v2")
    assert second.active == "v2" and set(second.keys) == {"v1", "v2"}
    _preserve(db_engine, second, "k-2")
    with Session(db_engine) as session:
        assert vault.key_ids_in_use(session) == {"v1": 2, "v2": 2}
    assert _read(db_engine, second, case_id="k-1") == _items()  # old key still decrypts
    with pytest.raises(VaultKeyError):
        _read(db_engine, first, case_id="k-2")  # the old ring cannot read new writes
    with Session(db_engine) as session, session.begin():
        assert vault.rewrap(session, second) == 2
    with Session(db_engine) as session:
        assert vault.key_ids_in_use(session) == {"v2": 4}
    only_new = second.without("v1")
    assert _read(db_engine, only_new, case_id="k-1") == _items()
    assert _read(db_engine, only_new, case_id="k-2") == _items()
    with pytest.raises(VaultKeyError, match="active key"):
        second.without("v2")


def test_rewrap_without_the_old_key_changes_nothing(db_engine) -> None:  # noqa: F811
    first = Keyring.generate("v1")
    _preserve(db_engine, first)
    with pytest.raises(VaultKeyError, match="'v1'"):
        with Session(db_engine) as session, session.begin():
            vault.rewrap(session, Keyring.generate("v2"))
    assert _read(db_engine, first) == _items()


def test_hold_purge_and_extension(db_engine) -> None:  # noqa: F811
    keyring = Keyring.generate()
    _preserve(db_engine, keyring, "k-reported", T0)
    _preserve(db_engine, keyring, "k-extended", T0)
    _preserve(db_engine, keyring, "k-escalated", T0)
    reported_at = T0 + timedelta(days=30)
    with Session(db_engine) as session, session.begin():
        assert vault.hold_from_report(session, "sara", "k-reported", reported_at) == reported_at + timedelta(days=365)
        vault.hold_from_report(session, "sara", "k-extended", reported_at)
        later = reported_at + timedelta(days=365 * 2)
        vault.extend_hold(session, "admin", "k-extended", later, "police request 2026-17")
        with pytest.raises(vault.VaultError, match="must end later"):
            vault.extend_hold(session, "admin", "k-extended", later - timedelta(days=1), "shorter")
    # One year after escalation: only the unreported case's hold has ended.
    with Session(db_engine) as session, session.begin():
        assert vault.purge_expired(session, T0 + timedelta(days=365)) == ["k-escalated"]
    assert _read(db_engine, keyring, case_id="k-escalated") == []
    assert _read(db_engine, keyring, case_id="k-reported") == _items()
    # A day before a year from the report: kept; on the day: purged. The extended one stays.
    with Session(db_engine) as session, session.begin():
        assert vault.purge_expired(session, reported_at + timedelta(days=364)) == []
        assert vault.purge_expired(session, reported_at + timedelta(days=365)) == ["k-reported"]
        assert vault.hold_until(session, "k-reported") is None
        assert vault.hold_until(session, "k-extended") == reported_at + timedelta(days=730)
    assert _read(db_engine, keyring, case_id="k-extended") == _items()
    with Session(db_engine) as session:
        purges = [e for e in audit.entries(session) if e.action == "vault.purge"]
        assert [(e.subject, e.detail["items"]) for e in purges] == [("case:k-escalated", 2), ("case:k-reported", 2)]
        assert audit.verify_chain(session).ok


def test_every_read_is_checked_and_audited(db_engine) -> None:  # noqa: F811
    keyring = Keyring.generate()
    _preserve(db_engine, keyring)
    with pytest.raises(PermissionDenied, match="evidence:view"):
        _read(db_engine, keyring, READER)
    _read(db_engine, keyring, SPECIALIST)
    _read(db_engine, keyring, Reviewer("root", frozenset({"admin"})))
    with Session(db_engine) as session:
        views = [(e.actor, e.detail["items"]) for e in audit.entries(session) if e.action == "evidence.view"]
    assert views == [("sara", 2), ("root", 2)]


def test_keyring_from_file_and_environment(tmp_path) -> None:
    path = tmp_path / "keys.json"
    created = vault.rotate_keyfile(path, "a")
    assert path.stat().st_mode & 0o777 == 0o600
    rotated = vault.rotate_keyfile(path, "b")
    assert rotated.active == "b" and set(rotated.keys) == {"a", "b"} and rotated.keys["a"] == created.keys["a"]
    assert Keyring.from_environment({vault.KEY_FILE_ENV: str(path)}) == Keyring.from_file(path)
    assert Keyring.from_environment({vault.KEYS_ENV: path.read_text()}).keys == rotated.keys
    with pytest.raises(VaultKeyError, match="no vault keys"):
        Keyring.from_environment({})
    with pytest.raises(VaultKeyError, match="expected JSON"):
        Keyring.from_json('{"active": "a"}')
    with pytest.raises(VaultKeyError, match="16 bytes"):
        Keyring.from_json(json.dumps({"active": "a", "keys": {"a": "AAAAAAAAAAAAAAAAAAAAAA=="}}))
    with pytest.raises(VaultKeyError, match="not in the keyring"):
        Keyring.from_json(json.dumps({"active": "x", "keys": {"a": json.loads(path.read_text())["keys"]["a"]}}))
    with pytest.raises(VaultKeyError, match="already in the keyring"):
        rotated.rotated("a")
    shown = repr(rotated) + str(rotated)
    assert "'a'" in shown and all(key.hex() not in shown and repr(key) not in shown for key in rotated.keys.values())


def test_cli_rotate_rewrap_and_purge(db_engine, tmp_path) -> None:  # noqa: F811
    from trygg.cli import app

    url = db_engine.url.render_as_string(hide_password=False)
    key_file = tmp_path / "vault-keys.json"
    runner = CliRunner()
    created = runner.invoke(app, ["vault", "rotate-key", "--key-file", str(key_file), "--key-id", "one"])
    assert created.exit_code == 0, created.output
    _preserve(db_engine, Keyring.from_file(key_file))
    assert runner.invoke(app, ["vault", "rotate-key", "--key-file", str(key_file), "--key-id", "two"]).exit_code == 0
    rewrapped = runner.invoke(app, ["vault", "rotate-key", "--key-file", str(key_file), "--rewrap", "--db", url])
    assert rewrapped.exit_code == 0, rewrapped.output
    assert json.loads(rewrapped.output.strip().splitlines()[-1]) == {"rewrapped": 2, "active": "two", "items_per_key": {"two": 2}}
    kept = runner.invoke(app, ["vault", "purge", "--db", url, "--now", "2026-06-01T00:00:00Z"])
    assert json.loads(kept.output) == {"purged_cases": []}
    purged = runner.invoke(app, ["vault", "purge", "--db", url, "--now", "2027-03-01T00:00:00Z"])
    assert json.loads(purged.output) == {"purged_cases": ["k-1"]}
    assert runner.invoke(app, ["vault", "purge", "--db", url, "--now", "yesterday"]).exit_code == 2
    missing_dir = runner.invoke(app, ["vault", "rotate-key", "--key-file", str(tmp_path / "no" / "keys.json")])
    assert missing_dir.exit_code == 2 and "No such file" in missing_dir.output
