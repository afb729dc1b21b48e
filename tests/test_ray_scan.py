"""``trygg scan --ray`` on a local two-CPU Ray cluster writes what a single process writes:
the same decisions (line for line once the order is normalised: partitions finish a round in
their own order), the same summary file, the same stored rows, the same rejected lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'trygg[ray]'): Ray scans not tested")

from scale_support import store_rows  # noqa: E402
from trygg.cli import app  # noqa: E402
from trygg.cluster.ray_scan import partition_of  # noqa: E402
from trygg.lab.bench import generate_stream  # noqa: E402


@pytest.fixture(scope="module")
def local_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _stream(path: Path) -> None:
    generate_stream(path, messages=3_000, conversations=120, seed=17)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"type": "message", "event_id": "bad1", "conversation_id": "c1"}\n')  # no sender, no text
        handle.write("not json at all\n")
        handle.write('{"type": "account", "user_id": "u1a", "declared_age": "old"}\n')
        handle.write(json.dumps({"type": "message", "event_id": "m5", "conversation_id": "c0", "sender_id": "x", "text": "again"}) + "\n")
        handle.write(json.dumps({"type": "contact_request", "event_id": "cr1", "sender_id": "u3a", "recipient_id": "u4a"}) + "\n")


def _run(tmp_path: Path, name: str, db: str, *extra: str) -> tuple[list[str], list[str], str]:
    out, decisions = tmp_path / f"{name}.out.jsonl", tmp_path / f"{name}.decisions.jsonl"
    result = CliRunner().invoke(
        app, ["scan", str(tmp_path / "events.jsonl"), "--out", str(out), "--decisions", str(decisions), "--db", db, *extra]
    )
    assert result.exit_code == 0, result.output
    return out.read_text().splitlines(), decisions.read_text().splitlines(), db


def test_ray_scan_writes_what_one_process_writes(tmp_path: Path, new_database_url: Callable[[], str], local_cluster) -> None:  # noqa: ARG001
    _stream(tmp_path / "events.jsonl")
    single_out, single_decisions, single_db = _run(tmp_path, "single", new_database_url())
    ray_out, ray_decisions, ray_db = _run(tmp_path, "ray", new_database_url(), "--ray", "--workers", "2")

    assert len(single_decisions) > 3_000 and any('"hold_for_review"' in line for line in single_decisions)
    assert sum('"flagged": true' in line for line in single_out) >= 2
    assert sorted(ray_decisions) == sorted(single_decisions)
    assert ray_out == single_out
    assert store_rows(ray_db) == store_rows(single_db)
    # Both partitions had work: the comparison is between a split run and a whole one.
    owners = {partition_of(json.loads(line)["conversation_id"], 2) for line in ray_out}
    assert owners == {0, 1}


def test_ray_scan_in_many_rounds_writes_what_one_process_writes(
    tmp_path: Path, new_database_url: Callable[[], str], local_cluster  # noqa: ARG001
) -> None:
    """Rounds of 700 lines against batches of 700: each actor's state goes on from round to
    round, the driver writes round k while the actors decide round k+1, and the prepared rows
    and rendered lines of every round add up to what one process writes batch by batch."""
    from trygg.cluster.ray_scan import scan_on_ray
    from trygg.compose import Settings, build_engine
    from trygg.events import read_lines
    from trygg.scan import scan
    from trygg.sinks import ExactlyOnceJsonlSink
    from trygg.store.repository import Store

    _stream(tmp_path / "events.jsonl")
    settings = Settings(model=False, media=False)
    written = {}
    for name in ("single", "rounds"):
        db = new_database_url()
        store, sink = Store(db), ExactlyOnceJsonlSink(tmp_path / f"{name}.decisions.jsonl", name)
        with (tmp_path / "events.jsonl").open("rb") as handle:
            if name == "single":
                report = scan(read_lines(handle), build_engine(settings, store=store), store, sinks=[sink], batch_size=700)
            else:
                report, _ = scan_on_ray(handle, settings, store, db, 2, sinks=[sink], round_lines=700)
        sink.close()
        written[name] = (report.processed, sorted((tmp_path / f"{name}.decisions.jsonl").read_text().splitlines()), store_rows(db))
    assert written["single"][0] == 3_001 and len(written["single"][1]) > 3_000
    assert written["rounds"] == written["single"]


def test_ray_rerun_resumes_without_repeating(tmp_path: Path, database_url: str, local_cluster) -> None:  # noqa: ARG001
    _stream(tmp_path / "events.jsonl")
    _, first, db = _run(tmp_path, "ray", database_url, "--ray", "--workers", "2")
    _, again, _ = _run(tmp_path, "ray", database_url, "--ray", "--workers", "2")
    assert again == first  # the same file, nothing appended twice
    rows = store_rows(db)
    assert len({row[0] for row in rows["events"]}) == len(rows["events"])


def test_ray_data_rescan_finds_what_numpy_finds(local_cluster) -> None:  # noqa: ARG001
    import random

    from trygg.cluster.rescan import NewEntry, StoredHashes, hashes_to_words, match_archive

    rng = random.Random(2)
    hashes = [f"{rng.getrandbits(256):064x}" for _ in range(5_000)]
    archive = StoredHashes([f"e{i}" for i in range(len(hashes))], hashes_to_words(hashes))
    near = f"{int(hashes[123], 16) ^ 0b1011:064x}"
    entries = [NewEntry(1, "b", near, 31, "block"), NewEntry(2, "b", hashes[4_000], 31, "block")]
    local = match_archive(archive, entries)
    assert [(m.event_id, m.distance) for m in local] == [("e123", 3), ("e4000", 0)]
    assert match_archive(archive, entries, use_ray=True) == local


def test_ray_data_event_rescan_records_what_one_process_records(
    tmp_path: Path, new_database_url: Callable[[], str], local_cluster  # noqa: ARG001
) -> None:
    """``trygg rescan --events --ray``: the archive read in byte ranges, grouped by partition
    and replayed by Ray Data, records the changes an in-process rescan records."""
    _stream(tmp_path / "events.jsonl")
    source = (Path(__file__).resolve().parents[1] / "src" / "trygg" / "policy" / "default.toml").read_text(encoding="utf-8")
    policy = tmp_path / "changed.toml"
    policy.write_text(source.replace("min_risk = 0.6\n", "min_risk = 0.65\n").replace("min_risk = 0.75\n", "min_risk = 0.5\n"), encoding="utf-8")
    found = {}
    for name, extra in (("single", []), ("ray", ["--ray", "--workers", "2"])):
        db = _run(tmp_path, name, new_database_url(), "--no-model")[2]
        runner = CliRunner()
        command = ["rescan", "--events", str(tmp_path / "events.jsonl"), "--policy", str(policy), "--no-model", "--db", db, *extra]
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output.strip().splitlines()[-1])
        rows = store_rows(db)["decisions"]
        found[name] = (summary, rows)
    (single, single_rows), (on_ray, ray_rows) = found["single"], found["ray"]
    assert single["changed"] > 0 and single["escalated"] > 0
    assert single["mismatched"] == 1  # m5 again, in another conversation: not the stored m5
    counts = ("lines", "replayed", "compared", "not_stored", "mismatched", "duplicates", "rejected", "changed", "escalated")
    assert {key: on_ray[key] for key in counts} == {key: single[key] for key in counts}
    assert ray_rows == single_rows  # the stored decisions after the rescan, row for row
