"""Grade cells in Jupyter: ``check(exercise, check_id)`` runs the real checks on the notebook.

A grade cell of the course notebooks looks like this::

    # rl4llm: grader cell - ex02_returns, 1 point
    from autograder.notebook import check
    check("ex02_returns", "test_the_lesson_grid_episode_gives_0_791_0_89_1")

``check`` takes the code the kernel has run so far (IPython's cell history, in
order; grader cells, magics, shell escapes and top-level expression statements
left out), writes it as every exercise module of the course into a temporary
folder laid out like ``course/`` (with the ``capstone_record.json`` of the working
folder, the notebook's: :mod:`autograder.ingest.companions`), and grades the exercise
**once** with the same checks as ``pytest course/`` (and the hidden ones, where they are installed) in
a separate process, as ``python -I`` (forked from a server that has imported torch and the
grader once, :mod:`autograder.grading.forkserver`), whose workers are sandboxed when bubblewrap
works. The outcome is cached per (exercise, code), so the other grade cells of
the exercise answer at once.

A failed check raises :class:`CheckFailed` (an ``AssertionError``) whose text is
what a student may see (for hidden checks: failed or passed, nothing more); a
passed check prints nothing. Nothing is ever written to stderr, because
nbgrader scores a grade cell that wrote to stderr 0.

The code extraction is :mod:`autograder.ingest.notebook`'s (:func:`build_module`), the same
rules as for a saved notebook under ``grade-batch``, Gradescope and ``nbgrader-regrade``.

This is *not* authoritative: student code and grade cells share one kernel, so a
student can patch ``check`` itself. The re-grade is.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from autograder.ingest.companions import COMPANIONS, copy_companions, usable
from autograder.ingest.notebook import Extracted, build_module, write_submission

GRADE_TIMEOUT = 1800.0  # seconds; nbgrader's per-cell timeout normally stops us first


class CheckFailed(AssertionError):
    """A check of the course failed; the message is safe to show to the student."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [f"{type(self).__name__}: {self}"]


# -- the kernel's history ---------------------------------------------------------------------
class _History:
    """Cells the kernel ran, with success flags, recorded by a ``post_run_cell`` hook."""

    def __init__(self) -> None:
        self.cells: list[tuple[str, bool]] = []
        self.first_count: int | None = None  # execution count when recording started
        self.registered = False

    def register(self) -> None:
        ip = _ipython()
        if ip is None or self.registered:
            return
        ip.events.register("post_run_cell", self._record)
        self.first_count = ip.execution_count
        self.registered = True

    def _record(self, result) -> None:
        raw = getattr(getattr(result, "info", None), "raw_cell", None)
        if raw is not None:
            self.cells.append((raw, bool(result.success)))

    def code(self) -> Extracted:
        """Cells run before recording began (from ``In``, status unknown), then the recorded ones."""
        ip = _ipython()
        earlier: list[tuple[str, bool | None]] = []
        if ip is not None:
            history = ip.user_ns.get("_ih") or ip.user_ns.get("In") or []
            stop = self.first_count if self.first_count is not None else len(history)
            earlier = [(src, None) for src in history[1:stop] if isinstance(src, str)]
        return build_module(earlier + list(self.cells))


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


HISTORY = _History()
HISTORY.register()
_cache: dict[tuple[str, str], dict] = {}


# -- grading ----------------------------------------------------------------------------------
def run_grader(
    submission: Path,
    exercises: list[str],
    *,
    seed: int | None = None,
    sandbox: str = "auto",
    instructor: bool = False,
    timeout: float | None = GRADE_TIMEOUT,
) -> dict:
    """Grade ``exercises`` of a folder laid out like ``course/`` in a process of its own.

    Args:
        sandbox: ``"auto"`` (bubblewrap when it works), ``"require"`` or ``"off"``.
        instructor: keep the full output of hidden checks (never show it to students).

    Returns:
        What :func:`results_for` returns, parsed from the child's last stdout line.
    """
    cmd = [sys.executable, "-I", "-m", "autograder.notebook", str(submission), *exercises]
    cmd += ["--sandbox", sandbox] + (["--seed", str(seed)] if seed is not None else [])
    cmd += ["--instructor"] if instructor else []
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "JPY_"))}
    proc = run_fresh(cmd, Path(submission).parent, env, timeout)
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (proc.stderr or proc.stdout)[-1500:]
        raise CheckFailed(
            f"the grader could not run (exit code {proc.returncode}):\n{tail}"
        ) from None
    if "error" in result:
        raise CheckFailed(result["error"])
    return result


def run_fresh(
    cmd: list[str], cwd: Path, env: dict[str, str], timeout: float | None
) -> subprocess.CompletedProcess:
    """Run ``python -I -m autograder.notebook ...``: forked from the fork server where it works.

    The fork server (:mod:`autograder.grading.forkserver`) has imported torch and the grader
    once, which saves each grading about 3.5 s of CPU (several gradings per notebook).
    Raises ``subprocess.TimeoutExpired`` after ``timeout`` seconds, as ``subprocess.run``.
    """
    try:
        from autograder.grading import forkserver
    except ImportError:  # pragma: no cover - a partial installation
        forkserver = None
    if forkserver is None or not forkserver.usable():
        return subprocess.run(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    from autograder.grading.proctree import kill_tree

    with tempfile.TemporaryDirectory(prefix="rl4llm-nbrun-") as tmp:
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        out.touch()
        err.touch()
        child = forkserver.start(cmd[4:], out, cwd, env, module="autograder.notebook", errors=err)
        try:
            code = child.wait(timeout)
        except BaseException:  # a timeout, or the kernel interrupted: the grading stops too
            kill_tree(child)
            raise
        return subprocess.CompletedProcess(cmd, code, out.read_text(), err.read_text())


def grade_code(
    code: str, exercise: str, seed: int | None = None, beside: Path | None = None
) -> dict:
    """Grade ``exercise`` on ``code`` (written as every exercise module) in a fresh process.

    ``beside``: the notebook's folder (default: the working folder, where Jupyter and
    ``nbgrader autograde`` run a notebook); its ``capstone_record.json`` is graded with the code.
    """
    tmp = Path(tempfile.mkdtemp(prefix="rl4llm-nb-"))
    try:
        write_submission(code, tmp / "submission")
        copy_companions([Path.cwd() if beside is None else beside], tmp / "submission")
        sandbox = "off" if os.environ.get("RL4LLM_NO_SANDBOX") else "auto"
        return run_grader(tmp / "submission", [exercise], seed=seed, sandbox=sandbox)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check(exercise: str, check_id: str) -> None:
    """Run one graded check of ``exercise`` on the code this kernel has run.

    Raises:
        CheckFailed: the check failed; the message says why (hidden checks: only that).
    """
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        code = HISTORY.code().code
        key = (exercise, hashlib.sha256(code.encode() + _companions_bytes()).hexdigest())
        if key not in _cache:
            _cache[key] = grade_code(code, exercise)
        outcome = _cache[key]
    found = outcome["exercises"].get(exercise, {}).get(check_id)
    if found is None:
        raise CheckFailed(
            f"{exercise}::{check_id} is not a check of this installation of the course "
            "(is the autograder package up to date?)"
        )
    if found["verdict"] == "graded on submission" and not _reference_available():
        print(found["message"])  # an answer key only the instructor's grader holds
        return
    if not found["passed"]:
        raise CheckFailed(found["message"] or found["verdict"])


def _companions_bytes() -> bytes:
    """The companion files beside the notebook (part of the cache key: a new record re-grades)."""
    return b"".join(p.read_bytes() for p in (Path.cwd() / n for n in COMPANIONS) if usable(p))


def _reference_available() -> bool:
    try:
        from autograder.grading.reference import available
    except ImportError:
        return False
    return available()


def results_for(run, instructor: bool = False) -> dict:
    """A grading run as plain data: ``{"exercises": {ex: {check: {...}}}, "problems": {...}}``.

    Each check has ``passed``, ``verdict``, ``hidden``, ``points`` and ``message`` (what a
    student may see; with ``instructor`` the full output, hidden checks included).
    """
    from autograder.grading.report import student_output

    out: dict = {"exercises": {}, "problems": {}, "sandbox": run.sandbox, "seed": run.seed}
    out["tier"] = run.tier
    out["notes"] = list(run.notes)
    for ex in run.exercises:
        out["problems"][ex.name] = ex.problem
        checks = out["exercises"].setdefault(ex.name, {})
        for c in ex.checks:
            message = "" if c.passed else (c.output if instructor else student_output(c))
            checks[c.check] = {
                "passed": c.passed,
                "verdict": c.verdict,
                "hidden": c.hidden,
                "points": c.max_points,
                "message": message,
                "feedback": student_output(c),  # what the student may see, hidden or not
            }
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -I -m autograder.notebook SUBMISSION EXERCISE...``: grade, print one JSON line."""
    import argparse

    from autograder.seam.sandbox import SANDBOX_MODES

    parser = argparse.ArgumentParser(prog="python -m autograder.notebook")
    parser.add_argument("submission")
    parser.add_argument("exercises", nargs="+")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--sandbox", choices=SANDBOX_MODES, default="auto")
    parser.add_argument("--instructor", action="store_true")
    ns = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    from autograder.grading.authoritative import authoritative
    from autograder.seam.sandbox import SandboxUnavailable

    try:
        run = authoritative(Path(ns.submission), ns.exercises, ns.sandbox, ns.seed)
    except SandboxUnavailable as exc:
        print(json.dumps({"error": str(exc)}))
        return 2
    print(json.dumps(results_for(run, instructor=ns.instructor)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
