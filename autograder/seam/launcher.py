"""How a worker process is started: the :class:`Launcher` protocol and the plain launcher.

Three launchers exist, one per sandbox tier: :class:`PlainLauncher` (``none``, an
ordinary subprocess) here, :class:`autograder.seam.sandbox.SandboxLauncher` (``bwrap``)
and :class:`autograder.seam.uidonly.UidOnlyLauncher` (``uid-only``). Which one grades a
submission is decided in one place, :func:`autograder.seam.sandbox.choose_launcher`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Protocol

WORKER_DIR = Path(__file__).resolve().parent / "worker"


class Launcher(Protocol):
    """What :class:`autograder.seam.process.WorkerProcess` needs to start a worker."""

    sandboxed: bool
    name: str
    tier: str  # "bwrap", "uid-only" or "none": what every report names

    def claim(self) -> object:
        """Reserve what one worker needs (e.g. a sandbox uid); ``None`` if nothing."""

    def release(self, slot: object) -> None:
        """Give back what :meth:`claim` reserved."""

    def command(self, submission: Path, fds: tuple[int, int], slot: object = None) -> list[str]:
        """The argv that starts the worker on ``submission`` talking over ``fds``."""

    def env(self, home: str) -> dict[str, str]:
        """The worker's whole environment."""

    def popen_kwargs(self) -> dict:
        """Extra keyword arguments for :class:`subprocess.Popen`."""

    def prepare(self, submission: Path) -> Path:
        """A private copy of the submission that the workers import (one per grading)."""

    def discard(self, snapshot: Path) -> None:
        """Remove a copy :meth:`prepare` made, and give back what it reserved (grading over)."""


class PlainLauncher:
    """Starts the worker as an ordinary subprocess (no sandbox)."""

    sandboxed = False
    name = "plain subprocess"
    tier = "none"

    def command(self, submission: Path, fds: tuple[int, int], slot: object = None) -> list[str]:
        return [
            sys.executable,
            "-I",
            "-B",
            str(WORKER_DIR / "main.py"),
            "--submission",
            str(submission),
            "--fds",
            str(fds[0]),
            str(fds[1]),
        ]

    def env(self, home: str) -> dict[str, str]:
        return worker_env(home)

    def popen_kwargs(self) -> dict:
        return {}

    def claim(self) -> None:
        return None

    def release(self, slot: object) -> None:
        return None

    def prepare(self, submission: Path) -> Path:
        return snapshot(submission)

    def discard(self, snapshot: Path) -> None:
        shutil.rmtree(snapshot, ignore_errors=True)


def popen(launcher: Launcher, cmd: list[str], fds: tuple[int, ...], log, home: str):
    """Start ``cmd`` (a launcher's command) in ``home``, its output to ``log``, in a new session.

    Args:
        launcher: gives the environment and extra ``Popen`` arguments of its tier.
        cmd: the command, from ``launcher.command``.
        fds: the descriptors the process keeps.
        log: the open file its stdout and stderr go to.
        home: its working directory and ``HOME``.

    Returns:
        The ``subprocess.Popen``.
    """
    return subprocess.Popen(
        cmd,
        pass_fds=fds,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        env=launcher.env(home),
        cwd=home,
        start_new_session=True,
        **launcher.popen_kwargs(),
    )


def worker_env(home: str) -> dict[str, str]:
    """A minimal environment: no grader secrets, one thread, stable hashing."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": home,
        "TMPDIR": home,
        "LC_ALL": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def snapshot(submission: Path) -> Path:
    """Copy the submission's regular files (no symlinks, no special files) into a fresh dir.

    Directories are 0755 and files 0644, owned by the grader: the sandbox uid can
    read but never modify them, and nothing the student links to outside the
    folder comes along.
    """
    dst = Path(tempfile.mkdtemp(prefix="rl4llm-sub-"))
    os.chmod(dst, 0o755)
    copy_regular_files(submission, dst)
    return dst


def copy_regular_files(submission: Path, dst: Path) -> None:
    """Copy the regular files below ``submission`` into the existing folder ``dst``.

    Symlinks and special files are skipped; folders are made 0755 and files 0644 (``dst``
    itself keeps its mode: whoever made it decides who may enter).
    """
    for root, dirs, files in os.walk(submission, followlinks=False):
        rel = Path(root).relative_to(submission)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
        for d in dirs:
            (dst / rel / d).mkdir(mode=0o755, exist_ok=True)
            os.chmod(dst / rel / d, 0o755)
        for f in files:
            src = Path(root) / f
            if src.is_symlink() or not src.is_file():
                continue
            shutil.copyfile(src, dst / rel / f)
            os.chmod(dst / rel / f, 0o644)
