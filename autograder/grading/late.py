"""Late submissions through nbgrader's own mechanisms: the due date in the gradebook
(``nbgrader db assignment add A --duedate ...``), the submission's ``timestamp.txt`` and a
``LateSubmissionPlugin``.

nbgrader assigns the late penalty during ``autograde`` from the in-kernel scores; after
``nbgrader-regrade`` changes the scores (or when there was no autograde at all),
:func:`assign_late_penalty` recomputes it from the authoritative scores with the plugin the
course configures (``c.AssignLatePenalties.plugin_class``). :class:`PercentPerDay` is such a
plugin: a fraction of the notebook's score per started day late.
"""

from __future__ import annotations

import math
from pathlib import Path

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float


class PercentPerDay(LateSubmissionPlugin):
    """Deduct ``fraction_per_day`` of the notebook's score per started day late (at most all)."""

    fraction_per_day = Float(0.1, help="fraction of the score deducted per started day").tag(
        config=True
    )

    def late_submission_penalty(self, student_id: str, score: float, total_seconds: float) -> float:
        """The points to deduct.

        Args:
            student_id: the student (unused).
            score: the notebook's score before the penalty.
            total_seconds: how late the submission is.

        Returns:
            ``min(score, score * fraction_per_day * started days)``.
        """
        days = math.ceil(total_seconds / 86400)
        return min(score, score * self.fraction_per_day * days)


def course_plugin(course: Path) -> LateSubmissionPlugin:
    """The late-submission plugin the course's ``nbgrader_config.py`` configures."""
    from nbgrader.preprocessors import AssignLatePenalties
    from traitlets.config.loader import PyFileConfigLoader

    cfg_file = Path(course) / "nbgrader_config.py"
    config = (
        PyFileConfigLoader(cfg_file.name, path=str(cfg_file.parent)).load_config()
        if cfg_file.is_file()
        else None
    )
    pre = AssignLatePenalties(config=config) if config is not None else AssignLatePenalties()
    pre.init_plugin()
    return pre.plugin_inst


def assign_late_penalty(gb, plugin, student: str, assignment: str, notebook: str) -> float:
    """Recompute a notebook's late penalty from its current (authoritative) score.

    Args:
        gb: an open ``nbgrader.api.Gradebook``.
        plugin: from :func:`course_plugin`.
        student, assignment, notebook: which submitted notebook.

    Returns:
        The penalty written into the gradebook (0 when on time or no penalty applies).
    """
    sub = gb.find_submission(assignment, student)
    nb = gb.find_submission_notebook(notebook, assignment, student)
    nb.late_submission_penalty = None
    penalty = 0.0
    if sub.total_seconds_late > 0:
        got = plugin.late_submission_penalty(student, nb.score, sub.total_seconds_late)
        if got is not None:
            penalty = min(max(float(got), 0.0), float(nb.score))
            nb.late_submission_penalty = penalty
    gb.db.commit()
    return penalty


def read_timestamp(submitted_notebook: Path) -> str | None:
    """The ``timestamp.txt`` next to a submitted notebook (None if there is none)."""
    path = Path(submitted_notebook).parent / "timestamp.txt"
    return path.read_text().strip() or None if path.is_file() else None
