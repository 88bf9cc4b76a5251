"""The unprivileged uids that run student code as root, and the rlimits every tier applies.

Both confined tiers (:mod:`autograder.seam.sandbox`, bubblewrap, and
:mod:`autograder.seam.uidonly`, a uid of its own without namespaces) draw a uid per live
worker from one pool (group ``rl4llm-sbx``), so RLIMIT_NPROC (counted per uid) caps each
worker separately and no file of the grader is writable by student code. The uid-only tier
also draws a group per grading from a pool of gids (numeric, no ``/etc/group`` entry): the
grading's snapshot is readable by that group only, so concurrent gradings cannot read each
other's submission.

A uid or gid is held through an flock on its lock file in :data:`LOCK_DIR` (root-only), so
a grader that is killed gives it back. The lock file also lists the folders made for the
holder (:func:`note_path`); whoever claims the id next removes those still there
(:func:`sweep_noted`): a killed grading's snapshot is never readable by a later grading
that reuses its gid.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SANDBOX_USER = "rl4llm-sbx"
UID_POOL_BASE = int(os.environ.get("RL4LLM_SANDBOX_UID_BASE", "2000000000"))
UID_POOL_SIZE = 256
GID_POOL_BASE = int(os.environ.get("RL4LLM_SANDBOX_GID_BASE", "2000001000"))
GID_POOL_SIZE = 256
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


def claim_id(kind: str, base: int, size: int) -> tuple[int, int]:
    """Reserve an id of a pool (an flock on ``LOCK_DIR/<kind><id>.lock`` until released).

    Args:
        kind: the lock files' prefix (``""`` for uids, ``"g"`` for gids).
        base: the pool's first id.
        size: how many ids the pool has.

    Returns:
        ``(id, lock_fd)``.

    Raises:
        RuntimeError: every id of the pool is in use.
    """
    LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
    start = (os.getpid() * 7919) % size  # spread concurrent graders over the pool
    for i in range(size):
        ident = base + (start + i) % size
        fd = os.open(LOCK_DIR / f"{kind}{ident}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        return ident, fd
    raise RuntimeError(f"all {size} sandbox {'gids' if kind else 'uids'} are in use")


def claim_uid() -> tuple[int, int]:
    """Reserve a uid of the pool for one worker (an flock held until :func:`release_uid`).

    Returns:
        ``(uid, lock_fd)``.

    Raises:
        RuntimeError: every uid of the pool is in use.
    """
    return claim_id("", UID_POOL_BASE, UID_POOL_SIZE)


def claim_gid() -> tuple[int, int]:
    """Reserve a gid of the pool for one grading, its stale folders swept (see the module).

    Returns:
        ``(gid, lock_fd)``; give it back with :func:`release_uid` (the same lock mechanism).

    Raises:
        RuntimeError: every gid of the pool is in use.
    """
    gid, fd = claim_id("g", GID_POOL_BASE, GID_POOL_SIZE)
    kill_uid(gid, field="Gid")  # a killed grader's workers, if any are left
    sweep_noted(fd, gid)
    return gid, fd


def note_path(fd: int, path: str) -> None:
    """Record ``path`` in the lock file ``fd`` (removed by the next claimer if still there)."""
    os.lseek(fd, 0, os.SEEK_END)
    os.write(fd, (path + "\n").encode())


def sweep_noted(fd: int, gid: int | None = None, uid: int = 0) -> list[str]:
    """Remove the folders a previous holder of an id recorded and left (a killed grader).

    Args:
        fd: the id's lock file (held).
        gid: remove only folders of this group (None: any group).
        uid: remove only folders of this owner.

    Only a folder (never a link) still owned as given is removed (a recorded name that was
    reused since is left alone); the lock file is emptied.

    Returns:
        The folders removed.
    """
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    removed = []
    for line in b"".join(chunks).decode(errors="replace").splitlines():
        try:
            st = os.lstat(line)
        except OSError:
            continue
        mine = st.st_uid == uid and (gid is None or st.st_gid == gid)
        if os.path.isabs(line) and stat.S_ISDIR(st.st_mode) and mine:
            shutil.rmtree(line, ignore_errors=True)
            removed.append(line)
    os.ftruncate(fd, 0)
    return removed


def release_uid(slot: tuple[int, int] | None) -> None:
    """Give a uid (or a gid) back to the pool (after its worker or grading is gone).

    Its recorded folders are forgotten: the holder removed them.
    """
    if slot is not None:
        os.ftruncate(slot[1], 0)
        os.close(slot[1])


def processes_of(uid: int, field: str = "Uid") -> list[int]:
    """The pids of live processes whose real uid is ``uid`` (zombies are dead: not listed).

    ``field="Gid"``: whose real gid is ``uid`` instead.
    """
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
            if int(fields[field].split()[0]) == uid and not fields["State"].strip().startswith(
                ("Z", "X")
            ):
                found.append(int(entry))
        except (OSError, ValueError, KeyError):
            continue
    return found


def kill_uid(uid: int, rounds: int = 60, field: str = "Uid") -> None:
    """Kill every process of ``uid`` (a worker's daemons and forks), until none is left.

    Stopping each process first (SIGSTOP) keeps a fork loop from outrunning the sweep; up to
    ``rounds`` sweeps 50 ms apart (a loaded machine can take a while to deliver a SIGKILL).
    ``field="Gid"``: every process whose real gid is ``uid`` (a grading's group).
    """
    for _ in range(rounds):
        pids = processes_of(uid, field)
        if not pids:
            return
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
        time.sleep(0.05)
