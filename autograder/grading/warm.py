"""The student's side of the warm server: hand ``pytest course/...`` to a process that is ready.

A fresh ``pytest course/ex06_ppo.py`` spends most of its time importing torch, numpy,
hypothesis and the grader (twice: once here, once in the zygote). A warm server
(:mod:`autograder.grading.warmserver`) keeps them imported and forks one process per run.

``course/conftest.py`` calls :func:`hand_over` from ``pytest_cmdline_main``: if a live server
for this exact grader (:func:`grader_key`: the package's files and ``sys.executable``) answers,
this process sends it the run's arguments, working folder, environment and its file
descriptors 0, 1 and 2 (so the output lands on the same terminal, colours intact), waits for
the exit code and returns it. Nothing has run before the server says it is ready and this
process says "go": any failure before that point means a local run, never a lost or doubled
one. After a local run, :func:`after_local_run` starts a server in the background for the
next run.

Never used when ``RL4LLM_NO_WARM`` is set, inside a run the server forked
(``RL4LLM_WARM_CHILD``), or by the authoritative grader (which never loads
``course/conftest.py``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.seam.zygotefork import WARM_CHILD as CHILD

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the `autograder` package
NO_WARM = "RL4LLM_NO_WARM"
IDLE_ENV = "RL4LLM_WARM_IDLE"  # seconds a server waits for the next run (default 15 min)
IDLE_DEFAULT = 15 * 60.0
READY_WAIT = 10.0  # seconds to wait for the server's "ready" before running here instead
HANDED = pytest.StashKey[bool]()
MAX_PACKET = 1 << 20


def disabled() -> bool:
    """Whether warm runs are off here (opted out, already a warm run, CI, or not Linux)."""
    return bool(
        os.environ.get(NO_WARM)
        or os.environ.get(CHILD)
        or os.environ.get("CI")  # a CI job runs once: a server would only cost it CPU
        or not sys.platform.startswith("linux")
        or not hasattr(socket, "send_fds")
    )


def grader_key() -> str:
    """A hash of the grader's files (paths, sizes, mtimes) and the Python environment: the server's id.

    A ``git pull`` changes it, so a server started before never serves the new grader.
    """
    # the environment (a venv's prefix) and the interpreter, however it was named (python3)
    digest = hashlib.sha256(os.fsencode(f"{sys.prefix}\0{os.path.realpath(sys.executable)}"))
    for root, dirs, files in os.walk(PACKAGE_DIR):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


def server_dir() -> Path | None:
    """The private (0700) folder of this user's servers, made if missing; None if unusable.

    ``$XDG_RUNTIME_DIR/rl4llm`` if that is set and writable, else ``$XDG_CACHE_HOME``
    (default ``~/.cache``) ``/rl4llm/warm``.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime) and os.access(runtime, os.W_OK | os.X_OK):
        path = Path(runtime) / "rl4llm"
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = Path(cache) / "rl4llm" / "warm"
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    if st.st_uid != os.getuid() or st.st_mode & 0o077 or not os.path.isdir(path):
        return None  # someone else's folder, or one others may enter: never trust it
    return path


def socket_path(folder: Path, key: str) -> Path:
    """Where the server for ``key`` listens."""
    return folder / f"{key}.sock"


def held(lock: Path) -> bool:
    """Whether a server holds ``lock`` (its lock file) now."""
    try:
        with open(lock, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def sweep(folder: Path, key: str) -> None:
    """Remove the files of other keys' servers that are gone (an older grader's)."""
    for lock in folder.glob("*.lock"):
        if lock.stem != key and not held(lock):
            for suffix in (".lock", ".log", ".sock"):
                lock.with_suffix(suffix).unlink(missing_ok=True)


def idle_seconds() -> float:
    """How long a server waits for the next run (``RL4LLM_WARM_IDLE``, default 15 min)."""
    try:
        return float(os.environ.get(IDLE_ENV, IDLE_DEFAULT))
    except ValueError:
        return IDLE_DEFAULT


def send_json(sock: socket.socket, obj: dict, fds: list[int] | None = None) -> None:
    """One message (a SOCK_SEQPACKET packet), with ``fds`` attached if given."""
    data = json.dumps(obj).encode()
    if fds:
        socket.send_fds(sock, [data], fds)
    else:
        sock.send(data)


def recv_json(sock: socket.socket) -> dict | None:
    """The next message, or None when the peer closed or sent something unreadable."""
    data = sock.recv(MAX_PACKET)
    if not data:
        return None
    try:
        msg = json.loads(data)
    except ValueError:
        return None
    return msg if isinstance(msg, dict) else None


def connect(key: str) -> socket.socket | None:
    """A connection to the live server for ``key``, or None."""
    folder = server_dir()
    if folder is None:
        return None
    path = socket_path(folder, key)
    if not path.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.settimeout(READY_WAIT)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        return None
    return sock


def hand_over(config: pytest.Config) -> int | None:
    """Run this pytest session in the warm server; its exit code, or None to run here.

    Args:
        config: the session's config (its ``invocation_params`` are sent).

    Returns:
        The run's exit code once it ran in the server; None if nothing was handed over.
    """
    if disabled() or getattr(config.option, "help", False) or getattr(config.option, "version", 0):
        return None
    if getattr(config.option, "numprocesses", None):  # pytest-xdist: keep its own processes
        return None
    key = grader_key()
    sock = connect(key)
    if sock is None:
        return None
    request = {
        "key": key,
        "args": [str(a) for a in config.invocation_params.args],
        "argv": list(sys.argv),
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "encoding": getattr(sys.stdout, "encoding", None) or "utf-8",
    }
    try:
        send_json(sock, request, [0, 1, 2])
        ready = recv_json(sock)
        if not ready or not isinstance(ready.get("ready"), int):
            raise OSError("the warm server did not start the run")
        send_json(sock, {"go": True})  # from here on, the run is the server's
    except (OSError, ValueError):
        sock.close()
        return None
    config.stash[HANDED] = True
    return wait_for_exit(sock, ready["ready"])


def wait_for_exit(sock: socket.socket, child: int) -> int:
    """The exit code of the handed-over run; Ctrl-C (SIGINT) and SIGTERM are forwarded to it."""

    def forward(signum, frame) -> None:
        try:
            os.kill(child, signum)
        except OSError:
            pass

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    sock.settimeout(None)
    try:
        while True:
            try:
                msg = recv_json(sock)
            except InterruptedError:
                continue
            except OSError:
                msg = None
            if msg is None:
                print("error: the warm grading server stopped during the run", file=sys.stderr)
                return 3
            if isinstance(msg.get("exit"), int):
                code = msg["exit"]
                return code if code >= 0 else 128 - code  # killed by a signal: as a shell says
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        sock.close()


def after_local_run(config: pytest.Config) -> None:
    """After a student run that ran here, start a server in the background for the next one."""
    if disabled() or config.stash.get(HANDED, False):
        return
    if getattr(config.option, "help", False) or getattr(config.option, "version", 0):
        return
    try:
        start_server(grader_key())
    except OSError:
        pass  # the next run is cold, as today


def start_server(key: str) -> int | None:
    """Start the server for ``key`` detached (own session, output to a log); its pid or None."""
    folder = server_dir()
    if folder is None or held(folder / f"{key}.lock"):
        return None  # one is running or starting
    env = dict(os.environ, PYTHONHASHSEED="0")  # as the workers: the zygote is forked from it
    env.pop(CHILD, None)
    with open(folder / f"{key}.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.grading.warmserver", "--key", key],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=str(folder),
            env=env,
            start_new_session=True,
            close_fds=True,
        )
    return proc.pid
