"""The zygote: imports torch and numpy once, then forks one worker per request.

Started by the grader as ``python -I -B main.py --submission DIR --fds C C --zygote``, where
``C`` is one end of a ``SOCK_SEQPACKET`` socket pair (the same launcher, hence the same sandbox,
uid and resource limits, as a single worker). The zygote never imports or runs student code:
it loads the heavy libraries, then serves two kinds of packets:

* from the grader, ``{"spawn": tag}`` with three file descriptors attached (``SCM_RIGHTS``):
  the worker's request pipe, reply pipe and log. The zygote forks; the child starts a new
  session, points its stdout and stderr at the log and serves calls like a worker started on
  its own (:func:`main.serve_forked`). The zygote answers ``{"forked": tag, "pid": pid}``, or
  ``{"forked": tag, "error": why}`` when it cannot fork.
* to the grader, ``{"exit": pid, "code": code}`` when a child ends (``code`` < 0: killed by
  that signal), so the grader can say how a worker died.

``pid`` is the child's pid as the zygote sees it (inside a PID namespace it differs from the
host's; the grader maps it through ``NSpid`` in ``/proc``). An empty read (the grader closed
its end or died) ends the zygote.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
import traceback

MAX_PACKET = 4096
REAP_EVERY = 0.2  # seconds between two looks for ended children


def preload(warm_optimizers: bool = False) -> None:
    """Import what every worker needs, once (the children share the pages).

    ``warm_optimizers``: also build a throw-away optimizer (see below).
    """
    try:
        import numpy  # noqa: F401
        import torch
        import torch.distributions  # noqa: F401
        import torch.nn.functional  # noqa: F401

        torch.set_num_threads(1)
        if warm_optimizers:
            # The first optimizer built in a process imports about 800 more modules
            # (torch._dynamo, sympy; about 70 MB): some 3 s of CPU that each worker building
            # one (a training loop, a probe) would pay again. Built once here, before any
            # fork; it starts no thread.
            param = torch.nn.Parameter(torch.zeros(1))
            torch.optim.SGD([param], lr=0.1)
            torch.optim.Adam([param], lr=0.1)
    except ImportError:
        pass


def send(sock: socket.socket, obj: dict) -> None:
    try:
        sock.send(json.dumps(obj).encode())
    except OSError:
        pass  # the grader is gone; the next read ends the loop


def reap(sock: socket.socket) -> None:
    """Report every child that ended since the last look."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        send(sock, {"exit": pid, "code": os.waitstatus_to_exitcode(status)})


def run(ctl_fd: int, submission: str, serve_forked, warm_optimizers: bool = False) -> None:
    """The zygote's loop. ``serve_forked(submission, rfd, wfd)`` runs in each child.

    ``warm_optimizers``: the grading has exercises that train (see :func:`preload`).
    """
    preload(warm_optimizers)
    sock = socket.socket(fileno=ctl_fd)
    wake_r, wake_w = os.pipe()  # SIGCHLD wakes the loop up: an ended child is reported at once
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    while True:
        ready, _, _ = select.select([sock, wake_r], [], [], REAP_EVERY)
        if wake_r in ready:
            try:
                os.read(wake_r, 512)
            except OSError:
                pass
        reap(sock)
        if sock not in ready:
            continue
        try:
            data, fds, _, _ = socket.recv_fds(sock, MAX_PACKET, 3)
        except OSError:
            return
        if not data:
            return
        try:
            tag = json.loads(data)["spawn"]
        except (ValueError, KeyError, TypeError):
            tag = None
        if tag is None or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            send(sock, {"forked": tag, "error": "bad spawn request"})
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            send(sock, {"forked": tag, "error": f"fork failed: {exc}"})
            continue
        if pid == 0:  # the child: a worker
            code = 1
            try:
                sock.close()
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.close(wake_r)
                os.close(wake_w)
                os.setsid()
                rfd, wfd, log = fds
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.close(log)
                serve_forked(submission, rfd, wfd)
                code = 0
            except BaseException:  # noqa: BLE001 - the log shows it; the exit code says it
                traceback.print_exc()
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        for fd in fds:
            os.close(fd)
        send(sock, {"forked": tag, "pid": pid})
