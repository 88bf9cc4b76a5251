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
import concurrent.futures
import functools
import itertools
import multiprocessing
import os
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from hypothesis import settings

from autograder import REPO_ROOT
from autograder.grading.results import ExerciseResult, RunResult
from autograder.grading.rubric import Rubric
from autograder.seam.process import Limits

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
SOLUTIONS_DIR = REPO_ROOT / "solutions"
KINDS = ("chaff", "wheat")
_EXERCISE_NAME = re.compile(r"ex\d\d_\w+")


def _graded_exercises() -> tuple[str, ...]:
    """The rubric's code exercises (``exNN_*``, not ``questions``) that have a reference module."""
    names = Rubric.load().exercises
    return tuple(
        sorted(
            name
            for name in names
            if _EXERCISE_NAME.fullmatch(name) and (SOLUTIONS_DIR / f"{name}.py").is_file()
        )
    )


# The exercises the corpus covers: every code exercise of the rubric, in order.
EXERCISES = _graded_exercises()
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


def _imported_exercises(path: Path) -> frozenset[str]:
    """Exercise modules that the module at ``path`` imports by plain name."""
    text = path.read_text(encoding="utf-8")
    return frozenset(name for name in _IMPORT_RE.findall(text) if name != path.stem)


@functools.cache
def imports_of(exercise: str) -> frozenset[str]:
    """Exercise modules the reference module of ``exercise`` imports by plain name."""
    return _imported_exercises(SOLUTIONS_DIR / f"{exercise}.py")


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


def graded_for(entry: Entry) -> list[str]:
    """The exercises graded for ``entry``: its own, then those whose reference imports it."""
    return [entry.exercise, *dependents(entry.exercise)]


# Modules a worker loads beyond its reference module's imports: ex11's integration check
# runs the student's ex07, ex09 and ex10 functions in the ex11 worker (a batch must not put
# an entry of those exercises next to an ex11 entry). They are not graded for such entries.
WORKER_ALSO_LOADS = {"ex11_lm": ("ex07_kl", "ex09_verifiers", "ex10_grpo")}


@functools.cache
def _loaded_by(entry: Entry) -> frozenset[str]:
    """Exercise modules that the workers grading ``entry`` can load (the entry's own imports too)."""
    loaded: set[str] = set()
    frontier = list(graded_for(entry))
    while frontier:
        name = frontier.pop()
        if name in loaded:
            continue
        loaded.add(name)
        imports = _imported_exercises(entry.path) if name == entry.exercise else imports_of(name)
        frontier += [n for n in (*imports, *WORKER_ALSO_LOADS.get(name, ())) if n in EXERCISES]
    return frozenset(loaded)


def compatible(a: Entry, b: Entry) -> bool:
    """Whether ``a`` and ``b`` can share one submission and be graded as if each were alone.

    Each exercise is graded in its own worker, which loads only that exercise's module and
    what it imports. So two entries are independent when neither entry's workers can load
    the other entry's module: then every graded exercise sees exactly one replaced module
    (its entry's) and reference files otherwise, as in a submission of its own. This also
    keeps their graded exercises apart (an exercise graded for ``a`` loads ``a``'s module).
    """
    return a.exercise != b.exercise and not (
        a.exercise in _loaded_by(b) or b.exercise in _loaded_by(a)
    )


def plan_batches(items: list[Entry]) -> list[list[Entry]]:
    """Pack ``items`` into few submissions of pairwise :func:`compatible` entries.

    Grading several exercises in one ``grade`` call shares its fixed cost and starts their
    workers in parallel. The most constrained entries are placed first (each in a batch of
    its own while no compatible batch exists), then every other entry joins the compatible
    batch holding the fewest entries, so batches stay small and even. Deterministic.
    """
    conflicts = {e.id: sum(not compatible(e, f) for f in items if f is not e) for e in items}
    batches: list[list[Entry]] = []
    for entry in sorted(items, key=lambda e: (-conflicts[e.id], e.exercise, e.kind, e.name)):
        fits = [b for b in batches if all(compatible(entry, other) for other in b)]
        if fits:
            min(fits, key=len).append(entry)
        else:
            batches.append([entry])
    return batches


def build_submission(batch: Entry | list[Entry], dest: Path) -> Path:
    """A folder like ``course/``: every graded reference module, with the entries swapped in.

    Args:
        batch: the corpus module(s) replacing ``<entry.exercise>.py``, at most one per
            exercise.
        dest: an empty (or new) folder to fill.

    Returns:
        ``dest``.
    """
    batch = [batch] if isinstance(batch, Entry) else list(batch)
    if len({e.exercise for e in batch}) != len(batch):
        raise ValueError(f"two entries replace the same module: {[e.id for e in batch]}")
    dest.mkdir(parents=True, exist_ok=True)
    for exercise in EXERCISES:
        shutil.copyfile(SOLUTIONS_DIR / f"{exercise}.py", dest / f"{exercise}.py")
    for entry in batch:
        shutil.copyfile(entry.path, dest / f"{entry.exercise}.py")
    return dest


def grade_batch(batch: list[Entry], dest: Path, seed: int | None = None) -> RunResult:
    """Build the submission for ``batch`` and grade every exercise graded for its entries.

    The grader runs pytest in this process and loads its own hypothesis profile (and, with
    ``seed``, forces hypothesis's seed); both are restored afterwards so other tests are
    unaffected. ``seed`` is the grader's run seed (``--seed``): the same seed draws the same
    examples, so a failure can be replayed. Workers get generous time limits
    (:data:`CORPUS_LIMITS`): no corpus entry is meant to be caught by a timeout, and the
    verdicts must not depend on how busy the machine is. Runs in a pool process too
    (:class:`BatchGrader`), so it takes and returns plain data.
    """
    from hypothesis import core

    from autograder.grading.run import grade

    for a, b in itertools.combinations(batch, 2):
        if not compatible(a, b):
            raise ValueError(f"{a.id} and {b.id} cannot be graded in one submission")
    exercises = sorted({name for entry in batch for name in graded_for(entry)})
    build_submission(batch, dest)
    profile, forced = settings.get_current_profile_name(), core.global_force_seed
    try:
        return grade(dest, exercises=exercises, limits=CORPUS_LIMITS, seed=seed)
    finally:
        settings.load_profile(profile)
        core.global_force_seed = forced


def grade_entry(entry: Entry, dest: Path, seed: int | None = None) -> tuple[list[str], RunResult]:
    """Grade ``entry`` alone. Returns ``(graded exercise names, run result)``."""
    return graded_for(entry), grade_batch([entry], dest, seed)


DEFAULT_CORPUS_SEED = 20261124


def corpus_seed() -> int:
    """The run seed: ``$CORPUS_SEED`` (``random`` draws a fresh one, as real grading does).

    The default is fixed so that CI verdicts replay exactly; run with ``CORPUS_SEED=random``
    now and then to look for entries that are caught (or pass) only by luck.
    """
    value = os.environ.get("CORPUS_SEED", "").strip()
    if value == "random":
        return random.SystemRandom().randrange(2**31)
    return int(value) if value else DEFAULT_CORPUS_SEED


def default_jobs() -> int:
    """Parallel gradings: ``$CORPUS_JOBS``, else one per available CPU (at most 4)."""
    if os.environ.get("CORPUS_JOBS"):
        return max(1, int(os.environ["CORPUS_JOBS"]))
    return max(1, min(4, len(os.sched_getaffinity(0))))


class BatchGrader:
    """Grades a plan of batches, ``jobs`` at a time, and hands out each entry's result.

    With ``jobs > 1`` every batch is submitted at once to a pool of ``spawn``-ed processes
    (each runs its gradings one after the other, like this process would); :meth:`result`
    waits only for the batch of the entry asked for. With ``jobs == 1`` batches are graded
    here, on first demand. Use as a context manager: leaving it cancels what has not started.
    """

    def __init__(
        self, batches: list[list[Entry]], workdir: Path, jobs: int = 1, seed: int | None = None
    ) -> None:
        self.batches = batches
        self.workdir = workdir
        self.jobs = jobs
        self.seed = seed
        self.where = {entry.id: i for i, batch in enumerate(batches) for entry in batch}
        self.done: dict[int, RunResult] = {}
        self.futures: dict[int, concurrent.futures.Future] = {}
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None

    def __enter__(self) -> BatchGrader:
        if self.jobs > 1 and len(self.batches) > 1:
            self.pool = concurrent.futures.ProcessPoolExecutor(
                min(self.jobs, len(self.batches)), mp_context=multiprocessing.get_context("spawn")
            )
            for i, batch in enumerate(self.batches):
                self.futures[i] = self.pool.submit(grade_batch, batch, self._dest(i), self.seed)
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _dest(self, i: int) -> Path:
        return self.workdir / f"batch{i:03d}"

    def result(self, entry: Entry) -> tuple[list[str], RunResult]:
        """``(graded exercise names, run result)`` for ``entry``; grades its batch if needed."""
        i = self.where[entry.id]
        if i not in self.done:
            if i in self.futures:
                self.done[i] = self.futures[i].result()
            else:
                self.done[i] = grade_batch(self.batches[i], self._dest(i), self.seed)
        return graded_for(entry), self.done[i]

    def batch_of(self, entry: Entry) -> list[Entry]:
        return self.batches[self.where[entry.id]]


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


# -- trivial bodies ------------------------------------------------------------------------------
# A trivial body (a constant, the identity, an always-raise) must earn nothing: every contract
# check (shape, dtype, detachment, no mutation, ValueError on bad input) scores only together
# with the behaviour it guards. The modules below are the reference module with every function
# that holds a solution (``### BEGIN SOLUTION``) replaced by a wrapper.
TRIVIAL_KINDS = ("constant", "identity", "raises")

_TRIVIAL_HELPERS = '''

# ---- trivial bodies (generated by tests/corpus_support.py) ----
import copy as _copy
import functools as _functools


def _trivial_zero(x):
    """The 'zero' of a value: same type, shape and dtype, every number 0, every str empty."""
    import numpy as _np
    import torch as _torch

    if isinstance(x, _torch.Tensor):
        return _torch.zeros_like(x.detach())
    if isinstance(x, _np.ndarray):
        return _np.zeros_like(x)
    if isinstance(x, bool):
        return False
    if isinstance(x, (int, float, str)):
        return type(x)()
    if isinstance(x, (list, tuple)):
        return type(x)(_trivial_zero(v) for v in x)
    if isinstance(x, dict):
        return {k: _trivial_zero(v) for k, v in x.items()}
    return x


def _trivial_copy(args, kwargs):
    """Copies of the arguments, so that the reference's side effects do not happen."""
    try:
        return _copy.deepcopy((args, kwargs))
    except Exception:
        import torch as _torch

        def detach(v):
            return v.detach().clone() if isinstance(v, _torch.Tensor) else v

        return tuple(detach(a) for a in args), {k: detach(v) for k, v in kwargs.items()}


def _trivial(kind, fn, method=False):
    @_functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kind == "raises":
            raise ValueError("trivial body: always raises")
        if kind == "identity":
            rest = args[1:] if method else args
            return rest[0] if rest else next(iter(kwargs.values()), None)
        a, k = _trivial_copy(args, kwargs)
        try:
            out = fn(*a, **k)
        except Exception:
            out = None
        return _trivial_zero(out)

    return wrapper
'''


def solution_functions(exercise: str) -> list[tuple[str | None, str]]:
    """``(class or None, function)`` for every function of the reference holding a solution."""
    tree = ast.parse((SOLUTIONS_DIR / f"{exercise}.py").read_text(encoding="utf-8"))
    src = (SOLUTIONS_DIR / f"{exercise}.py").read_text(encoding="utf-8").splitlines()

    def has_solution(node: ast.AST) -> bool:
        return any("BEGIN SOLUTION" in line for line in src[node.lineno - 1 : node.end_lineno])

    found: list[tuple[str | None, str]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and has_solution(node):
            found.append((None, node.name))
        elif isinstance(node, ast.ClassDef):
            found += [
                (node.name, item.name)
                for item in node.body
                if isinstance(item, ast.FunctionDef) and has_solution(item)
            ]
    return found


def trivial_source(exercise: str, kind: str) -> str:
    """The reference module with every solution function replaced by a trivial body.

    Args:
        exercise: e.g. ``"ex06_ppo"``.
        kind: ``"constant"`` (the zero of what the reference returns: right type, shape
            and dtype, no side effect), ``"identity"`` (returns its first argument) or
            ``"raises"`` (always ``ValueError``). ``__init__`` is kept except for
            ``"raises"``.

    Returns:
        The module's source text.
    """
    if kind not in TRIVIAL_KINDS:
        raise ValueError(f"kind must be one of {TRIVIAL_KINDS}, got {kind!r}")
    text = (SOLUTIONS_DIR / f"{exercise}.py").read_text(encoding="utf-8")
    lines = [_TRIVIAL_HELPERS]
    for owner, name in solution_functions(exercise):
        if name == "__init__" and kind != "raises":
            continue
        if owner is None:
            lines.append(f"{name} = _trivial({kind!r}, {name})")
        else:
            lines.append(f"{owner}.{name} = _trivial({kind!r}, {owner}.{name}, method=True)")
    return text + "\n".join(lines) + "\n"


def trivial_entries(dest: Path) -> list[Entry]:
    """Write one trivial module per exercise and kind under ``dest``; their entries."""
    out = []
    for exercise in EXERCISES:
        for kind in TRIVIAL_KINDS:
            path = dest / "trivial" / exercise / f"{kind}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(trivial_source(exercise, kind), encoding="utf-8")
            out.append(Entry("trivial", exercise, path))
    return out
