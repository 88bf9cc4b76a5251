"""Killing a grading process with everything it started (``grade-batch``; Linux ``/proc``)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

# -- killing process trees ----------------------------------------------------------------


def ppid_map() -> dict[int, int]:
    """pid -> ppid of every process (Linux /proc; empty elsewhere)."""
    out = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
            out[int(name)] = int(stat[stat.rindex(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return out


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for child, parent in ppid_map().items():
        children.setdefault(parent, []).append(child)
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL a grading process, its process group and every process it started.

    Sandboxed workers die with their grading process anyway (``--die-with-parent``
    and a PID namespace); this also catches plain (``--no-sandbox``) workers, which
    run in sessions of their own.
    """
    tree = descendants(proc.pid)
    own = os.getpgrp()
    for pid in [proc.pid, *tree]:
        with contextlib.suppress(OSError):
            pgid = os.getpgid(pid)
            if pgid != own:
                os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def become_subreaper() -> bool:
    """Make orphaned descendants (escaped daemons) our children, so they can be killed."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
