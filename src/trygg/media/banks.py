"""Hash banks in the database: create, import, export, add, remove, list, Take It Down.

Adding entries from image or video files (which needs hashing) is one layer up, in
:mod:`trygg.media.bank_files`; this module only stores hashes it is given.

The database is the record (what is banked, where from, since when); the in-memory index in
:mod:`trygg.media.matcher` is a cache of it that listeners keep current as entries change.
Imports are all or nothing: a file with a bad line adds nothing and the error names every bad
line (up to a limit), so a half-imported list can never be mistaken for the whole.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal, TextIO

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trygg.decision import ACTIONS
from trygg.media.errors import BankError
from trygg.media.hashing import MATCH_THRESHOLD
from trygg.media.records import HASH_LENGTHS as HASH_LENGTHS  # re-exported with the value types
from trygg.media.records import BankInfo, EntryInfo, EntrySpec, HashType
from trygg.media.store import BankEntryRow, HashBankRow
from trygg.store.base import make_engine
from trygg.store.schema import create_schema

#: Bank for hashes a minor submits of their own image (the Take It Down model).
TAKE_IT_DOWN_BANK = "take_it_down"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_MAX_REPORTED_ERRORS = 20


#: Called with (bank name, entry ids, specs) after an add and (bank name, entry ids) after a remove.
AddListener = Callable[[str, list[int], list[EntrySpec]], None]
RemoveListener = Callable[[str, list[int]], None]


@dataclass
class _Listeners:
    added: list[AddListener] = field(default_factory=list)
    removed: list[RemoveListener] = field(default_factory=list)
    changed: list[Callable[[str], None]] = field(default_factory=list)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class BankStore:
    """Hash banks in a SQLAlchemy database (``TRYGG_DATABASE_URL``, SQLite by default)."""

    def __init__(self, url: str | None = None, engine: Engine | None = None) -> None:
        self.engine = engine or make_engine(url)
        create_schema(self.engine)
        self._listeners = _Listeners()

    def on_change(self, added: AddListener, removed: RemoveListener, bank_changed: Callable[[str], None]) -> None:
        """Register callbacks so an in-memory index follows the database without reloading."""
        self._listeners.added.append(added)
        self._listeners.removed.append(removed)
        self._listeners.changed.append(bank_changed)

    # -- banks -----------------------------------------------------------------------------

    def create_bank(
        self, name: str, source: str = "", threshold: int = MATCH_THRESHOLD, action: str = "block", description: str = ""
    ) -> BankInfo:
        if not _NAME.match(name):
            raise BankError(f"bank name {name!r}: use 1-64 of a-z, 0-9, '_', '.', '-' (starting with a letter or digit)")
        if action not in ACTIONS or action == "allow":
            raise BankError(f"bank action {action!r}: expected one of {', '.join(a for a in ACTIONS if a != 'allow')}")
        if not 0 <= threshold <= MATCH_THRESHOLD:
            raise BankError(f"bank threshold {threshold}: expected 0..{MATCH_THRESHOLD} (the PDQ recommendation is 31)")
        with Session(self.engine) as session:
            session.add(
                HashBankRow(name=name, source=source, description=description, threshold=threshold, action=action, created_at=_now())
            )
            try:
                session.commit()
            except IntegrityError:
                raise BankError(f"bank {name!r} already exists") from None
        for listener in self._listeners.changed:
            listener(name)
        return self.get_bank(name)

    def _bank_row(self, session: Session, name: str) -> HashBankRow:
        row = session.scalar(select(HashBankRow).where(HashBankRow.name == name))
        if row is None:
            known = ", ".join(session.scalars(select(HashBankRow.name).order_by(HashBankRow.name))) or "none"
            raise BankError(f"no bank named {name!r} (banks: {known})")
        return row

    def get_bank(self, name: str) -> BankInfo:
        with Session(self.engine) as session:
            row = self._bank_row(session, name)
            count = session.scalar(select(func.count()).select_from(BankEntryRow).where(BankEntryRow.bank_id == row.id)) or 0
            return _info(row, count)

    def list_banks(self) -> list[BankInfo]:
        with Session(self.engine) as session:
            counts = dict(session.execute(select(BankEntryRow.bank_id, func.count()).group_by(BankEntryRow.bank_id)).all())
            rows = session.scalars(select(HashBankRow).order_by(HashBankRow.name)).all()
            return [_info(row, counts.get(row.id, 0)) for row in rows]

    # -- entries ---------------------------------------------------------------------------

    def add_entries(self, bank: str, specs: Sequence[EntrySpec], source: str = "") -> list[int]:
        """Add entries in one transaction; returns their ids in order."""
        if not specs:
            return []
        with Session(self.engine) as session:
            bank_row = self._bank_row(session, bank)
            added_at = _now()
            rows = [
                {
                    "bank_id": bank_row.id,
                    "pdq": s.pdq,
                    "quality": s.quality,
                    "md5": s.md5,
                    "sha256": s.sha256,
                    "kind": s.kind,
                    "video_key": s.video_key,
                    "label": s.label,
                    "source": source,
                    "added_at": added_at,
                }
                for s in specs
            ]
            ids: list[int] = []
            for start in range(0, len(rows), 10_000):
                ids.extend(
                    session.scalars(
                        insert(BankEntryRow).returning(BankEntryRow.id, sort_by_parameter_order=True), rows[start : start + 10_000]
                    ).all()
                )
            session.commit()
        for listener in self._listeners.added:
            listener(bank, ids, list(specs))
        return ids

    def remove_entries(self, bank: str, ids: Iterable[int] = (), hashes: Iterable[str] = ()) -> int:
        """Remove entries by id and/or by hash value (PDQ, MD5 or SHA-256); returns how many."""
        id_list, hash_list = list(ids), [h.strip().lower() for h in hashes]
        with Session(self.engine) as session:
            bank_row = self._bank_row(session, bank)
            in_bank = BankEntryRow.bank_id == bank_row.id
            doomed: set[int] = set()
            if id_list:
                doomed.update(session.scalars(select(BankEntryRow.id).where(in_bank, BankEntryRow.id.in_(id_list))))
            if hash_list:
                doomed.update(
                    session.scalars(
                        select(BankEntryRow.id).where(
                            in_bank,
                            BankEntryRow.pdq.in_(hash_list) | BankEntryRow.md5.in_(hash_list) | BankEntryRow.sha256.in_(hash_list),
                        )
                    )
                )
            removed = sorted(doomed)
            for start in range(0, len(removed), 10_000):
                session.execute(delete(BankEntryRow).where(BankEntryRow.id.in_(removed[start : start + 10_000])))
            session.commit()
        if removed:
            for listener in self._listeners.removed:
                listener(bank, removed)
        return len(removed)

    def entries(self, bank: str, batch: int = 10_000) -> Iterator[EntryInfo]:
        """Every entry of a bank, in id order, read in batches (banks may be millions long)."""
        last = 0
        while True:
            with Session(self.engine) as session:
                bank_row = self._bank_row(session, bank)
                rows = session.scalars(
                    select(BankEntryRow)
                    .where(BankEntryRow.bank_id == bank_row.id, BankEntryRow.id > last)
                    .order_by(BankEntryRow.id)
                    .limit(batch)
                ).all()
                infos = [_entry(row, bank) for row in rows]
            if not infos:
                return
            yield from infos
            last = infos[-1].id

    # -- files -----------------------------------------------------------------------------

    def import_file(self, bank: str, path: str | Path, hash_type: HashType = "pdq", source: str | None = None) -> int:
        """Import a CSV (with a header) or a plain one-hash-per-line file; all or nothing."""
        with open(path, encoding="utf-8-sig", newline="") as handle:
            specs = parse_hash_lines(handle, hash_type, name=str(path))
        self.get_bank(bank)  # fail on an unknown bank before anything else
        return len(self.add_entries(bank, specs, source if source is not None else f"import:{Path(path).name}"))

    def export(self, bank: str, out: TextIO, fmt: Literal["csv", "plain"] = "csv", hash_type: HashType = "pdq") -> int:
        """Write a bank as CSV (every column) or plain lines of one hash type; returns rows written."""
        count = 0
        if fmt == "csv":
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["pdq", "quality", "md5", "sha256", "kind", "video_key", "label", "source", "added_at"])
        for entry in self.entries(bank):
            if fmt == "csv":
                writer.writerow(
                    [
                        entry.pdq or "",
                        "" if entry.quality is None else entry.quality,
                        entry.md5 or "",
                        entry.sha256 or "",
                        entry.kind,
                        entry.video_key or "",
                        entry.label or "",
                        entry.source,
                        entry.added_at.isoformat(),
                    ]
                )
                count += 1
            else:
                value = getattr(entry, hash_type)
                if value:
                    out.write(value + "\n")
                    count += 1
        return count

    # -- Take It Down ----------------------------------------------------------------------

    def take_it_down(
        self, pdq: str | None = None, md5: str | None = None, sha256: str | None = None, quality: int | None = None
    ) -> int:
        """Bank a hash a minor computed on their own device of their own image.

        The Take It Down model: the image never leaves the child's device; only its hashes come
        here, without name or account, and are matched like any other bank with ``block``.
        Returns the entry id. Creates the ``take_it_down`` bank on first use.
        """
        try:
            spec = EntrySpec(pdq=pdq, md5=md5, sha256=sha256, quality=quality, label="self-submitted")
        except ValueError as exc:
            raise BankError(str(exc)) from None
        if TAKE_IT_DOWN_BANK not in {b.name for b in self.list_banks()}:
            try:
                self.create_bank(
                    TAKE_IT_DOWN_BANK,
                    source="self-submitted hashes (Take It Down model)",
                    action="block",
                    description="Hashes that minors computed on their own devices of their own images.",
                )
            except BankError:
                pass  # created concurrently
        return self.add_entries(TAKE_IT_DOWN_BANK, [spec], source="take_it_down")[0]


def _info(row: HashBankRow, count: int) -> BankInfo:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=timezone.utc)
    return BankInfo(row.name, row.source, row.description, row.threshold, row.action, created, int(count))


def _entry(row: BankEntryRow, bank: str) -> EntryInfo:
    added = row.added_at if row.added_at.tzinfo else row.added_at.replace(tzinfo=timezone.utc)
    return EntryInfo(row.id, bank, row.pdq, row.md5, row.sha256, row.quality, row.kind, row.video_key, row.label, row.source, added)


_COLUMN_ALIASES = {
    "pdq": "pdq",
    "pdq_hex": "pdq",
    "pdq_hash": "pdq",
    "md5": "md5",
    "sha256": "sha256",
    "sha-256": "sha256",
    "quality": "quality",
    "label": "label",
    "note": "label",
    "kind": "kind",
    "video_key": "video_key",
}


def parse_hash_lines(handle: TextIO | Iterable[str], hash_type: HashType = "pdq", name: str = "<input>") -> list[EntrySpec]:
    """Parse a hash list. A first line naming known columns (``pdq``, ``md5``, ``sha256``,
    ``hash``, ``quality``, ``label``...) makes it a CSV; otherwise every line is one hash of
    ``hash_type`` (blank lines and ``#`` comments skipped). Raises :class:`BankError` naming
    every bad line."""
    lines = list(handle)
    first = next((i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")), None)
    if first is None:
        return []
    header = [c.strip().lower() for c in next(csv.reader([lines[first]]))]
    if any(c in _COLUMN_ALIASES or c == "hash" for c in header):
        return _parse_csv(lines, first, header, hash_type, name)
    specs: list[EntrySpec] = []
    errors: list[str] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        try:
            specs.append(EntrySpec(**{hash_type: text}))
        except ValueError as exc:
            errors.append(f"line {number}: {exc}")
    _raise_if(errors, name)
    return specs


def _parse_csv(lines: list[str], first: int, header: list[str], hash_type: HashType, name: str) -> list[EntrySpec]:
    columns = [_COLUMN_ALIASES.get(c, hash_type if c == "hash" else None) for c in header]
    # Unknown columns (exchange-specific metadata) are ignored rather than refused.
    specs: list[EntrySpec] = []
    errors: list[str] = []
    reader = csv.reader(io.StringIO("".join(lines[first + 1 :])))
    for offset, row in enumerate(reader, start=first + 2):
        if not row or all(not cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) > len(header):
            errors.append(f"line {offset}: {len(row)} fields for {len(header)} columns")
            continue
        values = {col: cell.strip() for col, cell in zip(columns, row) if col is not None and cell.strip()}
        try:
            quality = int(values.pop("quality")) if "quality" in values else None
            specs.append(EntrySpec(quality=quality, **values))  # type: ignore[arg-type]
        except (ValueError, TypeError) as exc:
            errors.append(f"line {offset}: {exc}")
    _raise_if(errors, name)
    return specs


def _raise_if(errors: list[str], name: str) -> None:
    if errors:
        shown = errors[:_MAX_REPORTED_ERRORS]
        more = f" (and {len(errors) - len(shown)} more)" if len(errors) > len(shown) else ""
        raise BankError(f"{name}: {len(errors)} bad line(s), nothing imported{more}:\n  " + "\n  ".join(shown))
