"""Authoritative re-grade of an nbgrader course: ``python -m autograder nbgrader-regrade COURSE``.

``nbgrader autograde`` runs the checks inside the student's own kernel, where the
student's code could patch them, and its score for a cell is only as good as
that kernel. This command grades every ``submitted/<student>/<assignment>/<nb>.ipynb``
again without any kernel:

1. the notebook is read with nbformat and its code cells become one module
   (:func:`autograder.ingest.notebook.notebook_code`: grader cells, magics and top-level
   expression statements left out), written as every exercise module, with the
   ``capstone_record.json`` of the submitted folder (:mod:`autograder.ingest.companions`);
2. the exercises whose checks the notebook's grade cells call are graded by the
   sandboxed grader (bubblewrap when it works; ``--require-sandbox`` refuses
   anything less) in a fresh process, with one secret seed for the whole run;
3. each grade cell's ``auto_score`` in ``gradebook.db`` is overwritten through
   ``nbgrader.api.Gradebook`` (manual scores are left alone: nbgrader lets a
   manual score win), and the per-cell differences from the in-kernel scores are
   written to ``reports/regrade-<assignment>.csv`` and ``.md`` (the class report; partial
   and dry runs never overwrite it, see :func:`write_reports`).

Which check a grade cell runs is read from its source *as stored in the
gradebook* (``check("ex02_returns", "test_...")``, also inside hidden-test
blocks), never from the student's copy.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import shutil
import tempfile
from pathlib import Path

from autograder.grading.authoritative import new_seed
from autograder.grading.late import assign_late_penalty, course_plugin, read_timestamp
from autograder.grading.regrade_feedback import (
    REGRADE_ONLY,
    annotate_autograded,
    ensure_autograded,
)
from autograder.grading.regrade_report import CellRow, Report
from autograder.ingest.companions import copy_companions
from autograder.ingest.notebook import module_names, notebook_code, write_submission
from autograder.notebook import run_grader

CHECK_CALL = re.compile(r"""check\(\s*["'](?P<ex>\w+)["']\s*,\s*["'](?P<check>\w+)["']\s*\)""")


class RegradeError(RuntimeError):
    """The course folder or gradebook cannot be re-graded (one clear line)."""


def course_id_of(course: Path) -> str:
    """``c.CourseDirectory.course_id`` from the course's nbgrader_config.py (default "rl4llm")."""
    cfg = course / "nbgrader_config.py"
    if cfg.is_file():
        m = re.search(r"""CourseDirectory\.course_id\s*=\s*["']([^"']+)["']""", cfg.read_text())
        if m:
            return m.group(1)
    return "rl4llm"


def submissions(course: Path, assignment: str | None, students: list[str] | None):
    """``(student, assignment, notebook path)`` for every submitted notebook, sorted."""
    root = course / "submitted"
    if not root.is_dir():
        raise RegradeError(f"{root}: no such folder (collect the submissions first)")
    out = []
    for sdir in sorted(p for p in root.iterdir() if p.is_dir()):
        if students and sdir.name not in students:
            continue
        for adir in sorted(p for p in sdir.iterdir() if p.is_dir()):
            if assignment and adir.name != assignment:
                continue
            out += [(sdir.name, adir.name, nb) for nb in sorted(adir.glob("*.ipynb"))]
    return out


def grade_cells_of(gb, notebook: str, assignment: str) -> list[tuple[str, float, str, str]]:
    """``(grade_id, max_score, exercise, check)`` of the notebook's code grade cells."""
    nb = gb.find_notebook(notebook, assignment)
    out = []
    for cell in nb.grade_cells:
        if cell.cell_type != "code":
            continue  # manual (markdown) answers stay with the human graders
        source = gb.find_source_cell(cell.name, notebook, assignment).source
        m = CHECK_CALL.search(source or "")
        if m:
            out.append((cell.name, float(cell.max_score), m.group("ex"), m.group("check")))
    return out


def kernel_scores(
    course: Path, student: str, assignment: str, notebook: str
) -> dict[str, float] | None:
    """Per-cell scores of nbgrader's in-kernel autograde, recomputed from
    ``autograded/<student>/<assignment>/<notebook>.ipynb`` the way nbgrader scores a
    cell (``nbgrader.utils.determine_grade``). None when there is no autograded copy
    (never autograded, or the autograde of this submission failed)."""
    import nbformat
    from nbgrader.utils import determine_grade, is_grade

    path = course / "autograded" / student / assignment / f"{notebook}.ipynb"
    if not path.is_file():
        return None
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001
        return None
    if nb.metadata.get(REGRADE_ONLY):
        return None  # written by the re-grade itself: no in-kernel run happened
    out = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and is_grade(cell):
            points, _max = determine_grade(cell)
            out[cell.metadata["nbgrader"]["grade_id"]] = points
    return out


def _grade_notebook(
    path: Path, exercises: list[str], seed: int, sandbox: str
) -> tuple[dict | None, str]:
    """Grade one submitted notebook; ``(results, problem)``."""
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any unreadable notebook scores 0
        return None, f"unreadable notebook: {type(exc).__name__}: {exc}"
    extracted = notebook_code(nb)
    tmp = Path(tempfile.mkdtemp(prefix="rl4llm-regrade-"))
    try:
        write_submission(extracted.code, tmp / "submission", module_names())
        copy_companions([path.parent], tmp / "submission")  # nbgrader collects the whole folder
        return run_grader(
            tmp / "submission", exercises, seed=seed, sandbox=sandbox, instructor=True
        ), ""
    except Exception as exc:  # noqa: BLE001 - reported per notebook, never stops the batch
        return None, f"grading failed: {type(exc).__name__}: {str(exc)[:500]}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def regrade(
    course: Path,
    *,
    assignment: str | None = None,
    students: list[str] | None = None,
    sandbox: str = "auto",
    seed: int | None = None,
    jobs: int = 1,
    write: bool = True,
    log=print,
) -> Report:
    """Re-grade the submissions of ``course`` and write the scores into its gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    course = Path(course).resolve()
    db = course / "gradebook.db"
    if not db.is_file():
        raise RegradeError(
            f"{db}: no gradebook (run nbgrader generate_assignment in {course} first)"
        )
    seed = seed if seed is not None else new_seed()
    report = Report(seed=seed)
    todo = submissions(course, assignment, students)
    if not todo:
        report.notes.append("no submitted notebooks found")
        return report

    with Gradebook(f"sqlite:///{db}", course_id=course_id_of(course)) as gb:
        plans = []
        for student, asg, path in todo:
            nb_name = path.stem
            try:
                cells = grade_cells_of(gb, nb_name, asg)
            except MissingEntry:
                report.notes.append(f"{student}/{asg}/{path.name}: not in the gradebook (skipped)")
                continue
            plans.append((student, asg, path, cells))

        def work(plan):
            student, asg, path, cells = plan
            exercises = sorted({ex for _, _, ex, _ in cells})
            return plan, _grade_notebook(path, exercises, seed, sandbox) if exercises else ({}, "")

        plugin = course_plugin(course) if write else None
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for (student, asg, path, cells), (results, problem) in pool.map(work, plans):
                kernel = kernel_scores(course, student, asg, path.stem)
                if write:
                    ensure_submission(gb, student, asg, read_timestamp(path))
                _record(gb, report, student, asg, path.stem, cells, results, problem, kernel, write)
                if write:
                    if ensure_autograded(gb, course, student, asg, path):
                        report.regrade_only += 1
                    rows = [r for r in report.rows if (r.student, r.assignment) == (student, asg)]
                    annotate_autograded(course, student, asg, path.stem, rows)
                    assign_late_penalty(gb, plugin, student, asg, path.stem)
                here = (student, asg, path.stem)
                done = [r for r in report.rows if (r.student, r.assignment, r.notebook) == here]
                score = sum(r.authoritative for r in done)
                log(
                    f"{student}/{asg}/{path.name}: {score:g}/{sum(r.max_score for r in done):g}"
                    + (f"  ({problem})" if problem else "")
                )
                if results:
                    for note in results.get("notes", []):
                        tier_note = note.startswith(("UNSANDBOXED", "SANDBOX TIER"))
                        if note not in report.notes and tier_note:
                            report.notes.append(note)
    return report


def ensure_submission(gb, student: str, assignment: str, timestamp: str | None) -> None:
    """The student and their submission in the gradebook, with ``timestamp.txt``'s time."""
    from nbgrader.api import MissingEntry
    from nbgrader.utils import parse_utc

    try:
        gb.find_student(student)
    except MissingEntry:
        gb.add_student(student)
    try:
        sub = gb.find_submission(assignment, student)
    except MissingEntry:
        gb.add_submission(assignment, student, **({"timestamp": timestamp} if timestamp else {}))
        return
    if sub.timestamp is None and timestamp:
        sub.timestamp = parse_utc(timestamp)
        gb.db.commit()


def _record(
    gb, report, student, asg, notebook, cells, results, problem, kernel_cells, write
) -> None:
    from nbgrader.api import MissingEntry

    if write:
        try:
            gb.find_student(student)
        except MissingEntry:
            gb.add_student(student)
        try:
            gb.find_submission(asg, student)
        except MissingEntry:
            gb.add_submission(asg, student)
    tier = str((results or {}).get("tier", ""))
    for gid, max_score, ex, check in cells:
        found = (results or {}).get("exercises", {}).get(ex, {}).get(check)
        if found is None:
            verdict = problem or f"no check {ex}::{check} in this installation"
            score, output, feedback = 0.0, "", verdict
        else:
            score = max_score if found["passed"] else 0.0
            verdict, output = found["verdict"], found["message"]
            feedback = str(found.get("feedback", ""))
        kernel = (kernel_cells or {}).get(gid)
        try:
            grade = gb.find_grade(gid, notebook, asg, student)
        except MissingEntry:
            grade = None
        if write and grade is not None:
            grade.auto_score = score
            grade.needs_manual_grade = False
        report.rows.append(
            CellRow(
                student,
                asg,
                notebook,
                gid,
                ex,
                check,
                max_score,
                kernel,
                score,
                verdict,
                output,
                tier,
                feedback,
            )
        )
    if write:
        gb.db.commit()


def default_jobs() -> int:
    return max(1, (os.cpu_count() or 2) // 2)
