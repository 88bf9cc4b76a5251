"""The warm server: torch, numpy, hypothesis, pytest and the grader imported once per user.

Started in the background by :func:`autograder.grading.warm.after_local_run` as
``python -m autograder.grading.warmserver --key KEY``. It imports what every student run needs
(never a student module, never a torch operation: forking after OpenMP use is unsafe), listens
on ``KEY.sock`` in the user's private folder and, per connection from the same uid
(``SO_PEERCRED``):

1. receives ``{"key", "args", "argv", "cwd", "env", "encoding"}`` and the client's fds 0, 1, 2;
2. forks a child that waits; answers ``{"ready": pid}``;
3. on ``{"go": true}`` lets the child run ``pytest.main(args)`` (new session, the client's
   folder, environment and fds, ``RL4LLM_WARM_CHILD=1``); a connection closed before "go"
   kills the child before it ran anything;
4. answers ``{"exit": code}`` when the child ends; a connection closed earlier (the client
   died) kills the child and everything it started.

It exits after ``RL4LLM_WARM_IDLE`` seconds (default 15 min) without a run, and as soon as the
grader's files change (:func:`autograder.grading.warm.grader_key`), so a ``git pull`` never
meets stale code. One server per key: a lock file keeps a second one from starting.
"""

from __future__ import annotations

import argparse
import fcntl
import gc
import importlib
import io
import json
import os
import select
import signal
import socket
import struct
import sys
import tempfile
import time
import warnings
from importlib.metadata import entry_points

from autograder.grading import warm
from autograder.grading.proctree import descendants, die_with_parent

PRELOAD = [
    "numpy",
    "torch",
    "torch.distributions",
    "torch.nn.functional",
    "torch.optim",
    "torch._dynamo",  # what the first optimizer of a process imports (~800 modules, no thread)
    "hypothesis",
    "pytest",
    "autograder.grading.plugin",
    "autograder.grading.fixtures",
    "autograder.grading.report",
]
KEY_EVERY = 2.0  # seconds between two looks at the grader's files


def preload() -> None:
    """Import the grader, its checks' dependencies and pytest's plugins (no student code).

    The check modules themselves are imported (for what they import) and then forgotten, so
    that each run imports them again as a cold run does (pytest's assertion rewriting included).
    """
    for name in PRELOAD:
        importlib.import_module(name)
    for ep in entry_points(group="pytest11"):
        try:
            importlib.import_module(ep.module)
        except Exception:  # noqa: BLE001 - a broken plugin fails in the run, as it would cold
            pass
    import hypothesis.strategies

    with warnings.catch_warnings():  # hypothesis says "slow code in a plugin": meant here
        warnings.simplefilter("ignore")
        # st.text()'s first use builds the table of encodable characters (seconds of CPU)
        hypothesis.strategies.text().validate()
    from autograder.grading.plugin import CHECKS_DIR

    for path in sorted(CHECKS_DIR.glob("*.py")):
        if path.stem != "__init__":
            importlib.import_module(f"autograder.checks.{path.stem}")
    for name in [n for n in sys.modules if n.startswith("autograder.checks.")]:
        if not n_is_support(name):
            del sys.modules[name]


def n_is_support(name: str) -> bool:
    """Whether ``name`` is a helper of the checks (kept) rather than a check module."""
    return name.rsplit(".", 1)[-1].startswith("_")


def peer_uid(conn: socket.socket) -> int:
    """The uid of the process at the other end of a Unix socket."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


class Run:
    """One client's run: its connection, its forked child and the child's "go" pipe."""

    def __init__(self, conn: socket.socket, pid: int, go_w: int) -> None:
        self.conn = conn
        self.pid = pid
        self.go_w = go_w
        self.started = False

    def kill(self) -> None:
        """Kill the child and every process it started (they may be in sessions of their own)."""
        for pid in [*descendants(self.pid), self.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass


class Server:
    """The accept loop (see the module docstring)."""

    def __init__(self, key: str, listener: socket.socket, idle: float, lock_fd: int) -> None:
        self.key = key
        self.lock_fd = lock_fd
        self.listener = listener
        self.idle = idle
        self.runs: dict[int, Run] = {}  # child pid -> its run
        self.last = time.monotonic()
        self.checked = time.monotonic()
        self.wake_r, self.wake_w = os.pipe()
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)

    def loop(self) -> None:
        """Serve until idle for too long or the grader changed."""
        while True:
            now = time.monotonic()
            if not self.runs and now - self.last > self.idle:
                log("idle: exiting")
                return
            if now - self.checked > KEY_EVERY:
                self.checked = now
                if warm.grader_key() != self.key:
                    log("the grader changed: exiting")
                    self.kill_all()
                    return
            conns = [r.conn for r in self.runs.values()]
            ready, _, _ = select.select([self.listener, self.wake_r, *conns], [], [], 1.0)
            if self.wake_r in ready:
                try:
                    os.read(self.wake_r, 512)
                except OSError:
                    pass
            self.reap()
            for run in list(self.runs.values()):
                if run.conn in ready:
                    self.from_client(run)
            if self.listener in ready:
                self.accept()

    def accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        self.last = time.monotonic()
        try:
            if peer_uid(conn) != os.getuid():
                raise OSError("another user")
            conn.settimeout(5.0)
            data, fds, _, _ = socket.recv_fds(conn, warm.MAX_PACKET, 3)
        except OSError:
            conn.close()
            return
        try:
            request = json.loads(data)
            ok = request.get("key") == self.key == warm.grader_key() and len(fds) == 3
        except (ValueError, AttributeError):
            ok = False
        if not ok:  # stale or odd: the client runs locally
            for fd in fds:
                os.close(fd)
            conn.close()
            return
        go_r, go_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(go_w)
            socks = [self.listener, conn, *(r.conn for r in self.runs.values())]
            mine = [self.lock_fd, self.wake_r, self.wake_w]
            child(
                request,
                fds,
                go_r,
                socks,
                mine + [r.go_w for r in self.runs.values() if r.go_w >= 0],
            )
        os.close(go_r)
        for fd in fds:
            os.close(fd)
        run = Run(conn, pid, go_w)
        self.runs[pid] = run
        try:
            warm.send_json(conn, {"ready": pid})
        except OSError:
            self.drop(run)
        log(f"run {pid}: {request.get('args')}")

    def from_client(self, run: Run) -> None:
        """A message or the end of a client's connection."""
        try:
            run.conn.settimeout(0.0)
            msg = warm.recv_json(run.conn)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            msg = None
        if msg is not None and msg.get("go") and not run.started:
            run.started = True
            os.write(run.go_w, b"g")
            os.close(run.go_w)
            run.go_w = -1  # its number may be reused: never close it again
            return
        if msg is None:  # the client is gone (or never said go): its run goes too
            self.drop(run)

    def drop(self, run: Run) -> None:
        run.kill()
        if not run.started:
            os.close(run.go_w)
        run.conn.close()
        self.runs.pop(run.pid, None)
        try:
            os.waitpid(run.pid, 0)
        except ChildProcessError:
            pass

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            run = self.runs.pop(pid, None)
            if run is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            log(f"run {pid}: exit {code}")
            try:
                warm.send_json(run.conn, {"exit": code})
            except OSError:
                pass
            if not run.started:
                os.close(run.go_w)
            run.conn.close()
            self.last = time.monotonic()

    def kill_all(self) -> None:
        for run in list(self.runs.values()):
            self.drop(run)


def child(
    request: dict, fds: list[int], go_r: int, socks: list[socket.socket], others: list[int]
) -> None:
    """In the forked child: wait for "go", become the client's run, exit with pytest's code.

    ``socks`` and ``others`` (the lock, the wake-up pipe, other runs' "go" pipes) are the
    server's: closed here, so that the run holds nothing of it.
    """
    code = 3
    try:
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for sock in socks:
            sock.close()
        for fd in others:
            try:
                os.close(fd)
            except OSError:
                pass
        die_with_parent()
        os.setsid()
        if os.read(go_r, 1) != b"g":  # the client went away before "go": nothing ran
            os._exit(3)
        os.close(go_r)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        encoding = str(request.get("encoding") or "utf-8")
        sys.stdin = sys.__stdin__ = io.TextIOWrapper(
            open(0, "rb", closefd=False),
            encoding=encoding,
        )
        sys.stdout = sys.__stdout__ = io.TextIOWrapper(
            open(1, "wb", closefd=False),
            encoding=encoding,
            line_buffering=os.isatty(1),
        )
        sys.stderr = sys.__stderr__ = io.TextIOWrapper(
            open(2, "wb", closefd=False),
            encoding=encoding,
            errors="backslashreplace",
            line_buffering=True,
        )
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ[warm.CHILD] = "1"
        tempfile.tempdir = None  # TMPDIR is read again
        from hypothesis.configuration import set_hypothesis_home_dir

        # hypothesis found its folder (.hypothesis in the working folder) when imported here
        set_hypothesis_home_dir(
            os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY")
            or os.path.join(os.getcwd(), ".hypothesis")
        )
        sys.argv = list(request.get("argv") or ["pytest"])
        import pytest

        # The preloaded plugins were imported before pytest's assertion rewriting hook (their
        # code has no assertion a check's verdict depends on); a cold run says nothing of it.
        quiet = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
        args = list(request["args"])
        at = args.index("--") if "--" in args else len(args)  # last option: it wins over `-W error`
        code = int(pytest.main([*args[:at], *quiet, *args[at:]]))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:  # noqa: BLE001 - said on the client's terminal
        print(f"error: the warm grading run failed: {exc!r}", file=sys.stderr)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    os._exit(code)


def log(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} [{os.getpid()}] {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the server for ``--key`` until idle; 0, or 1 if another one holds the key."""
    parser = argparse.ArgumentParser(prog="python -m autograder.grading.warmserver")
    parser.add_argument("--key", required=True)
    ns = parser.parse_args(argv)
    folder = warm.server_dir()
    if folder is None or warm.disabled():
        return 1
    lock = open(folder / f"{ns.key}.lock", "a+")  # noqa: SIM115 - held for the server's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 1  # another server for this key is starting or running
    warm.sweep(folder, ns.key)
    lock.truncate(0)
    lock.write(f"{os.getpid()}\n")  # who holds it (for tests and the curious)
    lock.flush()
    log("preloading")
    preload()
    # What is imported now lives as long as the server: no collection of a run need look at
    # it (pytest collects garbage at exit: about 1 s with torch's modules), and the pages
    # stay shared with the runs.
    gc.freeze()
    if warm.grader_key() != ns.key:
        log("the grader changed while preloading: exiting")
        return 1
    path = warm.socket_path(folder, ns.key)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        path.unlink(missing_ok=True)
        listener.bind(str(path))
        os.chmod(path, 0o600)
        listener.listen(16)
        log(f"serving on {path}")
        Server(ns.key, listener, warm.idle_seconds(), lock.fileno()).loop()
    finally:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass
        listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
