"""Checks for the graded questions (``course/questions.py``).

Three kinds of answer, three ways of grading:

* **Numbers** (Q1, Q2): the student's own ``train_bandit`` is re-run, through the
  worker, on the seeds they list, with the settings of
  :data:`autograder.experiments.QUESTION_RUNS`. The number must be what their code
  produces (within :func:`~autograder.experiments.answer_tolerance`): the questions ask
  what the student observed. It is never compared with a band from the reference: a
  correct ``train_bandit`` with another hidden width or another order of the optimiser
  calls learns at its own speed, and whether ``train_bandit`` learns as the lesson says
  is graded once, by ex04's checks. (The reference's bands,
  ``benchmarks/question_bands.json``, not shipped, serve the instructors' tools only.)
  A run of byte-identical files with the same settings is re-used rather than re-run
  (:func:`rerun`; ``autograder/grading/runcache.py`` says what keys it and who may read it).
* **Choices** (Q1's yes/no, Q3, CU1-CU3): compared with the answer key, which is the
  reference ``solutions/questions.py``. The student release has no ``solutions/``, so
  the letters are not readable there; the key is used only in authoritative grading
  (``python -m autograder grade``). Anywhere else a valid answer is reported as
  "graded on submission" and left out of the total. A wrong choice gets a hint, never
  the letter.
* **Capstone** (CAP1-CAP3): answered from the student's own RLHF run, which takes
  minutes, so it is never re-run here. ``python -m autograder capstone`` writes
  ``capstone_record.json`` (figures, a hash of the ex06-ex11 files it ran, a digest over
  both); the student submits it next to ``questions.py``. The grader reads it from the
  submission folder in this (parent) process (:mod:`autograder.capstone.answers`): it must
  be unedited and made from the submitted files, and each number must be its figure within
  the tolerance the question states. CAP1's letter and CAP2's yes/no answers are checked
  against the directions in that record (so a correct run that did not hack loses nothing),
  CAP3's letter against the key. A missing or stale record fails with what to run; blank
  answers are "not answered" first.
* **Explanations** (Q3, CU2, CAP3): listed under ``manual`` in ``rubric.toml``; a person
  awards their points. The check only reports "needs manual grading" (or
  "not answered" for an empty one); it never gives or takes points.
"""

from __future__ import annotations

import json

import pytest

from autograder.capstone import answers as cap_answers
from autograder.checks._support import show
from autograder.checks.questions_support import (
    NotAnswered,
    answers_of,
    capstone_record,
    compare,
    ensure,
    expect_choice,
    expect_episodes,
    expect_seeds,
    figures,
    grade_choice,
    judge,
    manual,
    read,
)
from autograder.experiments import (
    QUESTION_RUNS,
    ExperimentError,
    check_curve,
    episodes_to_90,
)
from autograder.grading import runcache
from autograder.grading.plugin import KEY

EXERCISE = "questions"
CACHE_KIND = "questions"  # runcache kind of the train_bandit re-runs (see rerun)
TRAIN_TIMEOUT = 60.0  # CPU seconds of one train_bandit call (4000 episodes take about 5 s)


# Which answer variables each check reads, by group of the lesson ("lesson": the exercise
# questions after the runnable REINFORCE example; "understanding": check your understanding).
# For builders (e.g. the notebooks); the manual ones are rubric.toml's `manual` list.
ANSWERS: dict[str, tuple[str, ...]] = {
    "test_q1_episodes_to_90_with_target_2_and_target_0": (
        "Q1_seeds",
        "Q1_episodes_target2",
        "Q1_episodes_target0",
    ),
    "test_q1_does_target_0_learn_as_fast_as_target_2": ("Q1_same_speed",),
    "test_q2_episodes_to_90_at_learning_rate_1e_4": ("Q2_seeds", "Q2_episodes_lr_1e4"),
    "test_q3_what_happens_with_reward_0_for_wrong_actions": ("Q3_choice",),
    "test_q3_why_explained": ("Q3_why",),
    "test_cu1_what_plays_the_role_of_the_action_in_rlhf": ("CU1_choice",),
    "test_cu2_why_ppo_clips_its_objective": ("CU2_choice",),
    "test_cu2_why_explained": ("CU2_why",),
    "test_cu3_what_reward_hacking_is": ("CU3_choice",),
    "test_cap1_figures_without_kl_are_those_of_your_record": (
        "CAP1_rm_score_gain",
        "CAP1_accuracy_change",
        "CAP1_final_kl",
    ),
    "test_cap1_what_your_run_without_kl_did": ("CAP1_choice",),
    "test_cap2_figures_with_kl_are_those_of_your_record": (
        "CAP2_kl_coef",
        "CAP2_rm_score_gain",
        "CAP2_accuracy_change",
        "CAP2_final_kl",
    ),
    "test_cap2_what_the_kl_penalty_changed_in_your_run": (
        "CAP2_accuracy_held_better",
        "CAP2_kl_smaller",
    ),
    "test_cap3_what_the_kl_term_costs": ("CAP3_choice",),
    "test_cap3_the_reward_model_score_given_up_is_that_of_your_record": ("CAP3_rm_score_given_up",),
    "test_cap3_why_explained": ("CAP3_why",),
}
GROUPS: dict[str, tuple[str, ...]] = {
    "lesson": tuple(c for c in ANSWERS if c.startswith("test_q")),
    "understanding": tuple(c for c in ANSWERS if c.startswith("test_cu")),
    "capstone": tuple(c for c in ANSWERS if c.startswith("test_cap")),
}


# -- numbers --------------------------------------------------------------------------------------
def rerun(impl, var: str, seeds: list[int], student: bool = False) -> list[int | None]:
    """Episodes to 90 % of the student's train_bandit for ``var``'s setting, per seed.

    A run of the same code and settings is re-used (``autograder/grading/runcache.py``):
    ``student`` (``pytest course/``) keys it by the exercise modules; authoritative grading
    by every file of the submission and the grader's own sources, in its own entries.
    """
    setting, _ = QUESTION_RUNS[var]
    ex04 = impl.module("ex04_reinforce").using(timeout=TRAIN_TIMEOUT)
    kind = CACHE_KIND if student else runcache.graded_kind(CACHE_KIND)
    files = files_hash(impl.submission, student)  # once: it reads every file
    out = []
    for seed in seeds:
        kwargs = setting.kwargs(seed)
        name = run_key(impl.submission, kwargs, student, files)
        found, episodes = cached_episodes(name, kind)
        if not found:
            try:
                curve = check_curve(ex04.train_bandit(**kwargs), kwargs)
            except ExperimentError as exc:
                raise AssertionError(str(exc)) from None
            episodes = episodes_to_90(curve)
            runcache.store_json(kind, name, {"episodes_to_90": episodes})
        out.append(episodes)
    return out


def files_hash(submission, student: bool) -> str:
    """The part of a run's key that stands for the submission's files (see :func:`run_key`)."""
    return runcache.source_hash(submission) if student else runcache.submission_hash(submission)


def run_key(submission, kwargs: dict, student: bool = True, files: str | None = None) -> str:
    """The cache key of one ``train_bandit(**kwargs)`` run on ``submission``.

    Args:
        submission: the folder of the student's modules.
        kwargs: the call's keyword arguments.
        student: ``pytest course/``'s key (every ``ex*.py`` hashed) rather than the
            authoritative grader's (every file, and the grader's own sources).
        files: :func:`files_hash` of ``submission`` if already known.

    Returns:
        The key (:func:`autograder.grading.runcache.key`).
    """
    call = json.dumps(kwargs, sort_keys=True, default=repr)
    files = files if files is not None else files_hash(submission, student)
    if student:
        return runcache.key(files, call)
    return runcache.key(files, runcache.grader_hash(), call)


def cached_episodes(name: str, kind: str = CACHE_KIND) -> tuple[bool, int | None]:
    """The cached episodes to 90 % of the run ``name``; a malformed entry is not found.

    Args:
        name: the run's key (:func:`run_key`).
        kind: ``CACHE_KIND``, or the authoritative grader's (only its own entries are read).

    Returns:
        ``(found, episodes_to_90)``; ``episodes_to_90`` is None for a run that never got there.
    """
    data = runcache.load_json(kind, name, trusted=kind != CACHE_KIND)
    if data is None or "episodes_to_90" not in data:
        return False, None
    value = data["episodes_to_90"]
    if value is None or type(value) is int:
        return True, value
    return False, None


def numeric(impl, request: pytest.FixtureRequest, seeds_var: str, names: list[str]) -> None:
    raw_seeds = read(impl, seeds_var)
    raw = {n: read(impl, n) for n in names}
    if raw_seeds is None and all(v is None for v in raw.values()):
        raise NotAnswered(f"{seeds_var} and {', '.join(names)} are not answered")
    seeds = expect_seeds(raw_seeds, seeds_var)
    claimed = {n: expect_episodes(raw[n], n) for n in names}
    problems = []
    student = request.config.stash[KEY].mode == "student"
    for n in names:
        problem = judge(n, claimed[n], rerun(impl, n, seeds, student), seeds_var, seeds)
        if problem:
            problems.append(problem)
    ensure(not problems, "\n".join(problems))


# -- Q1 -------------------------------------------------------------------------------------------
def test_q1_episodes_to_90_with_target_2_and_target_0(impl, request):
    numeric(impl, request, "Q1_seeds", ["Q1_episodes_target2", "Q1_episodes_target0"])


def test_q1_does_target_0_learn_as_fast_as_target_2(impl, request):
    value = read(impl, "Q1_same_speed")
    if value is None:
        raise NotAnswered("Q1_same_speed is not answered: True or False")
    ensure(type(value) is bool, f"Q1_same_speed: expected True or False, got {show(value)}")
    grade_choice(request, "Q1_same_speed", value)


# -- Q2 -------------------------------------------------------------------------------------------
def test_q2_episodes_to_90_at_learning_rate_1e_4(impl, request):
    numeric(impl, request, "Q2_seeds", ["Q2_episodes_lr_1e4"])


# -- Q3 -------------------------------------------------------------------------------------------
def test_q3_what_happens_with_reward_0_for_wrong_actions(impl, request):
    grade_choice(request, "Q3_choice", expect_choice(read(impl, "Q3_choice"), "Q3_choice"))


def test_q3_why_explained(impl):
    manual(impl, "Q3_why")


# -- check your understanding ---------------------------------------------------------------------
def test_cu1_what_plays_the_role_of_the_action_in_rlhf(impl, request):
    grade_choice(request, "CU1_choice", expect_choice(read(impl, "CU1_choice"), "CU1_choice"))


def test_cu2_why_ppo_clips_its_objective(impl, request):
    grade_choice(request, "CU2_choice", expect_choice(read(impl, "CU2_choice"), "CU2_choice"))


def test_cu2_why_explained(impl):
    manual(impl, "CU2_why")


def test_cu3_what_reward_hacking_is(impl, request):
    grade_choice(request, "CU3_choice", expect_choice(read(impl, "CU3_choice"), "CU3_choice"))


# -- capstone: checked against the student's own run record ---------------------------------------


def test_cap1_figures_without_kl_are_those_of_your_record(impl):
    names = ("CAP1_rm_score_gain", "CAP1_accuracy_change", "CAP1_final_kl")
    compare(answers_of(impl, names), names, figures(capstone_record(impl), 0.0), "kl_coef=0")


def test_cap1_what_your_run_without_kl_did(impl):
    answer = expect_choice(read(impl, "CAP1_choice"), "CAP1_choice")
    figs = figures(capstone_record(impl), 0.0)
    gain, change = float(figs["rm_score_gain"]), float(figs["accuracy_change"])
    ensure(
        answer in cap_answers.directions(gain, change),
        f"CAP1_choice = {answer!r} does not describe your run: in your record (kl_coef=0) the "
        f"reward-model score {cap_answers.sign_words(gain)} and the true accuracy "
        f"{cap_answers.sign_words(change)}",
    )


def test_cap2_figures_with_kl_are_those_of_your_record(impl):
    given = answers_of(
        impl, ("CAP2_kl_coef", "CAP2_rm_score_gain", "CAP2_accuracy_change", "CAP2_final_kl")
    )
    coef = cap_answers.as_number(given["CAP2_kl_coef"], "CAP2_kl_coef")
    ensure(coef > 0, f"CAP2_kl_coef: expected the positive kl_coef of your run, got {coef:g}")
    rec = capstone_record(impl)
    names = ("CAP2_rm_score_gain", "CAP2_accuracy_change", "CAP2_final_kl")
    compare(given, names, figures(rec, coef), f"kl_coef={coef:g}")


def test_cap2_what_the_kl_penalty_changed_in_your_run(impl):
    names = ("CAP2_accuracy_held_better", "CAP2_kl_smaller")
    given = answers_of(impl, names)
    for name in names:
        ensure(
            type(given[name]) is bool, f"{name}: expected True or False, got {show(given[name])}"
        )
    coef = cap_answers.as_number(read(impl, "CAP2_kl_coef") or 0, "CAP2_kl_coef")
    ensure(coef > 0, "CAP2_kl_coef: answer it first (the positive kl_coef of your run)")
    rec = capstone_record(impl)
    off, on = figures(rec, 0.0), figures(rec, coef)
    problems = []
    acc = (float(off["accuracy_change"]), float(on["accuracy_change"]))
    if given["CAP2_accuracy_held_better"] not in cap_answers.truths(*acc):
        problems.append(
            f"CAP2_accuracy_held_better = {given['CAP2_accuracy_held_better']}, but your record's "
            f"accuracy change is {acc[0]:+.3f} without the penalty and {acc[1]:+.3f} with it"
        )
    kl = (float(on["final_kl"]), float(off["final_kl"]))
    if given["CAP2_kl_smaller"] not in cap_answers.truths(*kl):
        problems.append(
            f"CAP2_kl_smaller = {given['CAP2_kl_smaller']}, but your record's final KL is "
            f"{kl[1]:g} without the penalty and {kl[0]:g} with it"
        )
    ensure(not problems, "\n".join(problems))


def test_cap3_what_the_kl_term_costs(impl, request):
    grade_choice(request, "CAP3_choice", expect_choice(read(impl, "CAP3_choice"), "CAP3_choice"))


def test_cap3_the_reward_model_score_given_up_is_that_of_your_record(impl):
    given = answers_of(impl, ("CAP3_rm_score_given_up",))
    claimed = cap_answers.as_number(given["CAP3_rm_score_given_up"], "CAP3_rm_score_given_up")
    coef = cap_answers.as_number(read(impl, "CAP2_kl_coef") or 0, "CAP2_kl_coef")
    ensure(coef > 0, "CAP2_kl_coef: answer it first (the positive kl_coef of your run)")
    rec = capstone_record(impl)
    off, on = figures(rec, 0.0), figures(rec, coef)
    actual = float(off["rm_score_gain"]) - float(on["rm_score_gain"])
    where = f"rm_score_gain difference (kl_coef=0 minus kl_coef={coef:g})"
    tol = cap_answers.DIFFERENCE_TOLERANCE
    problem = cap_answers.judge_number("CAP3_rm_score_given_up", claimed, actual, tol, where)
    ensure(problem is None, problem or "")


def test_cap3_why_explained(impl):
    manual(impl, "CAP3_why")
