"""``trygg rescan``: re-evaluate what was already delivered when a hash bank, the policy or the
model changes: stored media hashes against a bank's new entries (``--media``), or the event
archive replayed under the current policy and model (``--events``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer


def rescan(
    events: Annotated[
        Optional[Path],
        typer.Option(
            "--events",
            help="Replay this event archive (JSON Lines, as `trygg scan` reads) under the current policy and model, "
            "compare each stored event's decision and record the changed ones.",
        ),
    ] = None,
    media: Annotated[bool, typer.Option("--media", help="Rescan stored media hashes against a bank's new entries (the default).")] = False,
    bank: Annotated[Optional[str], typer.Option(help="With --media: the bank whose new entries the stored hashes are matched against.")] = None,
    after_entry: Annotated[int, typer.Option(help="With --media: match entries with an id above this (0: the whole bank).")] = 0,
    policy: Annotated[Optional[Path], typer.Option(help="With --events: the policy TOML to decide with (default: the shipped one).")] = None,
    no_model: Annotated[bool, typer.Option("--no-model", help="With --events: rules only, without the learned model.")] = False,
    media_dir: Annotated[
        Optional[Path], typer.Option(help="With --events: folder that media paths are relative to (default: the archive's folder).")
    ] = None,
    db: Annotated[Optional[str], typer.Option(help="Database URL (default: $TRYGG_DATABASE_URL or sqlite:///trygg.db).")] = None,
    ray: Annotated[bool, typer.Option("--ray", help="Run with Ray Data over a Ray cluster (needs trygg[ray]).")] = False,
    address: Annotated[Optional[str], typer.Option(help="Ray cluster address (default with --ray: a local cluster).")] = None,
    workers: Annotated[int, typer.Option(help="With --events --ray: partitions of the archive (one engine each).")] = 2,
) -> None:
    """Rescan what was delivered, recording the decisions that change; prints a JSON summary.

    --media matches the stored PDQ hashes of delivered media against a bank's new entries.

    --events replays the event archive (the store keeps no message text, so the platform's own
    log is read again) through a fresh engine under the current policy and model, compares each
    stored event's decision by its actions, and records each changed one in rescan_results
    (old and new actions, risk and reasons) in place of the stored decision. Escalated decisions
    (an action the old one lacked) open review cases and queue decision webhooks once; unchanged
    ones reach no output, and a second rescan under the same policy records nothing.
    """
    if events is not None and media:
        typer.echo("error: --events and --media are two rescans; run them one at a time", err=True)
        raise typer.Exit(2)
    if events is not None:
        _rescan_events(events, policy, not no_model, media_dir or events.parent, db, ray, address, workers)
        return
    if bank is None:
        typer.echo("error: --media needs --bank (or use --events ARCHIVE)", err=True)
        raise typer.Exit(2)
    _rescan_media(bank, after_entry, db, ray, address)


def _rescan_events(
    archive: Path, policy: Path | None, with_model: bool, media_dir: Path, db: str | None, ray: bool, address: str | None, workers: int
) -> None:
    from trygg.compose import Settings
    from trygg.store.base import database_url
    from trygg.store.repository import Store

    if not archive.is_file():
        typer.echo(f"error: {archive}: no such file", err=True)
        raise typer.Exit(2)
    if workers < 1:
        typer.echo("error: --workers must be at least 1", err=True)
        raise typer.Exit(2)
    from trygg.cluster.event_rescan import rescan_events
    from trygg.compose import load_policy

    try:
        settings = Settings(model=with_model, media_dir=media_dir, **({"policy": policy} if policy else {}))
        load_policy(settings)  # a policy file that does not load is an unusable argument
    except (OSError, ValueError) as exc:
        typer.echo(f"error: policy {policy}: {exc}", err=True)
        raise typer.Exit(2) from None
    store = Store(db)
    if ray:
        from trygg.cluster.ray_scan import join_cluster

        try:
            join_cluster(address, workers)
        except ImportError as exc:
            typer.echo(f"error: --ray needs the 'ray' extra (pip install 'trygg[ray]'): {exc}", err=True)
            raise typer.Exit(2) from None
    started = time.perf_counter()
    report = rescan_events(archive, settings, store, use_ray=ray, partitions=workers, database_url=database_url(db))
    typer.echo(json.dumps({**report.as_dict(), "seconds": round(time.perf_counter() - started, 3)}))


def _rescan_media(bank: str, after_entry: int, db: str | None, ray: bool, address: str | None) -> None:
    from trygg.cluster.rescan import StoredHashes, match_archive, new_entries, record_matches
    from trygg.store.repository import Store

    store = Store(db)
    try:
        entries = new_entries(store.engine, bank, after_entry)
    except (KeyError, LookupError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if ray:
        from trygg.cluster.ray_scan import join_cluster

        join_cluster(address, 1)
    started = time.perf_counter()
    archive = StoredHashes.load(store)
    loaded = time.perf_counter()
    matches = match_archive(archive, entries, use_ray=ray)
    changed = record_matches(store, matches)
    typer.echo(
        json.dumps(
            {
                "stored_hashes": len(archive.event_ids),
                "entries": len(entries),
                "matches": len(matches),
                "decisions_recorded": changed,
                "load_seconds": round(loaded - started, 3),
                "match_and_record_seconds": round(time.perf_counter() - loaded, 3),
            }
        )
    )


def register(app: typer.Typer) -> None:
    app.command("rescan")(rescan)
