"""``trygg rescan``: re-evaluate the stored archive when a hash bank changes."""

from __future__ import annotations

import json
import time
from typing import Annotated, Optional

import typer


def rescan(
    bank: Annotated[str, typer.Option(help="The bank whose new entries the stored media hashes are matched against.")],
    media: Annotated[bool, typer.Option("--media", help="Rescan stored media hashes (the one archive trygg keeps).")] = True,
    after_entry: Annotated[int, typer.Option(help="Match entries with an id above this (0: the whole bank).")] = 0,
    db: Annotated[Optional[str], typer.Option(help="Database URL (default: $TRYGG_DATABASE_URL or sqlite:///trygg.db).")] = None,
    ray: Annotated[bool, typer.Option("--ray", help="Match with Ray Data over a Ray cluster (needs trygg[ray]).")] = False,
    address: Annotated[Optional[str], typer.Option(help="Ray cluster address (default with --ray: a local cluster).")] = None,
) -> None:
    """Match the stored PDQ hashes of delivered media against a bank's new entries and record
    the decisions. Messages cannot be rescanned: their text is never stored."""
    from trygg.cluster.rescan import StoredHashes, match_archive, new_entries, record_matches
    from trygg.store.repository import Store

    if not media:
        typer.echo("error: only --media can be rescanned; the store keeps no message text", err=True)
        raise typer.Exit(2)
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
