"""Per-call budgets that count the worker's CPU time, with a wall-clock backstop.

A call's ``timeout`` is CPU seconds used by the worker's processes (read from
``/proc/<pid>/stat``), so a busy machine, a descheduled or a SIGSTOPped worker never
loses a call; a worker that sleeps or blocks is stopped by the wall-clock backstop
(:func:`backstop`). The worker's processes are the launcher's process and its
descendants (with bubblewrap, python is a grandchild of the ``bwrap`` process). Where
``/proc`` is missing (macOS) the budget is wall-clock time, as before.

Cost: one ``stat`` read per known process when a call starts; the process tree is
scanned again only when the wall deadline of a call passes.
"""

from __future__ import annotations

import os
import time

try:
    TICK = float(os.sysconf("SC_CLK_TCK"))
except (AttributeError, ValueError, OSError):  # not a POSIX system
    TICK = 100.0
PROC = "/proc"
MIN_STEP = 0.05  # seconds between two looks at a worker that is about to run out of CPU time


WALL_SLACK = 30.0  # seconds of waiting allowed beyond a call's CPU budget


def backstop(timeout: float, slack: float = WALL_SLACK) -> float:
    """The wall-clock limit of a call whose CPU budget is ``timeout`` seconds.

    Args:
        timeout: the call's CPU budget in seconds.
        slack: wall seconds allowed beyond the budget.

    Returns:
        ``max(3 * timeout, timeout + slack)`` seconds.
    """
    return max(3.0 * timeout, timeout + slack)


def proc_available() -> bool:
    """Whether CPU times can be read from ``/proc`` here (Linux)."""
    return os.path.isfile(os.path.join(PROC, "self", "stat"))


def stat_fields(pid: int) -> tuple[int, float] | None:
    """``(ppid, cpu_seconds)`` of one process, or None if it is gone or unreadable.

    ``cpu_seconds`` is user + system time of all its threads plus that of its reaped children.
    """
    try:
        with open(os.path.join(PROC, str(pid), "stat"), "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(b")") + 2 :].split()  # the command name may hold spaces or parens
    try:
        ppid = int(rest[1])
        ticks = int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
    except (IndexError, ValueError):
        return None
    return ppid, ticks / TICK


def descendants(root: int) -> list[int]:
    """``root`` and every live process below it (one scan of ``/proc``)."""
    children: dict[int, list[int]] = {}
    try:
        names = os.listdir(PROC)
    except OSError:
        return [root]
    for name in names:
        if not name.isdigit():
            continue
        fields = stat_fields(int(name))
        if fields is not None:
            children.setdefault(fields[0], []).append(int(name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


class ProcessTree:
    """The CPU time of a worker's processes (the launcher's process and its descendants).

    Args:
        root: pid of the process the launcher started.
    """

    def __init__(self, root: int) -> None:
        self.root = root
        self.enabled = proc_available()
        self.pids: list[int] = [root]
        self.settled = False  # rescanned once the worker answered (python is running by then)

    def sample(self) -> dict[int, float]:
        """CPU seconds of each known process (cheap: no scan of ``/proc``)."""
        out = {}
        for pid in self.pids:
            fields = stat_fields(pid)
            if fields is not None:
                out[pid] = fields[1]
        return out

    def rescan(self) -> dict[int, float]:
        """Find the processes again (new children, exec'd python) and sample them."""
        self.pids = descendants(self.root) if self.enabled else [self.root]
        return self.sample()

    def settle(self) -> None:
        """Find the worker's processes once, after its first answer (a no-op afterwards)."""
        if not self.settled:
            self.settled = True
            self.rescan()


class BudgetSpent(Exception):
    """A call's budget is spent: ``kind`` is ``"cpu"`` or ``"wall"`` (the backstop came first).

    Args:
        kind: which limit was reached.
        seconds: that limit, in seconds.
        used: CPU seconds the worker used during the call (None where they cannot be read).
    """

    def __init__(self, kind: str, seconds: float, used: float | None) -> None:
        super().__init__(kind, seconds, used)
        self.kind = kind
        self.seconds = seconds
        self.used = used


class CallClock:
    """The budget of one call: ``timeout`` CPU seconds, ``backstop(timeout)`` wall seconds.

    Use :meth:`wait` as the ``select`` timeout; it raises :class:`BudgetSpent` once the
    budget is spent.

    Args:
        timeout: the call's CPU budget in seconds.
        tree: the worker's processes, or None to count wall-clock time only.
        slack: see :func:`backstop`.
    """

    def __init__(self, timeout: float, tree: ProcessTree | None, slack: float = WALL_SLACK) -> None:
        self.timeout = timeout
        self.start = time.monotonic()
        self.tree = tree if tree is not None and tree.enabled else None
        self.base = self.tree.sample() if self.tree else {}
        self.check_at = self.start + timeout
        self.limit = self.start + (backstop(timeout, slack) if self.tree else timeout)

    def used(self) -> float:
        """CPU seconds the worker's processes used since the call started."""
        now = self.tree.rescan()
        return sum(cpu - self.base.get(pid, 0.0) for pid, cpu in now.items())

    def wait(self) -> float:
        """Seconds to wait before looking again; raises BudgetSpent when the budget is spent."""
        now = time.monotonic()
        if now < self.check_at:
            return self.check_at - now
        if now >= self.limit:
            used = self.used() if self.tree else None
            raise BudgetSpent("wall", self.limit - self.start, used)
        used = self.used()
        if used >= self.timeout:
            raise BudgetSpent("cpu", self.timeout, used)
        self.check_at = min(self.limit, now + max(self.timeout - used, MIN_STEP))
        return self.check_at - now
