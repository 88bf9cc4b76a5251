"""Parent-side outcomes of a grading run: what passed, what failed and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.grading.rubric import Rubric
from autograder.verdict import PENDING, Verdict

MANUAL = Verdict.MANUAL
ON_SUBMISSION = Verdict.ON_SUBMISSION


def check_title(check_id: str, title: str | None = None) -> str:
    """The one rule for a check's title, on every screen (terminal, results.json, notebooks).

    Args:
        check_id: the check function's name, ``test_...``.
        title: the text of its ``@pytest.mark.title("...")`` marker, if any; checks whose
            sentence holds numbers or punctuation carry one ("costs -0.01 each"), since an
            identifier cannot.

    Returns:
        The explicit title, or the id without ``test_`` and with spaces for underscores.
    """
    if title:
        return title
    text = f" {check_id.removeprefix('test_').replace('_', ' ')} "
    for words, name in SPELLED:
        text = text.replace(f" {words} ", f" {name} ")
    return text.strip()


# Words an identifier must spell in lower case, as a sentence writes them.
SPELLED = (
    ("value error", "ValueError"),
    ("runtime error", "RuntimeError"),
    ("type error", "TypeError"),
    ("0 d", "0-d"),
)


@dataclass
class CheckResult:
    """The outcome of one graded check (all its parametrized cases together)."""

    exercise: str
    check: str
    max_points: float
    passed: bool = False
    verdict: Verdict = Verdict.NOT_RUN
    output: str = ""
    hidden: bool = False
    manual: bool = False  # points awarded by a person (rubric.toml `manual`), never automatically

    @property
    def score(self) -> float:
        return self.max_points if self.passed and not self.manual else 0.0

    @property
    def counted(self) -> bool:
        """Whether the check is part of the automatic total (manual and pending ones are not)."""
        return not self.manual and self.verdict not in PENDING

    title_text: str = ""  # @pytest.mark.title("..."), when the check has one

    @property
    def title(self) -> str:
        """What the student reads: the check's explicit title, else its id as a sentence."""
        return check_title(self.check, self.title_text)


@dataclass
class ExerciseResult:
    name: str
    title: str
    checks: list[CheckResult] = field(default_factory=list)
    problem: str = ""  # e.g. "ex02_returns.py is missing" / "SyntaxError ..."

    @property
    def score(self) -> float:
        return sum(c.score for c in self.checks)

    @property
    def max_points(self) -> float:
        return sum(c.max_points for c in self.checks if c.counted)

    def count(self, verdict: str) -> int:
        return sum(c.verdict == verdict for c in self.checks)


@dataclass
class RunResult:
    """Everything a report needs."""

    exercises: list[ExerciseResult]
    submission: str = ""
    mode: str = "student"
    sandbox: str = ""
    tier: str = ""  # the sandbox tier that ran: "bwrap", "uid-only" or "none"
    seed: int | None = None
    notes: list[str] = field(default_factory=list)
    duration: float = 0.0

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def max_points(self) -> float:
        return sum(e.max_points for e in self.exercises)


def empty_run(rubric: Rubric, exercises: list[str]) -> dict[str, ExerciseResult]:
    """Every expected check of ``exercises``, initially "not run" (a failure)."""
    out = {}
    for name in exercises:
        ex = rubric.exercises[name]
        out[name] = ExerciseResult(
            name,
            ex.title,
            [
                CheckResult(name, check, pts, manual=check in ex.manual)
                for check, pts in ex.points.items()
            ],
        )
    return out
