"""``python -m autograder build-notebooks [--check]``: regenerate ``nbgrader/source``."""

from __future__ import annotations

import argparse

from autograder.commands.common import CliError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Declare the verb."""
    bn = sub.add_parser(
        "build-notebooks", help="regenerate the nbgrader source notebooks (nbgrader/source)"
    )
    bn.add_argument(
        "--check", action="store_true", help="fail if nbgrader/source is stale instead of writing"
    )
    bn.set_defaults(func=run)


def run(ns: argparse.Namespace) -> int:
    """Write the notebooks, or with ``--check`` fail when they are stale."""
    from autograder.build.notebooks import NotebookBuildError, stale_notebooks, write_notebooks

    try:
        if ns.check:
            stale = stale_notebooks()
            if stale:
                raise CliError(
                    f"nbgrader/source is stale ({', '.join(stale)}); run: python -m autograder build-notebooks"
                )
            print("nbgrader/source is up to date")
            return 0
        for name in write_notebooks():
            print(f"wrote nbgrader/source/{name}")
    except NotebookBuildError as exc:
        raise CliError(str(exc)) from None
    return 0
