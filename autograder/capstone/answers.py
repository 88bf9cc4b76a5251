"""Grading the capstone questions (CAP1-CAP3) against the student's own run record.

The questions ask what *the student's* RLHF run did, so their numbers are compared with
the ``capstone_record.json`` that ``python -m autograder capstone`` wrote for them
(:mod:`autograder.capstone.record`), never with the reference's run: PPO on a small LM
is noisy and a correct implementation may differ from the reference in unstated
choices, so no band could be fair. The record is read by the grader (the parent
process, not the sandboxed worker) from the submission folder, where the student puts
it next to ``questions.py`` (a notebook student next to the notebook: ingest copies it
into the graded folder, :mod:`autograder.ingest.companions`); it is accepted only when its
digest matches its content and its source hash matches the submitted functions
(``record.problem``), which ties the figures to the code being graded without re-running
minutes of PPO.

Everything here is pure or reads only that one file; ``autograder/checks/questions.py``
turns the messages into verdicts.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

from autograder.capstone import record
from autograder.capstone.student import RLHF_NEEDS

NEEDS = RLHF_NEEDS  # the functions the RLHF run calls, hashed (with what they use) into the record
NUMBER_TOLERANCE = 0.005  # a figure "within 0.005": 2 decimals are enough
DIFFERENCE_TOLERANCE = 0.01  # a difference of two figures, each possibly rounded
HOW = (
    "run `python -m autograder capstone --only rlhf` on the code you submit and submit "
    f"{record.RECORD_NAME} with it: next to questions.py (copy it from capstone/), or, from "
    "the a4 notebook, `python -m autograder capstone --notebook a4_capstone.ipynb --only rlhf`"
    " writes it next to the notebook (submit both files)"
)


class RecordError(Exception):
    """The submission has no usable record; the message says what to do."""


def load(folder: str | Path) -> dict:
    """The record in ``folder``, checked against the module files there.

    Args:
        folder: the submission folder (laid out like ``course/``).

    Returns:
        The record (a dict, as ``record.build`` made it).

    Raises:
        RecordError: missing, not a regular file, too big, not JSON, edited, or made for
            other source files.
    """
    path = Path(folder) / record.RECORD_NAME
    try:
        info = os.lstat(path)
    except OSError:
        raise RecordError(f"{record.RECORD_NAME} is missing from your submission: {HOW}") from None
    if not stat.S_ISREG(info.st_mode):
        raise RecordError(f"{record.RECORD_NAME} is not a regular file: {HOW}")
    if info.st_size > record.MAX_BYTES:
        raise RecordError(f"{record.RECORD_NAME} is too big to be a capstone record: {HOW}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RecordError(
            f"{record.RECORD_NAME} cannot be read ({type(exc).__name__}): {HOW}"
        ) from None
    problem = record.problem(data, folder, NEEDS)
    if problem is not None:
        raise RecordError(f"{record.RECORD_NAME}: {problem}; {HOW}")
    settings = data.get("settings")
    if not isinstance(settings, dict) or not all(isinstance(v, dict) for v in settings.values()):
        raise RecordError(f"{record.RECORD_NAME} has no figures: {HOW}")
    return data


def setting(rec: dict, kl_coef: float) -> dict:
    """The figures of ``kl_coef`` in ``rec``.

    Raises:
        RecordError: the record has no run with that ``kl_coef``.
    """
    key = f"kl_coef={kl_coef:g}"
    found = rec["settings"].get(key)
    if found is None:
        have = ", ".join(sorted(rec["settings"])) or "none"
        raise RecordError(f"your record has no run with {key} (it has: {have})")
    return found


def as_number(value: object, name: str) -> float:
    """``value`` as a finite float, or an AssertionError saying what was expected."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AssertionError(f"{name}: expected a number (a float), got {type(value).__name__}")
    if not math.isfinite(value):
        raise AssertionError(f"{name}: expected a finite number, got {value!r}")
    return float(value)


def judge_number(
    name: str, claimed: float, actual: float, tolerance: float, where: str
) -> str | None:
    """What is wrong with ``claimed`` for the record's ``actual`` (None: nothing). Pure."""
    if abs(claimed - actual) <= tolerance + 1e-9:
        return None
    way = "higher" if claimed > actual else "lower"
    return (
        f"{name} = {claimed:g} is {way} than your record's {where} = {actual:g} "
        f"(accepted within {tolerance:g})"
    )


def directions(gain: float, change: float) -> set[str]:
    """CAP1's letters that describe a run with this RM-score gain and accuracy change. Pure.

    A. score up, accuracy up; B. score up, accuracy down; C. both down; D. score down,
    accuracy up. A figure of exactly 0 fits either direction.
    """
    ups = {True, False} if gain == 0 else {gain > 0}
    accs = {True, False} if change == 0 else {change > 0}
    table = {(True, True): "A", (True, False): "B", (False, False): "C", (False, True): "D"}
    return {table[(u, a)] for u in ups for a in accs}


def sign_words(value: float) -> str:
    """``rose (+0.123)``, ``fell (-0.123)`` or ``did not change (0)``."""
    if value == 0:
        return "did not change (0)"
    return f"{'rose' if value > 0 else 'fell'} ({value:+.3f})"


def truths(smaller: float, larger: float) -> set[bool]:
    """The answers that fit "is ``smaller`` < ``larger``": both when they are equal. Pure."""
    return {True, False} if smaller == larger else {smaller < larger}
