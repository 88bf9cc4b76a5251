"""Authoritative workers: bubblewrap + prlimit + a dedicated unprivileged uid.

The worker runs as::

    prlimit --data --cpu --fsize --nofile --core --nproc --
      bwrap --unshare-{pid,net,ipc,uts,cgroup} --die-with-parent --new-session --clearenv
            <read-only: /usr, the Python runtime, the venv, the worker code, the submission>
            --tmpfs /tmp --proc /proc --dev /dev
        setpriv --reuid UID --regid GID --clear-groups --no-new-privs   (when run as root)
          python -I -B /rt/main.py --submission /submission --fds R W

Nothing else of the host is visible: not the grader's checks, not ``solutions/``,
not the gradebook, not other submissions. There is no network. Killing the
process group (or the grader dying) kills the whole PID namespace, daemons
included. As root, bwrap mounts as root and ``setpriv`` then drops to an
unprivileged uid of its own (a pool of uids, one per live worker, claimed with a
lock file; group ``rl4llm-sbx``), so RLIMIT_NPROC caps each worker separately
and no file of the host is writable. As an
ordinary user, bwrap uses a user namespace instead.

Where bubblewrap is missing or blocked (containers without user namespaces) but the
grader is root, :func:`choose_launcher` picks the uid-only tier
(:mod:`autograder.seam.uidonly`); otherwise (macOS, Windows, an ordinary user) it falls
back to a plain subprocess and the reports say "UNSANDBOXED".
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath

from autograder.seam.launcher import WORKER_DIR, Launcher, PlainLauncher, snapshot
from autograder.seam.uidonly import UID_ONLY_NOTE, UidOnlyLauncher
from autograder.seam.uids import (  # noqa: F401 (the pool's names, re-exported)
    SANDBOX_USER,
    UID_POOL_BASE,
    UID_POOL_SIZE,
    ResourceLimits,
    claim_uid,
    ensure_sandbox_user,
    release_uid,
)

SANDBOX_MODES = ("auto", "require", "off")
"""How a grading run may use the sandbox (``--require-sandbox`` / default / ``--no-sandbox``)."""
UNSANDBOXED = "UNSANDBOXED: student code ran as a plain subprocess, not in the bubblewrap sandbox"


class SandboxUnavailable(RuntimeError):
    """``--require-sandbox`` and bubblewrap does not work here."""


def _mkdirs(paths: list[str]) -> list[str]:
    """bwrap creates missing parents as 0700; create them 0755 so the sandbox uid can pass."""
    args: list[str] = []
    seen: set[str] = set()
    for p in paths:
        for parent in reversed(PurePosixPath(p).parents):
            s = str(parent)
            if s in ("/", *seen):
                continue
            seen.add(s)
            args += ["--perms", "0755", "--dir", s]
    return args


class SandboxLauncher:
    """Starts workers inside bubblewrap (see the module docstring)."""

    sandboxed = True
    name = "bubblewrap sandbox"
    tier = "bwrap"

    def __init__(self, limits: ResourceLimits | None = None) -> None:
        self.limits = limits or ResourceLimits()
        self.bwrap = shutil.which("bwrap")
        self.is_root = os.geteuid() == 0
        self.ids = ensure_sandbox_user() if self.is_root else None
        if self.is_root and self.ids is None:
            raise RuntimeError(f"cannot create the sandbox user {SANDBOX_USER!r}")
        self.python, self.runtime = runtime_binds()

    def claim(self) -> tuple[int, int] | None:
        """Reserve a uid of the pool for one worker (see :func:`autograder.seam.uids.claim_uid`).

        Returns:
            ``(uid, lock_fd)``, or None when not root (a user namespace is used instead).
        """
        return claim_uid() if self.is_root else None

    def release(self, slot: tuple[int, int] | None) -> None:
        """Give a uid back to the pool (after its worker's sandbox is gone)."""
        release_uid(slot)

    def command(self, submission: Path, fds: tuple[int, int], slot: object = None) -> list[str]:
        binds = [dst for _, dst in self.runtime]
        cmd = [
            *self.limits.prlimit_args(),
            self.bwrap or "bwrap",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            *([] if self.is_root else ["--unshare-user"]),
            "--die-with-parent",
            "--new-session",
            "--clearenv",
            "--perms",
            "1777",
            "--size",
            str(self.limits.tmp_bytes),
            "--tmpfs",
            "/tmp",
            "--ro-bind",
            "/usr",
            "/usr",
            "--symlink",
            "usr/lib",
            "/lib",
            "--symlink",
            "usr/lib64",
            "/lib64",
            "--symlink",
            "usr/bin",
            "/bin",
            *_mkdirs(binds),
        ]
        for src, dst in self.runtime:
            cmd += ["--ro-bind", src, dst]
        if os.path.exists("/etc/ld.so.cache"):
            cmd += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
        cmd += [
            "--ro-bind",
            str(WORKER_DIR),
            "/rt",
            "--ro-bind",
            str(submission),
            "/submission",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--chdir",
            "/tmp",
        ]
        for key, value in sandbox_env().items():
            cmd += ["--setenv", key, value]
        if self.is_root:
            gid = self.ids[1]
            uid = slot[0] if slot is not None else self.ids[0]
            cmd += [
                "setpriv",
                f"--reuid={uid}",
                f"--regid={gid}",
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--no-new-privs",
                "--",
            ]
        cmd += [str(self.python), "-I", "-B", "/rt/main.py", "--submission", "/submission"]
        cmd += ["--fds", str(fds[0]), str(fds[1])]
        return cmd

    def env(self, home: str) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", os.defpath), "LC_ALL": "C.UTF-8"}

    def popen_kwargs(self) -> dict:
        return {}

    def prepare(self, submission: Path) -> Path:
        """A private, read-only-for-the-sandbox snapshot of the submission's files."""
        return snapshot(submission)

    def discard(self, snapshot: Path) -> None:
        shutil.rmtree(snapshot, ignore_errors=True)


VENV_MOUNT = "/venv"


def runtime_binds() -> tuple[str, list[tuple[str, str]]]:
    """The interpreter to start inside the sandbox and the runtime dirs to bind read-only.

    A virtual environment is bound at ``/venv`` (its python found through the unresolved
    ``bin/python`` link, so ``pyvenv.cfg`` still applies): the venv usually lives inside the
    course checkout, and binding it at its own path would reveal that path. The base
    interpreter's prefix is bound where it is; ``/usr`` is bound anyway.

    Returns:
        ``(python, [(host_dir, sandbox_dir), ...])``.
    """
    exe = Path(sys.executable).absolute()
    prefix = Path(sys.prefix).absolute()
    base = {Path(sys.base_prefix).resolve()}
    real = Path(os.path.realpath(sys.executable))
    if not any(real.is_relative_to(b) for b in base):
        base.add(real.parent.parent)
    binds = {str(b): str(b) for b in base if b != Path("/usr") and not str(b).startswith("/usr/")}
    python = str(exe)
    if sys.prefix != sys.base_prefix and exe.is_relative_to(prefix):
        binds[str(prefix.resolve())] = VENV_MOUNT
        python = str(PurePosixPath(VENV_MOUNT) / exe.relative_to(prefix))
    elif sys.prefix != sys.base_prefix:
        resolved = str(prefix.resolve())
        binds[resolved] = resolved
    return python, sorted(binds.items(), key=lambda kv: kv[1])


def sandbox_env() -> dict[str, str]:
    return {
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "PATH": "/usr/bin:/bin",
        "LC_ALL": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


@functools.lru_cache(maxsize=1)
def bwrap_works() -> tuple[bool, str]:
    """Whether a trivial sandbox starts here (bwrap present and not blocked).

    ``RL4LLM_NO_BWRAP=1`` in the grader's environment says no (to test the uid-only tier).
    """
    if os.environ.get("RL4LLM_NO_BWRAP"):
        return False, "bwrap is disabled (RL4LLM_NO_BWRAP is set)"
    if shutil.which("bwrap") is None:
        return False, "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    if shutil.which("prlimit") is None:
        return False, "prlimit is not installed (util-linux)"
    try:
        launcher = SandboxLauncher()
    except RuntimeError as exc:
        return False, str(exc)
    probe = tempfile.mkdtemp(prefix="rl4llm-probe-")
    os.chmod(probe, 0o755)
    slot = None
    try:
        slot = launcher.claim()
        cmd = launcher.command(Path(probe), (0, 1), slot=slot)
        cut = cmd.index(str(launcher.python))
        cmd = [*cmd[:cut], str(launcher.python), "-I", "-c", "import sys; sys.exit(0)"]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=30, env=launcher.env(probe)
        )
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        return False, f"bwrap failed to start: {exc}"
    finally:
        launcher.release(slot)
        shutil.rmtree(probe, ignore_errors=True)
    if proc.returncode != 0:
        return False, f"bwrap failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}"
    return True, "ok"


def choose_launcher(mode: str = "auto", protect: list[Path] | None = None) -> tuple[Launcher, str]:
    """The one place where a grading run's launcher (its sandbox tier) is chosen.

    The tiers, best first: ``bwrap`` (:class:`SandboxLauncher`), ``uid-only`` (root without
    namespaces, e.g. Gradescope's container: :class:`autograder.seam.uidonly.UidOnlyLauncher`)
    and ``none`` (:class:`autograder.seam.launcher.PlainLauncher`). A launcher's ``tier``
    attribute names it.

    Args:
        mode: one of :data:`SANDBOX_MODES`: ``"auto"`` (the best tier that works here; the
            plain launcher with a loud note when neither confined tier does), ``"require"``
            (a confined tier, bwrap or uid-only, or an error) or ``"off"`` (the plain
            launcher, with the loud note).
        protect: folders of secrets (the reference, the checks) that the uid-only tier makes
            unreadable to other users (bubblewrap never shows them anyway).

    Returns:
        ``(launcher, note)`` where ``note`` is "", the uid-only note or the loud UNSANDBOXED
        warning.

    Raises:
        ValueError: ``mode`` is not one of :data:`SANDBOX_MODES`.
        SandboxUnavailable: ``mode`` is ``"require"`` and no confined tier works here.
    """
    if mode not in SANDBOX_MODES:
        raise ValueError(f"sandbox mode {mode!r}: expected one of {', '.join(SANDBOX_MODES)}")
    if mode == "off":
        return PlainLauncher(), f"{UNSANDBOXED} (--no-sandbox)"
    ok, why = bwrap_works()
    if ok:
        return SandboxLauncher(), ""
    try:
        launcher = UidOnlyLauncher()
    except RuntimeError as exc:
        why = f"{why}; uid-only tier: {exc}"
    else:
        launcher.protect(list(protect or []))
        return launcher, f"{UID_ONLY_NOTE} ({why})"
    if mode == "require":
        raise SandboxUnavailable(f"--require-sandbox: the sandbox is unavailable: {why}")
    return PlainLauncher(), f"{UNSANDBOXED} ({why})"
