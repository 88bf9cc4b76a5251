"""``python -m autograder nbgrader-regrade COURSE``: authoritative re-grade into the gradebook."""

from __future__ import annotations

import argparse
from pathlib import Path

from autograder.commands.common import CliError, add_sandbox_flags, add_seed, sandbox_mode


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Declare the verb."""
    nr = sub.add_parser(
        "nbgrader-regrade",
        help="re-grade nbgrader submissions in the sandbox (no kernel) and write the gradebook",
    )
    nr.add_argument(
        "course_dir", help="the nbgrader course folder (holds gradebook.db and submitted/)"
    )
    nr.add_argument("--assignment", help="only this assignment (default: all)")
    nr.add_argument("--student", nargs="+", help="only these students (default: all)")
    add_sandbox_flags(nr)
    add_seed(nr)
    nr.add_argument(
        "--jobs", type=int, default=1, help="submissions graded in parallel (default 1)"
    )
    nr.add_argument(
        "--dry-run", action="store_true", help="report only; do not write the gradebook"
    )
    nr.set_defaults(func=run)


def run(ns: argparse.Namespace) -> int:
    """Re-grade, write the gradebook (unless ``--dry-run``) and the CSV/Markdown reports."""
    from autograder.grading.nbgrader_regrade import RegradeError, regrade, write_reports

    course = Path(ns.course_dir)
    sandbox = sandbox_mode(ns)
    if sandbox == "require":
        from autograder.seam.sandbox import bwrap_works

        ok, why = bwrap_works()
        if not ok:
            raise CliError(f"--require-sandbox: the sandbox is unavailable: {why}")
    try:
        report = regrade(
            course,
            assignment=ns.assignment,
            students=ns.student,
            sandbox=sandbox,
            seed=ns.seed,
            jobs=ns.jobs,
            write=not ns.dry_run,
        )
    except RegradeError as exc:
        raise CliError(str(exc)) from None
    csv_path, md_path = write_reports(report, course, ns.assignment)
    print(report.markdown())
    print(
        f"wrote {csv_path} and {md_path}"
        + ("" if not ns.dry_run else " (dry run: gradebook unchanged)")
    )
    return 0
