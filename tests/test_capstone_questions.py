"""The capstone questions (CAP1-CAP3): graded against the student's own run record.

Records are built with ``record.py``'s own functions from made-up run figures
(``test_questions.write_record``): a real one takes minutes of PPO. The end-to-end
tests grade only the capstone checks (``-k cap``) in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_questions import (
    CHECK,
    SOLUTIONS,
    fake_runs,
    grade_questions,
    submission,
    verdicts,
    with_answers,
    write_record,
)

from autograder.capstone import answers, record
from autograder.grading.reference import reference
from autograder.grading.results import MANUAL

# A real code change to a function the RLHF run uses (kl_k3, redefined: the last one counts).
CHANGED_KL = "\n\ndef kl_k3(logp, ref_logp):\n    return (ref_logp - logp) ** 2\n"
CAP = {k: v for k, v in CHECK.items() if k.startswith("cap")}
RECORD_CHECKS = {k: v for k, v in CAP.items() if k not in ("cap3_choice", "cap3_why")}


# -- pure parts -----------------------------------------------------------------------------------
def test_the_letter_of_cap1_follows_the_signs_of_the_record_and_a_zero_fits_both():
    assert answers.directions(0.5, -0.2) == {"B"}
    assert answers.directions(0.5, 0.2) == {"A"}
    assert answers.directions(-0.5, -0.2) == {"C"}
    assert answers.directions(-0.5, 0.2) == {"D"}
    assert answers.directions(0.0, -0.2) == {"B", "C"}
    assert answers.truths(0.1, 0.3) == {True} and answers.truths(0.3, 0.1) == {False}
    assert answers.truths(0.2, 0.2) == {True, False}


def test_a_number_is_accepted_within_its_stated_rounding_and_told_which_way_otherwise():
    assert answers.judge_number("X", 0.95, 0.954, 0.005, "w") is None
    assert answers.judge_number("X", 0.949, 0.954, 0.005, "w") is None
    msg = answers.judge_number("X", 0.94, 0.954, 0.005, "w")
    assert msg and "lower" in msg and "0.954" in msg, msg
    with pytest.raises(AssertionError, match="expected a number"):
        answers.as_number(True, "X")
    with pytest.raises(AssertionError, match="finite"):
        answers.as_number(float("nan"), "X")


def test_load_accepts_a_valid_record_and_says_what_to_run_for_a_bad_one(tmp_path):
    sub = submission(tmp_path / "sub")
    with pytest.raises(answers.RecordError, match=r"missing.*python -m autograder capstone"):
        answers.load(sub)
    rec = write_record(sub)
    assert answers.load(sub) == rec
    path = sub / record.RECORD_NAME
    edited = json.loads(path.read_text())
    edited["settings"]["kl_coef=0"]["rm_score_gain"] += 1
    path.write_text(json.dumps(edited))
    with pytest.raises(answers.RecordError, match="edited"):
        answers.load(sub)
    path.write_text("{not json")
    with pytest.raises(answers.RecordError, match="cannot be read"):
        answers.load(sub)
    path.unlink()
    os.symlink(tmp_path / "elsewhere.json", path)
    with pytest.raises(answers.RecordError, match="not a regular file"):
        answers.load(sub)
    path.unlink()
    write_record(sub)
    (sub / "ex07_kl.py").write_text((sub / "ex07_kl.py").read_text() + "\n# a comment\n")
    assert answers.load(sub)["sources"] == rec["sources"], "a comment is not a code change"
    (sub / "ex07_kl.py").write_text((sub / "ex07_kl.py").read_text() + CHANGED_KL)
    with pytest.raises(answers.RecordError, match="functions .* changed since this run"):
        answers.load(sub)
    old = {**rec, "version": 1}
    old["digest"] = record.digest(old)
    path.write_text(json.dumps(old))
    with pytest.raises(answers.RecordError, match="re-run `python -m autograder capstone`"):
        answers.load(sub)


# -- end to end -----------------------------------------------------------------------------------
def grade_cap(sub: Path) -> dict[str, dict]:
    got = grade_questions(sub, ["-k", "cap"])
    return {k: got["checks"][v] for k, v in CAP.items()}


@pytest.mark.slow
def test_the_reference_answers_pass_against_their_record(tmp_path):
    got = grade_cap(submission(tmp_path / "sub", record=True))
    failing = {k: v["output"][:300] for k, v in got.items() if k != "cap3_why" and not v["passed"]}
    assert not failing, failing
    assert got["cap3_why"]["verdict"] == MANUAL, got["cap3_why"]


@pytest.mark.slow
def test_an_honest_run_that_did_not_hack_passes_with_its_own_directions(tmp_path):
    """A run whose accuracy rose without KL (noise, or another design) loses no point."""
    sub = submission(tmp_path / "sub")
    runs = {0.0: fake_runs(0.4, 0.05, 3.0), 1.5: fake_runs(0.3, 0.08, 5.0)}
    write_record(sub, runs)
    source = with_answers(
        (SOLUTIONS / "questions.py").read_text(),
        CAP1_rm_score_gain=0.4,
        CAP1_accuracy_change=0.05,
        CAP1_final_kl=3.0,
        CAP1_choice="A",
        CAP2_kl_coef=1.5,
        CAP2_rm_score_gain=0.3,
        CAP2_accuracy_change=0.08,
        CAP2_final_kl=5.0,
        CAP2_accuracy_held_better=True,
        CAP2_kl_smaller=False,
        CAP3_rm_score_given_up=0.1,
        CAP3_choice="C",
    )
    (sub / "questions.py").write_text(source)
    got = grade_cap(sub)
    failing = {
        k: v["output"][:300] for k, v in got.items() if k in RECORD_CHECKS and not v["passed"]
    }
    assert not failing, failing
    c3 = got["cap3_choice"]
    assert c3["verdict"] == "failed" and "Hint:" in c3["output"], c3
    assert f"'{reference('questions').CAP3_choice}'" not in c3["output"], c3


@pytest.mark.slow
def test_numbers_and_directions_that_are_not_the_records_fail_with_the_records_figure(tmp_path):
    ref = reference("questions")
    source = with_answers(
        (SOLUTIONS / "questions.py").read_text(),
        CAP1_rm_score_gain=ref.CAP1_rm_score_gain + 0.1,
        CAP1_choice="A",
        CAP2_kl_smaller=not ref.CAP2_kl_smaller,
        CAP3_rm_score_given_up=ref.CAP3_rm_score_given_up - 0.02,
    )
    got = grade_cap(submission(tmp_path / "sub", source, record=True))
    c1 = got["cap1_numbers"]
    assert c1["verdict"] == "failed" and "higher than your record's" in c1["output"], c1
    assert f"= {ref.CAP1_rm_score_gain:g}" in c1["output"], c1
    assert "CAP1_accuracy_change" not in c1["output"], c1
    assert got["cap1_choice"]["verdict"] == "failed", got["cap1_choice"]
    assert "does not describe your run" in got["cap1_choice"]["output"], got["cap1_choice"]
    b = got["cap2_bools"]
    assert b["verdict"] == "failed" and "CAP2_kl_smaller" in b["output"], b
    assert "CAP2_accuracy_held_better" not in b["output"], b
    assert got["cap3_number"]["verdict"] == "failed", got["cap3_number"]
    assert got["cap2_numbers"]["passed"], got["cap2_numbers"]


@pytest.mark.slow
def test_an_edited_record_or_one_for_other_files_fails_every_record_check(tmp_path):
    edited = submission(tmp_path / "edited", record=True)
    path = edited / record.RECORD_NAME
    data = json.loads(path.read_text())
    data["settings"]["kl_coef=0"]["rm_score_gain"] += 0.5
    path.write_text(json.dumps(data))
    other = submission(tmp_path / "other", record=True)
    (other / "ex07_kl.py").write_text((other / "ex07_kl.py").read_text() + CHANGED_KL)
    for sub, why in ((edited, "edited"), (other, "changed since this run")):
        got = grade_cap(sub)
        for key in RECORD_CHECKS:
            v = got[key]
            assert v["verdict"] == "failed" and why in v["output"], (sub.name, key, v)


@pytest.mark.slow
def test_a_missing_record_says_what_to_run_and_blank_answers_are_not_answered(tmp_path):
    got = grade_cap(submission(tmp_path / "missing"))
    for key in RECORD_CHECKS:
        v = got[key]
        assert v["verdict"] == "failed", (key, v)
        assert "capstone_record.json is missing" in v["output"], (key, v)
        assert "python -m autograder capstone" in v["output"], (key, v)
        assert "Traceback" not in v["output"], (key, v)
    stub = (Path(__file__).resolve().parents[1] / "course" / "questions.py").read_text()
    blank = grade_cap(submission(tmp_path / "blank", stub))
    assert {v["verdict"] for v in blank.values()} == {"not answered"}, verdicts({"checks": blank})
    assert all(v["score"] == 0 for v in blank.values()), blank


def test_the_reference_record_in_solutions_is_valid_for_the_solution_files():
    """``solutions/capstone_record.json`` is a real ``capstone --only rlhf`` run of the reference
    (so ``grade solutions`` scores full marks); editing an ex06-ex11 solution makes it stale:
    run ``python -m autograder capstone --only rlhf --course solutions`` and copy the record."""
    solutions = Path(__file__).resolve().parents[1] / "solutions"
    rec = answers.load(solutions)
    assert set(rec["settings"]) >= {"kl_coef=0"}, rec
