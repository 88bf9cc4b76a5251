"""nbgrader configuration for the rl4llm course (nbgrader 0.9.6).

Written into a course folder by ``python -m autograder nbgrader-init COURSE``; run
every ``nbgrader`` command from that folder. Each setting below avoids one trap
measured on nbgrader 0.9.6 (see ``docs/instructors.md``):

* per-cell timeouts (nbgrader has no per-notebook timeout): grade cells run a whole
  exercise's checks, so they get minutes; training exercises get more; every other
  cell (the student's own) gets ``RL4LLM_CELL_TIMEOUT`` seconds (default 120);
* any stderr output in a grade cell scores 0: the checks write none, and library
  warnings (torch's UserWarnings, NNPACK) are dropped by ``IgnorePattern``;
* a deleted grade cell is "needs manual grade" forever unless nbgrader puts it
  back: ``OverwriteCells.add_missing_cells``;
* hidden checks leak into the feedback HTML through the cell source and through
  IPython's verbose tracebacks: ``ClearHiddenTests`` in ``GenerateFeedback`` plus a
  kernel with ``--InteractiveShell.xmode=Minimal``;
* solution stubs are nbgrader's default, the same text as ``course/``.

The in-kernel autograde is *not* authoritative (student code and grade cells share
one kernel). Afterwards run ``python -m autograder nbgrader-regrade .``: it grades
every submission again in the sandbox, without a kernel, and writes those scores
into the gradebook.
"""

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

from autograder.course import GRADE_CELL_TIMEOUT as COURSE_GRADE_CELL_TIMEOUT
from autograder.course import SLOW_EXERCISES

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file

c.CourseDirectory.course_id = "rl4llm"

# -- solution stubs: nbgrader's default, identical to course/ ------------------------------------
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# -- timeouts, per cell, keyed by the instructor's grade ids ---------------------------------------
# Grade ids are "<exercise>-<name>"; at autograde nbgrader has already restored every locked
# cell (and its metadata) from the gradebook, and stripped unknown grade ids, so a student
# cannot give their own cell a grade cell's or a given cell's timeout.
CELL_TIMEOUT = int(os.environ.get("RL4LLM_CELL_TIMEOUT", "120"))  # the student's own cells
GRADE_CELL_TIMEOUT = int(os.environ.get("RL4LLM_GRADE_CELL_TIMEOUT", COURSE_GRADE_CELL_TIMEOUT))
GIVEN_CELL_TIMEOUT = 300  # locked cells: the course's own code (imports torch, ...)
SLOW = SLOW_EXERCISES  # autograder/course.toml: grading these trains policies


def cell_timeout(cell):
    """Seconds this cell may run before nbgrader interrupts it."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    exercise = meta.get("grade_id", "").partition("-")[0]
    if meta.get("grade") and not meta.get("solution"):
        return max(SLOW.get(exercise, GRADE_CELL_TIMEOUT), GRADE_CELL_TIMEOUT)
    if meta.get("locked"):
        return GIVEN_CELL_TIMEOUT
    if meta.get("solution") and exercise == "questions":
        return max(SLOW["questions"], CELL_TIMEOUT)  # answers may run experiments
    return CELL_TIMEOUT


c.Execute.timeout = CELL_TIMEOUT
c.Execute.timeout_func = cell_timeout
c.Execute.interrupt_on_timeout = True

# -- no traceback context: tracebacks must not show check or hidden-test source ----------------------
c.Execute.extra_arguments = ["--InteractiveShell.xmode=Minimal"]

# -- stderr: nbgrader scores a grade cell with any stderr output 0 ---------------------------------
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?m)(\w*Warning\b|^\[W[\d ]|NNPACK)"

# -- a deleted grade cell is put back and run (instead of "needs manual grade") --------------------
c.OverwriteCells.add_missing_cells = True

# -- feedback HTML without hidden checks ---------------------------------------------------------------
c.GenerateFeedback.preprocessors = [ClearHiddenTests, GetGrades, CSSHTMLHeaderPreprocessor]
