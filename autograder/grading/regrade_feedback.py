"""Feedback that matches the authoritative grade: the verdict in each grade cell's outputs.

``nbgrader generate_feedback`` renders the autograded notebook
(``autograded/<student>/<assignment>/<notebook>.ipynb``) with the gradebook's scores. After
``nbgrader-regrade`` the scores are the sandboxed grader's, but the cells' outputs are still
the in-kernel run's (empty when the kernel died, a forged "passed" when the student
replaced ``check``). :func:`annotate_autograded` replaces the outputs of every grade cell
with the authoritative verdict and its student-facing reason (hidden checks: pass/fail
only), so the feedback HTML explains the score.
"""

from __future__ import annotations

from pathlib import Path

HEADER = "Authoritative grade (sandboxed re-grade)"
REGRADE_ONLY = "rl4llm_regrade_only"  # notebook metadata: written by the re-grade, not autograde


def feedback_text(points: float, max_points: float, verdict: str, reason: str) -> str:
    """What a grade cell shows after the re-grade.

    Args:
        points: the authoritative score of the cell.
        max_points: its points.
        verdict: the grader's verdict (``passed``, ``failed``, ``timeout``, ...).
        reason: the student-facing reason (for hidden checks only pass/fail).

    Returns:
        A few lines of text.
    """
    head = f"{HEADER}: {'PASSED' if points >= max_points > 0 else 'FAILED'}"
    lines = [f"{head} - {points:g}/{max_points:g} points"]
    if reason and reason != "passed":
        lines.append(reason if len(reason) < 4000 else reason[:4000] + "\n...")
    elif verdict not in ("passed", ""):
        lines.append(verdict)
    return "\n".join(lines) + "\n"


def annotate_autograded(course: Path, student: str, assignment: str, notebook: str, rows) -> bool:
    """Write the authoritative verdicts into the grade cells of an autograded notebook.

    Args:
        course: the nbgrader course folder.
        student, assignment, notebook: which notebook.
        rows: the re-grade's ``CellRow`` s of that student (``grade_id``, ``authoritative``,
            ``max_score``, ``verdict``, ``feedback``).

    Returns:
        Whether an autograded notebook was found and rewritten.
    """
    import nbformat

    path = Path(course) / "autograded" / student / assignment / f"{notebook}.ipynb"
    if not path.is_file():
        return False
    nb = nbformat.read(str(path), as_version=4)
    by_id = {r.grade_id: r for r in rows if r.notebook == notebook}
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or gid not in by_id:
            continue
        r = by_id[gid]
        text = feedback_text(r.authoritative, r.max_score, r.verdict, r.feedback)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    nbformat.write(nb, str(path))
    return True


def ensure_autograded(gb, course: Path, student: str, assignment: str, submitted: Path) -> bool:
    """Create the autograded notebook from the submitted one when ``autograde`` never ran.

    The grade cells get back the instructor's source and nbgrader metadata from the
    gradebook (a student cannot change what a grade cell says); ``timestamp.txt`` is copied.

    Args:
        gb: an open ``nbgrader.api.Gradebook``.
        course: the nbgrader course folder.
        student, assignment: whose submission.
        submitted: ``submitted/<student>/<assignment>/<notebook>.ipynb``.

    Returns:
        True when it was created (False: it existed already).
    """
    import shutil

    import nbformat

    dest = Path(course) / "autograded" / student / assignment / submitted.name
    if dest.is_file():
        return False
    nb = nbformat.read(str(submitted), as_version=4)
    notebook = submitted.stem
    cells = {c.name: c for c in gb.find_notebook(notebook, assignment).grade_cells}
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in cells and cells[gid].cell_type == "code":
            source = gb.find_source_cell(gid, notebook, assignment)
            cell.source = source.source
            cell.metadata["nbgrader"] = {
                "grade": True,
                "grade_id": gid,
                "locked": True,
                "points": cells[gid].max_score,
                "schema_version": 3,
                "solution": False,
            }
    nb.metadata[REGRADE_ONLY] = True
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(dest))
    stamp = submitted.parent / "timestamp.txt"
    if stamp.is_file():
        shutil.copyfile(stamp, dest.parent / "timestamp.txt")
    return True
