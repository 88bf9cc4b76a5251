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
from autograder.seam.launcher import Launcher, PlainLauncher
from autograder.seam.process import Limits, WorkerProcess
from autograder.seam.zygote import Zygote


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
        launcher: Launcher | None = None,
        limits: Limits | None = None,
        _shared: WorkerState | None = None,
    ) -> None:
        self.submission = Path(submission)
        self.module_name = module
        self.launcher = launcher or PlainLauncher()
        self.limits = limits or Limits()
        self._state = _shared or WorkerState()
        self._timeout: float | None = None

    # -- public API for checks --------------------------------------------------
    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return Remote(self, name)

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
        reply = self._send(req, args, kwargs, where=fn)
        return probe_reply(reply, {"out": object, "grads": list, "graph": bool}, fn)

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
        reply = self._send(req, args, kwargs, where=fn)
        reply = probe_reply(reply, {"out": object, "args": list, "kwargs": dict}, fn)
        if len(reply["args"]) != len(args):
            raise BadReply(
                f"{fn}: the worker's reply holds {len(reply['args'])} arguments, not {len(args)}"
            )
        return reply

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

    def cpu_seconds(self) -> float | None:
        """CPU seconds the worker's processes have used so far, read from ``/proc``.

        Measured from the grader's side, so student code cannot forge it (a check times a
        call as the difference of two readings). Starts the worker if needed.

        Returns:
            User + system seconds of the worker and its descendants (reaped children
            included), or None where ``/proc`` is missing.
        """
        tree = self._worker_for_module().started()
        return sum(tree.rescan().values()) if tree.enabled else None

    def ensure_imported(self) -> None:
        """Start the worker (if needed) and import the module, or raise ImportFailed."""
        self._worker_for_module()

    def shutdown(self) -> None:
        self._state.close()

    def not_callable(self, functions: dict[str, tuple[str, ...]]) -> StudentProblem | None:
        """The first timeout or crash this grading recorded for one of ``functions``.

        For a probe that drives student functions inside the worker (e.g. the capstone's
        run), which the per-function breaker cannot see: a function that hung once is not
        run again there either.

        Args:
            functions: module name -> names of its functions.

        Returns:
            A problem of the same kind ("not called again after: ..."), or None.
        """
        for module, names in functions.items():
            for name in names:
                first = self._state.broken.get((module, name))
                if first is not None:
                    return type(first)(
                        f"{module}.{name}: not called again after: {first.message}", first.frames
                    )
        return None

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
        key = _function_of(req, self.module_name)
        first = self._state.broken.get(key) if key else None
        if first is not None:  # it hung or crashed before: fail at once, with the first reason
            raise type(first)(f"{where}: not called again after: {first.message}", first.frames)
        worker = self._worker_for_module()
        if generation is not None and generation != self._state.generation:
            raise WorkerCrashed(f"{where}: the object was lost when the worker was restarted")
        timeout = self._timeout or self.limits.call_timeout
        try:
            reply = worker.request(req, timeout)
        except StudentProblem as exc:
            self._state.deaths += 1
            exc.message = f"{where}: {exc.message}"
            if key and isinstance(exc, (StudentTimeout, WorkerCrashed)):
                self._state.broken[key] = exc
            raise
        if reply.get("ok") is True:
            return values.decode(reply.get("out"), Link(self), self._state.generation)
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

    def _import(self, state: WorkerState) -> None:
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


class WorkerState:
    """The worker shared by the proxies of one submission (and its bookkeeping)."""

    def __init__(self, broken: dict[tuple[str, str], StudentProblem] | None = None) -> None:
        """``broken`` may be shared by the states of one grading (a breaker per function)."""
        self.worker: WorkerProcess | None = None
        self.generation = 0
        self.imported: set[str] = set()
        self.import_errors: dict[str, StudentProblem] = {}
        self.deaths = 0  # worker deaths since the current check started
        # (module, function) -> the timeout or crash it caused: it is not called again
        self.broken: dict[tuple[str, str], StudentProblem] = {} if broken is None else broken
        self.breaker = True  # stop restarting after a death within one check
        self.zygote: Zygote | None = None  # forks the workers when the grading has one

    def start(self, submission: Path, launcher: Launcher, limits: Limits) -> None:
        if self.worker is not None:
            self.worker.close()
        self.generation += 1
        self.imported = set()
        self.worker = WorkerProcess(submission, launcher, limits, self.zygote)  # returns at once

    def new_check(self) -> None:
        """Called before each check: a fresh budget of one worker death."""
        self.deaths = 0

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
            self.worker = None


class Remote:
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


def _function_of(req: dict, module: str) -> tuple[str, str] | None:
    """The student function a request runs (its breaker's key), or None (a generic probe)."""
    target = req.get("target")
    if type(target) is dict:
        return str(target.get("module", module)), str(target.get("name"))
    if req.get("op") == "call":
        return str(req.get("module", module)), str(req.get("name"))
    return None


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


class Link:
    """What a :class:`~autograder.seam.values.Handle` uses to reach its object in the worker."""

    def __init__(self, impl: Impl) -> None:
        self.impl = impl

    def send(self, req: dict, args, kwargs, where: str, generation: int | None = None):
        """Encode ``args``/``kwargs`` into ``req``, send it and decode the reply."""
        return self.impl._send(req, args, kwargs, where, generation)

    def request(self, req: dict, where: str, generation: int | None = None):
        """Send ``req`` as it is and decode the reply."""
        return self.impl._request(req, where, generation)


def probe_reply(reply: object, fields: dict[str, type], where: str) -> dict:
    """``reply`` if it is a dict with ``fields`` of the given types, else :class:`BadReply`.

    A probe's reply comes from the student's process, which could write any frame.
    """
    if type(reply) is not dict:
        raise BadReply(f"{where}: the worker's reply is not a probe's reply")
    for key, kind in fields.items():
        if key not in reply or not isinstance(reply[key], kind):
            raise BadReply(f"{where}: the worker's reply has no valid {key!r}")
    return reply
