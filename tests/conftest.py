"""Running the package's own tests in parallel: ``pytest -n auto`` (pytest-xdist).

Each test file goes to one xdist worker as a whole (its module and session fixtures, such as
the corpus and exploit gradings, run once), and the files with end-to-end gradings (marked
``slow``) are handed out first so that no long file is left to run alone at the end.
``pytest -m "not slow"`` is the fast tier. ``-n auto`` counts the CPUs this process
may use (affinity and a cgroup ``cpu.max`` quota, as in a container) rather than the host's.
Without ``-n`` nothing changes.
"""

from __future__ import annotations

import os

import pytest

from autograder.grading.parallel import usable_cpus

# The suite never starts a warm grading server (autograder/grading/warm.py): every `pytest
# course/...` it runs is cold and leaves no daemon behind. tests/test_warm.py, which tests the
# server, lifts this for its own runs only.
os.environ["RL4LLM_NO_WARM"] = "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with a ``slow`` test first; stable, so each file stays in one piece and in order."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """One file per work unit, in collection order (not xdist's "most tests first")."""
    from xdist.scheduler import LoadFileScheduling

    config.option.loadscopereorder = False
    return LoadFileScheduling(config, log)


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: one worker per usable CPU, at most 8 (the long files grade in parallel inside)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    return min(8, usable_cpus())
