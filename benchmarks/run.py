"""`make bench`: the pipeline benchmark (rules only and with the model, as a ratio), media, and
scale (PostgreSQL vs SQLite, Ray with 1 and 2 actors, sizing; the 1M-hash rescan).

Each figure comes from one run on this machine; shared machines are noisy, so compare the
ratios printed here rather than absolute numbers across runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def pipeline(extra: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "trygg.cli", "bench", "--json", *extra], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    rules = pipeline(["--no-model"])
    model = pipeline([])
    print("pipeline (parse + detect + decide + SQLite), one process, one core")
    for name, r in (("rules only", rules), ("with model", model)):
        print(
            f"  {name:11s} {r['messages']} messages / {r['conversations']} conversations: "
            f"{r['messages_per_second']:.0f} msg/s, p50 {r['p50_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms, "
            f"peak RSS {r['peak_rss_mb']:.0f} MB (model loaded: {r['model']})"
        )
    print(f"  with model / rules only throughput ratio: {model['messages_per_second'] / rules['messages_per_second']:.2f}")
    print(json.dumps({"rules_only": rules, "with_model": model}))
    media = HERE / "bench_media.py"
    if media.exists():
        print("media")
        subprocess.run([sys.executable, str(media), *sys.argv[1:]], check=True)
    print("scale (50,000 messages each; see docs/deploy.md)")
    subprocess.run([sys.executable, str(HERE / "bench_scale.py")], check=True)
    print("rescan")
    subprocess.run([sys.executable, str(HERE / "bench_rescan.py")], check=True)


if __name__ == "__main__":
    main()
