"""The re-grade-only path for a class, end to end: no in-kernel ``nbgrader autograde``.

A generated class (``benchmarks/make_class.py``: one honest, partial, untouched, tampered and
broken notebook each, the partial one two days late: every notebook of a different kind, since
an honest one costs the most to grade: its questions re-run ``train_bandit``) is graded by ``nbgrader-regrade`` alone, then
``nbgrader generate_feedback`` and ``nbgrader export`` run, and ``analytics`` writes its
files. The due date is set with ``nbgrader db assignment add --duedate`` and the late
penalty comes from the ``PercentPerDay`` late-submission plugin (10% per started day).
"""

from __future__ import annotations

import csv
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

pytestmark = pytest.mark.slow  # grades real submissions end to end

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "a1_policy_gradients"
BIN = Path(sys.executable).parent
_spec = importlib.util.spec_from_file_location(
    "rl4llm_make_class", REPO / "benchmarks" / "make_class.py"
)
make_class = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_class)


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, f"{args[:4]}: {proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("regrade-only") / "course"
    py = [sys.executable, "-m", "autograder"]
    run([*py, "nbgrader-init", str(course)], REPO)
    with open(course / "nbgrader_config.py", "a") as fh:
        fh.write('\nc.AssignLatePenalties.plugin_class = "autograder.grading.late.PercentPerDay"\n')
    run(
        ["nbgrader", "db", "assignment", "add", ASSIGNMENT, "--duedate", f"{make_class.DUE} UTC"],
        course,
    )
    run(["nbgrader", "generate_assignment", ASSIGNMENT], course)
    kinds = make_class.make_class(course, 5, late_every=2)  # s001 (partial), s003: two days late
    regrade = run(
        [*py, "nbgrader-regrade", str(course), "--assignment", ASSIGNMENT]
        + ["--jobs", "2", "--seed", "1"],
        REPO,
    )
    run(["nbgrader", "generate_feedback", ASSIGNMENT, "--force"], course)
    run(["nbgrader", "export"], course)
    run([*py, "analytics", str(course), "--assignment", ASSIGNMENT], REPO)
    return {"dir": course, "kinds": kinds, "regrade": regrade.stdout}


def _export(course: Path) -> dict[str, dict]:
    with open(course / "grades.csv") as fh:
        return {r["student_id"]: r for r in csv.DictReader(fh) if r["assignment"] == ASSIGNMENT}


def test_every_kind_of_submission_gets_its_authoritative_score(graded):
    rows = _export(graded["dir"])
    assert set(rows) == set(graded["kinds"])
    assert [graded["kinds"][s] for s in sorted(rows)] == [
        ("honest", False),
        ("partial", True),
        ("untouched", False),
        ("tampered", True),
        ("broken", False),
    ]
    score = {s: float(r["raw_score"]) for s, r in rows.items()}  # before any late penalty
    honest = score["s000"]
    assert score["s002"] == 0 and score["s003"] == 0  # untouched; tampered gains nothing
    assert 0 < score["s004"] < score["s001"] < honest  # broken: ex01 only; partial: ex01+ex02


def test_a_late_submission_is_penalised_by_the_plugin(graded):
    rows = _export(graded["dir"])
    late = rows["s001"]  # partial (raw score > 0), two days late: 10% per started day
    assert float(late["late_submission_penalty"]) == pytest.approx(0.2 * float(late["raw_score"]))
    assert float(late["score"]) == pytest.approx(0.8 * float(late["raw_score"]))
    assert float(late["score"]) < float(late["raw_score"])
    assert float(rows["s003"]["late_submission_penalty"]) == 0  # late, but nothing to take
    assert float(rows["s000"]["late_submission_penalty"]) == 0
    assert float(rows["s000"]["score"]) == float(rows["s000"]["raw_score"])


def test_the_feedback_explains_every_grade_cell(graded):
    for student in graded["kinds"]:
        html = (
            graded["dir"] / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        ).read_text()
        assert "Authoritative grade (sandboxed re-grade)" in html, student
    tampered = (graded["dir"] / "feedback" / "s003" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "PASSED" not in tampered


def test_the_report_names_the_sandbox_and_the_analytics_exist(graded):
    md = (graded["dir"] / "reports" / f"regrade-{ASSIGNMENT}.md").read_text()
    assert "Sandbox: on (tier: " in md or "Sandbox: OFF (tier: none)" in md
    an = graded["dir"] / "analytics"
    for name in (
        "check_pass_rates.csv",
        "exercise_scores.csv",
        "gradebook.csv",
        "totals_histogram.png",
    ):
        assert (an / name).is_file(), name
    book = list(csv.reader(open(an / "gradebook.csv")))
    assert len(book) == 2 + len(graded["kinds"])
