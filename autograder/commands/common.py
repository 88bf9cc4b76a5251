"""What several verbs share: the user-error type, the sandbox flags and ``--only`` validation."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from pathlib import Path

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


def readable_by_others(path: Path) -> bool:
    """Whether a user who is neither ``path``'s owner nor in its group can list or read it.

    Mode bits only (no ACLs): the folder itself readable by others and every folder above it
    searchable by others.
    """
    path = Path(path).resolve()
    try:
        if not os.stat(path).st_mode & stat.S_IROTH:
            return False
        return all(os.stat(p).st_mode & stat.S_IXOTH for p in path.parents)
    except OSError:
        return False


def warn_if_exposed(sandbox: str, folders: list[Path]) -> None:
    """Under the uid-only tier, say which of ``folders`` the graded code could read.

    That tier confines the student's code to a uid of its own but leaves the filesystem
    visible: a class folder that every user may read is readable by the code being graded
    (another student's submission, for one). Prints one line per such folder, to stderr.
    """
    if sandbox == "off":
        return
    from autograder.seam.sandbox import SandboxUnavailable, choose_launcher

    try:
        launcher, _ = choose_launcher(sandbox)
    except SandboxUnavailable:
        return
    if launcher.tier != "uid-only":
        return
    for folder in folders:
        if readable_by_others(folder):
            print(
                f"warning: {folder} can be read by every user, so by the student code being "
                f"graded (uid-only tier): chmod -R o-rwx {folder}",
                file=sys.stderr,
            )
