"""Grading processes forked from a process that has already imported the grader.

``grade-batch`` (and so ``nbgrader-regrade``) grades each submission in a process of its own
(``python -m autograder grade``). A fresh interpreter spends about 3.5 s of CPU importing torch,
numpy, hypothesis and pytest before it grades anything: on 200 submissions, a quarter of an
hour of CPU. Here multiprocessing's ``forkserver`` start method imports them once, in a server
process started before any thread, and forks one child per submission. Nothing of a
submission is ever loaded in the server: it only imports the grader's own modules.

A child behaves as the command did: a session of its own (so a kill reaches everything it
started), its output into the submission's ``output.txt``, its working folder and environment,
killed if the fork server ends (which ends with the batch). :class:`Forked` is the small part of
``subprocess.Popen`` that the batch uses (``pid``, ``poll``, ``wait``).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.grading.proctree import die_with_parent, ppid_map

# The grader's imports: what every `python -m autograder grade` process loads first.
PRELOAD = [
    "numpy",
    "torch",
    "hypothesis",
    "pytest",
    "autograder.commands",
    "autograder.grading.run",
    "autograder.grading.plugin",
]


class Forked:
    """One grading process forked by the server: ``pid``, ``poll()`` and ``wait()`` as Popen's."""

    def __init__(self, process: multiprocessing.process.BaseProcess, argv: list[str]) -> None:
        self.process = process
        self.args = argv
        self.pid: int = process.pid or 0

    def poll(self) -> int | None:
        """The exit code (negative: killed by that signal), or None while it runs."""
        return self.process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the end; raises ``subprocess.TimeoutExpired`` as Popen does."""
        self.process.join(timeout)
        code = self.process.exitcode
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        return code


def usable() -> bool:
    """Whether grading processes can be forked here (Linux; POSIX ``fork`` and Unix sockets)."""
    return sys.platform.startswith("linux") and not os.environ.get("RL4LLM_NO_FORKSERVER")


def start(
    argv: list[str],
    log: Path,
    cwd: Path,
    env: dict[str, str],
    *,
    module: str = "autograder.commands",
    errors: Path | None = None,
) -> Forked:
    """Fork ``python -m <module> <argv>`` (its ``main(argv)``) from the server.

    Args:
        argv: the command's arguments (e.g. ``["grade", folder, "--json", ...]``).
        log: a file the child appends its stdout (and its stderr, unless ``errors``) to.
        cwd: the child's working folder.
        env: the child's whole environment.
        module: the module whose ``main(argv) -> int`` the child runs.
        errors: a file for the child's stderr.

    Returns:
        The running child.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    files = (str(log), str(errors or log))
    process = ctx.Process(
        target=run_command, args=(module, argv, files, str(cwd), env), daemon=False
    )
    process.start()
    return Forked(process, argv)


def helpers() -> set[int]:
    """Children of this process that multiprocessing runs (the fork server, its resource tracker).

    A batch that reaps orphans must leave them alone; they are told by their command line,
    ``python -c 'from multiprocessing.<module> import main; ...'``.
    """
    me, found = os.getpid(), set()
    for pid, ppid in ppid_map().items():
        if ppid != me:
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"from multiprocessing." in cmdline:
            found.add(pid)
    return found


def run_command(
    module: str, argv: list[str], files: tuple[str, str], cwd: str, env: dict[str, str]
) -> None:
    """In the child: become the command's process (as ``python -I -m``), run it, exit with its code."""
    code = 1
    try:
        os.setsid()
        die_with_parent()
        # as `python -I`: neither the parent's working folder nor '' on the import path
        sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
        for target, path in zip((1, 2), files, strict=True):
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            os.dup2(fd, target)
            os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        for stream in (sys.stdout, sys.stderr):
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(line_buffering=True, write_through=True)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        tempfile.tempdir = None  # TMPDIR is read again
        code = importlib.import_module(module).main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:  # noqa: BLE001 - reported in the log, never a silent exit
        print(f"error: the grading process failed: {exc!r}", file=sys.stderr)
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    os._exit(code)
