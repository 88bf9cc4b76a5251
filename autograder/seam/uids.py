"""The unprivileged uids that run student code as root, and the rlimits every tier applies.

Both confined tiers (:mod:`autograder.seam.sandbox`, bubblewrap, and
:mod:`autograder.seam.uidonly`, a uid of its own without namespaces) draw a uid per live
worker from one pool (group ``rl4llm-sbx``), so RLIMIT_NPROC (counted per uid) caps each
worker separately and no file of the grader is writable by student code.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SANDBOX_USER = "rl4llm-sbx"
UID_POOL_BASE = int(os.environ.get("RL4LLM_SANDBOX_UID_BASE", "2000000000"))
UID_POOL_SIZE = 256
LOCK_DIR = Path(os.environ.get("RL4LLM_SANDBOX_LOCK_DIR", "/tmp/rl4llm-sandbox-uids"))


@dataclass(frozen=True)
class ResourceLimits:
    """rlimits applied to every confined worker (see ``docs/architecture.md``, the sandbox)."""

    data_bytes: int = 2 * 1024**3  # RLIMIT_DATA: a clean MemoryError (RLIMIT_AS breaks torch)
    cpu_seconds: int = 300  # RLIMIT_CPU per worker: all checks of one exercise
    file_bytes: int = 16 * 1024**2  # RLIMIT_FSIZE: logs and /tmp files
    open_files: int = 256  # RLIMIT_NOFILE
    processes: int = 64  # RLIMIT_NPROC for the sandbox uid (threads count too)
    tmp_bytes: int = (
        256 * 1024**2
    )  # size of the private /tmp (a tmpfs is RAM that RLIMIT_DATA does not count)

    def prlimit_args(self) -> list[str]:
        """The ``prlimit ... --`` prefix that applies these limits to a command."""
        return [
            "prlimit",
            f"--data={self.data_bytes}",
            f"--cpu={self.cpu_seconds}",
            f"--fsize={self.file_bytes}",
            f"--nofile={self.open_files}",
            "--core=0",
            f"--nproc={self.processes}",
            "--",
        ]


def ensure_sandbox_user(name: str = SANDBOX_USER) -> tuple[int, int] | None:
    """The (uid, gid) of the dedicated sandbox user, creating it if we are root.

    Returns:
        ``(uid, gid)``, or None when the user does not exist and cannot be created.
    """
    try:
        pw = pwd.getpwnam(name)
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        pass
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        return None
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=False,
        capture_output=True,
    )
    try:
        pw = pwd.getpwnam(name)
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return None


def claim_uid() -> tuple[int, int]:
    """Reserve a uid of the pool for one worker (an flock held until :func:`release_uid`).

    Returns:
        ``(uid, lock_fd)``.

    Raises:
        RuntimeError: every uid of the pool is in use.
    """
    LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
    start = (os.getpid() * 7919) % UID_POOL_SIZE  # spread concurrent graders over the pool
    for i in range(UID_POOL_SIZE):
        uid = UID_POOL_BASE + (start + i) % UID_POOL_SIZE
        fd = os.open(LOCK_DIR / f"{uid}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        return uid, fd
    raise RuntimeError(f"all {UID_POOL_SIZE} sandbox uids are in use")


def release_uid(slot: tuple[int, int] | None) -> None:
    """Give a uid back to the pool (after its worker is gone)."""
    if slot is not None:
        os.close(slot[1])


def processes_of(uid: int) -> list[int]:
    """The pids of live processes whose real uid is ``uid`` (zombies are dead: not listed)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
            if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith(
                ("Z", "X")
            ):
                found.append(int(entry))
        except (OSError, ValueError, KeyError):
            continue
    return found


def kill_uid(uid: int, rounds: int = 60) -> None:
    """Kill every process of ``uid`` (a worker's daemons and forks), until none is left.

    Stopping each process first (SIGSTOP) keeps a fork loop from outrunning the sweep; up to
    ``rounds`` sweeps 50 ms apart (a loaded machine can take a while to deliver a SIGKILL).
    """
    for _ in range(rounds):
        pids = processes_of(uid)
        if not pids:
            return
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
        time.sleep(0.05)
