"""The cache of expensive runs for ``pytest course/`` (``autograder/grading/runcache.py``).

Unit tests of the cache and of what its two users accept from it (the questions' re-runs of
``train_bandit``, ex11's integration verdict), then ex11's integration check end to end with
an entry planted in a temporary ``XDG_CACHE_HOME``: ``pytest course/`` replays a planted
verdict (a FAIL says it was reused), authoritative grading ignores it, and a malformed entry
is not found. Those use the stubs or a planted verdict, so no GRPO run happens (seconds);
the one that trains (the reference, twice) is marked slow.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from corpus_support import exercise_result

from autograder.checks.questions import cached_episodes, run_key
from autograder.grading import runcache
from autograder.grading.run import grade

with warnings.catch_warnings():  # its marks (title, hidden) are the grader plugin's own
    warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
    from autograder.checks import ex11_lm

REPO = Path(__file__).resolve().parents[1]
CHECK = "test_your_functions_drive_a_short_grpo_run_that_raises_accuracy"
SEED = 20261130
TIMEOUT = 600


@pytest.fixture
def xdg(tmp_path, monkeypatch) -> Path:
    """A private, empty cache root for this test (and the processes it starts)."""
    root = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(root))
    return root


# -- the cache itself -----------------------------------------------------------------------------
def test_an_entry_is_stored_and_read_back_under_its_kind(xdg):
    runcache.store_json("capstone", "k1", {"passed": True, "x": [1, 2]})
    assert runcache.load_json("capstone", "k1") == {"passed": True, "x": [1, 2]}
    assert (xdg / "rl4llm" / "capstone" / "k1.json").is_file()
    assert runcache.load_json("questions", "k1") is None  # kinds do not share entries
    assert runcache.load_json("capstone", "k2") is None


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '"passed"', "", "null"])
def test_an_unreadable_or_non_object_entry_is_not_found(xdg, text):
    folder = xdg / "rl4llm" / "capstone"
    folder.mkdir(parents=True)
    (folder / "k.json").write_text(text)
    assert runcache.load_json("capstone", "k") is None


def test_a_cache_that_cannot_be_written_is_skipped(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file where a folder should be
    runcache.store_json("capstone", "k", {"passed": True})
    assert runcache.load_json("capstone", "k") is None


def test_a_kind_must_be_a_plain_name():
    for kind in ("", "../x", "a/b", "Questions"):
        with pytest.raises(ValueError):
            runcache.cache_dir(kind)


def test_keys_keep_their_parts_apart():
    assert runcache.key("ab", "c") != runcache.key("a", "bc")
    assert runcache.key("a", b"b") == runcache.key("a", "b")
    assert len(runcache.key("x")) == 40


def test_the_source_hash_follows_every_exercise_file_and_nothing_else(tmp_path):
    (tmp_path / "ex01_a.py").write_text("x = 1\n")
    (tmp_path / "ex02_b.py").write_text("y = 2\n")
    before = runcache.source_hash(tmp_path)
    (tmp_path / "questions.py").write_text("Q1 = 3\n")
    (tmp_path / "notes.txt").write_text("anything")
    assert runcache.source_hash(tmp_path) == before
    (tmp_path / "ex02_b.py").write_text("y = 3\n")
    assert runcache.source_hash(tmp_path) != before


# -- what the questions accept ----------------------------------------------------------------------
def test_the_questions_reuse_only_well_formed_episode_counts(xdg, tmp_path):
    (tmp_path / "ex04_reinforce.py").write_text("pass\n")
    name = run_key(tmp_path, {"seed": 0, "episodes": 100})
    assert name != run_key(tmp_path, {"seed": 1, "episodes": 100})
    assert cached_episodes(name) == (False, None)
    for good in (120, None):
        runcache.store_json("questions", name, {"episodes_to_90": good})
        assert cached_episodes(name) == (True, good)
    for bad in ({"episodes_to_90": "120"}, {"episodes_to_90": 120.0}, {"episodes_to_90": True}, {}):
        runcache.store_json("questions", name, bad)
        assert cached_episodes(name) == (False, None), bad


# -- what ex11's integration check accepts ----------------------------------------------------------
def test_the_integration_key_follows_code_seed_and_grader_sources(tmp_path, monkeypatch):
    from autograder.capstone import integration

    (tmp_path / "ex10_grpo.py").write_text("pass\n")
    base = ex11_lm.integration_key(tmp_path, 7)
    assert ex11_lm.integration_key(tmp_path, 7) == base
    assert ex11_lm.integration_key(tmp_path, 8) != base
    (tmp_path / "ex10_grpo.py").write_text("pass  # edited\n")
    edited = ex11_lm.integration_key(tmp_path, 7)
    assert edited != base
    sources = integration.worker_sources()
    sources[-1][1] += "\n# a grader-side change\n"
    monkeypatch.setattr(integration, "worker_sources", lambda: sources)
    assert ex11_lm.integration_key(tmp_path, 7) != edited


@pytest.mark.parametrize(
    "data",
    [
        {"passed": 1, "before": 0.3, "after": 0.4},
        {"passed": "false", "before": 0.3, "after": 0.4},
        {"passed": False, "before": "0.3", "after": 0.4},
        {"passed": False, "before": 0.3, "after": 1.5},
        {"passed": False, "before": 0.3, "after": None},
        {"passed": False, "before": 0.3},
        {"passed": False, "before": True, "after": 0.4},
    ],
)
def test_a_malformed_verdict_is_not_found(xdg, data):
    runcache.store_json(ex11_lm.CACHE_KIND, "k", data)
    assert ex11_lm.cached_verdict("k") is None


def test_a_well_formed_verdict_is_found(xdg):
    runcache.store_json(ex11_lm.CACHE_KIND, "k", {"passed": False, "before": 0, "after": 0.25})
    assert ex11_lm.cached_verdict("k") == (False, 0.0, 0.25)


# -- the integration check end to end ---------------------------------------------------------------
def check_seed(run_seed: int, nodeid: str) -> int:
    """The seed the integration check draws (the ``rng`` fixture of ``grading/fixtures.py``)."""
    rng = np.random.default_rng([run_seed, zlib.crc32(nodeid.encode())])
    return int(rng.integers(0, 2**31 - 1))


STUDENT_SEED = check_seed(0, f"course/ex11_lm.py::{CHECK}")  # pytest course/ seeds with 0
GRADING_SEED = check_seed(SEED, f"ex11_lm.py::{CHECK}")


def course_copy(root: Path, reference: bool) -> Path:
    """``root/course``: the stubs, or with every exercise the reference (``reference``)."""
    course = root / "course"
    shutil.copytree(REPO / "course", course, ignore=shutil.ignore_patterns("__pycache__"))
    if reference:
        for path in (REPO / "solutions").glob("ex[0-9][0-9]_*.py"):
            shutil.copy(path, course / path.name)
    return course


def plant(course: Path, seed: int, data: dict | str) -> None:
    """An entry for the integration run of ``course`` with ``seed`` (``str``: raw file text)."""
    name = ex11_lm.integration_key(course, seed)
    if isinstance(data, str):
        folder = runcache.cache_dir(ex11_lm.CACHE_KIND)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.json").write_text(data)
    else:
        runcache.store_json(ex11_lm.CACHE_KIND, name, data)


def student_run(course: Path) -> str:
    """``pytest course/ex11_lm.py -k <the integration check>`` as a student runs it; its output."""
    root = course.parent
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "course/ex11_lm.py", "-k", CHECK,
         "-p", "no:cacheprovider", "--rootdir", str(root)],
        cwd=root, capture_output=True, text=True, timeout=TIMEOUT, env=dict(os.environ),
    )  # fmt: skip
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout[-3000:] + proc.stderr
    return proc.stdout


def integration_line(out: str) -> str:
    lines = [ln for ln in out.splitlines() if "short grpo run that raises accuracy" in ln]
    assert len(lines) == 1, out[-3000:]
    return out[out.index(lines[0]) :].split("\n\n")[0]


def test_pytest_course_replays_a_cached_fail_and_says_it_was_reused(xdg, tmp_path):
    course = course_copy(tmp_path, reference=True)  # it would pass if it trained
    plant(course, STUDENT_SEED, {"passed": False, "before": 0.312, "after": 0.3})
    line = integration_line(student_run(course))
    assert "FAIL" in line and "reused from your last run of this exact code" in line, line
    assert "30.0%" in line and "31.2%" in line and f"seed {STUDENT_SEED}" in line, line


def test_pytest_course_replays_a_cached_pass(xdg, tmp_path):
    course = course_copy(tmp_path, reference=False)  # the stubs: a real run cannot pass
    plant(course, STUDENT_SEED, {"passed": True, "before": 0.3, "after": 0.45})
    line = integration_line(student_run(course))
    assert "PASS" in line, line


@pytest.mark.parametrize(
    "data", ["{broken", '{"passed": 1, "before": 0.3, "after": 0.45}', '{"passed": true}']
)
def test_pytest_course_ignores_a_malformed_entry(xdg, tmp_path, data):
    course = course_copy(tmp_path, reference=False)
    plant(course, STUDENT_SEED, data)
    line = integration_line(student_run(course))
    assert "PASS" not in line and "reused" not in line, line
    assert "TODO" in line and "not implemented" in line, line  # the stubs really ran


def test_authoritative_grading_ignores_a_planted_entry(xdg, tmp_path):
    course = course_copy(tmp_path, reference=False)
    for seed in (STUDENT_SEED, GRADING_SEED):
        plant(course, seed, {"passed": True, "before": 0.3, "after": 0.45})
    run = grade(course, exercises=["ex11_lm"], seed=SEED)
    (result,) = [c for c in exercise_result(run, "ex11_lm").checks if c.check == CHECK]
    assert not result.passed, result.output
    assert "reused" not in result.output
    assert sorted(p.name for p in runcache.cache_dir(ex11_lm.CACHE_KIND).iterdir()) == sorted(
        f"{ex11_lm.integration_key(course, s)}.json" for s in (STUDENT_SEED, GRADING_SEED)
    )  # nor writes one


@pytest.mark.slow
def test_pytest_course_stores_the_verdict_of_a_real_run_and_reuses_it(xdg, tmp_path):
    course = course_copy(tmp_path, reference=True)
    assert "PASS" in integration_line(student_run(course))
    cached = ex11_lm.cached_verdict(ex11_lm.integration_key(course, STUDENT_SEED))
    assert cached is not None and cached[0] is True and cached[2] > cached[1], cached
    plant(course, STUDENT_SEED, {"passed": False, "before": cached[1], "after": cached[1]})
    assert "reused" in integration_line(student_run(course))  # the second run reads it
