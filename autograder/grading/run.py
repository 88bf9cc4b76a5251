"""Run the checks against one submission directory and return the outcome.

This is the grader's entry point (``python -m autograder grade``): pytest runs on
``autograder/checks`` with its own rootdir, ini file and ``--confcutdir``, so a
``conftest.py``, ``pytest.ini`` or shadow package in the submission does nothing;
the submission is reached only through the workers.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest

from autograder.grading.plugin import CHECKS_DIR, GraderPlugin
from autograder.grading.results import RunResult
from autograder.seam.launcher import Launcher, PlainLauncher
from autograder.seam.process import Limits


def grade(
    submission: Path,
    *,
    exercises: list[str] | None = None,
    launcher: Launcher | None = None,
    limits: Limits | None = None,
    quiet: bool = True,
    extra_args: list[str] | None = None,
    seed: int | None = None,
) -> RunResult:
    """Grade ``submission`` (a folder laid out like ``course/``).

    Args:
        submission: folder with the student's ``exNN_*.py`` files.
        exercises: restrict to these exercise modules (default: all in the rubric).
        launcher: how to start workers (default: plain subprocess).
        quiet: swallow pytest's own terminal output (the caller prints the table).

    Returns:
        The parent-side outcome of every expected check.
    """
    launcher = launcher or PlainLauncher()
    # Workers always import a private copy of the regular files (no symlinks out of the folder).
    snapshot = launcher.prepare(Path(submission))
    plugin = GraderPlugin(
        Path(submission),
        mode="grading",
        launcher=launcher,
        exercises=exercises,
        limits=limits,
        worker_dir=snapshot,
        seed=seed,
    )
    args = [
        str(CHECKS_DIR),
        "-c",
        str(CHECKS_DIR / "pytest.ini"),
        "--rootdir",
        str(CHECKS_DIR),
        "--confcutdir",
        str(CHECKS_DIR),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        # student code runs in the workers: the grader's own unraisable/thread exceptions are
        # not graded, and these plugins' forced garbage collections cost ~0.5 s a grading
        "-p",
        "no:unraisableexception",
        "-p",
        "no:threadexception",
        "-q",
        "-W",
        "ignore",
        *(["--hypothesis-seed", str(seed)] if seed is not None else []),
        *(extra_args or []),
    ]
    sink = io.StringIO()
    cwd = os.getcwd()
    try:
        os.chdir(CHECKS_DIR)
        with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
            pytest.main(args, plugins=[plugin])
    finally:
        os.chdir(cwd)
        launcher.discard(snapshot)  # the uid-only tier gives the grading's group back too
    if plugin.result is None:
        raise RuntimeError(f"grading did not finish; pytest said:\n{sink.getvalue()[-2000:]}")
    # Exercises whose module is missing are never collected: add them as failed.
    wanted = exercises or list(plugin.rubric.exercises)
    have = {e.name for e in plugin.result.exercises}
    if set(wanted) - have:
        plugin.collected = [n for n in plugin.rubric.exercises if n in wanted]
        plugin.result = plugin.build_result()
    plugin.result.tier = getattr(launcher, "tier", "")
    return plugin.result
