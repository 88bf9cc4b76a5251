"""What a student sees: ``pytest course/`` on the committed stubs, and on a partly done copy.

Both run pytest in a subprocess exactly as a student would (from the repo root,
and on a copy outside the repo, where ``course/conftest.py`` still works because
``autograder`` is installed).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grading.rubric import Rubric

pytestmark = pytest.mark.slow  # grades real submissions end to end

REPO = Path(__file__).resolve().parents[1]
COURSE = REPO / "course"
SOLUTIONS = REPO / "solutions"
TIMEOUT = 300  # seconds for one `pytest course/` run (about 10 s on 2 cores)

# exercise, passed/counted checks, todo, later (WAIT/HAND, not in the points), points
ROW = re.compile(r"^([a-z]\w*)\s+(\d+)/(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)/([\d.]+)\s*$")
TOTAL = re.compile(r"^TOTAL\s+([\d.]+)/([\d.]+)\s*$")
CHECK_LINE = re.compile(r"^  (PASS|FAIL|TODO)  (.+?)  \[([\d.]+)/([\d.]+)\]\s*$")


def run_pytest(target: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(target), "-p", "no:cacheprovider"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def show(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout (tail) ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-2000:]}"


LATER: dict[str, int] = {}  # exercise -> checks graded later or by a person (last table read)


def score_rows(stdout: str) -> dict[str, tuple[int, int, int, float, float]]:
    """The totals table: exercise -> (passed, checks, todo, points, max points)."""
    rows = {}
    for line in stdout.splitlines():
        if m := ROW.match(line):
            rows[m[1]] = (int(m[2]), int(m[3]), int(m[4]), float(m[6]), float(m[7]))
            LATER[m[1]] = int(m[5])
    return rows


SECTION = re.compile(r"^(\w+) - .*\(([\d.]+)/([\d.]+) points\)\s*$")

# The stub of each check's verdict: "not implemented" for code; the questions' blank
# answers (None / "") say "not answered" instead.
STUB_VERDICT = {"questions": " - not answered"}
DEFAULT_STUB_VERDICT = " - not implemented"


def check_lines(stdout: str) -> list[tuple[str, str, str, float, float]]:
    """Per-check lines of the table: (exercise, mark, title + verdict, points, max points)."""
    out, section = [], ""
    for line in stdout.splitlines():
        if m := SECTION.match(line):
            section = m[1]
        elif m := CHECK_LINE.match(line):
            out.append((section, m[1], m[2], float(m[3]), float(m[4])))
    return out


def rubric() -> Rubric:
    """Read at test time, after the run, so that both see the same rubric.toml."""
    return Rubric.load()


def titles(exercise: str) -> set[str]:
    """The titles of the rubric's checks of ``exercise`` (``@pytest.mark.title`` included)."""
    from autograder.build.nbchecks import checks_of

    return {c.title for c in checks_of(exercise, rubric())}


def copy_course(dest: Path) -> Path:
    shutil.copytree(COURSE, dest, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    return dest


@pytest.fixture(scope="module")
def stub_run() -> subprocess.CompletedProcess:
    return run_pytest(Path("course"), cwd=REPO)


def test_pytest_on_the_stubs_exits_non_zero(stub_run):
    assert stub_run.returncode != 0, (
        f"expected `pytest course/` on the stubs to fail, got:\n{show(stub_run)}"
    )


def test_pytest_on_the_stubs_shows_no_python_traceback(stub_run):
    text = stub_run.stdout + stub_run.stderr
    assert "Traceback (most recent call last)" not in text, (
        f"expected no traceback, got:\n{show(stub_run)}"
    )
    assert "NotImplementedError" not in text, (
        f"expected 'not implemented', not the exception, got:\n{show(stub_run)}"
    )
    summary = stub_run.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ todo", summary) and " failed" not in summary, (
        f"expected pytest's summary to count stubs as 'todo', not 'failed', got: {summary}"
    )


def test_pytest_on_the_stubs_prints_total_0_of_n(stub_run):
    totals = [m for line in stub_run.stdout.splitlines() if (m := TOTAL.match(line))]
    assert len(totals) == 1, f"expected one TOTAL line, got {len(totals)}:\n{show(stub_run)}"
    score, max_points = float(totals[0][1]), float(totals[0][2])
    assert score == 0 and max_points > 0, (
        f"expected TOTAL 0/N with N > 0, got {score:g}/{max_points:g}"
    )
    rows = score_rows(stub_run.stdout)
    assert set(rows) == set(rubric().exercises), (
        f"expected a row for each exercise {sorted(rubric().exercises)}, got {sorted(rows)}"
    )
    summed = sum(r[4] for r in rows.values())
    assert summed == max_points, (
        f"expected N = sum of the exercise rows {summed:g}, got {max_points:g}"
    )
    for name, (passed, checks, todo, points, _) in rows.items():
        assert (passed, points) == (0, 0) and todo == checks > 0, (
            f"{name}: expected 0 passed, 0 points and every check todo, got passed {passed}/{checks}, todo {todo}, points {points:g}"
        )


def test_pytest_on_the_stubs_says_not_implemented_for_every_check(stub_run):
    lines = check_lines(stub_run.stdout)
    rows = score_rows(stub_run.stdout)
    counted = sum(r[1] for r in rows.values())
    # a blank explanation (graded by a person, not in the points) is still a TODO line
    assert 0 < counted <= len(lines) <= counted + sum(LATER.values()), (
        f"expected one line per check ({sum(r[1] for r in rows.values())}), got {len(lines)}:\n{show(stub_run)}"
    )
    bad = [
        line
        for line in lines
        if line[1] != "TODO"
        or not line[2].endswith(STUB_VERDICT.get(line[0], DEFAULT_STUB_VERDICT))
        or line[3] != 0
    ]
    assert not bad, (
        "expected every check to be 'TODO ... - not implemented' (questions: 'not answered') "
        f"with 0 points, got {bad[:5]}"
    )
    unknown = [
        line
        for line in lines
        if line[0] not in rubric().exercises
        or line[2].removesuffix(STUB_VERDICT.get(line[0], DEFAULT_STUB_VERDICT))
        not in titles(line[0])
    ]
    assert not unknown, f"expected only rubric checks under their exercise, got {unknown[:5]}"


def test_a_copy_with_ex02_done_shows_ex02_full_points_and_0_for_the_others(tmp_path):
    course = copy_course(tmp_path / "my_course")
    shutil.copy(SOLUTIONS / "ex02_returns.py", course / "ex02_returns.py")
    assert (course / "conftest.py").is_file(), (
        f"expected course/conftest.py in the copy {sorted(p.name for p in course.iterdir())}"
    )
    proc = run_pytest(course, cwd=tmp_path)
    assert proc.returncode != 0, (
        f"expected a non-zero exit while other exercises are stubs, got:\n{show(proc)}"
    )
    assert "Traceback (most recent call last)" not in proc.stdout + proc.stderr, (
        f"expected no traceback:\n{show(proc)}"
    )
    rows = score_rows(proc.stdout)
    assert set(rows) == set(rubric().exercises), (
        f"expected a row for each exercise, got {sorted(rows)}:\n{show(proc)}"
    )
    passed, checks, todo, points, max_points = rows["ex02_returns"]
    assert passed == checks > 0 and todo == 0 and points == max_points > 0, (
        f"expected ex02_returns at full points, got passed {passed}/{checks}, todo {todo}, {points:g}/{max_points:g}:\n{show(proc)}"
    )
    others = {name: row for name, row in rows.items() if name != "ex02_returns"}
    bad = {name: row for name, row in others.items() if row[3] != 0 or row[2] != row[1]}
    assert not bad, f"expected 0 points and every check todo for the other exercises, got {bad}"
    totals = [m for line in proc.stdout.splitlines() if (m := TOTAL.match(line))]
    assert len(totals) == 1 and float(totals[0][1]) == max_points, (
        f"expected TOTAL {max_points:g}/..., got {[t[0] for t in totals]}"
    )
