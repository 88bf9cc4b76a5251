"""``course.toml``: the course as data (assignments, their exercises in order, cell timeouts).

Points are not here: they live in ``rubric.toml`` (:mod:`autograder.grading.rubric`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from autograder import PACKAGE_DIR

COURSE_PATH = PACKAGE_DIR / "course.toml"


@dataclass(frozen=True)
class Assignment:
    """One notebook of the nbgrader course.

    Attributes:
        name: the assignment (and notebook) name, e.g. ``"a1_policy_gradients"``.
        title: the notebook's heading.
        exercises: the exercise modules it holds, in order.
        questions: the question groups of ``solutions/questions.py`` it ends with.
        intro: a paragraph under the heading (Markdown).
        carried: functions of earlier assignments this notebook needs, module -> names
            (the capstone's integration check runs the student's own ex07/ex09/ex10
            functions; a notebook is graded on its own, so the student pastes them in).
    """

    name: str
    title: str
    exercises: tuple[str, ...]
    questions: tuple[str, ...] = ()
    intro: str = ""
    carried: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _load() -> dict:
    return tomllib.loads(COURSE_PATH.read_text(encoding="utf-8"))


_DATA = _load()

ASSIGNMENTS: tuple[Assignment, ...] = tuple(
    Assignment(
        a["name"],
        a["title"],
        tuple(a["exercises"]),
        tuple(a.get("questions", ())),
        a.get("intro", ""),
        tuple((m, tuple(names)) for m, names in a.get("carried", {}).items()),
    )
    for a in _DATA["assignments"]
)
GRADE_CELL_TIMEOUT: int = int(_DATA["timeouts"]["grade_cell"])
"""Seconds a grade cell may run (it grades a whole exercise)."""
SLOW_EXERCISES: dict[str, int] = {k: int(v) for k, v in _DATA["timeouts"]["exercises"].items()}
"""Exercise -> seconds, for the exercises whose grading trains policies."""


def assignment_of(name: str) -> Assignment:
    """The assignment called ``name``.

    Raises:
        KeyError: no such assignment.
    """
    for a in ASSIGNMENTS:
        if a.name == name:
            return a
    raise KeyError(name)
