"""``python -m autograder gradescope-zip OUT.zip``: the Gradescope autograder zip."""

from __future__ import annotations

import argparse
from pathlib import Path

from autograder.commands.common import CliError, add_sandbox_flags, check_exercises, sandbox_mode


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Declare the verb."""
    gz = sub.add_parser("gradescope-zip", help="build the Gradescope autograder zip")
    gz.add_argument("out", help="the zip to write, e.g. autograder.zip")
    gzo = gz.add_mutually_exclusive_group()
    gzo.add_argument(
        "--assignment",
        help="grade only this notebook assignment's exercises (e.g. a1_policy_gradients)",
    )
    gzo.add_argument("--only", nargs="+", metavar="EXERCISE", help="grade only these exercises")
    add_sandbox_flags(gz)
    gz.set_defaults(func=run)


def run(ns: argparse.Namespace) -> int:
    """Build the zip for all exercises, one assignment's, or ``--only`` these."""
    from autograder.build.gradescope import build_zip
    from autograder.course import assignment_of

    exercises = list(ns.only or [])
    if ns.assignment:
        try:
            exercises += list(assignment_of(ns.assignment).exercises)
        except KeyError:
            raise CliError(f"--assignment {ns.assignment}: unknown assignment") from None
    check_exercises(exercises, flag="")
    members = build_zip(Path(ns.out), exercises or None, sandbox=sandbox_mode(ns))
    print(f"wrote {ns.out} ({len(members)} files); upload it as the Gradescope autograder")
    return 0
