"""The one grading policy every entry point uses: a launcher, a secret seed, the exercises.

``python -m autograder grade``, the notebook grade cells' child process, the Gradescope
entry point and ``nbgrader-regrade`` (through the notebook child) all call
:func:`authoritative`; ``grade-batch`` runs one ``grade`` process per submission.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from autograder.grading.parallel import grade_shares, shares
from autograder.grading.plugin import CHECKS_DIR
from autograder.grading.reference import SOLUTIONS_DIR
from autograder.grading.results import RunResult
from autograder.grading.rubric import Rubric
from autograder.grading.run import grade
from autograder.seam.process import Limits
from autograder.seam.sandbox import choose_launcher


def new_seed() -> int:
    """A fresh secret seed for the hidden checks (32 bits)."""
    return secrets.randbelow(2**32)


def authoritative(
    path: Path,
    exercises: list[str] | None = None,
    sandbox: str = "auto",
    seed: int | None = None,
    *,
    announce: Callable[[str], None] | None = None,
    limits: Limits | None = None,
    jobs: int = 1,
) -> RunResult:
    """Grade a folder laid out like ``course/`` the way every entry point does.

    Args:
        path: the submission folder.
        exercises: grade only these exercise modules (None: every exercise of the rubric).
        sandbox: ``"auto"``, ``"require"`` or ``"off"`` (see
            :func:`autograder.seam.sandbox.choose_launcher`, where the launcher is chosen).
        seed: the hidden checks' seed (None: a fresh secret one, see :func:`new_seed`).
        announce: called with the UNSANDBOXED note (if any) before grading starts.
        limits: per-call and start-up budgets of the workers.
        jobs: grade the exercises in up to this many processes at a time
            (:mod:`autograder.grading.parallel`; the verdicts are the same).

    Returns:
        The run; its ``notes`` start with the UNSANDBOXED note when there is one and its
        ``seed`` is the seed used.

    Raises:
        SandboxUnavailable: ``sandbox="require"`` and the sandbox is unavailable here.
    """
    launcher, note = choose_launcher(sandbox, protect=[SOLUTIONS_DIR, CHECKS_DIR])
    if note and announce is not None:
        announce(note)
    seed = new_seed() if seed is None else seed
    rubric = Rubric.load()
    parts = shares(rubric, exercises or list(rubric.exercises), jobs)
    if len(parts) > 1:

        def grade_one(part: list[str]) -> RunResult:
            own = launcher if os.getpid() == parent else choose_launcher(sandbox, protect)[0]
            return grade(Path(path), exercises=part, launcher=own, limits=limits, seed=seed)

        parent, protect = os.getpid(), [SOLUTIONS_DIR, CHECKS_DIR]
        run = grade_shares(parts, grade_one)
    else:
        run = grade(Path(path), exercises=exercises, launcher=launcher, limits=limits, seed=seed)
    if note:
        run.notes.insert(0, note)
    return run
