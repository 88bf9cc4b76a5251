"""What several verbs share: the user-error type, the sandbox flags and ``--only`` validation."""

from __future__ import annotations

import argparse

from autograder.grading.rubric import Rubric


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def add_sandbox_flags(parser: argparse.ArgumentParser) -> None:
    """``--require-sandbox | --no-sandbox``, declared once for every grading verb."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--require-sandbox",
        action="store_true",
        help="refuse to grade unless student code is confined (bwrap, or uid-only as root)",
    )
    group.add_argument(
        "--no-sandbox", action="store_true", help="run workers as plain subprocesses (UNSANDBOXED)"
    )


def add_seed(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    """``--seed``: the hidden checks' seed."""
    parser.add_argument(
        "--seed",
        type=int,
        help=help or "seed for hidden checks (default: a fresh secret seed per run)",
    )


def sandbox_mode(ns: argparse.Namespace) -> str:
    """The flags of :func:`add_sandbox_flags` as a mode of ``autograder.seam.sandbox.SANDBOX_MODES``."""
    return "require" if ns.require_sandbox else "off" if ns.no_sandbox else "auto"


def check_exercises(names: list[str] | None, flag: str = "--only") -> None:
    """Refuse exercise names that are not in the rubric (one line naming the known ones).

    Raises:
        CliError: a name is unknown.
    """
    rubric = Rubric.load()
    for name in names or []:
        if name not in rubric.exercises:
            where = f"{flag} {name}" if flag else name
            raise CliError(f"{where}: unknown exercise (known: {', '.join(rubric.exercises)})")
