"""The grader's side of the zygote: one pre-started worker process that forks the others.

Starting a worker costs about 3 s of CPU, nearly all of it importing torch; a grading starts
one worker per exercise (and one more after each crash). A :class:`Zygote` is started once
per grading with the grading's launcher, so it runs in the same sandbox tier, as the same
sandbox uid and under the same resource limits as a worker would; it imports torch and numpy,
runs no student code, and forks a worker per :meth:`Zygote.spawn` (see
``seam/worker/zygote.py`` for its side). A forked worker serves the same protocol as one
started on its own, in a new session; :class:`ForkedWorker` stands for it where
:class:`autograder.seam.process.WorkerProcess` would hold a ``Popen``.

Whatever goes wrong with the zygote (it cannot start, dies, cannot fork) is the grader's
problem, never the student's: :meth:`Zygote.spawn` then returns None and the worker is started
on its own, as before.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from autograder.seam import zygotefork
from autograder.seam.cputime import PROC, descendants, proc_available
from autograder.seam.launcher import Launcher, popen
from autograder.seam.zygotefork import ForkedZygote

READY_WALL = 120.0  # wall seconds to wait for the zygote's first fork (it imports torch first)
EXIT_WAIT = 2.0  # wall seconds to wait for the exit code of a worker that died


class ZygoteFailed(Exception):
    """The zygote could not fork a worker (the grader falls back to starting one itself)."""


def ns_pid(pid: int) -> int | None:
    """The innermost PID-namespace pid of host process ``pid`` (itself without a namespace)."""
    try:
        with open(os.path.join(PROC, str(pid), "status"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError, IndexError):
        return None
    return None


class Zygote:
    """A pre-started worker that forks the grading's workers (see the module docstring).

    Args:
        submission: the snapshot the workers import (as for a worker started on its own).
        launcher: the grading's launcher (its sandbox tier).
    """

    def __init__(self, submission: Path, launcher: Launcher, warm_optimizers: bool = False) -> None:
        self.launcher = launcher
        self.home = tempfile.mkdtemp(prefix="rl4llm-zygote-")
        self.log = open(os.path.join(self.home, "zygote.log"), "w+b")  # noqa: SIM115
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = ours
        self.slot = launcher.claim()
        fd = theirs.fileno()
        self.proc: subprocess.Popen | ForkedZygote | None = None
        try:
            if zygotefork.usable(launcher):  # a warm run: torch is imported here already
                self.proc = zygotefork.fork_zygote(
                    Path(submission).resolve(),
                    fd,
                    self.log.fileno(),
                    self.home,
                    launcher.env(self.home),
                    warm_optimizers,
                )
            else:
                self.proc = self.popen(submission, fd, warm_optimizers)
        except OSError:
            self.proc = None
        theirs.close()
        self.next_tag = 1
        self.forked: dict[int, dict] = {}  # tag -> the zygote's answer
        self.exits: dict[int, int] = {}  # pid in the zygote's namespace -> exit code
        self.ready = False  # True once a fork succeeded
        self.dead = self.proc is None

    def popen(self, submission: Path, fd: int, warm_optimizers: bool) -> subprocess.Popen:
        """Start the zygote through the launcher (its sandbox tier)."""
        return popen(
            self.launcher,
            [
                *self.launcher.command(Path(submission).resolve(), (fd, fd), slot=self.slot),
                "--zygote",
                *(["--warm-optimizers"] if warm_optimizers else []),
            ],
            (fd,),
            self.log,
            self.home,
        )

    @staticmethod
    def usable() -> bool:
        """Whether forked workers can be found and timed here (Linux ``/proc``)."""
        return proc_available()

    def spawn(self, fds: tuple[int, int, int]) -> ForkedWorker | None:
        """Ask for a worker on ``fds`` (request pipe, reply pipe, log); None if the zygote is dead.

        Returns at once; :attr:`ForkedWorker.pid` waits for the fork.
        """
        if self.dead:
            return None
        tag = self.next_tag
        self.next_tag += 1
        try:
            socket.send_fds(self.sock, [json.dumps({"spawn": tag}).encode()], list(fds))
        except OSError:
            self.dead = True
            return None
        return ForkedWorker(self, tag)

    def wait_forked(self, tag: int) -> int:
        """The host pid of the worker of spawn ``tag``.

        Raises:
            ZygoteFailed: the zygote died, could not fork, or did not answer in time.
        """
        deadline = time.monotonic() + (5.0 if self.ready else READY_WALL)
        while tag not in self.forked:
            if self.dead or not self.pump(deadline - time.monotonic()):
                self.dead = True
                raise ZygoteFailed(f"the zygote did not fork: {self.log_tail()}")
        answer = self.forked.pop(tag)
        if "pid" not in answer:
            raise ZygoteFailed(str(answer.get("error", "no pid")))
        self.ready = True
        pid = int(answer["pid"])
        for _ in range(50):  # the child is in /proc as soon as fork returned; be patient anyway
            for host in descendants(self.proc.pid):
                if host != self.proc.pid and ns_pid(host) == pid:
                    return host
            time.sleep(0.01)
        raise ZygoteFailed(f"the forked worker {pid} is not in /proc")

    def exit_code(self, pid: int, wait: float = EXIT_WAIT) -> int | None:
        """The exit code of forked worker ``pid`` (zygote's namespace), waiting up to ``wait``."""
        deadline = time.monotonic() + wait
        while pid not in self.exits and not self.dead:
            if not self.pump(deadline - time.monotonic()):
                break
        return self.exits.get(pid)

    def pump(self, wait: float) -> bool:
        """Read one packet from the zygote within ``wait`` seconds; False if none came."""
        ready, _, _ = select.select([self.sock], [], [], max(wait, 0.0))
        if not ready:
            return False
        try:
            data = self.sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.dead = True
            return False
        try:
            msg = json.loads(data)
        except ValueError:
            return True
        if isinstance(msg, dict) and isinstance(msg.get("forked"), int):
            self.forked[msg["forked"]] = msg
        elif isinstance(msg, dict) and isinstance(msg.get("exit"), int):
            self.exits[msg["exit"]] = int(msg.get("code", 0))
        return True

    def log_tail(self) -> str:
        try:
            self.log.flush()
            self.log.seek(0)
            return self.log.read()[-800:].decode("utf-8", "replace").strip() or "(no output)"
        except (OSError, ValueError):
            return "(no log)"

    def close(self) -> None:
        """Stop the zygote (its namespace, if any, goes with it) and give its slot back."""
        self.dead = True
        try:
            self.sock.close()
        except OSError:
            pass
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self.slot is not None:
            self.launcher.release(self.slot)
            self.slot = None
        self.log.close()
        shutil.rmtree(self.home, ignore_errors=True)


class ForkedWorker:
    """A worker forked by a :class:`Zygote`: the part of ``Popen`` a worker process uses."""

    def __init__(self, zygote: Zygote, tag: int) -> None:
        self.zygote = zygote
        self.tag = tag
        self.host_pid: int | None = None
        self.inner_pid: int | None = None

    @property
    def pid(self) -> int:
        """The worker's host pid (waits for the fork; raises :class:`ZygoteFailed`)."""
        if self.host_pid is None:
            self.host_pid = self.zygote.wait_forked(self.tag)
            self.inner_pid = ns_pid(self.host_pid)
        return self.host_pid

    def kill(self) -> None:
        """Kill the worker's session and every process below it."""
        if self.host_pid is None:
            return
        for pid in [self.host_pid, *descendants(self.host_pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            os.killpg(self.host_pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.inner_pid is not None:  # wait until the zygote reaped it (as Popen.wait would)
            self.zygote.exit_code(self.inner_pid, wait=5.0)

    def poll(self) -> int | None:
        """The worker's exit code if it is known to have ended, else None."""
        try:
            return self.wait(0.0)
        except subprocess.TimeoutExpired:
            return None

    def wait(self, timeout: float | None = None) -> int | None:
        """The worker's exit code (< 0: killed by that signal); TimeoutExpired if not known."""
        code = (
            self.zygote.exit_code(self.inner_pid, timeout or 0.0)
            if self.inner_pid is not None
            else None
        )
        if code is None:
            raise subprocess.TimeoutExpired("forked worker", timeout or 0.0)
        return code
