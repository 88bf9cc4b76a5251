"""``python -m autograder analytics SOURCE``: class analytics and a gradebook CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from autograder.commands.common import CliError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Declare the verb."""
    an = sub.add_parser(
        "analytics",
        help="per-check pass rates, score distributions, a histogram and a gradebook CSV",
    )
    an.add_argument(
        "source", help="a grade-batch output folder, or an nbgrader course after nbgrader-regrade"
    )
    an.add_argument(
        "--assignment", help="for a course folder: the assignment (default: the only one)"
    )
    an.add_argument("--out", help="where to write (default: SOURCE/analytics)")
    an.set_defaults(func=run)


def run(ns: argparse.Namespace) -> int:
    """Load the class's outcomes and write the analytics files."""
    from autograder.grading.analytics import AnalyticsError, load, write_analytics

    source = Path(ns.source)
    if not source.is_dir():
        raise CliError(f"{source}: not a folder")
    try:
        rows = load(source, ns.assignment)
    except AnalyticsError as exc:
        raise CliError(str(exc)) from None
    paths = write_analytics(rows, Path(ns.out) if ns.out else source / "analytics")
    for path in paths.values():
        print(f"wrote {path}")
    return 0
