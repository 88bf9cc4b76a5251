"""The seam: checks reach student code only through :class:`Impl`.

``impl.discounted_returns(rewards, 0.9)`` sends plain data to a worker process
that imported the student's module, the worker calls the function and sends the
output back as plain data, and the check receives objects built here
(:mod:`autograder.seam.values`). A student exception, a hang, a crash or an
``os._exit`` becomes a :class:`~autograder.seam.errors.StudentProblem` with a clear
verdict; the grader itself never crashes or hangs.

How the worker process is started (a plain subprocess, or a sandbox) is the
launcher's business; the protocol is the same.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.seam import values
from autograder.seam.errors import (
    BadReply,
    ImportFailed,
    NotImplementedByStudent,
    StudentError,
    StudentProblem,
    StudentTimeout,
    WorkerCrashed,
)
from autograder.seam.worker import protocol

WORKER_DIR = Path(__file__).resolve().parent / "worker"
DEFAULT_TIMEOUT = 10.0  # seconds per call
START_TIMEOUT = 60.0  # seconds to start python, import torch and the student's module
LOG_TAIL = 1500  # characters of the worker's stdout/stderr shown after a crash


@dataclass
class Limits:
    """Per-call and start-up budgets."""

    call_timeout: float = DEFAULT_TIMEOUT
    start_timeout: float = START_TIMEOUT


class PlainLauncher:
    """Starts the worker as an ordinary subprocess (no sandbox)."""

    sandboxed = False
    name = "plain subprocess"

    def command(self, submission: Path, fds: tuple[int, int], slot=None) -> list[str]:
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


class WorkerProcess:
    """One live worker: a process, its two pipes and its log."""

    def __init__(self, submission: Path, launcher, limits: Limits) -> None:
        self.limits = limits
        self.home = tempfile.mkdtemp(prefix="rl4llm-worker-")
        req_r, self.req_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        self.log = open(os.path.join(self.home, "worker.log"), "w+b")  # noqa: SIM115
        # Absolute: the worker starts in its own home directory, so a relative path would not be found.
        submission = Path(submission).resolve()
        self.launcher = launcher
        self.slot = launcher.claim() if hasattr(launcher, "claim") else None  # e.g. a sandbox uid
        self.proc = subprocess.Popen(
            launcher.command(submission, (req_r, rep_w), slot=self.slot),
            pass_fds=(req_r, rep_w),
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            env=launcher.env(self.home),
            cwd=self.home,
            start_new_session=True,
            **launcher.popen_kwargs(),
        )
        os.close(req_r)
        os.close(rep_w)
        os.set_blocking(self.req_w, False)  # requests are written under the call's deadline
        self.next_id = 1
        self.alive = True

    def request(self, req: dict, timeout: float) -> dict:
        """Send one request and wait for its reply, killing the worker on overrun."""
        if not self.alive:
            raise WorkerCrashed("the worker is not running")
        req = dict(req, id=self.next_id)
        self.next_id += 1
        deadline = time.monotonic() + timeout
        try:
            self._write_frame(req, deadline)
        except TimeoutError:
            self.kill()
            raise StudentTimeout(f"did not take the call within {timeout:g} s (stopped)") from None
        except OSError:
            self.kill()
            raise WorkerCrashed(self._death_message("before it could take the call")) from None
        while True:
            try:
                reply = self._read_frame(deadline)
            except TimeoutError:
                self.kill()
                raise StudentTimeout(f"did not return within {timeout:g} s (stopped)") from None
            except EOFError:
                self.kill()
                raise WorkerCrashed(self._death_message("during the call")) from None
            except protocol.ProtocolError as exc:
                self.kill()
                raise BadReply(f"the worker sent a bad frame: {exc}") from None
            if type(reply) is dict and reply.get("id") == req["id"]:
                return reply
            # a stale or forged frame: ignore it and keep waiting for the real answer

    def _write_frame(self, obj: object, deadline: float) -> None:
        """Write one frame without ever blocking past ``deadline`` (the worker may stop reading)."""
        view = memoryview(protocol.encode_frame(obj))
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            _, ready, _ = select.select([], [self.req_w], [], remaining)
            if not ready:
                raise TimeoutError
            try:
                view = view[os.write(self.req_w, view) :]
            except BlockingIOError:
                continue

    def _read_frame(self, deadline: float) -> object:
        header = self._read_exact(protocol._HEADER.size, deadline)
        (length,) = protocol._HEADER.unpack(header)
        if length > protocol.MAX_FRAME:
            raise protocol.ProtocolError(f"frame of {length} bytes")
        import json

        try:
            return json.loads(self._read_exact(length, deadline))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise protocol.ProtocolError(str(exc)) from None

    def _read_exact(self, n: int, deadline: float) -> bytes:
        chunks = []
        while n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.rep_r], [], [], remaining)
            if not ready:
                raise TimeoutError
            chunk = os.read(self.rep_r, min(n, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

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
        import shutil

        shutil.rmtree(self.home, ignore_errors=True)


class Impl:
    """Proxy for one student module living in a worker process.

    Attribute access returns a remote callable: ``impl.normalize(x)`` calls the
    student's ``normalize``; ``impl.SimpleGridWorld(4)`` returns a :class:`Handle`.
    Other modules of the same submission are reachable with ``impl.module(name)``.

    Args:
        submission: the directory holding the student's modules.
        module: the module this proxy talks to (e.g. ``"ex02_returns"``).
        launcher: how to start the worker (plain subprocess or sandbox).
        limits: time budgets.
    """

    def __init__(
        self,
        submission: Path,
        module: str,
        launcher=None,
        limits: Limits | None = None,
        _shared=None,
    ) -> None:
        self.submission = Path(submission)
        self.module_name = module
        self.launcher = launcher or PlainLauncher()
        self.limits = limits or Limits()
        self._state = _shared or _WorkerState()
        self._timeout: float | None = None

    # -- public API for checks --------------------------------------------------
    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return _Remote(self, name)

    def module(self, name: str) -> Impl:
        """A proxy for another module of the submission, in the same worker."""
        other = Impl(self.submission, name, self.launcher, self.limits, _shared=self._state)
        other._timeout = self._timeout
        return other

    def using(self, timeout: float) -> Impl:
        """The same proxy with a different per-call timeout (e.g. for training runs)."""
        other = Impl(
            self.submission, self.module_name, self.launcher, self.limits, _shared=self._state
        )
        other._timeout = timeout
        return other

    def probe(self, name: str, *args, keep: bool = False, **kwargs):
        """Run a generic worker probe (see ``autograder/seam/worker/probes.py``)."""
        return self._send(
            {"op": "probe", "name": name, "keep": keep}, args, kwargs, where=f"probe {name}"
        )

    def grad(self, fn: str, *args, grad_output=None, **kwargs) -> dict:
        """Call ``fn`` with tensor inputs that require grad; return its value and grads.

        The leaves are the input tensors sent with ``requires_grad=True``, in order.

        Returns:
            ``{"out": Array, "grads": [Array | None, ...], "graph": bool}``.
        """
        req = {"op": "probe", "name": "grad", "target": {"module": self.module_name, "name": fn}}
        if grad_output is not None:
            req["options"] = {"grad_output": values.encode(grad_output)}
        return self._send(req, args, kwargs, where=fn)

    def inputs_after(self, fn: str, *args, **kwargs) -> dict:
        """Call ``fn`` and also return its arguments as they are afterwards.

        Returns:
            ``{"out": ..., "args": [...], "kwargs": {...}}``.
        """
        req = {
            "op": "probe",
            "name": "inputs_after",
            "target": {"module": self.module_name, "name": fn},
        }
        return self._send(req, args, kwargs, where=fn)

    def raw_call(self, name: str, *args, repeat: int = 0, keep: bool = False, **kwargs):
        """Call ``name``; ``repeat=n`` calls it n times in the worker and returns the n outputs."""
        req = {
            "op": "call",
            "module": self.module_name,
            "name": name,
            "repeat": repeat,
            "keep": keep,
        }
        return self._send(req, args, kwargs, where=name)

    def ensure_imported(self) -> None:
        """Start the worker (if needed) and import the module, or raise ImportFailed."""
        self._worker_for_module()

    def shutdown(self) -> None:
        self._state.close()

    @property
    def unavailable(self) -> StudentProblem | None:
        return self._state.import_errors.get(self.module_name)

    # -- internals ----------------------------------------------------------------
    def _send(self, req: dict, args, kwargs, where: str, generation: int | None = None):
        req = dict(req)
        try:
            req["args"] = [values.encode(a) for a in args]
            req["kwargs"] = values.encode(dict(kwargs))
        except TypeError as exc:  # a bug in a check, not in student code
            raise TypeError(f"check sent an unsupported value to {where}: {exc}") from None
        return self._request(req, where, generation)

    def _request(self, req: dict, where: str, generation: int | None = None):
        worker = self._worker_for_module()
        if generation is not None and generation != self._state.generation:
            raise WorkerCrashed(f"{where}: the object was lost when the worker was restarted")
        timeout = self._timeout or self.limits.call_timeout
        try:
            reply = worker.request(req, timeout)
        except StudentProblem as exc:
            self._state.deaths += 1
            exc.message = f"{where}: {exc.message}"
            raise
        if reply.get("ok") is True:
            return values.decode(reply.get("out"), self, self._state.generation)
        raise _student_error(reply, where)

    def _worker_for_module(self) -> WorkerProcess:
        state = self._state
        if self.module_name in state.import_errors:
            raise state.import_errors[self.module_name]
        if state.worker is None or not state.worker.alive:
            if state.deaths and state.breaker:
                raise WorkerCrashed("the worker was stopped earlier in this check; not restarted")
            state.start(self.submission, self.launcher, self.limits)
        if self.module_name not in state.imported:
            self._import(state)
        return state.worker

    def _import(self, state: _WorkerState) -> None:
        name = self.module_name
        path = self.submission / f"{name}.py"
        if not path.is_file():
            err: StudentProblem = ImportFailed(f"{name}.py is missing from the submission")
            state.import_errors[name] = err
            raise err
        try:
            reply = state.worker.request(
                {"op": "import", "module": name}, self.limits.start_timeout
            )
        except StudentProblem as exc:
            err = ImportFailed(f"importing {name} failed: {exc.message}")
            state.import_errors[name] = err
            raise err from None
        if reply.get("ok") is not True:
            cause = _student_error(reply, f"importing {name}")
            err = ImportFailed(cause.message, cause.frames)
            state.import_errors[name] = err
            raise err
        state.imported.add(name)


class _WorkerState:
    """The worker shared by the proxies of one submission (and its bookkeeping)."""

    def __init__(self) -> None:
        self.worker: WorkerProcess | None = None
        self.generation = 0
        self.imported: set[str] = set()
        self.import_errors: dict[str, StudentProblem] = {}
        self.deaths = 0  # worker deaths since the current check started
        self.breaker = True  # stop restarting after a death within one check

    def start(self, submission: Path, launcher, limits: Limits) -> None:
        if self.worker is not None:
            self.worker.close()
        self.generation += 1
        self.imported = set()
        self.worker = WorkerProcess(submission, launcher, limits)  # returns at once

    def new_check(self) -> None:
        """Called before each check: a fresh budget of one worker death."""
        self.deaths = 0

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
            self.worker = None


class _Remote:
    """``impl.name``: call it, or use it as a class to construct a handle."""

    def __init__(self, impl: Impl, name: str) -> None:
        self.impl = impl
        self.name = name

    def __call__(self, *args, **kwargs):
        req = {"op": "call", "module": self.impl.module_name, "name": self.name}
        return self.impl._send(req, args, kwargs, where=self.name)

    def value(self):
        """Read a module-level attribute (a constant)."""
        req = {"op": "getattr", "module": self.impl.module_name, "name": self.name}
        return self.impl._request(req, where=self.name)


def _student_error(reply: dict, where: str) -> StudentError | NotImplementedByStudent:
    exc = str(reply.get("exc", "Exception"))[:100]
    mro = (
        [str(m)[:100] for m in reply.get("mro", [])][:20]
        if type(reply.get("mro")) is list
        else [exc]
    )
    msg = str(reply.get("msg", ""))[:2000]
    frames = []
    if type(reply.get("tb")) is list:
        for f in reply["tb"][:8]:
            if type(f) is list and len(f) == 4:
                frames.append(
                    [
                        str(f[0])[:120],
                        int(f[1]) if type(f[1]) is int else 0,
                        str(f[2])[:80],
                        str(f[3])[:200],
                    ]
                )
    if "NotImplementedError" in mro:
        return NotImplementedByStudent(f"{where}: not implemented", frames)
    return StudentError(exc, mro, msg, frames, where)
