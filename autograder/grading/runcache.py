"""A cache of expensive runs for ``pytest course/`` (student mode only).

Some checks run minutes of the student's code: the questions re-run ``train_bandit`` for
each seed they report, and ex11's integration check trains a small language model for 12
GRPO steps. On the student's machine the outcome depends only on their code and the run's
settings, so ``pytest course/`` keeps it here, keyed by a hash of every exercise module of
the submission (:func:`source_hash`: an edit anywhere invalidates it) and whatever else the
run depends on. Authoritative grading never reads or writes this cache (it always re-runs).

Entries are small JSON objects, one file each, under ``$XDG_CACHE_HOME/rl4llm/<kind>/``.
What :func:`load_json` returns is untrusted: the caller checks every field's type, and
treats a file that does not pass as not found.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

VERSION = 1  # bump when what is cached changes meaning
KIND = re.compile(r"^[a-z][a-z0-9_-]*$")


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


def key(*parts: str | bytes) -> str:
    """The cache key of a run that depends on ``parts`` (texts or bytes), 40 hex digits."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else bytes(part)
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()[:40]


def load_json(kind: str, name: str) -> dict | None:
    """The JSON object stored under ``name``, or None when there is none that can be read.

    Args:
        kind: the kind of run (see :func:`cache_dir`).
        name: the entry's key (:func:`key`).

    Returns:
        The object as stored (unvalidated: check each field), or None if the entry is
        missing, unreadable, not JSON, or not a JSON object.
    """
    try:
        data = json.loads((cache_dir(kind) / f"{name}.json").read_text(encoding="utf-8"))
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
    try:
        folder = cache_dir(kind)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, folder / f"{name}.json")
    except OSError:
        pass
