"""``python -m autograder nbgrader-regrade COURSE``: authoritative re-grade into the gradebook."""

from __future__ import annotations

import argparse
from pathlib import Path

from autograder.commands.common import (
    CliError,
    add_sandbox_flags,
    add_seed,
    sandbox_mode,
    warn_if_exposed,
)


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
    from autograder.grading.nbgrader_regrade import RegradeError, regrade
    from autograder.grading.regrade_report import write_reports

    course = Path(ns.course_dir)
    sandbox = sandbox_mode(ns)
    if sandbox == "require":
        from autograder.seam.sandbox import SandboxUnavailable, choose_launcher

        try:
            choose_launcher("require")
        except SandboxUnavailable as exc:
            raise CliError(str(exc)) from None
    warn_if_exposed(sandbox, [course / "submitted"])
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
    run_csv, run_md, class_csv = write_reports(
        report, course, ns.assignment, partial=bool(ns.student), dry_run=ns.dry_run
    )
    print(report.markdown())
    print(f"wrote {run_csv} and {run_md}")
    if class_csv is None:
        print("dry run: gradebook and class report unchanged")
    else:
        how = "merged into" if ns.student else "wrote"
        print(f"{how} the class report {class_csv} and {class_csv.with_suffix('.md')}")
    return 0
