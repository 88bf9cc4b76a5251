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
        ("[ex01]\ntitle = 'x'\ntrains = 'yes'\n[ex01.points]\ntest_a = 1\n", "true or false"),
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


# -- one notion of hidden, titles, the student's screen ---------------------------------------------
def test_every_check_that_compares_with_the_reference_is_marked_hidden(tmp_path):
    from autograder.build.nbcells import NotebookBuildError
    from autograder.build.nbchecks import checks_of

    rubric = Rubric.load()
    infos = [c for ex in rubric.exercises for c in checks_of(ex, rubric)]
    assert any(c.uses_ref for c in infos) and all(c.hidden for c in infos if c.uses_ref)
    (tmp_path / "ex02_returns.py").write_text(
        "def test_matches_the_reference_on_random_episodes(impl, ref):\n    pass\n"
    )
    with pytest.raises(NotebookBuildError, match="hidden"):
        checks_of("ex02_returns", rubric, checks_dir=tmp_path)


def test_a_hidden_check_shows_pass_or_fail_only_on_every_screen():
    from autograder.notebook import results_for

    secret = "expected [0.791, 0.89, 1.0]"
    c = CheckResult("ex02_returns", "test_h", 1, verdict=Verdict.FAILED, output=secret, hidden=True)
    run = run_of(c)
    assert secret not in render_table(run)
    assert secret not in student_output(c)
    assert secret not in json.dumps(results_for(run)["exercises"])
    test = gradescope(run)["tests"][0]
    assert secret not in test["output"] and test["visibility"] == "after_published"


def test_titles_keep_their_punctuation_on_every_screen():
    from autograder.build.nbchecks import checks_of
    from autograder.grading.results import check_title

    rubric = Rubric.load()
    infos = [c for ex in rubric.exercises for c in checks_of(ex, rubric)]
    # an id cannot hold "0.01" or "[1, 0]": a check whose id holds numbers carries a title
    untitled = [c.id for c in infos if _has_number(c.id) and not c.title_text]
    assert not untitled, f"checks whose id holds numbers need @pytest.mark.title: {untitled}"
    ex01 = {c.id: c.title for c in checks_of("ex01_gridworld", rubric)}
    assert ex01["test_moving_right_then_down_from_the_start_costs_0_01_each"].endswith(
        "costs -0.01 each"
    )
    assert check_title("test_a_b") == "a b" and check_title("test_x", "x = 0.5") == "x = 0.5"
    assert check_title("test_a_bad_gamma_raises_value_error") == "a bad gamma raises ValueError"
    assert check_title("test_the_loss_is_a_0_d_tensor") == "the loss is a 0-d tensor"
    c = CheckResult("ex02_returns", "test_g_0_5", 1, passed=True, verdict=Verdict.PASSED)
    c.title_text = "gamma 0.5 gives [1.5, 1]"
    run = run_of(c)
    assert "gamma 0.5 gives [1.5, 1]" in render_table(run)
    assert gradescope(run)["tests"][0]["name"] == "ex02_returns: gamma 0.5 gives [1.5, 1]"


def _has_number(check_id: str) -> bool:
    import re

    return re.search(r"(^|_)\d+_\d+(_|$)", check_id) is not None


def test_the_table_counts_passed_over_the_checks_that_have_points_now():
    checks = [
        CheckResult("ex02_returns", "test_a", 2, passed=True, verdict=Verdict.PASSED),
        CheckResult("ex02_returns", "test_b", 2, passed=True, verdict=Verdict.PASSED),
        CheckResult("ex02_returns", "test_c", 1, verdict=Verdict.ON_SUBMISSION),
        CheckResult("ex02_returns", "test_d", 3, verdict=Verdict.MANUAL, manual=True),
        CheckResult("ex02_returns", "test_e", 1, verdict=Verdict.ON_SUBMISSION),
    ]
    table = render_table(run_of(*checks), details=False)
    row = next(ln for ln in table.splitlines() if ln.startswith("ex02"))
    assert row.split()[1:] == ["2/2", "0", "3", "4/4"], row


def test_a_stub_is_reported_as_todo_by_pytest_not_as_failed():
    from types import SimpleNamespace

    from autograder.grading.plugin import GraderPlugin

    todo = SimpleNamespace(failed=True, rl4llm_todo=True)
    wrong = SimpleNamespace(failed=True)
    hook = GraderPlugin.pytest_report_teststatus
    assert hook(None, todo, None) == ("todo", "t", "TODO")
    assert hook(None, wrong, None) is None


def test_a_function_that_hung_is_not_run_again_inside_a_probe(tmp_path):
    """The capstone's run drives student functions inside one probe: the breaker must see them."""
    from autograder.seam.errors import StudentTimeout
    from autograder.seam.proxy import Impl, WorkerState

    state = WorkerState()
    impl = Impl(tmp_path, "ex11_lm", _shared=state)  # no worker is started
    needs = {"ex10_grpo": ("group_advantages", "grpo_loss"), "ex11_lm": ("completion_mask",)}
    assert impl.not_callable(needs) is None
    state.broken[("ex10_grpo", "grpo_loss")] = StudentTimeout("grpo_loss: did not return")
    problem = impl.not_callable(needs)
    assert isinstance(problem, StudentTimeout), problem
    assert problem.message == (
        "ex10_grpo.grpo_loss: not called again after: grpo_loss: did not return"
    ), problem.message


@pytest.mark.parametrize(
    ("mode", "only", "args", "expected"),
    [
        ("student", None, ["course/ex01_gridworld.py"], ["ex01_gridworld"]),
        ("student", None, ["course/ex01_gridworld.py::test_x", "ex04_reinforce.py"], None),
        ("student", None, ["course/"], "all"),
        ("student", None, ["course/ex01_gridworld.py", "notes.py"], "all"),
        ("grading", ["ex02_returns", "questions"], [], ["ex02_returns", "questions"]),
        ("grading", None, [], "all"),
    ],
)
def test_the_exercises_a_run_expects_before_collection(tmp_path, mode, only, args, expected):
    """What decides whether the zygote warms an optimizer (rubric ``trains``)."""
    from types import SimpleNamespace

    from autograder.grading.plugin import GraderPlugin

    plugin = GraderPlugin(tmp_path, mode=mode, exercises=only)
    everything = list(Rubric.load().exercises)
    if expected == "all":
        want = everything
    else:
        want = expected or ["ex01_gridworld", "ex04_reinforce"]
    got = plugin.expected(SimpleNamespace(args=args))
    assert got == want, f"expected({args}) in {mode} mode: expected {want}, got {got}"
    trains = {e for e in everything if Rubric.load().exercises[e].trains}
    assert trains == {"ex04_reinforce", "ex11_lm", "questions"}, trains
