"""The uid-only tier: where bubblewrap cannot start but the grader is root (containers).

Gradescope and most Docker containers run the grader as root without the capability to
create namespaces, so bubblewrap fails. There, rather than running student code as root
beside the grader, each worker runs as::

    prlimit --data --cpu --fsize --nofile --core --nproc --          (the same rlimits as bwrap)
      env -i --chdir HOME HOME=... TMPDIR=... PATH=/usr/bin:/bin ...
        setpriv --reuid UID --regid GID --clear-groups --inh-caps=-all --bounding-set=-all
                --no-new-privs --pdeathsig KILL --
          python -I -B <worker>/main.py ...

with UID a uid of the pool (:mod:`autograder.seam.uids`, one per live worker), GID the
grading's own group (a gid of the pool, claimed by :meth:`UidOnlyLauncher.prepare` and given
back by :meth:`UidOnlyLauncher.discard`: every worker of one grading, the zygote and the
workers it forks included, has the same GID; concurrent gradings have different ones) and
HOME a fresh folder ``UID:GID 0700``. The grading's snapshot of the submission is a folder
``root:GID 0750`` (0755/0644 below it): its own workers read it, the workers of another
grading (another uid, another group) get EACCES, and no worker can modify it. A killed grader
leaves its snapshot behind; whoever claims that gid next removes it first (the gid's lock
file lists it, see :func:`autograder.seam.uids.sweep_noted`). Snapshots and homes go in the
grader's temp folder when other users can reach it, else in ``/tmp`` (a ``grade-batch`` job's
temp folder is private).

The worker cannot write any file of the grader, the reference or the results (they belong
to root and are not world-writable) and cannot read the reference:
:meth:`UidOnlyLauncher.protect` removes the "other" permission bits of the folders it is
given (``solutions/`` and the checks). Nothing outlives the grading: when a worker ends,
every process of its uid is killed (daemons and double forks included), and a uid is swept
again when it is next claimed (in case a grader was killed). Unlike bubblewrap, this tier
does not hide the rest of the filesystem, the network or other processes; reports name the
tier (``uid-only``). ``RL4LLM_NO_UID_ONLY=1`` in the grader's environment disables the tier
(for tests).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.seam.launcher import WORKER_DIR, copy_regular_files
from autograder.seam.uids import (
    SANDBOX_USER,
    ResourceLimits,
    claim_gid,
    claim_uid,
    ensure_sandbox_user,
    kill_uid,
    note_path,
    release_uid,
    sweep_noted,
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
        self.gradings: dict[str, tuple[int, int]] = {}  # snapshot -> its group's (gid, lock fd)
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
        """Reserve a pool uid (swept of stale processes) and give it a fresh private home.

        The home is ``uid:<sandbox group> 0700`` until :meth:`command` gives it the group of
        the grading the worker belongs to.
        """
        uid, fd = claim_uid()
        kill_uid(uid)  # a grader killed earlier may have left this uid's processes behind
        sweep_noted(fd, uid=uid)  # ... and its home
        home = tempfile.mkdtemp(prefix="rl4llm-uid-", dir=shared_tmp())
        note_path(fd, home)
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
        group = self.gradings.get(str(Path(submission).resolve()))
        if group is None:
            raise RuntimeError(f"{submission}: not a snapshot this launcher prepared")
        uid = slot[0]
        home = self.homes[uid]
        os.chown(home, uid, group[0])
        env = {**uid_env(), "HOME": home, "TMPDIR": home}
        return [
            *self.limits.prlimit_args(),
            shutil.which("env") or "env",
            "-i",
            f"--chdir={home}",
            *(f"{k}={v}" for k, v in env.items()),
            shutil.which("setpriv") or "setpriv",
            f"--reuid={uid}",
            f"--regid={group[0]}",
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
        """The grading's snapshot, readable by its own group only (see the module).

        Claims a gid of the pool for the grading (removing what a killed holder left), makes
        the folder ``root:gid 0750`` before anything is copied into it, and records it in the
        gid's lock file. :meth:`discard` gives the gid back.

        Returns:
            The snapshot folder (what :meth:`command` is given).
        """
        gid, fd = claim_gid()
        dst = Path(tempfile.mkdtemp(prefix="rl4llm-sub-", dir=shared_tmp())).resolve()
        try:
            note_path(fd, str(dst))  # root:root 0700 until here: harmless if we are killed
            os.chown(dst, 0, gid)
            os.chmod(dst, 0o750)
            copy_regular_files(submission, dst)
        except BaseException:
            shutil.rmtree(dst, ignore_errors=True)
            release_uid((gid, fd))
            raise
        self.gradings[str(dst)] = (gid, fd)
        return dst

    def discard(self, snapshot: Path) -> None:
        """Remove the grading's snapshot and give its gid back.

        Any process of the grading's group still alive is killed first (its workers were
        killed as they ended; this holds even if one escaped them), so the gid is free of
        readers before another grading can claim it.
        """
        group = self.gradings.pop(str(Path(snapshot).resolve()), None)
        if group is not None:
            kill_uid(group[0], field="Gid")
        shutil.rmtree(snapshot, ignore_errors=True)
        if group is not None:
            release_uid(group)


def shared_tmp() -> str:
    """Where snapshots and homes go: the temp folder if other users can reach it, else /tmp."""
    tmp = Path(tempfile.gettempdir()).resolve()
    try:
        if all(os.stat(p).st_mode & 0o001 for p in (tmp, *tmp.parents)):
            return str(tmp)
    except OSError:
        pass
    return "/tmp"


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
