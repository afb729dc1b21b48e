"""The evidence vault: what a reported case needs, preserved, encrypted and held for a year.

When a reviewer escalates a case, the messages (text as the caller supplies it: trygg itself
never stores message text) and media hashes of the case are sealed here with AES-256-GCM
(``cryptography``'s AESGCM; a random 96-bit nonce per item). The associated data binds each
ciphertext to its case, event, kind and key id, so a row copied onto another case, or relabelled
with another key id, does not decrypt.

Keys: a keyring of named 256-bit keys with one active key (:class:`Keyring`), read from a JSON
file (``TRYGG_VAULT_KEY_FILE``) or from the ``TRYGG_VAULT_KEYS`` environment variable holding
the same JSON. New writes use the active key; every key in the ring still decrypts, so rotation
(:func:`rotate_keyfile`) is: add a key and make it active, then :func:`rewrap` the stored items
under it at leisure, then drop the old key from the file.

Retention: evidence is held until one year after the report (the preservation period of
18 U.S.C. 2258A(h) as amended by the REPORT Act, 2024); before a report it is held a year from
the escalation. :func:`extend_hold` moves the end later (a law-enforcement request), never
earlier; :func:`purge_expired` deletes everything whose hold has ended. Every write, read,
extension and purge is in the audit log.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from trygg.cases import audit, clock
from trygg.cases.permissions import EVIDENCE_VIEW, Reviewer, check
from trygg.cases.tables import VaultHoldRow, VaultItemRow

#: The preservation period after a report (REPORT Act: one year).
HOLD = timedelta(days=365)
KEY_FILE_ENV = "TRYGG_VAULT_KEY_FILE"
KEYS_ENV = "TRYGG_VAULT_KEYS"
_KEY_BYTES = 32
_NONCE_BYTES = 12
_AAD_PREFIX = b"trygg-vault/v1"
KINDS = ("message", "media")


class VaultError(Exception):
    """Base of the vault's errors."""


class VaultKeyError(VaultError):
    """No usable keyring, or an item sealed with a key the keyring does not hold."""


class VaultDecryptError(VaultError):
    """A ciphertext failed authentication: the wrong key under its key id, or altered data."""


@dataclass(frozen=True)
class EvidenceItem:
    """One preserved item. ``text`` for messages as the platform supplied it; ``hashes`` for
    media (``pdq``, ``md5``, ``sha256``), never the media itself."""

    event_id: str
    kind: str = "message"
    conversation_id: str | None = None
    sender_id: str | None = None
    recipient_id: str | None = None
    sent_at: str | None = None
    text: str | None = None
    hashes: Mapping[str, str] = field(default_factory=dict)
    bank: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise VaultError(f"evidence {self.event_id}: kind {self.kind!r} is not one of {KINDS}")
        if not self.event_id:
            raise VaultError("evidence needs an event id")


# ---------------------------------------------------------------- keys
@dataclass(frozen=True)
class Keyring:
    """Named AES-256 keys; ``active`` seals new items, all of them open old ones. Its repr
    names the key ids only, so a keyring in a log line or a traceback shows no key."""

    keys: Mapping[str, bytes] = field(repr=False)
    active: str

    def __repr__(self) -> str:
        return f"Keyring(active={self.active!r}, key_ids={sorted(self.keys)!r})"

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise VaultKeyError(f"active key {self.active!r} is not in the keyring (keys: {sorted(self.keys)})")
        for key_id, key in self.keys.items():
            if len(key) != _KEY_BYTES:
                raise VaultKeyError(f"key {key_id!r} is {len(key)} bytes; AES-256 needs {_KEY_BYTES}")

    @classmethod
    def generate(cls, key_id: str | None = None) -> Keyring:
        key_id = key_id or new_key_id()
        return cls({key_id: AESGCM.generate_key(bit_length=256)}, key_id)

    @classmethod
    def from_json(cls, text: str, source: str = "keyring") -> Keyring:
        try:
            data = json.loads(text)
            keys = {str(k): base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
            return cls(keys, str(data["active"]))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise VaultKeyError(
                f"{source}: expected JSON {{\"active\": KEY_ID, \"keys\": {{KEY_ID: BASE64}}}} ({exc.__class__.__name__}: {exc})"
            ) from None

    @classmethod
    def from_file(cls, path: str | Path) -> Keyring:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise VaultKeyError(f"vault key file {path}: {exc.strerror or exc}") from None
        return cls.from_json(text, source=f"vault key file {path}")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Keyring:
        """``TRYGG_VAULT_KEY_FILE`` (a path) or ``TRYGG_VAULT_KEYS`` (the JSON itself)."""
        env = os.environ if environ is None else environ
        if env.get(KEY_FILE_ENV):
            return cls.from_file(env[KEY_FILE_ENV])
        if env.get(KEYS_ENV):
            return cls.from_json(env[KEYS_ENV], source=f"${KEYS_ENV}")
        raise VaultKeyError(f"no vault keys: set {KEY_FILE_ENV} to a key file or {KEYS_ENV} to its JSON (trygg vault rotate-key creates one)")

    def to_json(self) -> str:
        keys = {k: base64.b64encode(v).decode("ascii") for k, v in self.keys.items()}
        return json.dumps({"active": self.active, "keys": keys}, indent=2, sort_keys=True) + "\n"

    def rotated(self, key_id: str | None = None) -> Keyring:
        """This keyring plus a new active key (old keys kept, so old items still open)."""
        key_id = key_id or new_key_id()
        if key_id in self.keys:
            raise VaultKeyError(f"key id {key_id!r} is already in the keyring")
        return Keyring({**self.keys, key_id: AESGCM.generate_key(bit_length=256)}, key_id)

    def without(self, key_id: str) -> Keyring:
        if key_id == self.active:
            raise VaultKeyError(f"{key_id!r} is the active key; rotate before removing it")
        return Keyring({k: v for k, v in self.keys.items() if k != key_id}, self.active)


def new_key_id() -> str:
    return f"vk-{clock.now():%Y%m%d}-{secrets.token_hex(4)}"


def write_keyfile(path: str | Path, keyring: Keyring) -> None:
    """Write the keyring readable by the owner only, replacing the file atomically."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(keyring.to_json())
    os.replace(temporary, path)


def rotate_keyfile(path: str | Path, key_id: str | None = None) -> Keyring:
    """Add a new active key to the key file (creating the file if there is none)."""
    path = Path(path)
    keyring = Keyring.from_file(path).rotated(key_id) if path.exists() else Keyring.generate(key_id)
    try:
        write_keyfile(path, keyring)
    except OSError as exc:
        raise VaultKeyError(f"vault key file {path}: {exc.strerror or exc}") from None
    return keyring


# ---------------------------------------------------------------- sealing
def _aad(case_id: str, event_id: str, kind: str, key_id: str) -> bytes:
    return b"\x00".join((_AAD_PREFIX, case_id.encode(), event_id.encode(), kind.encode(), key_id.encode()))


def _payload(item: EvidenceItem) -> bytes:
    data = asdict(item)
    data["hashes"] = dict(item.hashes)
    return json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")


def _seal(keyring: Keyring, case_id: str, item: EvidenceItem) -> tuple[str, bytes, bytes]:
    nonce = os.urandom(_NONCE_BYTES)
    key_id = keyring.active
    ciphertext = AESGCM(keyring.keys[key_id]).encrypt(nonce, _payload(item), _aad(case_id, item.event_id, item.kind, key_id))
    return key_id, nonce, ciphertext


def _open(keyring: Keyring, row: VaultItemRow) -> EvidenceItem:
    key = keyring.keys.get(row.key_id)
    if key is None:
        raise VaultKeyError(
            f"vault item {row.id} of case {row.case_id} is sealed with key {row.key_id!r}, which is not in the keyring (keys: {sorted(keyring.keys)})"
        )
    try:
        plaintext = AESGCM(key).decrypt(row.nonce, row.ciphertext, _aad(row.case_id, row.event_id, row.kind, row.key_id))
    except InvalidTag:
        raise VaultDecryptError(
            f"vault item {row.id} of case {row.case_id} failed authentication: the key under id {row.key_id!r} is not the one "
            "it was sealed with, or the stored item was altered"
        ) from None
    data = json.loads(plaintext)
    return EvidenceItem(**data)


# ---------------------------------------------------------------- operations
def preserve(
    session: Session, keyring: Keyring, actor: str, case_id: str, items: Iterable[EvidenceItem], at: datetime | None = None
) -> int:
    """Seal ``items`` for ``case_id`` and hold them a year from ``at``; the number newly sealed.

    An item already preserved for the case (same event and kind) is kept as it was: evidence
    is what was seen at escalation, not a later resubmission.
    """
    at = clock.utc(at or clock.now())
    hold = session.get(VaultHoldRow, case_id)
    if hold is None:
        hold = VaultHoldRow(case_id=case_id, held_from=at, hold_until=at + HOLD, extensions=0)
        session.add(hold)
        session.flush()
    elif clock.utc(hold.hold_until) < at + HOLD:
        hold.hold_until = at + HOLD
    existing = {(e, k) for e, k in session.execute(select(VaultItemRow.event_id, VaultItemRow.kind).where(VaultItemRow.case_id == case_id))}
    sealed: list[str] = []
    for item in items:
        if (item.event_id, item.kind) in existing:
            continue
        key_id, nonce, ciphertext = _seal(keyring, case_id, item)
        session.add(
            VaultItemRow(case_id=case_id, event_id=item.event_id, kind=item.kind, key_id=key_id, nonce=nonce, ciphertext=ciphertext, stored_at=at)
        )
        existing.add((item.event_id, item.kind))
        sealed.append(item.event_id)
    audit.append(
        session, actor, "vault.preserve", f"case:{case_id}", {"items": len(sealed), "event_ids": sealed, "key_id": keyring.active}, at
    )
    session.flush()
    return len(sealed)


def hold_from_report(session: Session, actor: str, case_id: str, reported_at: datetime) -> datetime:
    """Hold the case's evidence one year from the report (never shortening a longer hold)."""
    reported_at = clock.utc(reported_at)
    hold = session.get(VaultHoldRow, case_id)
    if hold is None:
        raise VaultError(f"case {case_id} has no preserved evidence; escalate it first")
    until = max(clock.utc(hold.hold_until), reported_at + HOLD)
    hold.hold_until = until
    audit.append(session, actor, "vault.hold", f"case:{case_id}", {"hold_until": clock.iso(until), "from": "report"}, reported_at)
    return until


def extend_hold(session: Session, actor: str, case_id: str, until: datetime, note: str, at: datetime | None = None) -> datetime:
    """Hold the case's evidence until ``until`` (later than the current end)."""
    until = clock.utc(until)
    hold = session.get(VaultHoldRow, case_id)
    if hold is None:
        raise VaultError(f"case {case_id} has no preserved evidence to hold")
    current = clock.utc(hold.hold_until)
    if until <= current:
        raise VaultError(f"case {case_id} is already held until {clock.iso(current)}; an extension must end later")
    hold.hold_until = until
    hold.extensions += 1
    audit.append(session, actor, "vault.extend", f"case:{case_id}", {"hold_until": clock.iso(until), "note": note}, at)
    return until


def hold_until(session: Session, case_id: str) -> datetime | None:
    hold = session.get(VaultHoldRow, case_id)
    return clock.utc(hold.hold_until) if hold is not None else None


def read_evidence(session: Session, keyring: Keyring | None, reviewer: Reviewer, case_id: str, purpose: str = "review") -> list[EvidenceItem]:
    """The case's preserved items, decrypted: the one way evidence is read.

    Needs ``evidence:view`` (raises :class:`~trygg.cases.permissions.PermissionDenied`) and
    writes an ``evidence.view`` audit entry naming the reviewer, the case and the purpose.
    ``keyring`` may be None for a case with nothing preserved (its report needs no key);
    with items to open it raises :class:`VaultKeyError`.
    """
    check(reviewer, EVIDENCE_VIEW, f"case:{case_id}")
    rows = list(session.execute(select(VaultItemRow).where(VaultItemRow.case_id == case_id).order_by(VaultItemRow.id)).scalars())
    if rows and keyring is None:
        raise VaultKeyError(f"case {case_id} has {len(rows)} preserved items and no vault keyring was given to open them")
    items = [_open(keyring, row) for row in rows] if keyring is not None else []
    audit.append(session, reviewer.reviewer_id, "evidence.view", f"case:{case_id}", {"items": len(items), "purpose": purpose})
    return items


def purge_expired(session: Session, now: datetime | None = None, actor: str = "trygg") -> list[str]:
    """Delete the evidence of every case whose hold ended at or before ``now``; their ids."""
    now = clock.utc(now or clock.now())
    expired = list(session.execute(select(VaultHoldRow).where(VaultHoldRow.hold_until <= now)).scalars())
    purged = []
    for hold in expired:
        removed = session.execute(delete(VaultItemRow).where(VaultItemRow.case_id == hold.case_id)).rowcount
        audit.append(session, actor, "vault.purge", f"case:{hold.case_id}", {"items": removed, "hold_until": clock.iso(hold.hold_until)}, now)
        session.delete(hold)
        purged.append(hold.case_id)
    session.flush()
    return purged


def rewrap(session: Session, keyring: Keyring, actor: str = "trygg", batch: int = 500) -> int:
    """Re-seal every item not under the active key with the active key; the number re-sealed.

    Old keys must still be in ``keyring``; an item whose key is missing stops the rewrap with
    :class:`VaultKeyError` before anything of that item changes.
    """
    count = 0
    by_key: dict[str, int] = {}
    while True:
        rows = list(
            session.execute(
                select(VaultItemRow).where(VaultItemRow.key_id != keyring.active).order_by(VaultItemRow.id).limit(batch)
            ).scalars()
        )
        if not rows:
            break
        for row in rows:
            item = _open(keyring, row)
            by_key[row.key_id] = by_key.get(row.key_id, 0) + 1
            row.key_id, row.nonce, row.ciphertext = _seal(keyring, row.case_id, item)
            count += 1
        session.flush()
    audit.append(session, actor, "vault.rewrap", "vault", {"items": count, "from_keys": by_key, "to_key": keyring.active})
    return count


def key_ids_in_use(session: Session) -> dict[str, int]:
    """Items per key id (a key may be dropped from the file once it seals nothing)."""
    rows = session.execute(select(VaultItemRow.key_id, func.count()).group_by(VaultItemRow.key_id).order_by(VaultItemRow.key_id))
    return {key_id: int(count) for key_id, count in rows}
