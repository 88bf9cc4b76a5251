"""``python -m autograder build-course [--check]``: regenerate ``course/`` from ``solutions/``."""

from __future__ import annotations

import argparse

from autograder.commands.common import CliError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Declare the verb."""
    b = sub.add_parser("build-course", help="regenerate course/ from solutions/")
    b.add_argument(
        "--check", action="store_true", help="fail if course/ is stale instead of writing"
    )
    b.set_defaults(func=run)


def run(ns: argparse.Namespace) -> int:
    """Write the stubs, or with ``--check`` fail when they are stale."""
    from autograder.build.stubs import stale_files, write_course

    if ns.check:
        stale = stale_files()
        if stale:
            raise CliError(
                f"course/ is stale ({', '.join(stale)}); run: python -m autograder build-course"
            )
        print("course/ is up to date")
        return 0
    for name in write_course():
        print(f"wrote course/{name}")
    return 0
