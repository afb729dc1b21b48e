"""Rescan figure: 1,000,000 stored media hashes matched against a bank's newly added entry.

The archive is written straight into ``media_hashes`` (random hashes: their distribution is
what PDQ aims for), one of them near the new entry; the timed part is ``trygg rescan``'s work:
reading the archive, matching it, recording the decision. Target: under 60 s on one machine.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import datetime, timezone

from trygg.cluster.rescan import StoredHashes, match_archive, new_entries, record_matches
from trygg.store.repository import Store
from trygg.store.tables import MediaHashRow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--ray", action="store_true", help="match with Ray Data (local cluster)")
    args = parser.parse_args()
    from trygg.media.banks import BankStore, EntrySpec

    rng = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="trygg-rescan-") as folder:
        store = Store(f"sqlite:///{folder}/archive.db")
        now = datetime.now(timezone.utc)
        hashes = [f"{rng.getrandbits(256):064x}" for _ in range(args.hashes)]
        with store.engine.begin() as connection:
            connection.execute(
                MediaHashRow.__table__.insert(),
                [{"event_id": f"m{i}", "conversation_id": f"c{i % 50_000}", "sender_id": f"u{i % 90_000}", "pdq": h, "stored_at": now} for i, h in enumerate(hashes)],
            )
        banks = BankStore(engine=store.engine)
        banks.create_bank("local", source="bench", action="block")
        target = hashes[args.hashes // 2]
        banks.add_entries("local", [EntrySpec(pdq=f"{int(target, 16) ^ 0b111:064x}")])
        if args.ray:
            import ray

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        started = time.perf_counter()
        entries = new_entries(store.engine, "local", 0)
        archive = StoredHashes.load(store)
        loaded = time.perf_counter()
        matches = match_archive(archive, entries, use_ray=args.ray)
        matched = time.perf_counter()
        recorded = record_matches(store, matches)
        done = time.perf_counter()
    result = {
        "stored_hashes": args.hashes,
        "matches": len(matches),
        "decisions_recorded": recorded,
        "ray_data": args.ray,
        "load_seconds": round(loaded - started, 2),
        "match_seconds": round(matched - loaded, 2),
        "total_seconds": round(done - started, 2),
    }
    print(f"  rescan of {args.hashes:,} stored hashes against a new bank entry: {result['total_seconds']:.1f} s "
          f"(read {result['load_seconds']:.1f} s, match {result['match_seconds']:.2f} s, {len(matches)} match)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
