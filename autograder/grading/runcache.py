"""A cache of expensive runs of the student's code.

Some checks run minutes of the student's code: the questions re-run ``train_bandit`` for
each seed they report, and ex11's integration check trains a small language model for 12
GRPO steps. The outcome depends only on the code and the run's settings, so it is kept here:

* ``pytest course/`` (student mode) keys a run by a hash of every exercise module of the
  submission (:func:`source_hash`: an edit anywhere invalidates it) and the run's inputs.
* Authoritative grading keeps its own entries, apart (kinds ending in ``-graded``, see
  :func:`graded_kind`): keyed by every file of the submission (:func:`submission_hash`), the
  grader's own sources, torch's and Python's versions (:func:`grader_hash`) and the run's
  inputs, so a run is re-used only for byte-identical files graded by the same grader (a
  re-grade of a class, ``nbgrader-regrade`` after ``nbgrader autograde``). Only the grading
  process writes them, after running the code in its worker; they are read only from a
  folder and files that the grading user owns and nobody else may write
  (:func:`load_json` with ``trusted=True``). A student's own cache is never read there.

``RL4LLM_NO_RUN_CACHE=1`` turns both off (every run re-runs). Entries are small JSON objects,
one file each, under ``$XDG_CACHE_HOME/rl4llm/<kind>/``. What :func:`load_json` returns is
checked field by field by its caller; a file that does not pass is not found.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import stat
import sys
from pathlib import Path

VERSION = 1  # bump when what is cached changes meaning
KIND = re.compile(r"^[a-z][a-z0-9_-]*$")
GRADED = "-graded"  # the suffix of the authoritative grader's kinds
PACKAGE = Path(__file__).resolve().parent.parent  # the autograder package


def enabled() -> bool:
    """False when ``RL4LLM_NO_RUN_CACHE`` is set to anything but ``""`` or ``0``."""
    return os.environ.get("RL4LLM_NO_RUN_CACHE", "") in ("", "0")


def graded_kind(kind: str) -> str:
    """The authoritative grader's kind for ``kind`` (``"questions"`` -> ``"questions-graded"``)."""
    return kind + GRADED


def cache_dir(kind: str) -> Path:
    """``$XDG_CACHE_HOME/rl4llm/<kind>`` (``~/.cache/rl4llm/<kind>`` by default).

    Args:
        kind: which runs (e.g. ``"questions"``, ``"capstone"``): a lower-case name.

    Returns:
        The folder of that kind's entries (it may not exist yet).
    """
    if not KIND.match(kind):
        raise ValueError(f"a cache kind is a lower-case name, got {kind!r}")
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "rl4llm" / kind


def source_hash(submission: Path) -> str:
    """A hash of every ``ex*.py`` module of ``submission`` (names and contents), hex."""
    digest = hashlib.sha256(f"v{VERSION}".encode())
    for path in sorted(Path(submission).glob("ex*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def submission_hash(submission: Path) -> str:
    """A hash of every file under ``submission`` (relative paths and contents), hex.

    ``__pycache__`` folders are left out (Python writes them); everything else counts, so a
    run is re-used only for byte-identical files.
    """
    root = Path(submission)
    digest = hashlib.sha256(f"v{VERSION}-all".encode())
    for path in sorted(root.rglob("*")):
        if "__pycache__" in path.relative_to(root).parts or not path.is_file():
            continue
        name = path.relative_to(root).as_posix().encode()
        digest.update(name + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def grader_hash() -> str:
    """A hash of the grader's own sources (every ``.py`` of the package), torch and Python, hex."""
    import torch

    digest = hashlib.sha256(f"{torch.__version__}|{sys.version}".encode())
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def key(*parts: str | bytes) -> str:
    """The cache key of a run that depends on ``parts`` (texts or bytes), 40 hex digits."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else bytes(part)
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()[:40]


def owned_and_private(path: Path) -> bool:
    """Whether ``path`` is this user's and neither its group nor others may write it."""
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def load_json(kind: str, name: str, trusted: bool = False) -> dict | None:
    """The JSON object stored under ``name``, or None when there is none that can be read.

    Args:
        kind: the kind of run (see :func:`cache_dir`).
        name: the entry's key (:func:`key`).
        trusted: read only an entry that this user owns, in a folder this user owns, that
            nobody else may write (the authoritative grader's entries).

    Returns:
        The object as stored (unvalidated: check each field), or None if the cache is off
        or the entry is missing, unreadable, not JSON, not a JSON object, or not trusted.
    """
    if not enabled():
        return None
    path = cache_dir(kind) / f"{name}.json"
    if trusted and not (owned_and_private(path.parent) and owned_and_private(path)):
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def store_json(kind: str, name: str, data: dict) -> None:
    """Store ``data`` (a JSON-able object) under ``name``; a cache that cannot be written is skipped.

    Args:
        kind: the kind of run (see :func:`cache_dir`).
        name: the entry's key (:func:`key`).
        data: what to remember.
    """
    if not enabled():
        return
    try:
        folder = cache_dir(kind)
        folder.mkdir(parents=True, exist_ok=True)
        if kind.endswith(GRADED):
            os.chmod(folder, 0o700)  # the grader's entries: nobody else reads or writes them
        tmp = folder / f"{name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data), encoding="utf-8")
        if kind.endswith(GRADED):
            os.chmod(tmp, 0o600)
        os.replace(tmp, folder / f"{name}.json")
    except OSError:
        pass
