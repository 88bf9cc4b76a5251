"""Generate a class of nbgrader submissions for assignment 1 (for benchmarks and CI).

Kinds, in turn (student ``s000``, ``s001``, ...):

* ``honest``    - the reference solutions and answers (full automatic marks);
* ``partial``   - ex01 and ex02 only, the rest left as handed out;
* ``untouched`` - the release notebook as handed out (every check 0);
* ``tampered``  - stubs, plus a cell that replaces ``check`` in the kernel;
* ``broken``    - ex01 right, a syntax error in ex02 and a cell that kills the kernel.

Usage (in an nbgrader course folder after ``nbgrader generate_assignment``)::

    python benchmarks/make_class.py COURSE --students 200 [--late-every 7]

Every submission gets a ``timestamp.txt``; every ``--late-every``-th one is two days late
for the due date ``--due`` (default 2026-11-20 12:00:00 UTC).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import nbformat

from autograder.build.markers import strip_markers

ASSIGNMENT = "a1_policy_gradients"
KINDS = ("honest", "partial", "untouched", "tampered", "broken")
DUE = "2026-11-20 12:00:00"


def _fill(student, source, prefix: str) -> None:
    """Copy the reference code of every solution cell whose grade id starts with ``prefix``."""
    by_id = {c.get("id"): c for c in source.cells}
    for c in student.cells:
        meta = c.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id", "").startswith(prefix):
            src = by_id[c.get("id")].source
            c.source = strip_markers(src) if c.cell_type == "code" else src


def notebook_of(kind: str, release, source):
    """One submission of ``kind`` (see the module docstring)."""
    nb = nbformat.from_dict(release)
    if kind == "honest":
        _fill(nb, source, "ex0")
        _fill(nb, source, "questions-")
    elif kind == "partial":
        _fill(nb, source, "ex01_")
        _fill(nb, source, "ex02_")
    elif kind == "tampered":
        hack = nbformat.v4.new_code_cell(
            "import autograder.notebook as _nb\n_nb.check = lambda *args, **kwargs: None\n"
        )
        nb.cells.insert(3, hack)
    elif kind == "broken":
        _fill(nb, source, "ex01_")
        for c in nb.cells:
            if c.get("metadata", {}).get("nbgrader", {}).get("grade_id", "").startswith("ex02_"):
                if c.metadata["nbgrader"].get("solution") and c.cell_type == "code":
                    c.source = "def discounted_returns(rewards, gamma)\n    return rewards\n"
                    break
        nb.cells.insert(4, nbformat.v4.new_code_cell("import os\nos._exit(1)\n"))
    return nb


def signed(nb, sid: str):
    """``nb`` with a comment naming ``sid`` in its first code answer cell.

    Real students' notebooks all differ; so do these, byte for byte, so that nothing the
    grader keeps for identical files (its run cache) makes a generated class faster than a
    real one.
    """
    for c in nb.cells:
        if c.cell_type == "code" and c.get("metadata", {}).get("nbgrader", {}).get("solution"):
            c.source = f"# {sid}'s notebook\n{c.source}"
            break
    return nb


def make_class(course: Path, students: int, late_every: int = 0, due: str = DUE) -> dict:
    """Write ``students`` submissions into ``course/submitted``.

    Returns:
        student id -> ``(kind, late)``.
    """
    course = Path(course)
    name = f"{ASSIGNMENT}.ipynb"
    release = nbformat.read(str(course / "release" / ASSIGNMENT / name), as_version=4)
    source = nbformat.read(str(course / "source" / ASSIGNMENT / name), as_version=4)
    due_at = dt.datetime.strptime(due, "%Y-%m-%d %H:%M:%S")
    out = {}
    for i in range(students):
        sid, kind = f"s{i:03d}", KINDS[i % len(KINDS)]
        late = bool(late_every) and i % late_every == late_every - 1
        folder = course / "submitted" / sid / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(signed(notebook_of(kind, release, source), sid), str(folder / name))
        when = due_at + (dt.timedelta(days=2) if late else -dt.timedelta(hours=1))
        (folder / "timestamp.txt").write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
        out[sid] = (kind, late)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("course")
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--late-every", type=int, default=7)
    parser.add_argument("--due", default=DUE)
    ns = parser.parse_args()
    made = make_class(Path(ns.course), ns.students, ns.late_every, ns.due)
    print(f"wrote {len(made)} submissions into {ns.course}/submitted")


if __name__ == "__main__":
    main()
