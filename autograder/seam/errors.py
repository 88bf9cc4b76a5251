"""What can go wrong on the student's side of the seam, as grader-side exceptions.

Each carries a one-line ``verdict`` for the score table and, where useful, the
student's own traceback frames (never the grader's).
"""

from __future__ import annotations

from autograder.verdict import Verdict


class Problem:
    """Mixin for every verdict-carrying failure of student code (see the two bases below)."""

    verdict = Verdict.ERROR

    def __init__(self, message: str, frames: list | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.frames = frames or []

    def render(self) -> str:
        """The message plus the student's frames, innermost last."""
        lines = [self.message]
        if self.frames:
            lines.append("  your code (most recent call last):")
            for filename, lineno, func, text in self.frames:
                lines.append(f"    {filename}:{lineno} in {func}: {text}")
        return "\n".join(lines)


class StudentProblem(Problem, BaseException):
    """The check cannot go on: not implemented, import error, timeout, crash, bad reply.

    A ``BaseException`` on purpose: hypothesis then stops at once instead of
    shrinking (re-running a hung or missing function hundreds of times), and no
    ``except Exception`` in a check can swallow it.
    """


class StudentError(Problem, Exception):
    """The student's function raised an exception on some input.

    An ordinary ``Exception``, so hypothesis shrinks it to a minimal failing input.
    """

    def __init__(self, exc: str, mro: list[str], msg: str, frames: list, where: str) -> None:
        text = f"{where} raised {exc}" + (f": {msg}" if msg else "")
        super().__init__(text, frames)
        self.exc = exc
        self.mro = mro
        self.msg = msg

    def is_a(self, name: str) -> bool:
        """Whether the student's exception is ``name`` or a subclass of it."""
        return name in self.mro


class NotImplementedByStudent(StudentProblem):
    """The stub's ``raise NotImplementedError()`` is still there."""

    verdict = Verdict.NOT_IMPLEMENTED

    def render(self) -> str:
        return self.message


class StudentTimeout(StudentProblem):
    """A call used up its CPU budget, or its wall-clock backstop (see ``seam/cputime.py``)."""

    verdict = Verdict.TIMEOUT


class WorkerCrashed(StudentProblem):
    """The worker process died (``os._exit``, a segfault, a memory or CPU limit)."""

    verdict = Verdict.CRASHED


class ImportFailed(StudentProblem):
    """The student's module could not be imported (syntax error, missing file, ...)."""

    verdict = Verdict.IMPORT_ERROR


class BadReply(StudentProblem):
    """The worker sent something that is not a valid answer."""

    verdict = Verdict.BAD_REPLY
