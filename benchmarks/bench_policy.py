"""What the protective policy costs per event: age assurance, contact gates, ads.

A generated stream (never the shared data) of accounts, then messages (half; some state an age),
contact requests, ad requests, connections, blocks and age estimates, parsed from JSON lines and
run through the engine in memory (rules only, no store). The protective handlers
(``trygg.protect.handle`` and the age flags a message can raise) are timed inside the run; the
ratio compares the pipeline's throughput with them against the same run without their time.
Target (issue 10): under 50 µs per event.

Times are the thread's CPU time (``time.thread_time``), not wall time: on a shared machine a
call preempted for milliseconds would otherwise count another process's work as the policy's.
The mean without the slowest 1% of calls is printed beside the plain mean.

    python benchmarks/bench_policy.py [--events N] [--users N] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time
from datetime import datetime, timedelta, timezone

import trygg.protect as protect
from trygg.lab.bench import _benign_text
from trygg.engine import Engine
from trygg.events import read_lines

CATEGORIES = ["gambling", "alcohol", "sports", "music", "games", "dating", "fashion", "loot_boxes"]
TARGETING = ["interest:cars", "context:football", "lookalike:seed7", "language:sv", "interest:makeup"]


def generate(events: int, users: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    lines = []
    for u in range(users):
        age = rng.choice((11, 13, 14, 15, 16, 17, 19, 25, 34, 47))
        created = start - timedelta(days=rng.choice((1, 3, 30, 400)))
        lines.append(json.dumps({"type": "account", "user_id": f"u{u}", "declared_age": age, "created_at": created.isoformat()}))
    for i in range(events):
        at = (start + timedelta(seconds=i * 3)).isoformat()
        a, b = f"u{rng.randrange(users)}", f"u{rng.randrange(users)}"
        roll = rng.random()
        if roll < 0.5:
            text = rng.choice(("im 14", "i'm 34 btw", "im 16 lol")) if rng.random() < 0.02 else _benign_text(rng, "en")
            obj = {"type": "message", "event_id": f"e{i}", "conversation_id": f"c{hash((min(a, b), max(a, b))) % (users * 2)}", "sender_id": a, "recipient_id": b, "text": text, "sent_at": at}
        elif roll < 0.7:
            obj = {"type": "contact_request", "event_id": f"e{i}", "sender_id": a, "recipient_id": b, "surface": rng.choice(("dm", "follow", "friend", "group_add")), "sent_at": at}
        elif roll < 0.9:
            obj = {"type": "ad_request", "event_id": f"e{i}", "user_id": a, "ad_id": f"ad{i % 97}", "categories": rng.sample(CATEGORIES, 2), "targeting": rng.sample(TARGETING, 2), "rating": rng.choice(("everyone", "teen", "mature_teen", "adult"))}
        elif roll < 0.94:
            obj = {"type": "connection", "event_id": f"e{i}", "user_id": a, "other_id": b}
        elif roll < 0.97:
            obj = {"type": "block", "event_id": f"e{i}", "blocker_id": a, "blocked_id": b, "sent_at": at}
        else:
            low = rng.choice((10, 13, 16, 18, 25))
            obj = {"type": "age_estimate", "event_id": f"e{i}", "user_id": a, "method": rng.choice(("facial_estimation", "os_age_range")), "age_low": low, "age_high": low + 4}
        lines.append(json.dumps(obj))
    return lines


def run(events: int, users: int) -> dict[str, float]:
    lines = generate(events, users)
    spent: list[float] = []
    handle, message_flags = protect.handle, protect.message_flags
    clock = time.thread_time

    def timed(function):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            t = clock()
            try:
                return function(*args, **kwargs)
            finally:
                spent.append(clock() - t)

        return wrapper

    protect.handle, protect.message_flags = timed(handle), timed(message_flags)
    try:
        engine = Engine()
        begin = clock()
        for parsed in read_lines(lines):
            engine.process(parsed.event)
        total = clock() - begin
    finally:
        protect.handle, protect.message_flags = handle, message_flags
    policy = sum(spent)
    n = len(lines)
    ordered = sorted(spent)
    kept = ordered[: int(len(ordered) * 0.99)]
    return {
        "events": n,
        "protective_evaluations": len(spent),
        "pipeline_us_per_event": total / n * 1e6,
        "policy_us_per_evaluation_mean": policy / len(spent) * 1e6,
        "policy_us_per_evaluation_trimmed_mean": statistics.fmean(kept) * 1e6,
        "policy_us_per_evaluation_p50": statistics.median(spent) * 1e6,
        "policy_us_per_evaluation_p99": ordered[int(len(ordered) * 0.99)] * 1e6,
        "policy_us_per_event": policy / n * 1e6,
        "throughput_ratio_with_policy": (total - policy) / total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--json", action="store_true")
    args, _ = parser.parse_known_args()
    from trygg.cli import GC_THRESHOLDS

    gc.set_threshold(*GC_THRESHOLDS)  # as the trygg command runs
    result = run(args.events, args.users)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"  policy: {result['events']} events ({result['protective_evaluations']} protective evaluations): "
        f"pipeline {result['pipeline_us_per_event']:.1f} µs/event; policy per evaluation: p50 {result['policy_us_per_evaluation_p50']:.1f} µs, "
        f"mean without the slowest 1% {result['policy_us_per_evaluation_trimmed_mean']:.1f}, p99 {result['policy_us_per_evaluation_p99']:.1f} "
        f"(plain mean {result['policy_us_per_evaluation_mean']:.1f}); "
        f"{result['policy_us_per_event']:.1f} µs/event; throughput with / without policy: {result['throughput_ratio_with_policy']:.2f}"
    )


if __name__ == "__main__":
    main()
