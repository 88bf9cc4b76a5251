"""``python -m autograder release OUT_DIR``: the student release (template repository)."""

from __future__ import annotations

import argparse
from pathlib import Path

from autograder.commands.common import CliError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Declare the verb."""
    rl = sub.add_parser("release", help="write the student release (template repository)")
    rl.add_argument("out_dir", help="folder to write (must be empty or absent)")
    rl.add_argument("--force", action="store_true", help="replace out_dir if it exists")
    rl.set_defaults(func=run)


def run(ns: argparse.Namespace) -> int:
    """Write the release."""
    from autograder.build.release import ReleaseError, build_release

    try:
        files = build_release(Path(ns.out_dir), force=ns.force)
    except ReleaseError as exc:
        raise CliError(str(exc)) from None
    print(
        f"wrote {len(files)} files to {ns.out_dir} (no solutions, no hidden checks, no answer keys)"
    )
    return 0
