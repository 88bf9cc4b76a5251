"""A cache of the questions' re-runs of ``train_bandit`` for ``pytest course/``.

The question checks re-run the student's ``train_bandit`` for each seed they report (up to
4000 episodes per run). On the student's machine the result depends only on their code and
the run's settings, so it is kept in a cache keyed by a hash of every exercise module of the
submission and the call's keyword arguments: an edit anywhere invalidates it. Authoritative
grading never reads the cache (it always re-runs).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

VERSION = 1  # bump when what is cached changes meaning


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/rl4llm/questions`` (``~/.cache/rl4llm/questions`` by default)."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "rl4llm" / "questions"


def source_hash(submission: Path) -> str:
    """A hash of every ``ex*.py`` module of ``submission`` (names and contents)."""
    digest = hashlib.sha256(f"v{VERSION}".encode())
    for path in sorted(Path(submission).glob("ex*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def key(submission: Path, kwargs: dict) -> str:
    """The cache key of one ``train_bandit(**kwargs)`` run on ``submission``."""
    call = json.dumps(kwargs, sort_keys=True, default=repr)
    return hashlib.sha256((source_hash(submission) + call).encode()).hexdigest()[:40]


def load(name: str) -> tuple[bool, int | None]:
    """``(found, episodes_to_90)`` for the key ``name``."""
    try:
        data = json.loads((cache_dir() / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False, None
    value = data.get("episodes_to_90") if isinstance(data, dict) else None
    if (
        isinstance(data, dict)
        and "episodes_to_90" in data
        and (value is None or type(value) is int)
    ):
        return True, value
    return False, None


def store(name: str, episodes: int | None) -> None:
    """Remember one run's episodes to 90 % (a cache that cannot be written is skipped)."""
    try:
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"episodes_to_90": episodes}), encoding="utf-8")
        os.replace(tmp, folder / f"{name}.json")
    except OSError:
        pass
