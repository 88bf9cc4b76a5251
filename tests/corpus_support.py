"""Helpers for the chaff/wheat corpus (``tests/corpus/``) and ``tests/test_corpus.py``.

The corpus holds whole replacement modules for one exercise each:

* ``tests/corpus/chaff/<exercise>/<name>.py`` - a realistic *buggy* implementation that
  must lose points on its own exercise and nowhere else;
* ``tests/corpus/wheat/<exercise>/<name>.py`` - an alternative *correct* implementation
  that must score full marks.

Every entry starts with a one-line docstring saying what the bug (or the alternative) is.
A submission for one entry is a folder with copies of every graded reference module from
``solutions/`` (nbgrader markers are comments, so the files are valid Python as they are)
with the entry's exercise module replaced by the entry.
"""

from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from hypothesis import settings

from autograder import REPO_ROOT
from autograder.impl import Limits
from autograder.results import ExerciseResult, RunResult

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
SOLUTIONS_DIR = REPO_ROOT / "solutions"
KINDS = ("chaff", "wheat")
# The exercises the corpus covers (their checks and rubric entries exist).
EXERCISES = ("ex01_gridworld", "ex02_returns", "ex03_policy", "ex04_reinforce")
# The default per-call limit (10 s) can be exceeded under heavy CPU load by a call that
# merely triggers torch's lazy imports (the first optimizer built in a worker).
CORPUS_LIMITS = Limits(call_timeout=60.0, start_timeout=180.0)
_IMPORT_RE = re.compile(r"^\s*(?:from|import)\s+(ex\d\d_\w+)", re.MULTILINE)


@dataclass(frozen=True)
class Entry:
    """One corpus module: ``kind`` (chaff/wheat), the exercise it replaces, its file."""

    kind: str
    exercise: str
    path: Path

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.exercise}/{self.name}"

    @property
    def summary(self) -> str:
        """The module's one-line docstring (what the bug or the alternative is)."""
        doc = ast.get_docstring(ast.parse(self.path.read_text(encoding="utf-8")))
        return (doc or "").strip()


def entries(kind: str | None = None) -> list[Entry]:
    """All corpus entries (of ``kind`` if given), sorted by exercise then name."""
    out = []
    for k in KINDS if kind is None else (kind,):
        for exercise in EXERCISES:
            folder = CORPUS_DIR / k / exercise
            out += [Entry(k, exercise, p) for p in sorted(folder.glob("*.py"))]
    return out


def imports_of(exercise: str) -> set[str]:
    """Exercise modules the reference module of ``exercise`` imports by plain name."""
    text = (SOLUTIONS_DIR / f"{exercise}.py").read_text(encoding="utf-8")
    return {name for name in _IMPORT_RE.findall(text) if name != exercise}


def dependents(exercise: str) -> list[str]:
    """Graded exercises whose reference module imports ``exercise`` (directly or not)."""
    found: list[str] = []
    frontier = [exercise]
    while frontier:
        current = frontier.pop()
        for other in EXERCISES:
            if other != exercise and other not in found and current in imports_of(other):
                found.append(other)
                frontier.append(other)
    return sorted(found)


def build_submission(entry: Entry, dest: Path) -> Path:
    """A folder like ``course/``: every graded reference module, with ``entry`` swapped in.

    Args:
        entry: the corpus module that replaces ``<entry.exercise>.py``.
        dest: an empty (or new) folder to fill.

    Returns:
        ``dest``.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for exercise in EXERCISES:
        shutil.copyfile(SOLUTIONS_DIR / f"{exercise}.py", dest / f"{exercise}.py")
    shutil.copyfile(entry.path, dest / f"{entry.exercise}.py")
    return dest


def grade_entry(entry: Entry, dest: Path) -> tuple[list[str], RunResult]:
    """Build the submission for ``entry`` and grade its exercise and its dependents.

    The grader runs pytest in this process and loads its own hypothesis profile; the
    profile that was active before is restored afterwards so other tests are unaffected.
    Workers get generous time limits (:data:`CORPUS_LIMITS`): no corpus entry is meant to
    be caught by a timeout, and the verdicts must not depend on how busy the machine is.

    Returns:
        ``(graded exercise names, run result)``.
    """
    from autograder.grading import grade

    exercises = [entry.exercise, *dependents(entry.exercise)]
    build_submission(entry, dest)
    profile = settings.get_current_profile_name()
    try:
        run = grade(dest, exercises=exercises, limits=CORPUS_LIMITS)
    finally:
        settings.load_profile(profile)
    return exercises, run


def exercise_result(run: RunResult, name: str) -> ExerciseResult:
    for ex in run.exercises:
        if ex.name == name:
            return ex
    raise AssertionError(f"{name} was not graded; graded: {[e.name for e in run.exercises]}")


def failing_checks(ex: ExerciseResult, limit: int = 600) -> str:
    """The failed checks of ``ex``, one block each: ``check [verdict]: output``."""
    lines = []
    for check in ex.checks:
        if check.passed:
            continue
        out = check.output.strip()
        if len(out) > limit:
            out = out[: limit - 3] + "..."
        body = "\n      ".join(out.splitlines()) or "(no output)"
        lines.append(f"    - {check.check} [{check.verdict}] ({check.max_points:g} pt): {body}")
    head = f"  {ex.name}: {ex.score:g}/{ex.max_points:g}" + (
        f" ({ex.problem})" if ex.problem else ""
    )
    return "\n".join([head, *lines])
