"""A real nbgrader 0.9.6 round trip for assignment 1, as an instructor runs it.

``python -m autograder nbgrader-init`` -> ``nbgrader generate_assignment`` -> five
submissions -> ``nbgrader autograde`` -> ``generate_feedback`` -> ``export`` ->
``python -m autograder nbgrader-regrade`` -> ``generate_feedback --force`` (the verdicts of the
re-grade in every grade cell). The students:

* alice - the reference solutions and answers (full automatic marks);
* bob - the release notebook untouched (every check 0);
* carol - ex02's ``discounted_returns`` right, its ``normalize`` with torch's unbiased std
  (partly correct); her ``discounted_returns`` prints debug output and warnings to stderr
  (which must not cost its checks a point);
* frank - ex01 right, then a ``while True: pass`` in the same cell (cell timeout), and one
  of ex01's grade cells deleted (nbgrader puts it back and runs it);
* mallory - stubs, plus a cell that replaces ``check`` in the kernel (in-kernel full
  marks; the authoritative re-grade gives 0 and reports every cell).

Each in-kernel notebook costs one grading per exercise it reaches (a fresh grader process
each), so each behaviour under test rides on the fewest notebooks: carol carries the partly
correct exercise and the stderr output (each test looks at its own cells), frank the loop and
the deleted grade cell (both in ex01, all of whose checks pass). Each student other than
alice implements one exercise, to keep the run short.

Everything runs once (module fixture); the tests assert on the gradebook, the
autograded notebooks, the feedback HTML, the CSV export and the re-grade report.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")

from autograder.build.markers import strip_markers  # noqa: E402
from autograder.build.release import removed_checks  # noqa: E402

pytestmark = pytest.mark.slow  # grades real submissions end to end

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "a1_policy_gradients"
NB = f"{ASSIGNMENT}.ipynb"
BIN = Path(sys.executable).parent
STUDENTS = ("alice", "bob", "carol", "frank", "mallory")
LOOP_TIMEOUT = 5  # RL4LLM_CELL_TIMEOUT for frank: his loop is stopped after this many seconds
DELETED = "ex01_gridworld-test_bumping_a_wall_costs_a_step_and_stays_put"
LOOP_CELL = "ex01_gridworld-SimpleGridWorld"
# carol's ex02 grade cells that call only discounted_returns (right, and printing to stderr)
RETURNS_ONLY = tuple(
    f"ex02_returns-test_{name}"
    for name in (
        "the_lesson_grid_episode_gives_0_791_0_89_1",
        "rewards_1_2_3_at_gamma_one_half_give_2_75_3_5_3",
        "lists_arrays_and_tensors_of_ints_or_floats_all_give_float32",
        "a_gamma_outside_0_1_raises_value_error",
        "gamma_zero_returns_the_rewards_themselves",
        "gamma_one_is_a_reversed_cumulative_sum",
        "returns_satisfy_the_bellman_recursion",
    )
)


def run(
    args: list[str], cwd: Path, env: dict | None = None, timeout: float = 900
) -> subprocess.CompletedProcess:
    full_env = dict(
        os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {})
    )
    return subprocess.run(
        args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )


def nbgrader(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("nbgrader", path=str(BIN)) or "nbgrader"
    return run([exe, *args], cwd, env)


# -- building the submissions ------------------------------------------------------------------
def cell(nb, cell_id: str):
    return next(c for c in nb.cells if c.get("id") == cell_id)


def solution_ids(nb, prefix: str) -> list[str]:
    return [
        c.id
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
        and c.metadata["nbgrader"]["grade_id"].startswith(prefix)
    ]


def fill(student, source, prefix: str) -> None:
    """Copy the reference code of every solution cell whose grade id starts with ``prefix``."""
    for cid in solution_ids(source, prefix):
        src = cell(source, cid).source
        cell(student, cid).source = (
            strip_markers(src) if cell(source, cid).cell_type == "code" else src
        )


def make_submissions(course: Path) -> None:
    release = nbformat.read(str(course / "release" / ASSIGNMENT / NB), as_version=4)
    source = nbformat.read(str(course / "source" / ASSIGNMENT / NB), as_version=4)

    def new():
        return nbformat.from_dict(release)

    subs = {s: new() for s in STUDENTS}
    fill(subs["alice"], source, "ex0")
    fill(subs["alice"], source, "questions-")
    fill(subs["frank"], source, "ex01_")
    fill(subs["carol"], source, "ex02_")
    # carol: normalize with torch's default (unbiased) std, the lesson's pitfall
    cell(subs["carol"], "ex02_returns-normalize").source = (
        "def normalize(x, eps=1e-8):\n"
        "    x = torch.as_tensor(x, dtype=torch.float32)\n"
        "    if x.numel() == 0:\n"
        "        return x.clone()\n"
        "    return (x - x.mean()) / (x.std() + eps)\n"
    )
    # carol also writes to stderr from her function (debug print and a warning) and her cell
    cell(subs["carol"], "ex02_returns-discounted_returns").source += (
        "\n\n\nimport sys\nimport warnings\n\n_discounted_returns = discounted_returns\n\n\n"
        "def discounted_returns(rewards, gamma):\n"
        '    print("debug: discounted_returns", file=sys.stderr)\n'
        '    warnings.warn("erin was here", UserWarning)\n'
        "    return _discounted_returns(rewards, gamma)\n\n\n"
        'print("debug at import", file=sys.stderr)\n'
    )
    # frank deletes a grade cell of ex01 ...
    subs["frank"].cells = [x for x in subs["frank"].cells if x.get("id") != DELETED]
    # ... and leaves a loop after his definitions, as a student leaves an experiment running
    c = cell(subs["frank"], LOOP_CELL)
    c.source += "\n\nwhile True:  # forgot to stop this experiment\n    pass\n"
    # ... and he stopped it in Jupyter before saving: the saved cell carries the interrupt
    c.outputs = [
        nbformat.v4.new_output("error", ename="KeyboardInterrupt", evalue="", traceback=[])
    ]
    # mallory: stubs, and a cell that makes every grade cell pass in the kernel
    hack = nbformat.v4.new_code_cell(
        "import autograder.notebook as _nb\n_nb.check = lambda *args, **kwargs: None\n"
    )
    hack.id = "mallory-hack"
    subs["mallory"].cells.insert(3, hack)
    for s, nb in subs.items():
        folder = course / "submitted" / s / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / NB))
        (folder / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC")


# -- the round trip ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def course(tmp_path_factory):
    keep = os.environ.get("RL4LLM_ROUNDTRIP_DIR")  # keep the course folder for a look afterwards
    course = Path(keep) if keep else tmp_path_factory.mktemp("nbgrader") / "course"
    if keep:
        shutil.rmtree(course, ignore_errors=True)
    times = {}

    def step(name, proc):
        assert proc.returncode == 0, (
            f"{name} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
        )
        return proc

    t = time.monotonic()
    step(
        "nbgrader-init",
        run([sys.executable, "-m", "autograder", "nbgrader-init", str(course)], REPO),
    )
    step("generate_assignment", nbgrader("generate_assignment", ASSIGNMENT, cwd=course))
    make_submissions(course)
    times["setup"] = time.monotonic() - t
    t = time.monotonic()
    others = nbgrader(
        "autograde", ASSIGNMENT, "--CourseDirectory.student_id_exclude=frank", cwd=course
    )
    step("autograde", others)
    times["autograde"] = time.monotonic() - t
    t = time.monotonic()
    loop = nbgrader(
        "autograde",
        ASSIGNMENT,
        "--student",
        "frank",
        cwd=course,
        env={"RL4LLM_CELL_TIMEOUT": str(LOOP_TIMEOUT)},
    )
    step("autograde frank", loop)
    times["autograde_frank"] = time.monotonic() - t
    t = time.monotonic()
    step("generate_feedback", nbgrader("generate_feedback", ASSIGNMENT, cwd=course))
    step("export", nbgrader("export", cwd=course))
    times["feedback_export"] = time.monotonic() - t
    kernel = gradebook_scores(course)
    t = time.monotonic()
    regrade = step(
        "nbgrader-regrade",
        run(
            [
                sys.executable,
                "-m",
                "autograder",
                "nbgrader-regrade",
                str(course),
                "--assignment",
                ASSIGNMENT,
                "--jobs",
                "2",
                "--seed",
                "1",
            ],
            REPO,
        ),
    )
    times["regrade"] = time.monotonic() - t
    t = time.monotonic()
    step(
        "generate_feedback after the re-grade",
        nbgrader("generate_feedback", ASSIGNMENT, "--force", cwd=course),
    )
    times["feedback_after_regrade"] = time.monotonic() - t
    print("round-trip timings (s):", {k: round(v, 1) for k, v in times.items()})
    return {
        "dir": course,
        "kernel": kernel,
        "after": gradebook_scores(course),
        "regrade": regrade,
        "logs": others.stdout + others.stderr + loop.stdout + loop.stderr,
        "times": times,
    }


def gradebook_scores(course: Path) -> dict[str, dict[str, tuple]]:
    """student -> grade id -> (auto_score, manual_score, needs_manual_grade, max_score)."""
    from nbgrader.api import Gradebook

    out: dict = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="rl4llm") as gb:
        for sub in gb.assignment_submissions(ASSIGNMENT):
            for nb in sub.notebooks:
                for g in nb.grades:
                    out.setdefault(sub.student.id, {})[g.name] = (
                        g.auto_score,
                        g.manual_score,
                        g.needs_manual_grade,
                        g.max_score,
                    )
    return out


def code_cells(course: dict) -> dict[str, float]:
    """Grade id -> points of every automatic grade cell of assignment 1 (as handed out)."""
    nb = nbformat.read(str(course["dir"] / "source" / ASSIGNMENT / NB), as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
        for c in nb.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
    }


def of(scores: dict, prefix: str) -> dict:
    return {k: v for k, v in scores.items() if k.startswith(prefix)}


# -- in-kernel autograde --------------------------------------------------------------------------
def test_every_student_has_a_score_for_every_grade_cell(course):
    cells = code_cells(course)
    for s in STUDENTS:
        have = course["kernel"].get(s, {})
        missing = [g for g in cells if g not in have or have[g][0] is None]
        assert not missing, f"{s}: grade cells without an automatic score: {missing[:5]}"


def test_the_reference_scores_full_automatic_marks(course):
    cells = code_cells(course)
    got = course["kernel"]["alice"]
    lost = {g: got[g][0] for g in cells if got[g][0] != cells[g]}
    assert not lost, f"alice (the reference) lost points in the kernel: {lost}"
    manual = got["questions-Q3_why"]
    assert manual[0] is None and manual[2], (
        f"an answered free-text cell needs manual grading, got {manual}"
    )


def test_the_stubs_score_0_everywhere(course):
    got = course["kernel"]["bob"]
    scored = {g: v[0] for g, v in got.items() if v[0]}
    assert not scored, f"bob (the release notebook) scored: {scored}"
    assert got["questions-Q3_why"][0] == 0, "an unchanged free-text cell scores 0 automatically"


def test_a_partly_correct_notebook_gets_the_right_cells(course):
    cells = code_cells(course)
    got = course["kernel"]["carol"]
    for g in (
        "ex02_returns-test_normalize_of_1_0_is_1_minus_1_with_the_population_std",
        "ex02_returns-test_one_element_and_all_equal_inputs_normalize_to_zeros_not_nan",
    ):
        assert got[g][0] == 0, f"carol's unbiased std must fail {g}, got {got[g]}"
    for g in RETURNS_ONLY:
        assert got[g][0] == cells[g], (
            f"carol's discounted_returns is right: {g} should pass, got {got[g]}"
        )
    for g in list(of(cells, "ex01_")) + list(of(cells, "ex03_")) + list(of(cells, "ex04_")):
        assert got[g][0] == 0, f"carol left {g.split('-')[0]} as a stub, got {got[g]}"


def test_a_deleted_grade_cell_is_put_back_and_scored(course):
    got = course["kernel"]["frank"]
    assert got[DELETED][0] == code_cells(course)[DELETED] and not got[DELETED][2], (
        f"frank deleted {DELETED}: with add_missing_cells it must be re-inserted and pass, got {got[DELETED]}"
    )
    sub = nbformat.read(str(course["dir"] / "submitted" / "frank" / ASSIGNMENT / NB), as_version=4)
    assert not any(c.get("id") == DELETED for c in sub.cells), "frank's submission lacks it"
    nb = nbformat.read(str(course["dir"] / "autograded" / "frank" / ASSIGNMENT / NB), as_version=4)
    assert any(c.metadata.get("nbgrader", {}).get("grade_id") == DELETED for c in nb.cells)


def test_stderr_output_does_not_cost_a_correct_answer(course):
    """carol's discounted_returns is right and writes to stderr; its own checks keep every point.

    (Her normalize is wrong: the checks that call it are test_a_partly_correct_notebook's.)
    """
    cells = code_cells(course)
    got = course["kernel"]["carol"]
    assert set(RETURNS_ONLY) <= set(of(cells, "ex02_"))
    for g in RETURNS_ONLY:
        assert got[g][0] == cells[g], (
            f"carol's correct discounted_returns printed to stderr and lost {g}: {got[g]}"
        )
    nb = nbformat.read(str(course["dir"] / "autograded" / "carol" / ASSIGNMENT / NB), as_version=4)
    c = cell(nb, "ex02_returns-discounted_returns")
    assert any(o.output_type == "stream" and o.name == "stderr" for o in c.outputs), (
        "carol's cell should have written to stderr (the test would prove nothing otherwise)"
    )


def test_an_infinite_loop_is_stopped_by_the_cell_timeout_and_the_rest_is_graded(course):
    cells = code_cells(course)
    got = course["kernel"]["frank"]
    for g in of(cells, "ex01_"):
        assert got[g][0] == cells[g], f"frank's definitions ran before his loop; {g}: {got[g]}"
    nb = nbformat.read(str(course["dir"] / "autograded" / "frank" / ASSIGNMENT / NB), as_version=4)
    errors = [o for o in cell(nb, LOOP_CELL).outputs if o.output_type == "error"]
    assert errors, "frank's loop should have been interrupted"
    assert course["times"]["autograde_frank"] < 300, course["times"]


def test_patching_check_in_the_kernel_fools_autograde_only(course):
    cells = code_cells(course)
    got = course["kernel"]["mallory"]
    assert all(got[g][0] == cells[g] for g in cells), (
        "the in-kernel autograde is expected to be fooled"
    )
    after = course["after"]["mallory"]
    assert all(after[g][0] == 0 for g in cells), f"the authoritative re-grade must give 0: {after}"


# -- feedback and export -------------------------------------------------------------------------------
def test_no_hidden_check_text_in_any_feedback_file(course):
    feedback = sorted((course["dir"] / "feedback").rglob("*.html"))
    assert len(feedback) == len(STUDENTS), f"expected one feedback file per student, got {feedback}"
    hidden = sorted({c for ids in removed_checks().values() for c in ids})
    needles = ["BEGIN HIDDEN TESTS", "END HIDDEN TESTS", *hidden]
    for path in feedback:
        text = path.read_text()
        found = [n for n in needles if n in text]
        assert not found, f"{path.relative_to(course['dir'])} leaks {found[:3]}"
        assert "Score:" in text

    # bob handed in the release notebook: whatever his feedback holds of the reference (a
    # solution body, a solution region, an answer key, printed reference code) came from us
    from autograder.build import leaks as leakscan

    bob = [p for p in feedback if "bob" in p.parts]
    assert len(bob) == 1 and leakscan.leaks(bob[0].parent) == []


def test_export_has_one_row_per_student_with_the_gradebook_totals(course):
    with open(course["dir"] / "grades.csv") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh) if r["assignment"] == ASSIGNMENT}
    assert set(rows) == set(STUDENTS)
    for s in STUDENTS:
        total = sum(
            (v[1] if v[1] is not None else v[0] or 0.0) for v in course["kernel"][s].values()
        )
        assert float(rows[s]["raw_score"]) == pytest.approx(total), f"{s}: {rows[s]}"


# -- the authoritative re-grade ------------------------------------------------------------------------
def test_the_feedback_after_the_regrade_shows_the_authoritative_verdicts(course):
    feedback = course["dir"] / "feedback"
    mallory = (feedback / "mallory" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    alice = (feedback / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    cells = code_cells(course)
    assert mallory.count("Authoritative grade (sandboxed re-grade): FAILED") == len(cells)
    assert "not implemented" in mallory  # the reason, not only the score
    assert "hidden check: failed" in mallory
    assert alice.count("Authoritative grade (sandboxed re-grade): PASSED") == len(cells)


def test_the_regrade_agrees_with_the_kernel_except_for_mallory(course):
    cells = code_cells(course)
    for s in STUDENTS:
        if s == "mallory":
            continue
        before, after = course["kernel"][s], course["after"][s]
        diff = {g: (before[g][0], after[g][0]) for g in cells if before[g][0] != after[g][0]}
        assert not diff, f"{s}: the in-kernel and authoritative scores differ: {diff}"
        assert all(after[g][2] is False for g in cells), (
            f"{s}: re-graded cells must not need manual grading"
        )
    assert course["after"]["alice"]["questions-Q3_why"][2], (
        "manual cells stay with the human graders"
    )


def test_the_regrade_report_lists_every_disagreement(course):
    md = (course["dir"] / "reports" / f"regrade-{ASSIGNMENT}.md").read_text()
    rows = list(csv.DictReader(open(course["dir"] / "reports" / f"regrade-{ASSIGNMENT}.csv")))
    bad = [r for r in rows if r["disagrees"] == "1"]
    assert bad and {r["student"] for r in bad} == {"mallory"}, [r["student"] for r in bad]
    assert len(bad) == len(code_cells(course))
    assert re.search(
        r"\| mallory \| a1_policy_gradients \| a1_policy_gradients \| \d+ \| 0 \|", md
    ), md[:2000]
    assert "Seed of this run: 1" in md
