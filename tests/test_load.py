"""Grading is load-proof: a paused worker loses no point, a real CPU loop still times out.

Per-call budgets count the worker's CPU time (``autograder/seam/cputime.py``): a worker that
is SIGSTOPped or descheduled on a busy machine uses none, so only the generous wall-clock
backstop can stop it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from autograder.grading.run import grade
from autograder.seam.cputime import descendants
from autograder.seam.process import DEFAULT_TIMEOUT

pytestmark = pytest.mark.slow  # grades real submissions

REPO_ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "ex04_reinforce"


def worker_pids() -> list[int]:
    """The processes below this test process (the grading's workers)."""
    return [pid for pid in descendants(os.getpid()) if pid != os.getpid()]


class Pauser(threading.Thread):
    """Once workers exist, SIGSTOP them all for ``seconds``, then SIGCONT them."""

    def __init__(self, seconds: float) -> None:
        super().__init__(daemon=True)
        self.seconds = seconds
        self.paused: list[int] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            pids = worker_pids()
            if pids:
                time.sleep(0.5)  # let the worker take its first calls
                pids = worker_pids()
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGSTOP)
                self.paused = pids
                time.sleep(self.seconds)
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGCONT)
                return
            time.sleep(0.05)


def test_a_worker_paused_past_the_call_timeout_costs_a_correct_submission_nothing(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    for path in (REPO_ROOT / "solutions").glob("ex*.py"):  # ex04 imports earlier exercises
        shutil.copyfile(path, sub / path.name)
    pause = DEFAULT_TIMEOUT + 2.0
    pauser = Pauser(pause)
    pauser.start()
    start = time.monotonic()
    try:
        result = grade(sub, exercises=[EXERCISE], seed=1)
    finally:
        pauser.done.set()
    took = time.monotonic() - start
    pauser.join(timeout=pause + 5)
    assert pauser.paused, "the test never saw a worker to pause"
    assert took > pause, f"expected the grading to wait out the {pause} s pause, took {took:.1f} s"
    lost = [
        (c.check, c.verdict, c.output[:200])
        for e in result.exercises
        for c in e.checks
        if c.counted and not c.passed
    ]
    assert not lost and result.score == result.max_points, (
        f"the reference lost points while its worker was paused for {pause} s: {lost}"
    )


def all_hang(dest: Path) -> Path:
    """The stubs of ``course/`` with every ``raise NotImplementedError()`` made an endless loop."""
    dest.mkdir()
    for path in (REPO_ROOT / "course").glob("*.py"):
        if path.name == "conftest.py":
            continue
        text = path.read_text(encoding="utf-8")
        looped = re.sub(
            r"^( *)raise NotImplementedError\(\)$",
            r"\1while True:\n\1    pass",
            text,
            flags=re.MULTILINE,
        )
        (dest / path.name).write_text(looped, encoding="utf-8")
    return dest


def test_a_submission_whose_every_function_loops_forever_times_out_each_function_once(tmp_path):
    sub = all_hang(tmp_path / "hang")
    assert "while True" in (sub / "ex02_returns.py").read_text(), "the fixture did not change"
    # ex04 calls ex02's functions too: a function that hung in one exercise is not called again
    # in another. (All eleven exercises: `benchmarks/bench_speed.py --only "all hang"`.)
    graded = ["ex02_returns", "ex04_reinforce"]
    functions = sum((sub / f"{name}.py").read_text().count("while True:") for name in graded)  # 6
    result = grade(sub, seed=1, exercises=graded)
    checks = [c for e in result.exercises for c in e.checks if c.counted]
    assert result.score == 0, f"an endless loop earned points: {result.score}"
    timeouts = [c for c in checks if c.verdict == "timeout"]
    assert timeouts, "expected timeout rows"
    first = [c for c in timeouts if "not called again" not in c.output]
    again = [c for c in timeouts if "not called again" in c.output]
    assert again, "expected later checks of a hung function to fail at once ('not called again')"
    # one real timeout per function at most
    assert len(first) <= functions, (
        f"{len(first)} checks waited for a timeout: {[c.check for c in first]}"
    )
    for c in timeouts:  # the wall-clock backstop may come first on a very busy machine
        assert "CPU time" in c.output or "not called again" in c.output, c.output[:300]
