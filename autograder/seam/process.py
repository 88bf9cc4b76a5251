"""One live worker process: start it with a launcher, exchange frames under a deadline, kill it.

The framing is :mod:`autograder.seam.worker.protocol` (shared with the worker); what the
frames mean is :mod:`autograder.seam.proxy`'s business.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autograder.seam.cputime import WALL_SLACK, BudgetSpent, CallClock, ProcessTree
from autograder.seam.errors import BadReply, StudentTimeout, WorkerCrashed
from autograder.seam.launcher import Launcher, popen
from autograder.seam.worker import protocol
from autograder.seam.zygote import ForkedWorker, Zygote, ZygoteFailed

DEFAULT_TIMEOUT = 5.0  # CPU seconds per call: 2x the slowest legitimate call (a first torch
# optimizer, about 2.5 s); the wall-clock backstop is cputime.backstop
START_TIMEOUT = 60.0  # CPU seconds to start python, import torch and the student's module
CPU_GRACE = 1.2  # the grader kills a worker whose call ran this much past its CPU budget
LOG_TAIL = 1500  # characters of the worker's stdout/stderr shown after a crash


@dataclass
class Limits:
    """Per-call and start-up budgets, in CPU seconds of the worker (see :mod:`.cputime`)."""

    call_timeout: float = DEFAULT_TIMEOUT
    start_timeout: float = START_TIMEOUT
    wall_slack: float = WALL_SLACK  # wall seconds a call may wait beyond its CPU budget


class WorkerProcess:
    """One live worker: a process, its two pipes and its log."""

    def __init__(
        self, submission: Path, launcher: Launcher, limits: Limits, zygote: Zygote | None = None
    ) -> None:
        self.limits = limits
        self.home = tempfile.mkdtemp(prefix="rl4llm-worker-")
        self.open_pipes()
        self.log = open(os.path.join(self.home, "worker.log"), "w+b")  # noqa: SIM115
        # Absolute: the worker starts in its own home directory, so a relative path would not be found.
        self.submission = Path(submission).resolve()
        self.launcher = launcher
        self.slot = None
        self.proc: subprocess.Popen | ForkedWorker | None = (
            zygote.spawn((*self.theirs, self.log.fileno())) if zygote is not None else None
        )
        if self.proc is None:
            self.start_alone()
        self.tree: ProcessTree | None = None  # the worker's processes, for their CPU time
        self.next_id = 1
        self.alive = True

    def open_pipes(self) -> None:
        """The request and reply pipes; ``theirs`` are the worker's ends."""
        req_r, self.req_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        os.set_blocking(self.req_w, False)  # requests are written under the call's deadline
        self.theirs = (req_r, rep_w)  # closed here once the worker holds them
        self.inbox = bytearray()  # bytes read from the reply pipe, not yet consumed
        self.skip = 0  # bytes of a stale frame still to drop as they arrive

    def start_alone(self) -> None:
        """Start the worker as its own process through the launcher (no zygote)."""
        self.slot = self.launcher.claim()  # e.g. a sandbox uid
        self.proc = popen(
            self.launcher,
            self.launcher.command(self.submission, self.theirs, slot=self.slot),
            self.theirs,
            self.log,
            self.home,
        )
        self.close_theirs()

    def close_theirs(self) -> None:
        for fd in self.theirs:
            try:
                os.close(fd)
            except OSError:
                pass
        self.theirs = ()

    def started(self) -> ProcessTree:
        """The worker's process tree, once it exists (a forked worker may still be pending)."""
        if self.tree is None:
            if isinstance(self.proc, ForkedWorker):
                try:
                    self.proc.pid  # noqa: B018 - waits for the fork
                except ZygoteFailed:
                    # the grader's problem, not the student's: start the worker here, on new
                    # pipes (a fork that comes late must not share them)
                    self.close_theirs()
                    for fd in (self.req_w, self.rep_r):
                        os.close(fd)
                    self.open_pipes()
                    self.start_alone()
            self.close_theirs()
            self.tree = ProcessTree(self.proc.pid)
        return self.tree

    def request(self, req: dict, timeout: float) -> dict:
        """Send one request and wait for its reply, killing the worker on overrun.

        Args:
            req: the request frame (an ``id`` is added).
            timeout: the call's budget in CPU seconds of the worker's processes; a call
                that uses no CPU (paused, descheduled, blocked) is stopped after
                ``cputime.backstop(timeout)`` wall seconds.

        Returns:
            The worker's reply frame.
        """
        if not self.alive:
            raise WorkerCrashed("the worker is not running")
        # The worker stops the call itself after `timeout` CPU seconds (and stays usable); the
        # clock here, a little later, kills a worker whose code swallowed that.
        req = dict(req, id=self.next_id, cpu=timeout)
        self.next_id += 1
        tree = self.started()
        clock = CallClock(timeout * CPU_GRACE + 0.5, tree, self.limits.wall_slack)
        try:
            self._write_frame(req, clock)
        except BudgetSpent as exc:
            self.kill()
            raise StudentTimeout(
                f"did not take the call within {_overrun(exc, timeout)} (stopped)"
            ) from None
        except protocol.ProtocolError as exc:
            self.kill()
            raise BadReply(f"the worker sent a bad frame: {exc}") from None
        except OSError:
            self.kill()
            raise WorkerCrashed(self._death_message("before it could take the call")) from None
        while True:
            try:
                reply = self._read_frame(clock)
            except BudgetSpent as exc:
                self.kill()
                raise StudentTimeout(
                    f"did not return within {_overrun(exc, timeout)} (stopped)"
                ) from None
            except EOFError:
                self.kill()
                raise WorkerCrashed(self._death_message("during the call")) from None
            except protocol.ProtocolError as exc:
                self.kill()
                raise BadReply(f"the worker sent a bad frame: {exc}") from None
            if type(reply) is dict and reply.get("id") == req["id"]:
                tree.settle()
                if reply.get("timeout") is True:
                    raise StudentTimeout(f"did not return within {timeout:g} s of CPU time")
                return reply
            # a stale or forged frame: ignore it and keep waiting for the real answer

    def _write_frame(self, obj: object, clock: CallClock) -> None:
        """Write one frame without ever blocking past the call's budget (the worker may stop reading).

        While writing, whatever the worker writes is read and dropped: it cannot be the reply
        to a request the worker has not read yet, and a worker blocked on a full reply pipe
        (stale or forged frames) must not block this write until the wall-clock backstop.
        """
        view = memoryview(protocol.encode_frame(obj))
        watch = [self.rep_r]
        while view:
            readable, ready, _ = select.select(watch, [self.req_w], [], clock.wait())
            if readable and not self._receive():
                watch = []  # the worker closed its end: the write or the reply will say so
                continue
            self._drop_stale()
            if not ready:
                continue  # clock.wait() raises once the budget is spent
            try:
                view = view[os.write(self.req_w, view) :]
            except BlockingIOError:
                continue

    def _receive(self) -> bool:
        """Read what the reply pipe holds into the inbox; False at end of file."""
        chunk = os.read(self.rep_r, 1 << 20)
        if self.skip:
            dropped = min(self.skip, len(chunk))
            self.skip -= dropped
            self.inbox += chunk[dropped:]
        else:
            self.inbox += chunk
        return bool(chunk)

    def _drop_stale(self) -> None:
        """Drop every frame that starts in the inbox (a frame's tail is dropped as it arrives)."""
        while not self.skip and len(self.inbox) >= protocol.HEADER.size:
            length = protocol.frame_length(bytes(self.inbox[: protocol.HEADER.size]))
            del self.inbox[: protocol.HEADER.size]
            dropped = min(length, len(self.inbox))
            del self.inbox[:dropped]
            self.skip = length - dropped

    def _read_frame(self, clock: CallClock) -> object:
        length = protocol.frame_length(self._read_exact(protocol.HEADER.size, clock))
        return protocol.parse_payload(self._read_exact(length, clock))

    def _read_exact(self, n: int, clock: CallClock) -> bytes:
        while self.skip or len(self.inbox) < n:
            ready, _, _ = select.select([self.rep_r], [], [], clock.wait())
            if ready and not self._receive():
                raise EOFError
        data = bytes(self.inbox[:n])
        del self.inbox[:n]
        return data

    def _death_message(self, when: str) -> str:
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            how = "stopped answering"
        elif code < 0:
            how = f"was killed by {signal.Signals(-code).name}"
        else:
            how = f"exited with code {code}"
        tail = self.log_tail()
        return f"the worker process {how} {when}" + (f"; its last output:\n{tail}" if tail else "")

    def log_tail(self) -> str:
        try:
            self.log.flush()
            size = os.fstat(self.log.fileno()).st_size
            self.log.seek(max(0, size - LOG_TAIL))
            return self.log.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""

    def kill(self) -> None:
        """Kill the worker's whole process group and close the pipes."""
        if not self.alive:
            return
        self.alive = False
        if isinstance(self.proc, ForkedWorker):
            self.proc.kill()  # a worker the zygote never forked has nothing to kill
        else:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.kill()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.close_theirs()
        for fd in (self.req_w, self.rep_r):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.slot is not None:
            self.launcher.release(self.slot)
            self.slot = None

    def close(self) -> None:
        self.kill()
        try:
            self.log.close()
        except OSError:
            pass
        shutil.rmtree(self.home, ignore_errors=True)


def _overrun(exc: BudgetSpent, timeout: float) -> str:
    """How a spent budget reads in a verdict: CPU time, or the wall-clock limit."""
    if exc.kind == "cpu":
        return f"{timeout:g} s of CPU time"
    if exc.used is not None:  # the backstop: waiting, blocked, paused or starved of CPU
        return (
            f"{exc.seconds:g} s of wall-clock time "
            f"(using {exc.used:.1f} s of CPU time of {timeout:g})"
        )
    return f"{exc.seconds:g} s"
