"""Crash safety: a scan killed with SIGKILL anywhere and restarted ends exactly as an
uninterrupted scan: the decisions file byte for byte, the summary file, and every stored row.

The scans are real ``trygg scan`` processes with small batches (``TRYGG_SCAN_BATCH_SIZE``), so a
run has many commits to be killed between, in, and after; the kill points are taken from the
growing decisions file, so they land in different phases of a batch on every run. The window
between a commit and the file append is a few microseconds wide, so it is also tested directly:
an output that fails right after the commit, or half way through its append, recovers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from scale_support import run_scan, scan_command, scan_env, store_rows
from trygg.engine import Engine
from trygg.events import read_events
from trygg.lab.bench import generate_stream
from trygg.scan import scan
from trygg.sinks import ExactlyOnceJsonlSink, RecoveryError
from trygg.store.repository import Store

BATCH = 150


@pytest.fixture(scope="module")
def stream(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("stream") / "events.jsonl"
    generate_stream(path, messages=9_000, conversations=300, seed=11)
    return path


def _kill_when_grown(command: list[str], watched: Path, at_least: int) -> bool:
    """Start the scan, SIGKILL it once ``watched`` holds ``at_least`` bytes; False when the scan
    finished first (then there was nothing to kill)."""
    process = subprocess.Popen(command, env=scan_env(BATCH), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while process.poll() is None:
            if watched.exists() and watched.stat().st_size >= at_least:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.005)
        return False
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sigkill_at_several_points_then_restart_equals_an_uninterrupted_run(tmp_path: Path, stream: Path, database_url: str, new_database_url: Callable[[], str]) -> None:
    reference_db = new_database_url()
    run_scan(stream, tmp_path, reference_db, "reference", BATCH)
    reference = (tmp_path / "reference.decisions.jsonl").read_bytes()
    assert reference.count(b"\n") >= 9_000  # one line per message

    crashed = tmp_path / "crashed.decisions.jsonl"
    command = scan_command(stream, tmp_path, database_url, "crashed")
    kills = 0
    for share in (0.15, 0.4, 0.65, 0.9):
        kills += _kill_when_grown(command, crashed, int(len(reference) * share))
    assert kills >= 3, "the scans finished before they could be killed: the stream is too short for this machine"
    assert len(crashed.read_bytes()) < len(reference)  # the last kill left work to do
    run_scan(stream, tmp_path, database_url, "crashed", BATCH)

    assert crashed.read_bytes() == reference
    assert (tmp_path / "crashed.out.jsonl").read_bytes() == (tmp_path / "reference.out.jsonl").read_bytes()
    assert store_rows(database_url) == store_rows(reference_db)


class _CrashingSink(ExactlyOnceJsonlSink):
    """Stands in for a process killed right after a batch commits: on the ``crash_at``-th append
    it writes ``written`` of the batch's bytes (none, or half) and stops the scan."""

    def __init__(self, path: Path, key: str, crash_at: int, half: bool) -> None:
        super().__init__(path, key)
        self.appends, self.crash_at, self.half = 0, crash_at, half

    def append(self, payload: bytes, end: int) -> None:
        self.appends += 1
        if self.appends == self.crash_at:
            if self.half:
                assert self._handle is not None
                self._handle.write(payload[: len(payload) // 2])
                self._handle.flush()
            raise KeyboardInterrupt("killed after the commit")
        super().append(payload, end)


@pytest.mark.parametrize("half", [False, True], ids=["before-append", "mid-append"])
def test_a_batch_committed_but_not_yet_written_is_written_once_on_restart(tmp_path: Path, database_url: str, new_database_url: Callable[[], str], half: bool) -> None:
    lines = tmp_path / "events.jsonl"
    generate_stream(lines, messages=600, conversations=20, seed=3)
    reference = tmp_path / "reference.jsonl"
    sink = ExactlyOnceJsonlSink(reference, "k")
    scan(read_events(lines), Engine(), Store(new_database_url()), sinks=[sink], batch_size=50)
    sink.close()

    output = tmp_path / "out.jsonl"
    crashing = _CrashingSink(output, "k", crash_at=4, half=half)
    with pytest.raises(KeyboardInterrupt):
        scan(read_events(lines), Engine(), Store(database_url), sinks=[crashing], batch_size=50)
    crashing.close()
    assert len(output.read_bytes()) < len(reference.read_bytes())
    resumed = ExactlyOnceJsonlSink(output, "k")
    scan(read_events(lines), Engine(), Store(database_url), sinks=[resumed], batch_size=50)
    resumed.close()
    assert output.read_bytes() == reference.read_bytes()


def test_an_output_cut_short_outside_trygg_is_refused_not_appended_to(tmp_path: Path, database_url: str) -> None:
    lines = tmp_path / "events.jsonl"
    generate_stream(lines, messages=200, conversations=10, seed=5)
    output = tmp_path / "out.jsonl"
    sink = ExactlyOnceJsonlSink(output, "k")
    scan(read_events(lines), Engine(), Store(database_url), sinks=[sink], batch_size=50)
    sink.close()
    output.write_bytes(output.read_bytes()[:100])
    with pytest.raises(RecoveryError, match="changed outside trygg"):
        ExactlyOnceJsonlSink(output, "k").recover(Store(database_url).sink_position("k"))
