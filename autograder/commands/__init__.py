"""``python -m autograder``: grade submissions and build the course files.

Commands (one module of this package per verb):
    grade PATH [--json FILE] [--only EX ...]   grade one folder laid out like course/
    grade-batch DIR --out OUT                  grade every submission of a folder
    experiments                                the lesson's REINFORCE experiments
    build-course [--check]                     regenerate course/ from solutions/
    build-notebooks [--check]                  regenerate nbgrader/source from solutions/ and checks
    nbgrader-init COURSE                       an nbgrader course folder (config + source notebooks)
    nbgrader-regrade COURSE [--assignment A]   authoritative re-grade into the nbgrader gradebook
    release OUT_DIR                            the student release (template repository)
    gradescope-zip OUT.zip                     the Gradescope autograder zip
    capstone [--only rlvr|rlhf] [--seeds N]    train a small LM with your own functions
    capstone-sft                               regenerate the capstone's SFT checkpoint
    analytics SOURCE                           class analytics and a gradebook CSV
"""

from __future__ import annotations

import argparse
import sys

from autograder.commands import (
    analytics,
    build_course,
    build_notebooks,
    capstone,
    experiments,
    grade,
    grade_batch,
    gradescope_zip,
    nbgrader_init,
    nbgrader_regrade,
    release,
)
from autograder.commands.common import CliError
from autograder.grading.rubric import RubricError

VERBS = (
    grade,
    build_course,
    experiments,
    grade_batch,
    build_notebooks,
    nbgrader_init,
    nbgrader_regrade,
    release,
    gradescope_zip,
    capstone,
    analytics,
)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every verb (each verb's module declares its own arguments)."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for verb in VERBS:
        verb.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one verb; a user error is one line on stderr and exit code 2.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit code.
    """
    parser = build_parser()
    ns = parser.parse_args(argv)
    try:
        return ns.func(ns)
    except (CliError, RubricError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
