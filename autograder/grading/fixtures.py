"""Fixtures every check can use: ``impl`` (the seam) and ``ref`` (the reference).

``impl`` is module-scoped: one worker per exercise, shared by its checks. If the
student's module cannot be imported, every check of that exercise fails with the
same one-line reason.
"""

from __future__ import annotations

import pytest

from autograder.grading import reference as _reference
from autograder.grading.plugin import KEY, exercise_of
from autograder.seam.errors import StudentProblem
from autograder.seam.proxy import Impl


@pytest.fixture(scope="module")
def impl(request: pytest.FixtureRequest) -> Impl:
    plugin = request.config.stash[KEY]
    proxy = plugin.impl_for(exercise_of(request.module.__file__))
    try:
        proxy.ensure_imported()
    except StudentProblem as exc:
        # pytest caches a failed fixture only if it is an Exception; the cause keeps the verdict
        raise ModuleUnavailable(exc.message) from exc
    return proxy


class ModuleUnavailable(Exception):
    """The student's module cannot be used; ``__cause__`` carries the verdict."""


@pytest.fixture(scope="module")
def ref(request: pytest.FixtureRequest):
    """The reference module of this check file's exercise, loaded in the grader process."""
    return _reference.reference(exercise_of(request.module.__file__))


@pytest.fixture
def rng(request: pytest.FixtureRequest):
    """A numpy Generator seeded from the run's seed and the check's id.

    In authoritative grading the run seed is secret (one per run, logged for the
    instructor), so hidden checks draw inputs nobody could have predicted.
    """
    import zlib

    import numpy as np

    plugin = request.config.stash[KEY]
    return np.random.default_rng([plugin.seed, zlib.crc32(request.node.nodeid.encode())])
