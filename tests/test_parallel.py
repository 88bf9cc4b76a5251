"""One submission's exercises graded in parallel processes (``autograder/grading/parallel.py``).

How the exercises are split (the rubric's ``uses`` kept whole), that a split grading gives
check for check what one process gives, and that a share whose process dies fails its own
exercises with the reason and nothing else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grading.authoritative import authoritative
from autograder.grading.parallel import grade_shares, shares
from autograder.grading.results import RunResult, empty_run
from autograder.grading.rubric import Rubric
from autograder.verdict import Verdict

REPO = Path(__file__).resolve().parents[1]
RUBRIC = Rubric.load()
ALL = list(RUBRIC.exercises)


def test_exercises_that_call_each_other_share_a_process():
    for jobs in (2, 3, 4, 12):
        parts = shares(RUBRIC, ALL, jobs)
        assert 1 < len(parts) <= jobs, parts
        assert sorted(e for p in parts for e in p) == sorted(ALL)  # each exercise once
        where = {e: i for i, p in enumerate(parts) for e in p}
        for name, ex in RUBRIC.exercises.items():
            for used in ex.uses:
                assert where[used] == where[name], (name, used, parts)
        for p in parts:
            assert p == [e for e in ALL if e in p], p  # rubric order within a share


def test_one_job_or_one_exercise_is_one_share():
    assert shares(RUBRIC, ALL, 1) == [ALL]
    assert shares(RUBRIC, ["ex06_ppo"], 4) == [["ex06_ppo"]]
    assert shares(RUBRIC, ["ex02_returns", "ex04_reinforce"], 4) == [
        ["ex02_returns", "ex04_reinforce"]
    ]
    assert sorted(shares(RUBRIC, ["ex01_gridworld", "ex05_values"], 2)) == [
        ["ex01_gridworld"],
        ["ex05_values"],
    ]


def test_a_share_whose_process_dies_fails_its_own_exercises_with_the_reason():
    parent = os.getpid()

    def grade_one(part: list[str]) -> RunResult:
        if os.getpid() != parent:
            os._exit(3)  # the forked share dies without a result
        run = empty_run(RUBRIC, part)
        for ex in run.values():
            for check in ex.checks:
                check.passed, check.verdict = True, Verdict.PASSED
        return RunResult(list(run.values()), mode="grading", seed=7, notes=["here"])

    run = grade_shares([["ex01_gridworld"], ["ex05_values"]], grade_one)
    assert [e.name for e in run.exercises] == ["ex01_gridworld", "ex05_values"]
    ex01, ex05 = run.exercises
    assert all(c.passed for c in ex01.checks) and run.seed == 7 and run.notes == ["here"]
    assert ex05.checks and not any(c.passed for c in ex05.checks)
    assert all(c.verdict == Verdict.CHECK_ERROR for c in ex05.checks)
    assert "ex05_values could not be graded" in ex05.problem and "exit code 3" in ex05.problem


@pytest.mark.slow
def test_a_split_grading_gives_what_one_process_gives(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    for name in ("ex01_gridworld", "ex05_values"):
        shutil.copy(REPO / "solutions" / f"{name}.py", sub / f"{name}.py")
    bug = (sub / "ex01_gridworld.py").read_text()  # a wrong step cost: some checks must fail
    assert bug.count("-0.01") >= 1
    (sub / "ex01_gridworld.py").write_text(bug.replace("-0.01", "-0.02"))
    names = ["ex01_gridworld", "ex05_values"]
    runs = [authoritative(sub, names, "off", seed=11, jobs=j) for j in (1, 2)]
    got = [
        {(c.exercise, c.check): (c.verdict, c.output) for e in r.exercises for c in e.checks}
        for r in runs
    ]
    assert got[0] == got[1]
    assert any(v != Verdict.PASSED for v, _ in got[0].values())  # the bug was seen
    assert any(v == Verdict.PASSED for v, _ in got[0].values())


def test_grade_refuses_a_jobs_count_below_1():
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "solutions", "--jobs", "0"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 2 and "--jobs must be at least 1" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
