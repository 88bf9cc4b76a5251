"""The authoritative grader's own run cache (``autograder/grading/runcache.py``, ``-graded`` kinds).

Authoritative grading re-uses a question's ``train_bandit`` run only for byte-identical files
graded by the same grader, and reads only entries that the grading user owns and nobody else
may write. Unit tests of the keys and of what is trusted, then one grading with planted
entries (no training: every run the questions ask for is planted).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from corpus_support import exercise_result

from autograder.checks.questions import CACHE_KIND, cached_episodes, run_key
from autograder.experiments import QUESTION_RUNS
from autograder.grading import runcache
from autograder.grading.run import grade

REPO = Path(__file__).resolve().parents[1]
GRADED = runcache.graded_kind(CACHE_KIND)


@pytest.fixture
def xdg(tmp_path, monkeypatch) -> Path:
    """A private, empty cache root for this test (and the processes it starts)."""
    root = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(root))
    monkeypatch.delenv("RL4LLM_NO_RUN_CACHE", raising=False)
    return root


def submission(tmp_path: Path) -> Path:
    """``tmp_path/sub``: a copy of the reference modules and answers."""
    sub = tmp_path / "sub"
    sub.mkdir()
    for path in (REPO / "solutions").glob("ex[0-9][0-9]_*.py"):
        shutil.copy(path, sub / path.name)
    shutil.copy(REPO / "solutions" / "questions.py", sub / "questions.py")
    return sub


def test_the_submission_hash_follows_every_file_but_python_caches(tmp_path):
    (tmp_path / "ex04_reinforce.py").write_text("x = 1\n")
    before = runcache.submission_hash(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "ex04_reinforce.cpython-311.pyc").write_bytes(b"\0")
    assert runcache.submission_hash(tmp_path) == before
    for name in ("questions.py", "helper/util.py", "data.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("y = 2\n")
        after = runcache.submission_hash(tmp_path)
        assert after != before, name
        before = after
    (tmp_path / "data.txt").write_text("y = 3\n")  # contents count, not only names
    assert runcache.submission_hash(tmp_path) != before


def test_the_graded_key_is_not_the_student_key_and_follows_the_answers(tmp_path):
    (tmp_path / "ex04_reinforce.py").write_text("pass\n")
    call = {"seed": 0, "episodes": 100}
    graded = run_key(tmp_path, call, student=False)
    assert graded != run_key(tmp_path, call, student=True)
    assert graded != run_key(tmp_path, {"seed": 1, "episodes": 100}, student=False)
    (tmp_path / "questions.py").write_text("Q1_episodes_target2 = 80\n")
    assert run_key(tmp_path, call, student=False) != graded  # any file of the submission
    assert len(runcache.grader_hash()) == 64


def test_graded_entries_are_private_and_read_only_when_still_private(xdg):
    runcache.store_json(GRADED, "k", {"episodes_to_90": 120})
    folder = runcache.cache_dir(GRADED)
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert oct((folder / "k.json").stat().st_mode & 0o777) == "0o600"
    assert cached_episodes("k", GRADED) == (True, 120)
    os.chmod(folder / "k.json", 0o620)  # the group may write it: not the grader's own any more
    assert cached_episodes("k", GRADED) == (False, None)
    os.chmod(folder / "k.json", 0o600)
    os.chmod(folder, 0o777)  # anyone may have swapped it
    assert cached_episodes("k", GRADED) == (False, None)
    os.chmod(folder, 0o700)
    assert cached_episodes("k", GRADED) == (True, 120)
    if os.geteuid() == 0:  # an entry of another user, in a private folder
        os.chown(folder / "k.json", 65534, 65534)
        assert cached_episodes("k", GRADED) == (False, None)


def test_a_student_entry_or_a_planted_link_is_never_a_graded_one(xdg, tmp_path):
    runcache.store_json(CACHE_KIND, "k", {"episodes_to_90": 120})  # pytest course/'s entry
    assert cached_episodes("k", CACHE_KIND) == (True, 120)
    assert cached_episodes("k", GRADED) == (False, None)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (elsewhere / "k.json").write_text('{"episodes_to_90": 120}')
    runcache.cache_dir(GRADED).parent.mkdir(parents=True, exist_ok=True)
    runcache.cache_dir(GRADED).symlink_to(elsewhere)
    assert cached_episodes("k", GRADED) == (False, None)


def test_rl4llm_no_run_cache_turns_reading_and_writing_off(xdg, monkeypatch):
    runcache.store_json(GRADED, "k", {"episodes_to_90": 120})
    monkeypatch.setenv("RL4LLM_NO_RUN_CACHE", "1")
    assert cached_episodes("k", GRADED) == (False, None)
    runcache.store_json(GRADED, "k2", {"episodes_to_90": 120})
    assert not (runcache.cache_dir(GRADED) / "k2.json").exists()


def plant(sub: Path, var: str, seeds: list[int], episodes: int) -> None:
    """Graded entries saying the run of ``var``'s setting reaches 90 % at ``episodes``."""
    setting, _ = QUESTION_RUNS[var]
    for seed in seeds:
        name = run_key(sub, setting.kwargs(seed), student=False)
        runcache.store_json(GRADED, name, {"episodes_to_90": episodes})


def test_authoritative_grading_replays_its_own_entries_for_identical_files(xdg, tmp_path):
    sub = submission(tmp_path)
    seeds = [0, 1, 2, 3, 4]  # the reference's Q1_seeds and Q2_seeds
    plant(sub, "Q1_episodes_target2", seeds, 7)  # the answer says 80: it must fail on 7
    plant(sub, "Q1_episodes_target0", seeds, 76)
    plant(sub, "Q2_episodes_lr_1e4", seeds, 2222)  # what the answer says: it must pass
    run = grade(sub, exercises=["questions"], seed=1, quiet=True)
    checks = {c.check: c for c in exercise_result(run, "questions").checks}
    q1 = checks["test_q1_episodes_to_90_with_target_2_and_target_0"]
    assert not q1.passed and "gives 7 (per seed: 7, 7, 7, 7, 7)" in q1.output, q1.output
    q2 = checks["test_q2_episodes_to_90_at_learning_rate_1e_4"]
    assert q2.passed, q2.output
