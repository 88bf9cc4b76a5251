"""A trivial body earns nothing: a constant, the identity or an always-raise scores 0.

For every exercise and every kind of trivial body (``corpus_support.trivial_source``), the
reference module with each solution function replaced by that body is graded. Every check
must fail: a contract check (shape, dtype, detachment, no mutation, ``ValueError`` on bad
input, an edge case whose answer is 0) scores only together with the behaviour it guards.

The "constant" body is the strongest constant there is: the zero of what the reference
returns for the same call (right type, shape and dtype; no side effect), so a check that
passes it grades a contract alone.
"""

from __future__ import annotations

import pytest
from corpus_support import (
    EXERCISES,
    TRIVIAL_KINDS,
    BatchGrader,
    Entry,
    corpus_seed,
    default_jobs,
    exercise_result,
    plan_batches,
    trivial_entries,
)

pytestmark = pytest.mark.slow  # grades 30 submissions end to end

IDS = [f"{exercise}/{kind}" for exercise in EXERCISES for kind in TRIVIAL_KINDS]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("trivial")
    items = trivial_entries(workdir / "modules")
    batches = plan_batches(items)
    with BatchGrader(batches, workdir, jobs=default_jobs(), seed=corpus_seed()) as grader:
        yield {f"{e.exercise}/{e.name}": e for e in items}, grader


@pytest.mark.parametrize("which", IDS)
def test_a_trivial_body_scores_0(which: str, graded) -> None:
    items, grader = graded
    entry: Entry = items[which]
    _, run = grader.result(entry)
    result = exercise_result(run, entry.exercise)
    passed = [f"{c.check} ({c.max_points:g} pt)" for c in result.checks if c.passed]
    assert result.score == 0 and not passed, (
        f"{which}: a trivial body scored {result.score:g}/{result.max_points:g}; "
        f"checks it passed: {', '.join(passed)} (make each one also check a value)"
        f"\n(run seed {grader.seed}: CORPUS_SEED={grader.seed} draws the same examples)"
    )


def test_the_trivial_modules_replace_every_solution_function() -> None:
    from corpus_support import solution_functions, trivial_source

    for exercise in EXERCISES:
        functions = solution_functions(exercise)
        assert functions, f"{exercise}: no function with a solution found"
        text = trivial_source(exercise, "raises")
        for owner, name in functions:
            target = name if owner is None else f"{owner}.{name}"
            assert f"{target} = _trivial('raises'" in text, (exercise, target)
        compile(text, f"{exercise}.py", "exec")
