"""The worker: imports the student's module and serves calls over a pipe.

Started by the grader as ``python -I -B main.py --submission DIR --fds R W``, or forked
by the zygote (``--zygote``, see ``zygote.py``), which imports torch once for all workers.
Requests and replies are length-prefixed JSON frames (see ``protocol.py``). The
worker sends back *outputs*, never verdicts. Student exceptions come back with
the student's own traceback frames; ``NotImplementedError`` is flagged so the
grader can say "not implemented" instead of dumping a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import traceback

# `python -I` does not put the script's folder on sys.path; the worker's own modules live there.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import codec  # noqa: E402
import probes  # noqa: E402
import protocol  # noqa: E402

MAX_MSG = 2000


class CallTimeout(BaseException):
    """Raised in the student's code when a call used up its CPU budget (the ``cpu`` field)."""


class CpuTimer:
    """A per-call CPU budget enforced here (ITIMER_PROF), so a hang costs no worker restart.

    Code that swallows :class:`CallTimeout` and goes on is still killed by the grader, which
    counts the worker's CPU time too (with a little more slack).
    """

    def __init__(self) -> None:
        self.armed = False
        self.usable = hasattr(signal, "setitimer")
        if self.usable:
            signal.signal(signal.SIGPROF, self.fire)

    def fire(self, signum, frame) -> None:
        if self.armed:
            self.armed = False
            raise CallTimeout

    def arm(self, seconds: object) -> None:
        if self.usable and type(seconds) in (int, float) and seconds > 0:
            self.armed = True
            signal.setitimer(signal.ITIMER_PROF, float(seconds))

    def disarm(self) -> None:
        self.armed = False
        if self.usable:
            signal.setitimer(signal.ITIMER_PROF, 0)


class Worker:
    def __init__(self, submission: str) -> None:
        self.submission = os.path.realpath(submission)
        self.handles = codec.Handles()
        self.timer = CpuTimer()

    # -- requests ---------------------------------------------------------------
    def handle(self, req: dict) -> object:
        op = req.get("op")
        if op == "ping":
            return {"pid": os.getpid(), "python": sys.version.split()[0]}
        if op == "import":
            module = self.module(req["module"])
            return sorted(n for n in vars(module) if not n.startswith("_"))
        if op == "call":
            fn = getattr(self.module(req["module"]), req["name"])
            return self.invoke(fn, req)
        if op == "method":
            obj = self.handles.get(req["handle"])
            fn = obj if req["name"] == "__call__" else getattr(obj, req["name"])
            return self.invoke(fn, req)
        if op == "getattr":
            target = (
                self.handles.get(req["handle"]) if "handle" in req else self.module(req["module"])
            )
            return getattr(target, req["name"])
        if op == "probe":
            args, kwargs = self.arguments(req)
            probe = probes.PROBES[req["name"]]
            if "target" in req:  # probes that wrap a call of the student's code
                options = {
                    k: codec.decode(v, self.handles) for k, v in req.get("options", {}).items()
                }
                return probe(self.target(req["target"]), args, kwargs, **options)
            return probe(*args, **kwargs)
        if op == "release":
            self.handles.release(req["handle"])
            return None
        raise ValueError(f"unknown op {op!r}")

    def target(self, target: dict):
        if "handle" in target:
            obj = self.handles.get(target["handle"])
            return obj if target["name"] == "__call__" else getattr(obj, target["name"])
        return getattr(self.module(target["module"]), target["name"])

    def module(self, name: str):
        if not name.isidentifier():
            raise ValueError(f"bad module name {name!r}")
        return importlib.import_module(name)

    def arguments(self, req: dict) -> tuple[list, dict]:
        args = codec.decode(req.get("args", []), self.handles)
        kwargs = codec.decode(req.get("kwargs", {"$dict": []}), self.handles)
        return args, kwargs

    def invoke(self, fn, req: dict) -> object:
        repeat = int(req.get("repeat", 0))
        if repeat:
            out = []
            for _ in range(repeat):
                args, kwargs = self.arguments(req)
                out.append(fn(*args, **kwargs))
            return out
        args, kwargs = self.arguments(req)
        return fn(*args, **kwargs)

    # -- replies ----------------------------------------------------------------
    def reply_ok(self, req: dict, out: object) -> dict:
        if req.get("keep"):
            return {"id": req.get("id"), "ok": True, "out": self.handles.add(out)}
        return {"id": req.get("id"), "ok": True, "out": codec.encode(out, self.handles)}

    def reply_error(self, req: dict, exc: BaseException) -> dict:
        frames = traceback.extract_tb(exc.__traceback__)
        # Only the student's own files. A relative name such as "<frozen importlib._bootstrap>"
        # would resolve against the cwd (the submission), so it must be absolute; and when no
        # frame is the student's (e.g. a missing function), show none rather than the worker's.
        shown = [
            f
            for f in frames
            if os.path.isabs(f.filename)
            and os.path.realpath(f.filename).startswith(self.submission + os.sep)
        ]
        return {
            "id": req.get("id"),
            "ok": False,
            "exc": type(exc).__name__,
            "mro": [c.__name__ for c in type(exc).__mro__],
            "msg": _safe_str(exc)[:MAX_MSG],
            "tb": [
                [os.path.basename(f.filename), f.lineno or 0, f.name, (f.line or "")[:200]]
                for f in shown[-8:]
            ],
            "student_frames": bool(shown),
        }

    def serve(self, rfd: int, wfd: int) -> None:
        while True:
            try:
                req = protocol.read_frame(rfd)
            except EOFError:
                return
            if not isinstance(req, dict):
                continue
            try:
                self.timer.arm(req.get("cpu"))
                try:
                    out = self.handle(req)
                finally:
                    self.timer.disarm()
                reply = self.reply_ok(req, out)
            except CallTimeout:
                reply = {"id": req.get("id"), "ok": False, "timeout": True}
            except BaseException as exc:  # noqa: BLE001 - SystemExit and friends are answers too
                reply = self.reply_error(req, exc)
            try:
                protocol.write_frame(wfd, reply)
            except (codec.EncodeError, protocol.ProtocolError, TypeError, ValueError) as exc:
                protocol.write_frame(wfd, self.reply_error(req, exc))


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except BaseException:  # noqa: BLE001
        return f"<{type(exc).__name__} with an unprintable message>"


def serve_forked(submission: str, rfd: int, wfd: int) -> None:
    """Serve calls on ``rfd``/``wfd`` for the student's modules in ``submission``."""
    os.set_inheritable(rfd, False)
    os.set_inheritable(wfd, False)
    # Student code may print freely: fds 1 and 2 go to a log, never to the channel.
    sys.path.insert(0, submission)
    os.chdir(submission)
    Worker(submission).serve(rfd, wfd)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submission", required=True)
    parser.add_argument("--fds", nargs=2, type=int, required=True)
    parser.add_argument("--zygote", action="store_true")
    parser.add_argument("--warm-optimizers", action="store_true")
    ns = parser.parse_args()
    rfd, wfd = ns.fds
    if ns.zygote:  # fds: the control socket, twice
        import zygote

        os.set_inheritable(rfd, False)
        zygote.run(rfd, ns.submission, serve_forked, warm_optimizers=ns.warm_optimizers)
        return
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    serve_forked(ns.submission, rfd, wfd)


if __name__ == "__main__":
    main()
