"""Helpers of the questions' checks: reading and validating answers, the hints, the answer
key (authoritative grading only), the numeric judge and the capstone record.

No ``assert`` here: :func:`ensure` raises with the message alone (see ``questions.py``).
"""

from __future__ import annotations

import pytest

from autograder.capstone import answers as cap_answers
from autograder.checks._support import show
from autograder.experiments import (
    QUESTION_RUNS,
    answer_tolerance,
    mean_episodes,
)
from autograder.grading.plugin import KEY
from autograder.grading.reference import ReferenceMissing, reference
from autograder.grading.results import MANUAL, ON_SUBMISSION
from autograder.seam.errors import Problem
from autograder.seam.values import Array

MIN_SEEDS, MAX_SEEDS = 3, 5

LETTERS = ("A", "B", "C", "D")

HINTS = {
    "Q1_same_speed": (
        "is anything in the network, the environment or the update specific to action 2? "
        "Compare the gap between your two numbers with their spread over seeds (`target` plot)."
    ),
    "Q3_choice": (
        "what gradient does an episode that sampled a wrong action give when its reward is 0.0? "
        "And what happens to the other actions' probabilities when the target's logit rises "
        "(softmax)? Compare the curves of your `wrong_reward` plot."
    ),
    "CU1_choice": (
        "re-read 'Putting It All Together': the state is the context so far; what does the "
        "model pick at each time step?"
    ),
    "CU2_choice": (
        "re-read section 5 'PPO: Stable Policy Updates' (the soup and the salt shaker): what "
        "does the ratio clip protect the policy from?"
    ),
    "CAP3_choice": (
        "compare your two runs' reward-model scores: what does the policy give up by staying "
        "near the SFT model, and what does it get for it? (lesson, section 6 and the summary)"
    ),
    "CU3_choice": (
        "re-read section 6: what can a policy do to an *imperfect* reward model, and what do "
        "the KL penalty and verifiable rewards guard against?"
    ),
}


class NotAnswered(Problem, AssertionError):
    """The answer is still blank: 0 points, verdict "not answered"."""

    verdict = "not answered"

    def render(self) -> str:
        return self.message


class Pending(Problem, Exception):
    """No automatic verdict: graded by a person, or by the grader that holds the key."""

    def __init__(self, verdict: str, message: str) -> None:
        super().__init__(message)
        self.verdict = verdict

    def render(self) -> str:
        return self.message


def ensure(condition: bool, message: str) -> None:
    """``assert`` without pytest's rewriting: the message alone, never the compared values.

    A rewritten ``assert answer == key`` would print the key next to the message.
    """
    if not condition:
        raise AssertionError(message)


# -- reading answers ------------------------------------------------------------------------------
def read(impl, name: str) -> object:
    """The value of ``name`` in the student's questions.py, as plain data."""
    from autograder.seam.errors import StudentError

    try:
        return getattr(impl, name).value()
    except StudentError as err:
        if err.is_a("AttributeError"):
            raise AssertionError(
                f"{name} is missing from questions.py (keep every answer variable)"
            ) from None
        raise AssertionError(f"{name}: could not read it ({err.exc}: {err.msg})") from None


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def expect_seeds(value: object, name: str) -> list[int]:
    if value is None:
        raise AssertionError(
            f"{name} is not answered: list the {MIN_SEEDS} to {MAX_SEEDS} seeds you ran"
        )
    ok = (
        isinstance(value, (list, tuple))
        and MIN_SEEDS <= len(value) <= MAX_SEEDS
        and all(type(s) is int and 0 <= s < 2**31 for s in value)
        and len(set(value)) == len(value)
    )
    ensure(
        ok,
        f"{name}: expected a list of {MIN_SEEDS} to {MAX_SEEDS} different ints in [0, 2**31), "
        f"e.g. [0, 1, 2, 3, 4]; got {show(value)}",
    )
    return list(value)


def expect_episodes(value: object, name: str) -> int | None:
    if value is None or (type(value) is int):
        return value
    if isinstance(value, Array) and value.lib == "npscalar" and value.value.dtype.kind in "iu":
        return int(value.value)
    if isinstance(value, float):
        raise AssertionError(
            f"{name}: expected an int (or None), got the float {value!r}; round it"
        )
    raise AssertionError(f"{name}: expected an int (or None), got {show(value)}")


def expect_choice(value: object, name: str) -> str:
    if is_blank(value):
        raise NotAnswered(f"{name} is not answered: one letter, {', '.join(LETTERS)}")
    text = value.strip().strip("().").upper() if isinstance(value, str) else None
    ensure(text in LETTERS, f"{name}: expected one letter, {', '.join(LETTERS)}; got {show(value)}")
    return text


# -- answer keys (authoritative grading only) -----------------------------------------------------
def answer_key(request: pytest.FixtureRequest, name: str) -> object | None:
    """The key for ``name``, or None where this run may not use it (then: graded on submission)."""
    if request.config.stash[KEY].mode != "grading":
        return None
    try:
        return getattr(reference("questions"), name)  # solutions/questions.py
    except ReferenceMissing:
        return None


def grade_choice(request: pytest.FixtureRequest, name: str, answer: object) -> None:
    key = answer_key(request, name)
    if key is None:
        raise Pending(
            ON_SUBMISSION,
            f"{name} = {answer!r} is recorded; it is checked when your work is graded",
        )
    ensure(answer == key, f"{name} = {answer!r} is not the best answer. Hint: {HINTS[name]}")


def manual(impl, name: str) -> None:
    value = read(impl, name)
    if is_blank(value):
        raise NotAnswered(f"{name} is not answered: a few sentences in your own words")
    ensure(isinstance(value, str), f"{name}: expected a str, got {show(value)}")
    text = " ".join(value.split())
    quoted = text if len(text) <= 800 else text[:797] + "..."
    raise Pending(MANUAL, f"{name} ({len(text.split())} words) is read by a person:\n> {quoted}")


# -- numbers --------------------------------------------------------------------------------------
def judge(
    var: str,
    claimed: int | None,
    per_seed: list[int | None],
    seeds_var: str,
    seeds: list[int],
) -> str | None:
    """What is wrong with a numeric answer (None: nothing). Pure; unit-tested.

    The answer must be what the student's own ``train_bandit`` gives on their seeds: the
    rounded mean of the episodes to 90 %, or None when a seed never gets there.
    """
    setting, _ = QUESTION_RUNS[var]
    mine = mean_episodes(per_seed)
    per = ", ".join("never" if v is None else str(v) for v in per_seed)
    runs = f"your train_bandit on {seeds_var} = {seeds} gives {mine} (per seed: {per})"
    budget = setting.episodes
    if claimed is None and mine is not None:
        return f"{var} = None says 90 % is never reached within {budget} episodes, but {runs}"
    if claimed is not None and mine is None:
        return (
            f"{var} = {claimed}, but {runs}: a seed that never reaches 90 % within {budget} "
            "episodes makes the answer None"
        )
    if claimed is not None and abs(claimed - mine) > answer_tolerance(mine):
        way = "higher" if claimed > mine else "lower"
        return (
            f"{var} = {claimed} is {way} than what your own code produces: {runs}. Report what "
            "your train_bandit gives (`python -m autograder experiments` prints it)"
        )
    return None


# -- capstone: the student's own run record ---------------------------------------------------------
def answers_of(impl, names: tuple[str, ...]) -> dict[str, object]:
    """The answers ``names``; NotAnswered if all are blank, a failure if only some are."""
    raw = {n: read(impl, n) for n in names}
    blank = [n for n, v in raw.items() if is_blank(v)]
    if len(blank) == len(names):
        raise NotAnswered(f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} not answered")
    ensure(not blank, f"{', '.join(blank)} not answered (each needs an answer)")
    return {n: plain_number(v) for n, v in raw.items()}


def plain_number(value: object) -> object:
    """A numpy scalar as a Python number; anything else unchanged."""
    if isinstance(value, Array) and value.lib == "npscalar" and value.value.dtype.kind in "iuf":
        return value.value.item()
    return value


def capstone_record(impl) -> dict:
    """The student's ``capstone_record.json``, valid for the files they submit, or a failure."""
    try:
        return cap_answers.load(impl.submission)
    except cap_answers.RecordError as exc:
        raise AssertionError(str(exc)) from None


def figures(rec: dict, kl_coef: float) -> dict:
    try:
        return cap_answers.setting(rec, kl_coef)
    except cap_answers.RecordError as exc:
        raise AssertionError(str(exc)) from None


def compare(given: dict[str, object], names: tuple[str, ...], figs: dict, key: str) -> None:
    """Each of ``names`` (``CAPn_<figure>``) against ``figs[<figure>]``, within the tolerance."""
    problems = []
    for name in names:
        figure = name.split("_", 1)[1]
        claimed = cap_answers.as_number(given[name], name)
        actual = float(figs[figure])
        where = f'settings["{key}"]["{figure}"]'
        if p := cap_answers.judge_number(
            name, claimed, actual, cap_answers.NUMBER_TOLERANCE, where
        ):
            problems.append(p)
    ensure(not problems, "\n".join(problems))
