"""Media benchmark: hashing speed, lookup latency and recall, memory, robustness.

    python benchmarks/bench_media.py [--quick] [--full] [--json] [--instructions]

* hashing: images per CPU-second through ``trygg.media.hashing.hash_file`` (PDQ + 8 dihedral
  hashes, MD5, SHA-256, guards, border check) against bare ``pdqhash`` on the same images
  (Pillow decode + ``pdqhash.compute``, as python-threatexchange does it);
* lookup: p50 / p99 of one-query searches at 100k and 1M random hashes (``--full``: also 10M;
  ``--quick``: 100k only) for trygg's ``PDQIndex``, a plain faiss ``IndexBinaryFlat`` and the
  faiss ``IndexBinaryMultiHash`` setting python-threatexchange uses (16 tables, nflip =
  31 // 16); recall over queries planted at distances 0..31 from a stored hash;
* memory: bytes held by each index, and the process's peak RSS;
* robustness: which ``bridge-mods/`` edits and ``dihedral/`` rotations match their original
  (plain hash, and with the 8 dihedral hashes), and the letterbox pair.

Random 256-bit hashes are the hard case for multi-index hashing only in being uniform; real
bank hashes cluster, which makes buckets uneven. Lookups are single-threaded on every side
(faiss is set to one OpenMP thread): the figure is per-query latency.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import faiss  # noqa: E402
import pdqhash  # noqa: E402
from PIL import Image  # noqa: E402

from trygg.media.hashing import MATCH_THRESHOLD, hamming, hash_file  # noqa: E402
from trygg.media.index import PDQIndex  # noqa: E402

PDQ_DATA = ROOT.parent / "shared" / "data" / "pdq"
QUERIES = 300


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _images(tmp: Path) -> list[Path]:
    if PDQ_DATA.exists():
        return sorted(p for p in PDQ_DATA.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    tmp.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(12):
        small = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
        path = tmp / f"synthetic-{i}.jpg"
        Image.fromarray(small).resize((1600, 1000), Image.Resampling.BICUBIC).save(path, quality=90)
        paths.append(path)
    return paths


def bench_hashing(rounds: int) -> dict[str, object]:
    paths = _images(Path("/tmp/trygg-bench-media"))

    def bare(path: Path) -> None:
        pdqhash.compute(np.asarray(Image.open(path).convert("RGB")))

    def ours(path: Path) -> None:
        hash_file(path)

    # CPU time, interleaved rounds, best of each: other processes on a shared machine then
    # slow both sides alike instead of whichever ran while they were busy.
    timings: dict[str, float] = {}
    for _ in range(rounds):
        for name, fn in (("pdqhash", bare), ("trygg", ours)):
            start = time.process_time()
            for path in paths:
                fn(path)
            timings[name] = min(timings.get(name, float("inf")), time.process_time() - start)
    return {
        "images": len(paths),
        "source": "shared/data/pdq" if PDQ_DATA.exists() else "synthetic 1600x1000",
        "pdqhash_images_per_s": round(len(paths) / timings["pdqhash"], 1),
        "trygg_images_per_s": round(len(paths) / timings["trygg"], 1),
        "overhead_pct": round(100 * (timings["trygg"] / timings["pdqhash"] - 1), 1),
    }


def _hash_pass(kind: str) -> None:
    """One pass over the images, for counting instructions under callgrind."""
    for path in _images(Path("/tmp/trygg-bench-media")):
        if kind == "pdqhash":
            pdqhash.compute(np.asarray(Image.open(path).convert("RGB")))
        elif kind == "trygg":
            hash_file(path)


def bench_instructions() -> dict[str, object]:
    """Instructions (valgrind callgrind) for one pass of each side, minus start-up: repeatable
    whatever else the machine runs, unlike time on a shared 2-core box."""
    counts = {}
    for kind in ("none", "pdqhash", "trygg"):
        out = Path(f"/tmp/trygg-bench-callgrind.{kind}")
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__, "--hash-pass", kind],
            check=True,
            capture_output=True,
        )
        summary = next(line for line in out.read_text().splitlines() if line.startswith(("summary:", "totals:")))
        counts[kind] = int(summary.split()[1])
        out.unlink()
    bare, ours = counts["pdqhash"] - counts["none"], counts["trygg"] - counts["none"]
    return {"pdqhash_instructions": bare, "trygg_instructions": ours, "overhead_pct": round(100 * (ours / bare - 1), 1)}


def _planted(codes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    targets = rng.choice(len(codes), QUERIES, replace=False)
    queries = codes[targets].copy()
    for i in range(QUERIES):
        bits = np.unpackbits(queries[i])
        bits[rng.choice(256, i % (MATCH_THRESHOLD + 1), replace=False)] ^= 1
        queries[i] = np.packbits(bits)
    return targets, queries


def _latency(search, queries: np.ndarray, targets: np.ndarray) -> dict[str, float]:  # type: ignore[no-untyped-def]
    times = []
    found = 0
    for query, target in zip(queries, targets):
        start = time.perf_counter()
        ids = search(query[None])
        times.append(time.perf_counter() - start)
        found += int(target) in ids
    arr = np.array(times) * 1e6
    return {"p50_us": round(float(np.percentile(arr, 50)), 1), "p99_us": round(float(np.percentile(arr, 99)), 1), "recall": found / len(targets)}


def bench_lookup(size: int, with_multihash: bool) -> dict[str, object]:
    rng = np.random.default_rng(size)
    codes = rng.integers(0, 256, (size, 32), dtype=np.uint8)
    targets, queries = _planted(codes, rng)
    out: dict[str, object] = {"size": size, "queries": QUERIES}

    gc.collect()
    rss_before = rss_bytes()
    tracemalloc.start()
    start = time.perf_counter()
    ours = PDQIndex()
    ours.add(np.arange(size), codes)
    build = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.collect()
    rss_delta = rss_bytes() - rss_before

    def search_ours(q: np.ndarray) -> set[int]:
        return {h.id for h in ours.search(q)[0]}

    out["trygg"] = {
        "kind": ours.kind,
        "build_s": round(build, 2),
        "index_mb": round(ours.nbytes() / 1e6, 1),
        "rss_delta_mb": round(rss_delta / 1e6, 1),
        "build_peak_mb": round(peak / 1e6, 1),
        **_latency(search_ours, queries, targets),
    }

    flat = faiss.IndexBinaryFlat(256)
    flat.add(codes)

    def search_flat(q: np.ndarray) -> set[int]:
        lims, _, ids = flat.range_search(q, MATCH_THRESHOLD + 1)
        return set(ids[lims[0] : lims[1]].tolist())

    out["faiss_flat"] = {"index_mb": round(flat.ntotal * 32 / 1e6, 1), **_latency(search_flat, queries, targets)}
    del flat
    gc.collect()

    if with_multihash:
        before = rss_bytes()
        start = time.perf_counter()
        multi = faiss.IndexBinaryMultiHash(256, 16, 16)
        multi.nflip = MATCH_THRESHOLD // 16
        multi.add(codes)
        build = time.perf_counter() - start

        def search_multi(q: np.ndarray) -> set[int]:
            lims, _, ids = multi.range_search(q, MATCH_THRESHOLD + 1)
            return set(ids[lims[0] : lims[1]].tolist())

        out["faiss_multihash"] = {
            "nflip": multi.nflip,
            "build_s": round(build, 2),
            "rss_delta_mb": round((rss_bytes() - before) / 1e6, 1),
            **_latency(search_multi, queries, targets),
        }
        del multi
        gc.collect()
    flat_p50 = out["faiss_flat"]["p50_us"]  # type: ignore[index]
    out["speedup_p50_vs_flat"] = round(flat_p50 / out["trygg"]["p50_us"], 1)  # type: ignore[index]
    del ours, codes
    gc.collect()
    return out


def bench_robustness() -> list[dict[str, object]]:
    if not PDQ_DATA.exists():
        return []
    rows: list[dict[str, object]] = []
    for folder, original in (("bridge-mods", "aaa-orig.jpg"), ("dihedral", "bridge-1-original.jpg"), ("letterbox", "sample-b.jpg")):
        ref = hash_file(PDQ_DATA / folder / original)
        for path in sorted((PDQ_DATA / folder).glob("*.jpg")):
            if path.name == original:
                continue
            h = hash_file(path)
            raw = hamming(hash_file(path, unletterbox=False).pdq, ref.pdq)
            plain = hamming(h.pdq, ref.pdq)
            best = min(hamming(q, ref.pdq) for q in h.dihedral)
            rows.append(
                {
                    "file": f"{folder}/{path.name}",
                    "distance_without_border_removal": raw,
                    "distance": plain,
                    "dihedral_distance": best,
                    "matches_plain": plain <= MATCH_THRESHOLD,
                    "matches_with_dihedral": best <= MATCH_THRESHOLD,
                    "border_removed": h.crop is not None,
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k hashes only, fewer hashing rounds")
    parser.add_argument("--full", action="store_true", help="also 10M hashes (adds a few minutes and ~5 GB)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--instructions", action="store_true", help="also count hashing instructions with valgrind (~2 min)")
    parser.add_argument("--hash-pass", choices=("none", "pdqhash", "trygg"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.hash_pass:
        _hash_pass(args.hash_pass)
        return 0
    faiss.omp_set_num_threads(1)  # single-threaded like trygg's index: per-query latency, not throughput

    sizes = [100_000] if args.quick else [100_000, 1_000_000]
    if args.full:
        sizes.append(10_000_000)
    started = time.perf_counter()
    report: dict[str, object] = {"hashing": bench_hashing(rounds=2 if args.quick else 5)}
    if args.instructions:
        if shutil.which("valgrind") is None:
            print("valgrind not found: skipping --instructions", file=sys.stderr)
        else:
            report["hashing_instructions"] = bench_instructions()
    report["lookup"] = [bench_lookup(size, with_multihash=True) for size in sizes]
    report["robustness"] = bench_robustness()
    report["peak_rss_mb"] = round(peak_rss_bytes() / 1e6, 1)
    report["seconds"] = round(time.perf_counter() - started, 1)

    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    h = report["hashing"]
    print(f"hashing ({h['images']} images, {h['source']}): trygg {h['trygg_images_per_s']}/s, "  # type: ignore[index]
          f"pdqhash {h['pdqhash_images_per_s']}/s, overhead {h['overhead_pct']}% (CPU time)")  # type: ignore[index]
    if "hashing_instructions" in report:
        i = report["hashing_instructions"]
        print(f"hashing instructions: trygg {i['trygg_instructions']:,}, pdqhash {i['pdqhash_instructions']:,}, "  # type: ignore[index]
              f"overhead {i['overhead_pct']}%")  # type: ignore[index]
    print(f"{'size':>10} {'index':<16} {'p50 us':>9} {'p99 us':>9} {'recall':>7} {'memory MB':>10}")
    for row in report["lookup"]:  # type: ignore[union-attr]
        for name in ("trygg", "faiss_flat", "faiss_multihash"):
            if name in row:
                r = row[name]
                memory = r.get("index_mb", r.get("rss_delta_mb"))
                print(f"{row['size']:>10} {name:<16} {r['p50_us']:>9} {r['p99_us']:>9} {r['recall']:>7.3f} {memory:>10}")
        print(f"{'':>10} trygg p50 speed-up over flat: {row['speedup_p50_vs_flat']}x")
    print("robustness (distance to the original; match <= 31):")
    for r in report["robustness"]:  # type: ignore[union-attr]
        print(f"  {r['file']:<38} raw {r['distance_without_border_removal']:>3}  "
              f"plain {r['distance']:>3} {'match' if r['matches_plain'] else 'MISS ':<5}  "
              f"dihedral {r['dihedral_distance']:>3} {'match' if r['matches_with_dihedral'] else 'MISS'}")
    print(f"peak RSS {report['peak_rss_mb']} MB, {report['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
