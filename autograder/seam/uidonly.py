"""The uid-only tier: where bubblewrap cannot start but the grader is root (containers).

Gradescope and most Docker containers run the grader as root without the capability to
create namespaces, so bubblewrap fails. There, rather than running student code as root
beside the grader, each worker runs as::

    prlimit --data --cpu --fsize --nofile --core --nproc --          (the same rlimits as bwrap)
      env -i --chdir HOME HOME=... TMPDIR=... PATH=/usr/bin:/bin ...
        setpriv --reuid UID --regid GID --clear-groups --inh-caps=-all --bounding-set=-all
                --no-new-privs --pdeathsig KILL --
          python -I -B <worker>/main.py ...

with UID a uid of the pool (:mod:`autograder.seam.uids`, one per live worker, group
``rl4llm-sbx``) and HOME a fresh 0700 folder of that uid. The worker cannot write any
file of the grader, the reference or the results (they belong to root and are not
world-writable) and cannot read the reference: :meth:`UidOnlyLauncher.protect` removes
the "other" permission bits of the folders it is given (``solutions/`` and the checks).
Nothing outlives the grading: when a worker ends, every process of its uid is killed
(daemons and double forks included), and a uid is swept again when it is next claimed
(in case a grader was killed). Unlike bubblewrap, this tier does not hide the rest of the
filesystem, the network or other processes; reports name the tier (``uid-only``).
``RL4LLM_NO_UID_ONLY=1`` in the grader's environment disables the tier (for tests).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.seam.launcher import WORKER_DIR, snapshot
from autograder.seam.uids import (
    SANDBOX_USER,
    ResourceLimits,
    claim_uid,
    ensure_sandbox_user,
    kill_uid,
    release_uid,
)

DROP = ["--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
UID_ONLY_NOTE = (
    "SANDBOX TIER uid-only: bubblewrap cannot start here; student code ran as an unprivileged "
    "uid with rlimits (no namespaces: the network and the rest of the filesystem are visible)"
)


class UidOnlyLauncher:
    """Starts workers as an unprivileged uid of the pool, without namespaces (see the module)."""

    sandboxed = True
    name = "uid-only sandbox"
    tier = "uid-only"

    def __init__(self, limits: ResourceLimits | None = None) -> None:
        """Raises RuntimeError when not root or the sandbox user cannot be created."""
        if os.environ.get("RL4LLM_NO_UID_ONLY"):
            raise RuntimeError("the uid-only tier is disabled (RL4LLM_NO_UID_ONLY is set)")
        if os.geteuid() != 0:
            raise RuntimeError("the uid-only tier needs root (to switch to the sandbox uid)")
        for tool in ("prlimit", "setpriv", "env"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"the uid-only tier needs {tool} (util-linux / coreutils)")
        ids = ensure_sandbox_user()
        if ids is None:
            raise RuntimeError(f"cannot create the sandbox user {SANDBOX_USER!r}")
        self.gid = ids[1]
        self.limits = limits or ResourceLimits()
        self.homes: dict[int, str] = {}
        ok, why = runtime_reachable(ids[0], ids[1])
        if not ok:
            raise RuntimeError(why)

    def protect(self, paths: list[Path]) -> None:
        """Make ``paths`` (folders of secrets: the reference, the checks) unreadable to others.

        Args:
            paths: folders; missing ones are ignored. Their "other" permission bits are
                removed (the grader, root, still reads them).
        """
        for path in paths:
            try:
                mode = os.stat(path).st_mode
                os.chmod(path, mode & ~0o007)
            except OSError:
                continue

    def claim(self) -> tuple[int, int]:
        """Reserve a pool uid (swept of stale processes) and give it a fresh private home."""
        uid, fd = claim_uid()
        kill_uid(uid)  # a grader killed earlier may have left this uid's processes behind
        home = tempfile.mkdtemp(prefix="rl4llm-uid-")
        os.chown(home, uid, self.gid)
        os.chmod(home, 0o700)
        self.homes[uid] = home
        return uid, fd

    def release(self, slot: tuple[int, int] | None) -> None:
        """Kill every process of the worker's uid, remove its home, give the uid back."""
        if slot is None:
            return
        kill_uid(slot[0])
        home = self.homes.pop(slot[0], None)
        if home:
            shutil.rmtree(home, ignore_errors=True)
        release_uid(slot)

    def command(self, submission: Path, fds: tuple[int, int], slot: object = None) -> list[str]:
        """The argv of one worker (``slot`` is what :meth:`claim` returned)."""
        if slot is None:
            raise RuntimeError("the uid-only tier needs a claimed uid")
        uid = slot[0]
        home = self.homes[uid]
        env = {**uid_env(), "HOME": home, "TMPDIR": home}
        return [
            *self.limits.prlimit_args(),
            shutil.which("env") or "env",
            "-i",
            f"--chdir={home}",
            *(f"{k}={v}" for k, v in env.items()),
            shutil.which("setpriv") or "setpriv",
            f"--reuid={uid}",
            f"--regid={self.gid}",
            *DROP,
            "--pdeathsig=KILL",
            "--",
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
        """The environment of ``prlimit``/``setpriv`` (the worker's own is set by ``env -i``)."""
        return {"PATH": os.environ.get("PATH", os.defpath), "LC_ALL": "C.UTF-8"}

    def popen_kwargs(self) -> dict:
        return {}

    def prepare(self, submission: Path) -> Path:
        """A private snapshot (0755/0644, owned by root: readable, never writable, by the uid)."""
        return snapshot(submission)


@functools.lru_cache(maxsize=4)
def runtime_reachable(uid: int, gid: int) -> tuple[bool, str]:
    """Whether ``uid`` can start this Python and read the worker (e.g. not under a 0700 /root).

    Returns:
        ``(ok, why)``.
    """
    cmd = ["setpriv", f"--reuid={uid}", f"--regid={gid}", *DROP, "--"]
    cmd += [sys.executable, "-I", "-B", "-c", f"open({str(WORKER_DIR / 'main.py')!r}).close()"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd="/")
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"the sandbox user cannot start Python: {exc}"
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or [str(proc.returncode)])[-1]
        return False, (
            f"the sandbox user {SANDBOX_USER!r} cannot run {sys.executable} or read the worker "
            f"({tail}); make the Python runtime and the course readable by other users"
        )
    return True, "ok"


def uid_env() -> dict[str, str]:
    """The worker's environment (no grader secrets, one thread, stable hashing)."""
    return {
        "PATH": "/usr/bin:/bin",
        "LC_ALL": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
