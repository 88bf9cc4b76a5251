"""``python -m autograder grade PATH``: grade one folder laid out like ``course/``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.commands.common import (
    CliError,
    add_sandbox_flags,
    add_seed,
    check_exercises,
    sandbox_mode,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Declare the verb."""
    g = sub.add_parser("grade", help="grade a folder laid out like course/")
    g.add_argument("path", help="the student's folder (e.g. course/ or an unzipped submission)")
    g.add_argument("--json", metavar="FILE", help="write Gradescope results.json here")
    g.add_argument("--only", nargs="+", metavar="EXERCISE", help="grade only these exercises")
    g.add_argument(
        "--format",
        choices=["table", "summary", "json", "classroom"],
        default="table",
        help="terminal output: per-check table (default), totals only, results.json, or 'Points X/Y'",
    )
    g.add_argument(
        "--summary",
        dest="format",
        action="store_const",
        const="summary",
        help="same as --format summary",
    )
    g.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="grade the exercises in up to N processes at a time (default: one per usable CPU; "
        "the verdicts are the same)",
    )
    add_sandbox_flags(g)
    add_seed(g)
    g.set_defaults(func=run)


def run(ns: argparse.Namespace) -> int:
    """Grade, print the table and write ``--json`` (also when grading fails)."""
    from autograder.grading.authoritative import authoritative
    from autograder.grading.parallel import usable_cpus
    from autograder.grading.report import failure_results, gradescope, write_json_atomic
    from autograder.seam.sandbox import SandboxUnavailable

    path = Path(ns.path)
    try:
        if not path.exists():
            raise CliError(f"{path}: no such directory")
        if not path.is_dir():
            raise CliError(f"{path}: not a directory (expected a folder laid out like course/)")
        check_exercises(ns.only)
        if ns.jobs is not None and ns.jobs < 1:
            raise CliError("--jobs must be at least 1")

        def announce(note: str) -> None:
            print(note, file=sys.stderr)

        try:
            jobs = ns.jobs or usable_cpus()
            result = authoritative(
                path, ns.only or None, sandbox_mode(ns), ns.seed, announce=announce, jobs=jobs
            )
        except SandboxUnavailable as exc:
            if ns.json:  # results.json is always written, also when grading is refused
                write_json_atomic(Path(ns.json), failure_results(str(exc)))
            raise CliError(str(exc)) from None
        print(f"grading seed: {result.seed}", file=sys.stderr)
    except CliError:
        raise
    except Exception as exc:  # noqa: BLE001 - results.json is written even now
        if ns.json:
            write_json_atomic(Path(ns.json), failure_results(f"{type(exc).__name__}: {exc}"))
        raise CliError(f"grading failed: {type(exc).__name__}: {exc}") from None
    print_run(result, ns.format)
    if ns.json:
        write_json_atomic(Path(ns.json), gradescope(result))
        if ns.format != "json":
            print(f"wrote {ns.json}")
    return 0


def print_run(run, fmt: str) -> None:
    """Print a run as a table, a summary, results.json or the one Classroom line."""
    import json

    from autograder.grading.report import classroom_line, gradescope, render_table

    if fmt == "json":
        print(json.dumps(gradescope(run), indent=2))
        return
    if fmt == "classroom":
        print(classroom_line(run))
        return
    print(render_table(run, details=fmt == "table"))
    print(classroom_line(run))
