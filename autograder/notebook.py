"""Grade cells in Jupyter: ``check(exercise, check_id)`` runs the real checks on the notebook.

A grade cell of the course notebooks looks like this::

    # rl4llm: grader cell - ex02_returns, 1 point
    from autograder.notebook import check
    check("ex02_returns", "test_the_lesson_grid_episode_gives_0_791_0_89_1")

``check`` takes the code the kernel has run so far (IPython's cell history, in
order; grader cells, magics, shell escapes and top-level expression statements
left out), writes it as every exercise module of the course into a temporary
folder laid out like ``course/``, and grades the exercise **once** with the same
checks as ``pytest course/`` (and the hidden ones, where they are installed) in
a separate ``python -I`` process whose workers are sandboxed when bubblewrap
works. The outcome is cached per (exercise, code), so the other grade cells of
the exercise answer at once.

A failed check raises :class:`CheckFailed` (an ``AssertionError``) whose text is
what a student may see (for hidden checks: failed or passed, nothing more); a
passed check prints nothing. Nothing is ever written to stderr, because
nbgrader scores a grade cell that wrote to stderr 0.

The same code extraction, applied to a saved notebook with nbformat instead of
the kernel's history, is :func:`notebook_code`: the authoritative re-grade
(``python -m autograder nbgrader-regrade``) uses it.

This is *not* authoritative: student code and grade cells share one kernel, so a
student can patch ``check`` itself. The re-grade is.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import warnings
from dataclasses import dataclass, field
from pathlib import Path

GRADER_MARK = "# rl4llm: grader cell"
"""First line of every cell that belongs to the grader (never part of the student's code)."""

COURSE_IMPORT = re.compile(r"^(ex\d\d_\w+|questions)$")
GRADE_TIMEOUT = 1800.0  # seconds; nbgrader's per-cell timeout normally stops us first


class CheckFailed(AssertionError):
    """A check of the course failed; the message is safe to show to the student."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [f"{type(self).__name__}: {self}"]


# -- turning cells into one module ------------------------------------------------------------
def is_grader_cell(source: str) -> bool:
    """Whether a cell's source belongs to the grader (grade cells, the set-up cell).

    The mark is the first line as generated, but nbgrader puts a comment above it when it
    re-inserts a deleted grade cell, so any line starting with the mark counts.
    """
    return any(line.lstrip().startswith(GRADER_MARK) for line in source.splitlines())


def _drop_magics(source: str) -> str | None:
    """The cell without IPython magics and shell escapes (None for a cell magic)."""
    stripped = source.lstrip()
    if stripped.startswith("%%"):
        return None
    out = []
    for line in source.splitlines():
        s = line.lstrip()
        if s.startswith(("%", "!")) or re.match(r"^\w+\s*=\s*!", s):
            out.append("")  # keep line numbers
        else:
            out.append(line)
    return "\n".join(out)


def _is_course_import(node: ast.stmt) -> bool:
    """``from ex02_returns import ...`` (everything is one module) or an import of the grader's
    own package (``autograder`` is not importable next to student code in the sandbox)."""
    if isinstance(node, ast.ImportFrom):
        module = node.module or ""
        return node.level == 0 and bool(COURSE_IMPORT.match(module) or _is_grader_module(module))
    if isinstance(node, ast.Import):
        return all(_is_grader_module(a.name) for a in node.names)
    return False


def _is_grader_module(name: str) -> bool:
    return name == "autograder" or name.startswith("autograder.")


def _is_future(node: ast.stmt) -> bool:
    return isinstance(node, ast.ImportFrom) and node.module == "__future__"


DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass
class Extracted:
    """The module text built from some cells, and what was left out (for reports)."""

    code: str
    futures: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def cell_statements(source: str, succeeded: bool | None = True) -> tuple[str, list[str], str]:
    """The part of one cell that goes into the module.

    Kept: every top-level statement except expression statements (``print(...)``,
    ``train_bandit()`` shown as the cell's value, ``display(...)``): those only
    show something and would re-run at every import. Imports of other course
    modules (``from ex02_returns import ...``) are dropped because everything is
    one module, and imports of ``autograder`` because the grader is not part of
    the student's code. For a cell that failed when it ran, only its imports, functions
    and classes are kept (what the kernel had defined before the error).

    Returns:
        ``(code, future_imports, note)``; ``note`` says why something was dropped.
    """
    if is_grader_cell(source):
        return "", [], ""
    text = _drop_magics(source)
    if text is None:
        return "", [], "cell magic"
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        return "", [], f"SyntaxError line {exc.lineno}: {exc.msg}"
    lines = text.splitlines()
    keep: list[str] = []
    futures: list[str] = []
    dropped = 0
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        segment = "\n".join(lines[start - 1 : node.end_lineno])
        if _is_future(node):
            futures.append(segment.strip())
            continue
        if _is_course_import(node):
            continue
        if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
            dropped += 1
            continue
        if succeeded is False and not isinstance(node, DEFINITIONS):
            dropped += 1
            continue
        if succeeded is False and isinstance(node, (ast.Import, ast.ImportFrom)):
            # the error may have been this import: keep it only if it works
            segment = f"try:\n{textwrap.indent(segment, '    ')}\nexcept ImportError:\n    pass"
        keep.append(segment)
    note = f"{dropped} top-level statement(s) left out" if dropped else ""
    return "\n".join(keep), futures, note


def build_module(cells: list[tuple[str, bool | None]]) -> Extracted:
    """One module from ``(source, succeeded)`` pairs in execution order."""
    parts: list[str] = []
    futures: list[str] = []
    dropped: list[str] = []
    for i, (source, ok) in enumerate(cells, start=1):
        code, fut, note = cell_statements(source, ok)
        futures += [f for f in fut if f not in futures]
        if note:
            dropped.append(f"cell {i}: {note}")
        if code.strip():
            parts.append(f"# -- cell {i} --\n{code}\n")
    head = "\n".join(futures) + "\n\n" if futures else ""
    return Extracted(head + "\n".join(parts), futures, dropped)


def notebook_code(nb) -> Extracted:
    """The student's code in a saved notebook (an ``nbformat`` node), in cell order.

    Grader cells are recognised by their mark line and by nbgrader metadata
    (``grade`` without ``solution``), so neither a student who edits the marker
    nor one who edits the metadata gets ``check(...)`` calls into their module.
    A cell saved with an error output (an exception, or the ``KeyboardInterrupt``
    of a loop the student stopped) counts as failed, as in the kernel: only its
    imports, functions and classes are kept.
    """
    cells = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        cells.append((source, not failed))
    return build_module(cells)


def module_names() -> list[str]:
    """Every module name the course's checks import: the exercises of the rubric."""
    from autograder.grading.rubric import Rubric

    return list(Rubric.load().exercises)


def write_submission(code: str, folder: Path, names: list[str] | None = None) -> Path:
    """Write ``code`` as every exercise module into ``folder`` (created)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in names or module_names():
        (folder / f"{name}.py").write_text(code)
    return folder


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
    """Grade ``exercises`` of a folder laid out like ``course/`` in a fresh ``python -I`` process.

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
    proc = subprocess.run(
        cmd,
        cwd=Path(submission).parent,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
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


def grade_code(code: str, exercise: str, seed: int | None = None) -> dict:
    """Grade ``exercise`` on ``code`` (written as every exercise module) in a fresh process."""
    tmp = Path(tempfile.mkdtemp(prefix="rl4llm-nb-"))
    try:
        write_submission(code, tmp / "submission")
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
        key = (exercise, hashlib.sha256(code.encode()).hexdigest())
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
            }
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -I -m autograder.notebook SUBMISSION EXERCISE...``: grade, print one JSON line."""
    import argparse
    import secrets

    parser = argparse.ArgumentParser(prog="python -m autograder.notebook")
    parser.add_argument("submission")
    parser.add_argument("exercises", nargs="+")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--sandbox", choices=["auto", "require", "off"], default="auto")
    parser.add_argument("--instructor", action="store_true")
    ns = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    from autograder.grading.run import grade
    from autograder.seam.proxy import PlainLauncher
    from autograder.seam.sandbox import UNSANDBOXED, choose_launcher

    note = ""
    if ns.sandbox == "off":
        launcher, note = PlainLauncher(), f"{UNSANDBOXED} (sandbox off)"
    else:
        try:
            launcher, note = choose_launcher(require_sandbox=ns.sandbox == "require")
        except RuntimeError as exc:
            print(json.dumps({"error": str(exc)}))
            return 2
    seed = ns.seed if ns.seed is not None else secrets.randbelow(2**32)
    run = grade(Path(ns.submission), exercises=ns.exercises, launcher=launcher, seed=seed)
    if note:
        run.notes.insert(0, note)
    print(json.dumps(results_for(run, instructor=ns.instructor)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
