"""The verdicts of a check: one vocabulary for the seam, the plugin, reports and results.json.

A :class:`Verdict` is a ``str`` (``Verdict.PASSED == "passed"``), so it prints and serialises
as its value; ``results.json`` carries it per test in ``extra_data.verdict`` and nothing
ever parses a verdict back out of a message.
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """Why a check scored what it scored."""

    PASSED = "passed"
    FAILED = "failed"  # an assertion of the check failed: the answer is wrong
    NOT_IMPLEMENTED = "not implemented"  # the student's function raises NotImplementedError
    NOT_ANSWERED = "not answered"  # a question's answer is still blank
    ERROR = "error"  # the student's code raised
    TIMEOUT = "timeout"  # the student's code ran past its budget
    CRASHED = "crashed"  # the worker process died
    IMPORT_ERROR = "import error"  # the student's module does not import
    BAD_REPLY = "bad reply"  # the worker sent a malformed frame or value
    MISSING_FILE = "missing file"  # the student's module is not in the submission
    CHECK_ERROR = "check error"  # the check itself failed (a grader bug, never the student's)
    NOT_RUN = "not run"  # the check never ran (counted as failed)
    MANUAL = "needs manual grading"  # a free-text answer: a person awards its points
    ON_SUBMISSION = "graded on submission"  # the answer key is only in the authoritative grader


TODO = (Verdict.NOT_IMPLEMENTED, Verdict.NOT_ANSWERED)
"""Verdicts of work not started yet: shown as ``TODO``, never as a failure."""
PENDING = (Verdict.MANUAL, Verdict.ON_SUBMISSION)
"""Verdicts without an automatic score (not counted in the total)."""
PROBLEMS = (
    Verdict.IMPORT_ERROR,
    Verdict.CRASHED,
    Verdict.TIMEOUT,
    Verdict.BAD_REPLY,
    Verdict.MISSING_FILE,
    Verdict.CHECK_ERROR,
)
"""Verdicts that mean an exercise could not be graded normally (reported by ``grade-batch``)."""
