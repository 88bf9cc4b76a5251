"""``python -m autograder ...`` as a user runs it (subprocesses, exit codes, results.json).

Grading runs are kept short with ``--only``; the one full run (the reference
solutions score full marks) calls :func:`autograder.grading.grade` in a fresh
interpreter so that it cannot disturb this test session (pytest state, hypothesis
profile, imported check modules).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder.grading.rubric import Rubric

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"
GRADE_TIMEOUT = 300  # seconds; a run of a few exercises takes a few seconds
FULL_GRADE_TIMEOUT = 900  # every exercise and the questions, beside the rest of a busy suite


def rubric() -> Rubric:
    """Read when asserting (after the run), so both sides see the same rubric.toml."""
    return Rubric.load()


def cli(
    *args: str, cwd: Path = REPO, timeout: float = GRADE_TIMEOUT
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def show(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-3000:]}"


def assert_one_line_error(proc: subprocess.CompletedProcess, args: str, *words: str) -> None:
    assert proc.returncode == 2, (
        f"`python -m autograder {args}`: expected exit 2, got:\n{show(proc)}"
    )
    assert "Traceback" not in proc.stderr + proc.stdout, (
        f"`{args}`: expected no traceback, got:\n{show(proc)}"
    )
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), (
        f"`{args}`: expected one 'error: ...' line on stderr, got:\n{show(proc)}"
    )
    for word in words:
        assert word in lines[0], f"`{args}`: expected {word!r} in the error line, got {lines[0]!r}"


# -- user errors ------------------------------------------------------------------------------


def test_grading_a_missing_path_is_a_one_line_error_with_exit_code_2(tmp_path):
    missing = tmp_path / "no_such_folder"
    proc = cli("grade", str(missing))
    assert_one_line_error(proc, f"grade {missing}", str(missing), "no such directory")


def test_grading_a_file_instead_of_a_folder_is_a_one_line_error_with_exit_code_2(tmp_path):
    file = tmp_path / "ex02_returns.py"
    file.write_text("x = 1\n")
    proc = cli("grade", str(file))
    assert_one_line_error(proc, f"grade {file}", str(file), "not a directory")


def test_an_unknown_only_exercise_is_a_one_line_error_with_exit_code_2(tmp_path):
    proc = cli("grade", str(tmp_path), "--only", "ex99_nonsense")
    assert_one_line_error(
        proc, f"grade {tmp_path} --only ex99_nonsense", "ex99_nonsense", "unknown exercise"
    )
    assert "ex02_returns" in proc.stderr, (
        f"expected the error to list the known exercises, got {proc.stderr!r}"
    )


# -- a partly broken submission -------------------------------------------------------------------

GRADED = ["ex01_gridworld", "ex02_returns", "ex03_policy"]  # ex04 imports ex02 and ex03
SYNTAX_ERROR = "import torch\n\n\ndef log_prob(logits, action:\n    return 0\n"  # line 4


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory):
    """`grade` on a folder where ex02 is missing and ex03 has a syntax error (others: solutions/)."""
    sub = tmp_path_factory.mktemp("submission")
    for path in SOLUTIONS.glob("ex[0-9][0-9]_*.py"):
        shutil.copy(path, sub / path.name)
    (sub / "ex02_returns.py").unlink()
    (sub / "ex03_policy.py").write_text(SYNTAX_ERROR)
    out = tmp_path_factory.mktemp("out") / "results.json"
    proc = cli("grade", str(sub), "--only", *GRADED, "--json", str(out))
    data = json.loads(out.read_text()) if out.exists() else None
    return proc, data


def entries_of(data: dict, exercise: str) -> list[dict]:
    return [t for t in data["tests"] if t["name"].startswith(f"{exercise}: ")]


@pytest.mark.slow
def test_grading_exits_0_whatever_the_score(broken_run):
    proc, data = broken_run
    assert proc.returncode == 0, f"expected exit 0 for a low score, got:\n{show(proc)}"
    assert data is not None, f"expected results.json to be written, got:\n{show(proc)}"
    assert 0 < data["score"] < sum(rubric().exercises[e].max_points for e in GRADED), (
        f"expected a partial score, got {data['score']}"
    )
    assert "Traceback" not in proc.stdout + proc.stderr, (
        f"expected no traceback, got:\n{show(proc)}"
    )


@pytest.mark.slow
def test_results_json_follows_the_gradescope_schema(broken_run):
    proc, data = broken_run
    assert isinstance(data, dict), (
        f"expected a JSON object in results.json, got {data!r}\n{show(proc)}"
    )
    assert isinstance(data.get("score"), (int, float)), (
        f"expected a numeric top-level score, got {data.get('score')!r}"
    )
    tests = data.get("tests")
    assert isinstance(tests, list) and tests, f"expected a non-empty 'tests' list, got {tests!r}"
    for t in tests:
        missing = {"name", "score", "max_score", "status", "output"} - set(t)
        assert not missing, f"test entry {t!r} lacks {sorted(missing)}"
        assert isinstance(t["score"], (int, float)) and isinstance(t["max_score"], (int, float)), (
            f"non-numeric score in {t!r}"
        )
        assert 0 <= t["score"] <= t["max_score"], f"expected 0 <= score <= max_score in {t!r}"
        assert t["status"] in ("passed", "failed"), f"expected status passed/failed, got {t!r}"
        assert isinstance(t["output"], str), f"expected a string output, got {t!r}"
        module, sep, _ = t["name"].partition(": ")
        assert sep and module in GRADED, (
            f"expected the name to start with one of {GRADED} and ': ', got {t['name']!r}"
        )
    total = sum(t["score"] for t in tests)
    assert abs(total - data["score"]) < 1e-9, (
        f"expected the top-level score {data['score']} to be the sum {total}"
    )
    names = [t["name"] for t in tests]
    assert len(set(names)) == len(names), f"expected unique test names, got duplicates in {names}"
    expected_count = sum(len(rubric().exercises[e].points) for e in GRADED)
    assert len(tests) == expected_count, (
        f"expected one entry per rubric check ({expected_count}), got {len(tests)}"
    )


@pytest.mark.slow
def test_the_missing_exercise_scores_0_and_every_check_says_it_is_missing(broken_run):
    _, data = broken_run
    tests = entries_of(data, "ex02_returns")
    assert len(tests) == len(rubric().exercises["ex02_returns"].points), (
        f"expected every ex02 check listed, got {tests}"
    )
    bad = [
        t
        for t in tests
        if t["score"] != 0 or t["status"] != "failed" or "missing" not in t["output"]
    ]
    assert not bad, (
        f"expected every ex02_returns check to score 0 with 'missing' in its output, got {bad[:3]}"
    )
    unclear = [
        t["output"]
        for t in tests
        if "assertion failed" in t["output"] or "Traceback" in t["output"]
    ]
    assert not unclear, f"expected a clear reason, not {unclear[:2]}"


@pytest.mark.slow
def test_the_exercise_with_a_syntax_error_scores_0_and_every_check_names_the_error_and_line(
    broken_run,
):
    _, data = broken_run
    tests = entries_of(data, "ex03_policy")
    assert len(tests) == len(rubric().exercises["ex03_policy"].points), (
        f"expected every ex03 check listed, got {tests}"
    )
    bad = [
        t
        for t in tests
        if t["score"] != 0
        or t["status"] != "failed"
        or "SyntaxError" not in t["output"]
        or "line 4" not in t["output"]
    ]
    assert not bad, (
        f"ex03_policy.py has a syntax error on line 4: expected every check to score 0 and say "
        f"'SyntaxError' and 'line 4', got {[(t['name'], t['output'][:120]) for t in bad[:3]]}"
    )


@pytest.mark.slow
def test_the_exercises_copied_from_solutions_get_full_marks(broken_run):
    proc, data = broken_run
    tests = entries_of(data, "ex01_gridworld")
    failed = [(t["name"], t["output"][:300]) for t in tests if t["score"] != t["max_score"]]
    assert tests and not failed, (
        f"expected ex01_gridworld (copied from solutions/) to get full marks, failing: {failed}"
    )
    got = sum(t["score"] for t in tests)
    assert got == rubric().exercises["ex01_gridworld"].max_points, (
        f"expected ex01 to score its maximum, got {got}"
    )
    assert f"Points {data['score']:g}/" in proc.stdout, (
        f"expected the 'Points X/Y' line in stdout, got:\n{show(proc)}"
    )


@pytest.mark.slow
def test_grading_an_empty_folder_exits_0_with_score_0(tmp_path):
    out = tmp_path / "results.json"
    sub = tmp_path / "empty"
    sub.mkdir()
    proc = cli("grade", str(sub), "--only", "ex02_returns", "--json", str(out))
    assert proc.returncode == 0, f"expected exit 0 for an empty submission, got:\n{show(proc)}"
    data = json.loads(out.read_text())
    assert data["score"] == 0, f"expected score 0 for an empty submission, got {data['score']}"
    assert all("missing" in t["output"] for t in data["tests"]), (
        f"expected every check of the empty submission to say 'missing', got {[t['output'] for t in data['tests']][:3]}"
    )


# -- in-process grading (fresh interpreter) -------------------------------------------------------

GRADE_SCRIPT = textwrap.dedent(
    """\
    import json, sys
    from pathlib import Path
    from autograder.grading.run import grade

    exercises = json.loads(sys.argv[2]) or None
    run = grade(Path(sys.argv[1]), exercises=exercises)
    print(json.dumps({
        "score": run.score,
        "max_points": run.max_points,
        "exercises": {e.name: [e.score, e.max_points] for e in run.exercises},
        "failing": [
            [c.exercise, c.check, c.verdict, c.output[:300]]
            for e in run.exercises for c in e.checks if not c.passed
        ],
    }))
    """
)


def grade_in_fresh_python(submission: Path, exercises: list[str] | None = None) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", GRADE_SCRIPT, str(submission), json.dumps(exercises or [])],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=GRADE_TIMEOUT if exercises else FULL_GRADE_TIMEOUT,
    )
    assert proc.returncode == 0, f"grade({submission}) failed:\n{show(proc)}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_broken_exercise_does_not_cost_a_later_correct_exercise_its_points(tmp_path):
    (tmp_path / "ex01_gridworld.py").write_text("def f(:\n    pass\n")
    shutil.copy(SOLUTIONS / "ex02_returns.py", tmp_path / "ex02_returns.py")
    got = grade_in_fresh_python(tmp_path, ["ex01_gridworld", "ex02_returns"])
    ex02 = got["exercises"]["ex02_returns"]
    assert ex02[0] == ex02[1] > 0, (
        f"ex01 has a syntax error, ex02 is the reference: expected ex02 full marks {ex02[1]}, got {ex02[0]}; "
        f"failing: {[f for f in got['failing'] if f[0] == 'ex02_returns'][:3]}"
    )
    ex01 = got["exercises"]["ex01_gridworld"]
    assert ex01[0] == 0, f"expected 0 for ex01 with a syntax error, got {ex01}"


@pytest.mark.slow
def test_the_reference_solutions_get_full_marks():
    got = grade_in_fresh_python(SOLUTIONS)
    expected = sorted(rubric().exercises)
    assert sorted(got["exercises"]) == expected, (
        f"expected every rubric exercise graded {expected}, got {sorted(got['exercises'])}"
    )
    assert got["score"] == got["max_points"] > 0, (
        f"expected solutions/ to score {got['max_points']}, got {got['score']}; "
        f"failing checks: {got['failing']}"
    )
