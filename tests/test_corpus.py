"""The chaff/wheat corpus: realistic wrong answers must lose points, correct ones must not.

Each corpus entry (``tests/corpus/{chaff,wheat}/<exercise>/<name>.py``) is one whole
replacement module. The submission graded for it holds copies of all the reference
modules with that one module swapped in (see ``tests/corpus_support.py``).

Only the entry's own exercise and the exercises whose reference module imports it are
graded (ex04 imports ex02 and ex03, so ex02/ex03 entries also grade ex04). Every other
exercise is unaffected by construction: its module is the unchanged reference file and
each exercise is checked in its own worker process, which imports only that module and
what it imports.

For speed, entries of different exercises that cannot see each other's module (no
graded worker of one loads the other's module) share one submission and one ``grade``
call (``corpus_support.plan_batches``): each is judged on its own graded exercises only,
exactly as if it were alone. The batches are graded in parallel processes
(``$CORPUS_JOBS``, default one per CPU, at most 4) while the tests read their results.

The grader's run seed is fixed by default (CI verdicts replay exactly); ``CORPUS_SEED=N``
picks another and ``CORPUS_SEED=random`` draws a fresh one as real grading does. A failure
names the seed that replays it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from corpus_support import (
    EXERCISES,
    SOLUTIONS_DIR,
    BatchGrader,
    Entry,
    compatible,
    corpus_seed,
    default_jobs,
    dependents,
    entries,
    exercise_result,
    failing_checks,
    graded_for,
    plan_batches,
)

pytestmark = pytest.mark.slow  # grades real submissions end to end

CHAFF = entries("chaff")
WHEAT = entries("wheat")
MIN_CHAFF, MIN_WHEAT = 4, 3  # issue 10: at least 3 correct alternatives in other styles
PREFIX = {"chaff": "Bug:", "wheat": "Alternative:"}
GRADING_TESTS = (
    "test_chaff_loses_points_on_its_own_exercise_and_nowhere_else",
    "test_wheat_scores_full_marks",
)


def _ids(items: list[Entry]) -> list[str]:
    return [f"{e.exercise}/{e.name}" for e in items]


def _selected(session: pytest.Session) -> list[Entry]:
    """The entries whose grading tests this session runs (all if none can be told)."""
    chosen = []
    for item in session.items:
        if Path(item.path).resolve() != Path(__file__).resolve():
            continue
        if getattr(item, "originalname", None) in GRADING_TESTS and hasattr(item, "callspec"):
            chosen.append(item.callspec.params["entry"])
    return list(dict.fromkeys(chosen)) or CHAFF + WHEAT


@pytest.fixture(scope="module")
def graded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Grades the selected entries, batched, in parallel; ``graded.result(entry)`` waits."""
    selected = _selected(request.session)
    order = {e.id: i for i, e in enumerate(selected)}
    # graded in the order the tests ask for them, so the first verdicts come early
    batches = sorted(plan_batches(selected), key=lambda b: min(order[e.id] for e in b))
    workdir, seed = tmp_path_factory.mktemp("corpus"), corpus_seed()
    with BatchGrader(batches, workdir, jobs=default_jobs(), seed=seed) as grader:
        yield grader


def _batch_note(grader: BatchGrader, entry: Entry) -> str:
    """How the entry was graded: with which other entries, and the seed to replay it."""
    others = [e.id for e in grader.batch_of(entry) if e is not entry]
    note = f"\n(graded in one submission with {', '.join(others)})" if others else ""
    return note + f"\n(run seed {grader.seed}: CORPUS_SEED={grader.seed} draws the same examples)"


def test_every_exercise_has_enough_chaff_and_wheat():
    for exercise in EXERCISES:
        n_chaff = sum(e.exercise == exercise for e in CHAFF)
        n_wheat = sum(e.exercise == exercise for e in WHEAT)
        assert n_chaff >= MIN_CHAFF, (
            f"{exercise}: {n_chaff} chaff entries, expected at least {MIN_CHAFF}"
        )
        assert n_wheat >= MIN_WHEAT, (
            f"{exercise}: {n_wheat} wheat entries, expected at least {MIN_WHEAT}"
        )


def test_batches_hold_each_entry_once_and_only_entries_that_cannot_see_each_other():
    everything = CHAFF + WHEAT
    batches = plan_batches(everything)
    placed = [e.id for batch in batches for e in batch]
    assert sorted(placed) == sorted(e.id for e in everything)
    for batch in batches:
        for i, a in enumerate(batch):
            for b in batch[i + 1 :]:
                assert compatible(a, b), f"{a.id} and {b.id} share a submission"
                assert not set(graded_for(a)) & set(graded_for(b)), (a.id, b.id)
    # ex04's reference imports ex02 and ex03: their entries are graded on ex04 too, and
    # never share a submission with each other or with an ex04 entry
    assert dependents("ex02_returns") == dependents("ex03_policy") == ["ex04_reinforce"]
    family = [
        e for e in everything if e.exercise in ("ex02_returns", "ex03_policy", "ex04_reinforce")
    ]
    assert all(not compatible(a, b) for a in family for b in family if a is not b)


@pytest.mark.parametrize("entry", CHAFF + WHEAT, ids=[e.id for e in CHAFF + WHEAT])
def test_entry_is_a_module_with_a_one_line_docstring_saying_what_it_is(entry: Entry):
    text = entry.path.read_text(encoding="utf-8")
    tree = ast.parse(text, filename=str(entry.path))
    doc = ast.get_docstring(tree, clean=False)
    assert doc is not None, f"{entry.id}: expected a module docstring saying what the entry is"
    assert "\n" not in doc.strip(), f"{entry.id}: expected a one-line docstring, got {doc!r}"
    assert doc.startswith(PREFIX[entry.kind]), (
        f"{entry.id}: expected the docstring to start with {PREFIX[entry.kind]!r}, got {doc!r}"
    )
    reference = (SOLUTIONS_DIR / f"{entry.exercise}.py").read_text(encoding="utf-8")
    assert text != reference, f"{entry.id}: identical to the reference module"


def _no_check_errors(entry: Entry, run, graded: list[str], report: str) -> None:
    """A check that broke (verdict "check error") is a grader bug, never a catch."""
    broken = [
        f"{name}::{c.check}: {c.output}"
        for name in graded
        for c in exercise_result(run, name).checks
        if c.verdict == "check error"
    ]
    if broken:
        pytest.fail(
            f"{entry.id}: checks failed on their own (a grader bug, not a verdict on the entry):\n"
            + "\n".join(broken)
            + (f"\n{report}" if report else ""),
            pytrace=False,
        )


@pytest.mark.parametrize("entry", CHAFF, ids=_ids(CHAFF))
def test_chaff_loses_points_on_its_own_exercise_and_nowhere_else(entry: Entry, graded):
    """A buggy module must cost points on its exercise, and none on the exercises importing it.

    Exercises that do not import the entry's module are not graded for it: their modules
    are the unchanged reference files (or other batched entries, which it cannot load), run
    in their own workers, so they cannot be affected.
    """
    names, run = graded.result(entry)
    own = exercise_result(run, entry.exercise)
    report = "\n".join(failing_checks(exercise_result(run, name)) for name in names)
    report += _batch_note(graded, entry)
    _no_check_errors(entry, run, names, report)
    if own.score >= own.max_points:
        pytest.fail(
            f"{entry.id} ({entry.summary}) was NOT caught: {own.name} scored full marks "
            f"{own.score:g}/{own.max_points:g}\n{report}",
            pytrace=False,
        )
    also = [
        name
        for name in names[1:]
        if exercise_result(run, name).score < exercise_result(run, name).max_points
    ]
    if also:
        pytest.fail(
            f"{entry.id} ({entry.summary}) also cost points on {', '.join(also)} "
            f"(a bug must be counted once, on its own exercise):\n{report}",
            pytrace=False,
        )


@pytest.mark.parametrize("entry", WHEAT, ids=_ids(WHEAT))
def test_wheat_scores_full_marks(entry: Entry, graded):
    """A correct alternative implementation must get every point, also on exercises importing it."""
    names, run = graded.result(entry)
    _no_check_errors(entry, run, names, _batch_note(graded, entry).strip())
    lost = [exercise_result(run, name) for name in names]
    lost = [ex for ex in lost if ex.score < ex.max_points]
    if lost:
        pytest.fail(
            f"{entry.id} ({entry.summary}) is correct but lost points:\n"
            + "\n".join(failing_checks(ex) for ex in lost)
            + _batch_note(graded, entry),
            pytrace=False,
        )
