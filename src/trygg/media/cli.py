"""Media commands for the ``trygg`` CLI: ``hash``, ``match`` and the ``bank`` group.

``register(app)`` adds them to a Typer app (the main ``trygg`` command calls it). Output is JSON
lines on stdout, one per file, so it pipes into ``jq`` or a hash-sharing upload; a file that
cannot be read gets an ``error`` line and the exit code is 1 at the end, after every other file
was still processed. Exit code 2 means unusable arguments (unknown bank, bad hash).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from trygg.media.errors import BankError, MediaError

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".3gp"})

DbOption = Annotated[Optional[str], typer.Option("--db", help="Database URL (default: $TRYGG_DATABASE_URL or sqlite:///trygg.db).")]


def _is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def _emit(obj: dict[str, object]) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False))


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _store(db: str | None):  # type: ignore[no-untyped-def]
    from trygg.media.banks import BankStore

    return BankStore(db)


def hash_command(
    files: Annotated[list[Path], typer.Argument(help="Images or videos (videos by file extension).")],
    every: Annotated[float, typer.Option(help="Video: seconds between sampled frames.")] = 1.0,
    no_unletterbox: Annotated[bool, typer.Option("--no-unletterbox", help="Hash images as they are, borders included.")] = False,
) -> None:
    """Print PDQ (with quality), MD5 and SHA-256 of each file as JSON lines."""
    from trygg.media.hashing import hash_file
    from trygg.media.video import hash_video

    failed = False
    for path in files:
        try:
            if _is_video(path):
                _emit({"file": str(path), "type": "video", **hash_video(path, every_seconds=every).as_dict()})
            else:
                hashes = hash_file(path, unletterbox=not no_unletterbox)
                _emit({"file": str(path), "type": "image", **hashes.as_dict(), "matchable": hashes.matchable})
        except MediaError as exc:
            failed = True
            _emit({"file": str(path), "error": exc.reason})
    if failed:
        raise typer.Exit(1)


def match_command(
    files: Annotated[list[Path], typer.Argument(help="Images or videos to look up in every bank.")],
    db: DbOption = None,
    every: Annotated[float, typer.Option(help="Video: seconds between sampled frames.")] = 1.0,
    no_dihedral: Annotated[bool, typer.Option("--no-dihedral", help="Do not also try the 7 rotated/flipped hashes.")] = False,
) -> None:
    """Match each file against every bank; JSON lines with the matches (empty list: none)."""
    from trygg.media.hashing import hash_file
    from trygg.media.matcher import Matcher
    from trygg.media.video import hash_video

    matcher = Matcher(_store(db), follow=False)
    failed = False
    for path in files:
        try:
            if _is_video(path):
                matches = matcher.match_video(hash_video(path, every_seconds=every))
                _emit({"file": str(path), "type": "video", "matches": [m.as_dict() for m in matches]})
            else:
                hashes = hash_file(path)
                matches = matcher.match(hashes, dihedral=not no_dihedral)
                out: dict[str, object] = {"file": str(path), "type": "image", "pdq": hashes.pdq, "quality": hashes.quality}
                if not hashes.matchable:
                    out["note"] = f"PDQ quality {hashes.quality} < 50: only exact MD5/SHA-256 matches are possible"
                _emit({**out, "matches": [m.as_dict() for m in matches]})
        except MediaError as exc:
            failed = True
            _emit({"file": str(path), "error": exc.reason})
    if failed:
        raise typer.Exit(1)


bank_app = typer.Typer(help="Hash banks: named lists of PDQ / MD5 / SHA-256 hashes with a threshold and an action.", no_args_is_help=True)


@bank_app.command("create")
def bank_create(
    name: Annotated[str, typer.Argument(help="Bank name, e.g. ncmec, stopncii, local.")],
    source: Annotated[str, typer.Option(help="Where the hashes come from.")] = "",
    threshold: Annotated[int, typer.Option(help="PDQ match threshold, 0..31.")] = 31,
    action: Annotated[str, typer.Option(help="Action on a match (block, hold_for_review, ...).")] = "block",
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    db: DbOption = None,
) -> None:
    """Create a bank."""
    try:
        info = _store(db).create_bank(name, source=source, threshold=threshold, action=action, description=description)
    except BankError as exc:
        raise _fail(str(exc)) from None
    _emit(info.as_dict())


@bank_app.command("list")
def bank_list(db: DbOption = None) -> None:
    """List banks as JSON lines (name, source, threshold, action, created_at, entries)."""
    for info in _store(db).list_banks():
        _emit(info.as_dict())


@bank_app.command("import")
def bank_import(
    name: Annotated[str, typer.Argument(help="Bank to import into.")],
    file: Annotated[Path, typer.Argument(help="CSV with a header (pdq, md5, sha256, quality, label...) or one hash per line.")],
    hash_type: Annotated[str, typer.Option(help="Hash type of a plain list (or of a CSV 'hash' column): pdq, md5, sha256.")] = "pdq",
    source: Annotated[Optional[str], typer.Option(help="Source recorded on each entry (default: import:<file name>).")] = None,
    db: DbOption = None,
) -> None:
    """Import a hash list; all or nothing (a bad line names itself and nothing is added)."""
    if hash_type not in ("pdq", "md5", "sha256"):
        raise _fail(f"--hash-type {hash_type!r}: expected pdq, md5 or sha256")
    if not file.is_file():
        raise _fail(f"{file}: no such file")
    try:
        count = _store(db).import_file(name, file, hash_type=hash_type, source=source)  # type: ignore[arg-type]
    except (BankError, UnicodeDecodeError) as exc:
        raise _fail(str(exc)) from None
    _emit({"bank": name, "imported": count, "file": str(file)})


@bank_app.command("export")
def bank_export(
    name: Annotated[str, typer.Argument(help="Bank to export.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="File to write (default: stdout).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv (every column) or plain (one hash per line).")] = "csv",
    hash_type: Annotated[str, typer.Option(help="For --format plain: pdq, md5 or sha256.")] = "pdq",
    db: DbOption = None,
) -> None:
    """Export a bank as CSV or as a plain hash list for a hash-sharing programme."""
    if fmt not in ("csv", "plain") or hash_type not in ("pdq", "md5", "sha256"):
        raise _fail("--format is csv or plain; --hash-type is pdq, md5 or sha256")
    store = _store(db)
    try:
        if out is None:
            count = store.export(name, sys.stdout, fmt, hash_type)  # type: ignore[arg-type]
        else:
            with open(out, "w", encoding="utf-8", newline="") as handle:
                count = store.export(name, handle, fmt, hash_type)  # type: ignore[arg-type]
    except BankError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"exported {count} entries", err=True)


@bank_app.command("add")
def bank_add(
    name: Annotated[str, typer.Argument(help="Bank to add to.")],
    files: Annotated[Optional[list[Path]], typer.Argument(help="Images or videos to hash and bank (the files are not kept).")] = None,
    pdq: Annotated[Optional[str], typer.Option(help="A PDQ hash (64 hex digits) to add directly.")] = None,
    md5: Annotated[Optional[str], typer.Option(help="An MD5 to add directly.")] = None,
    sha256: Annotated[Optional[str], typer.Option(help="A SHA-256 to add directly.")] = None,
    quality: Annotated[Optional[int], typer.Option(help="PDQ quality of --pdq, if known.")] = None,
    label: Annotated[Optional[str], typer.Option(help="Label recorded with the entries.")] = None,
    every: Annotated[float, typer.Option(help="Video: seconds between sampled frames.")] = 1.0,
    db: DbOption = None,
) -> None:
    """Add hashes to a bank, given directly or computed from files."""
    from trygg.media.bank_files import add_image, add_video
    from trygg.media.banks import EntrySpec

    if not (pdq or md5 or sha256 or files):
        raise _fail("give files to hash or --pdq / --md5 / --sha256")
    store = _store(db)
    failed = False
    try:
        if pdq or md5 or sha256:
            try:
                spec = EntrySpec(pdq=pdq, md5=md5, sha256=sha256, quality=quality, label=label)
            except ValueError as exc:
                raise _fail(str(exc)) from None
            _emit({"bank": name, "added": store.add_entries(name, [spec], source="cli")})
        for path in files or []:
            try:
                ids = add_video(store, name, path, label, every) if _is_video(path) else add_image(store, name, path, label)
                _emit({"bank": name, "file": str(path), "added": ids})
            except MediaError as exc:
                failed = True
                _emit({"file": str(path), "error": exc.reason})
    except BankError as exc:
        raise _fail(str(exc)) from None
    if failed:
        raise typer.Exit(1)


@bank_app.command("remove")
def bank_remove(
    name: Annotated[str, typer.Argument(help="Bank to remove from.")],
    entry_id: Annotated[Optional[list[int]], typer.Option("--id", help="Entry id (repeatable).")] = None,
    hash_value: Annotated[Optional[list[str]], typer.Option("--hash", help="PDQ, MD5 or SHA-256 value (repeatable).")] = None,
    db: DbOption = None,
) -> None:
    """Remove entries by id or by hash value."""
    if not entry_id and not hash_value:
        raise _fail("give --id or --hash")
    try:
        removed = _store(db).remove_entries(name, ids=entry_id or [], hashes=hash_value or [])
    except BankError as exc:
        raise _fail(str(exc)) from None
    _emit({"bank": name, "removed": removed})


@bank_app.command("take-it-down")
def bank_take_it_down(
    pdq: Annotated[Optional[str], typer.Option(help="PDQ hash the young person computed on their device.")] = None,
    md5: Annotated[Optional[str], typer.Option(help="MD5 computed on their device.")] = None,
    sha256: Annotated[Optional[str], typer.Option(help="SHA-256 computed on their device.")] = None,
    quality: Annotated[Optional[int], typer.Option(help="PDQ quality, if known.")] = None,
    image: Annotated[
        Optional[Path], typer.Option(help="Hash this image here, on this device; only its hashes are stored, never the image.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Bank a minor's self-submitted hash of their own image (the Take It Down model)."""
    from trygg.media.hashing import hash_file

    if image is not None:
        try:
            hashes = hash_file(image)
        except MediaError as exc:
            raise _fail(str(exc), 1) from None
        pdq, md5, sha256, quality = hashes.pdq, hashes.md5, hashes.sha256, hashes.quality
    if not (pdq or md5 or sha256):
        raise _fail("give --image, or at least one of --pdq, --md5, --sha256")
    try:
        entry = _store(db).take_it_down(pdq=pdq, md5=md5, sha256=sha256, quality=quality)
    except BankError as exc:
        raise _fail(str(exc)) from None
    _emit({"bank": "take_it_down", "entry_id": entry})


def register(app: typer.Typer) -> None:
    """Add ``hash``, ``match`` and the ``bank`` group to ``app``."""
    app.command("hash")(hash_command)
    app.command("match")(match_command)
    app.add_typer(bank_app, name="bank")


def build_app() -> typer.Typer:
    """A stand-alone app with the media commands (for tests and ``python -m trygg.media.cli``)."""
    app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
    register(app)
    return app


if __name__ == "__main__":
    build_app()()
