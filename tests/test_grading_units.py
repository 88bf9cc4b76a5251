"""Rubric, results, reports, verdicts and the pytest plugin, in isolation (no worker is started)."""

from __future__ import annotations

import json

import pytest

import autograder.grading.plugin  # noqa: F401 - loaded once, before pytester's inner runs
from autograder.grading.report import classroom_line, gradescope, render_table, student_output
from autograder.grading.results import CheckResult, ExerciseResult, RunResult
from autograder.grading.rubric import RUBRIC_PATH, Rubric, RubricError
from autograder.verdict import PENDING, Verdict

pytest_plugins = ["pytester"]


# -- rubric ---------------------------------------------------------------------------------------
def test_the_shipped_rubric_loads_and_every_exercise_has_points():
    rubric = Rubric.load()
    assert rubric.exercises and all(e.max_points > 0 for e in rubric.exercises.values())
    assert RUBRIC_PATH.name == "rubric.toml"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[ex01]\ntitle = 'x'\n", "needs a title"),
        ("[ex01]\ntitle = 'x'\n[ex01.points]\ntest_a = 0\n", "positive points"),
        ("[ex01]\ntitle = 'x'\n[ex01.points]\ntest_a = true\n", "positive points"),
        ("[ex01\n", "rubric.toml"),
    ],
)
def test_a_malformed_rubric_is_a_rubric_error(tmp_path, text, why):
    path = tmp_path / "rubric.toml"
    path.write_text(text)
    with pytest.raises(RubricError, match=why):
        Rubric.load(path)


def test_manual_checks_have_points_but_stay_out_of_the_automatic_total(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text(
        "[q]\ntitle = 'Q'\nmanual = ['test_why']\n[q.points]\ntest_num = 2\ntest_why = 3\n"
    )
    ex = Rubric.load(path).exercises["q"]
    assert ex.max_points == 2 and ex.manual_points == 3


# -- results and reports -------------------------------------------------------------------------
def run_of(*checks: CheckResult, notes: tuple[str, ...] = ()) -> RunResult:
    ex = ExerciseResult("ex02_returns", "Returns", list(checks))
    return RunResult([ex], sandbox="plain subprocess", seed=7, notes=list(notes))


def test_a_run_adds_up_points_and_leaves_pending_checks_out():
    run = run_of(
        CheckResult("ex02_returns", "test_a", 2, passed=True, verdict=Verdict.PASSED),
        CheckResult("ex02_returns", "test_b", 1, verdict=Verdict.TIMEOUT, output="slow"),
        CheckResult("ex02_returns", "test_c", 4, verdict=Verdict.ON_SUBMISSION),
    )
    assert (run.score, run.max_points) == (2, 3)
    assert classroom_line(run) == "Points 2/3"
    assert Verdict.ON_SUBMISSION in PENDING and Verdict.TIMEOUT not in PENDING


def test_results_json_carries_each_verdict_and_hides_hidden_output():
    run = run_of(
        CheckResult("ex02_returns", "test_ok", 1, passed=True, verdict=Verdict.PASSED),
        CheckResult("ex02_returns", "test_x", 1, verdict=Verdict.CRASHED, output="died"),
        CheckResult("ex02_returns", "test_h", 1, verdict=Verdict.FAILED, output="42", hidden=True),
        CheckResult("ex02_returns", "test_m", 5, verdict=Verdict.MANUAL, manual=True),
    )
    data = json.loads(json.dumps(gradescope(run)))
    by_name = {t["name"]: t for t in data["tests"]}
    assert by_name["ex02_returns: ok"]["extra_data"]["verdict"] == "passed"
    crashed = by_name["ex02_returns: x"]
    assert crashed["extra_data"]["verdict"] == "crashed" and crashed["status"] == "failed"
    hidden = by_name["ex02_returns: h"]
    assert "42" not in hidden["output"] and hidden["extra_data"]["instructor_output"] == "42"
    assert hidden["visibility"] == "after_published"
    manual = by_name["ex02_returns: m"]
    assert "score" not in manual and manual["extra_data"]["verdict"] == Verdict.MANUAL
    assert data["score"] == 1 and data["extra_data"]["seed"] == 7


def test_the_student_sees_the_verdict_and_the_reason():
    c = CheckResult("ex02_returns", "test_x", 1, verdict=Verdict.TIMEOUT, output="3 s")
    assert student_output(c) == "timeout: 3 s"
    table = render_table(run_of(c, notes=("UNSANDBOXED: plain",)))
    assert "x - timeout" in table and "UNSANDBOXED: plain" in table and "0/1" in table


# -- the plugin, through pytester -----------------------------------------------------------------
CLASSIFY_CONFTEST = """
import json
import pytest
from autograder.grading.plugin import classify

VERDICTS = {}

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when == "call":
        VERDICTS[item.name] = str(classify(call.excinfo)[0]) if call.excinfo else "passed"

def pytest_sessionfinish(session):
    (session.config.rootpath / "verdicts.json").write_text(json.dumps(VERDICTS))
"""

CLASSIFY_TESTS = """
from autograder.seam.errors import StudentTimeout, WorkerCrashed, ImportFailed

def test_ok():
    pass

def test_wrong():
    assert 1 == 2, "expected 2"

def test_crash():
    raise WorkerCrashed("the worker died")

def test_timeout_in_a_group():
    raise BaseExceptionGroup("cases", [StudentTimeout("3 s")])

def test_cause():
    try:
        raise ImportFailed("no module")
    except ImportFailed as exc:
        raise RuntimeError("while checking") from exc

def test_bug_in_the_check():
    {}["missing"]
"""


def test_the_plugin_classifies_each_outcome_into_a_verdict(pytester):
    pytester.makeconftest(CLASSIFY_CONFTEST)
    pytester.makepyfile(test_cases=CLASSIFY_TESTS)
    pytester.runpytest_inprocess("-p", "no:cacheprovider")
    verdicts = json.loads((pytester.path / "verdicts.json").read_text())
    assert verdicts == {
        "test_ok": "passed",
        "test_wrong": Verdict.FAILED,
        "test_crash": Verdict.CRASHED,
        "test_timeout_in_a_group": Verdict.TIMEOUT,
        "test_cause": Verdict.IMPORT_ERROR,
        "test_bug_in_the_check": Verdict.CHECK_ERROR,
    }


def test_the_student_plugin_collects_only_exercise_modules_and_never_imports_them(pytester):
    pytester.makeconftest(
        "from pathlib import Path\n"
        "from autograder.grading.plugin import register_student_plugin\n\n"
        "def pytest_configure(config):\n"
        "    register_student_plugin(config, Path(__file__).resolve().parent)\n"
    )
    pytester.makepyfile(
        notes="raise SystemExit('a helper module must not be imported')",
        ex99_nonsense="raise SystemExit('not an exercise of the rubric')",
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.no_fnmatch_line("*SystemExit*")
