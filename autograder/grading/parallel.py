"""One submission's exercises graded in parallel processes (``grade --jobs N``).

A grading checks each exercise in a worker of its own, but the checks themselves run one
after the other in the grading process. With several cores and one submission (the
Gradescope container, ``python -m autograder grade``) the exercises can be split over
processes: each is forked from the grading process before anything is graded, grades its
share with a launcher of its own (its own snapshot, sandbox uid and group, zygote) and the
same seed, and sends its result back; the results are merged in rubric order.

Every check's seed comes from the run seed and the check's id, so a split run draws exactly
what a run in one process draws. Exercises that call each other's functions (the rubric's
``uses``: ex04 calls ex02 and ex03, the questions call ex04, ex11 calls ex07, ex09 and ex10)
stay in one process, so that a function that hung or crashed is not called again in another
(it costs one timeout per grading). A share whose process dies without a result counts as
failed, with the reason, and never takes the other shares down.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from autograder.grading.proctree import die_with_parent, kill_tree
from autograder.grading.results import RunResult, empty_run
from autograder.grading.rubric import Rubric
from autograder.verdict import Verdict

TRAIN_WEIGHT = 40  # a share's weight: its checks, and this much for an exercise that trains


def usable_cpus() -> int:
    """CPUs this process may really use: its affinity, capped by a cgroup v2 ``cpu.max`` quota.

    A container (Gradescope's, Docker's ``--cpus``) may see every CPU of its host and be
    allowed only a share of them; the quota is what counts.
    """
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            n = min(n, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return max(1, n)


def shares(rubric: Rubric, exercises: list[str], jobs: int) -> list[list[str]]:
    """Split ``exercises`` into at most ``jobs`` shares, keeping the ``uses`` relation whole.

    Args:
        rubric: the rubric (its ``uses`` and ``trains`` keys, its order).
        exercises: the exercises to grade.
        jobs: the most shares wanted (processes at a time).

    Returns:
        Non-empty shares, each in rubric order, heaviest first (the grading process takes
        the first); one share when ``jobs`` is 1 or nothing can be split.
    """
    wanted = [e for e in rubric.exercises if e in exercises]
    group = {e: e for e in wanted}  # union-find over the exercises asked for

    def root(e: str) -> str:
        while group[e] != e:
            e = group[e]
        return e

    for e in wanted:
        for used in rubric.exercises[e].uses:
            if used in group:
                group[root(used)] = root(e)
    parts: dict[str, list[str]] = {}
    for e in wanted:
        parts.setdefault(root(e), []).append(e)

    def weight(names: list[str]) -> int:
        ex = rubric.exercises
        return sum(len(ex[n].points) + (TRAIN_WEIGHT if ex[n].trains else 0) for n in names)

    bins: list[list[str]] = [[] for _ in range(max(1, min(jobs, len(parts))))]
    for part in sorted(parts.values(), key=weight, reverse=True):  # longest first
        min(bins, key=weight).extend(part)
    order = {e: i for i, e in enumerate(wanted)}
    out = [sorted(b, key=order.__getitem__) for b in bins if b]
    return sorted(out, key=weight, reverse=True)


def grade_shares(parts: list[list[str]], grade_one: Callable[[list[str]], RunResult]) -> RunResult:
    """Grade each share with ``grade_one`` (the first here, the others in forked processes).

    Args:
        parts: the shares (:func:`shares`).
        grade_one: grades a list of exercises and returns the run; in a forked process it
            must choose its own launcher (nothing claimed here is shared).

    Returns:
        The merged run: exercises in the shares' rubric order, notes of every share once.
    """
    ctx = multiprocessing.get_context("fork")  # before any grading: nothing but imports here
    children = []
    for part in parts[1:]:
        ours, theirs = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=run_share, args=(theirs, grade_one, part), daemon=False)
        proc.start()
        theirs.close()
        children.append((part, proc, ours))
    try:
        runs = [grade_one(parts[0])]
        for part, proc, conn in children:
            runs.append(receive(part, proc, conn))
    finally:
        for _, proc, _ in children:
            if proc.is_alive():
                kill_share(proc)
    return merge(runs)


def run_share(conn, grade_one: Callable[[list[str]], RunResult], part: list[str]) -> None:
    """A forked share: grade ``part`` and send the run (or the error) to the parent."""
    die_with_parent()  # Ctrl-C reaches us too: pytest unwinds, the zygote goes with it
    try:
        conn.send(grade_one(part))
    except BaseException as exc:  # noqa: BLE001 - told to the parent, which reports it
        with contextlib.suppress(Exception):
            conn.send(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


def receive(part: list[str], proc, conn) -> RunResult:
    """The run a share's process sent, or a failed run saying why there is none."""
    try:
        got = conn.recv()
    except (EOFError, OSError):
        got = None
    proc.join()
    if isinstance(got, RunResult):
        return got
    why = got or f"its grading process ended with exit code {proc.exitcode} and no result"
    return failed_run(part, f"{', '.join(part)} could not be graded: {why}")


def failed_run(part: list[str], reason: str) -> RunResult:
    """Every check of ``part`` failed with ``reason`` (a share whose grading died)."""
    run = empty_run(Rubric.load(), part)
    for ex in run.values():
        ex.problem = reason
        for check in ex.checks:
            check.verdict, check.output = Verdict.CHECK_ERROR, reason
    return RunResult(list(run.values()), mode="grading")


def merge(runs: list[RunResult]) -> RunResult:
    """One run of the shares' runs (the first gives the submission, tier, seed and mode)."""
    base = runs[0]
    order = {e: i for i, e in enumerate(Rubric.load().exercises)}
    exercises = sorted((e for r in runs for e in r.exercises), key=lambda e: order.get(e.name, 0))
    notes = list(dict.fromkeys(n for r in runs for n in r.notes))
    return RunResult(
        exercises,
        submission=base.submission,
        mode=base.mode,
        sandbox=base.sandbox,
        tier=base.tier,
        seed=base.seed,
        notes=notes,
        duration=max(r.duration for r in runs),
    )


class ShareProcess:
    """A share's process as :func:`autograder.grading.proctree.kill_tree` would see it."""

    def __init__(self, proc) -> None:
        self.pid = proc.pid
        self.proc = proc

    def wait(self, timeout: float | None = None) -> int | None:
        self.proc.join(timeout)
        if self.proc.exitcode is None:
            raise subprocess.TimeoutExpired("share", timeout or 0)
        return self.proc.exitcode


def kill_share(proc) -> None:
    """SIGKILL a share's process and everything it started (its zygote and workers)."""
    kill_tree(ShareProcess(proc))
