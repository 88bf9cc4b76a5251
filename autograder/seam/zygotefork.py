"""A zygote forked from a warm run instead of started afresh (student mode only).

A run forked by the warm server (``autograder/grading/warmserver.py``, marked by the
environment variable :data:`WARM_CHILD`) has torch and numpy imported already. With the plain
launcher (tier ``none``: no sandbox, same user, no resource limits), starting the zygote as a
new interpreter would import torch a second time; :func:`fork_zygote` forks this process
instead and turns the child into exactly what ``main.py --zygote`` would run: a new session,
``stdin`` from ``/dev/null``, output to the zygote's log, every other file descriptor closed,
the worker's environment, home folder and import path, then the worker's own zygote loop
(``seam/worker/zygote.py``). Sandboxed launchers never come here: the authoritative grader's
zygote is always started through its launcher.

:class:`ForkedZygote` is the part of ``subprocess.Popen`` that :class:`.zygote.Zygote` uses.
"""

from __future__ import annotations

import faulthandler
import io
import os
import runpy
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from autograder.seam.launcher import WORKER_DIR, Launcher, PlainLauncher

WARM_CHILD = "RL4LLM_WARM_CHILD"  # set in a run forked by the warm server


def usable(launcher: Launcher) -> bool:
    """Whether the zygote of this run may be forked from it (a warm run, no sandbox)."""
    return (
        os.environ.get(WARM_CHILD) == "1"
        and not os.environ.get("RL4LLM_NO_WARM")
        and type(launcher) is PlainLauncher
        and hasattr(os, "fork")
    )


class ForkedZygote:
    """The forked zygote: ``pid``, ``poll()`` and ``wait()`` as ``Popen``'s."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit code (negative: killed by that signal), or None while it runs."""
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the end; raises ``subprocess.TimeoutExpired`` as Popen does."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("forked zygote", timeout or 0.0)
            time.sleep(0.01)
        return self.returncode or 0


def fork_zygote(
    submission: Path, ctl: int, log: int, home: str, env: dict[str, str], warm_optimizers: bool
) -> ForkedZygote:
    """Fork the zygote from this process.

    Args:
        submission: the snapshot the workers import.
        ctl: the zygote's end of the control socket (kept open in the child only).
        log: the zygote's log file descriptor (its stdout and stderr).
        home: its working folder (``HOME`` and ``TMPDIR`` in ``env``).
        env: its whole environment (the launcher's).
        warm_optimizers: as ``main.py --warm-optimizers``.

    Returns:
        The running zygote.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return ForkedZygote(pid)
    code = 1
    try:
        become_zygote(ctl, log, home, env)
        sys.argv = [str(WORKER_DIR / "main.py"), "--submission", str(submission)]
        sys.argv += ["--fds", str(ctl), str(ctl), "--zygote"]
        sys.argv += ["--warm-optimizers"] if warm_optimizers else []
        runpy.run_path(sys.argv[0], run_name="__main__")  # as `python -I -B main.py ...`
        code = 0
    except BaseException:  # noqa: BLE001 - the log shows it; the grader falls back
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def become_zygote(ctl: int, log: int, home: str, env: dict[str, str]) -> None:
    """In the child: the process state of a freshly started ``python -I -B main.py --zygote``."""
    os.setsid()
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM, signal.SIGPROF):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    faulthandler.disable()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    keep = ctl if ctl > 2 else os.dup(ctl)
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 16)
    if keep != ctl:
        os.dup2(keep, ctl)
        os.close(keep)
    os.set_inheritable(ctl, False)
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(open(0, "rb", closefd=False))
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(open(1, "wb", closefd=False))
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(
        open(2, "wb", closefd=False),
        errors="backslashreplace",
        line_buffering=True,
    )
    os.chdir(home)
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = None
    sys.dont_write_bytecode = True  # as python -B
    # as python -I: the interpreter's own folders (and import hooks), not the run's
    prefixes = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})
    sys.path[:] = [p for p in sys.path if p.startswith(prefixes) or (p and not os.path.isabs(p))]
