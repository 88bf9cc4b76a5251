"""``grade-batch`` bookkeeping: which entries are submissions, what their results.json says."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from autograder.ingest.submission import kind_of
from autograder.verdict import PROBLEMS

RETRY_SIGNATURES = (
    "setpriv: failed to execute",  # RLIMIT_NPROC of the sandbox user was full at start-up
    "can't start new thread",
    "Thread creation failed",
)


@dataclass
class Entry:
    """One submission of the batch."""

    id: str
    path: Path
    kind: str


# -- discovering submissions ------------------------------------------------------------


def _sanitize(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "_"


def discover(src: Path, out: Path | None = None) -> tuple[list[Entry], list[str]]:
    """The submissions of ``src`` with unique, file-system-safe ids; and the names ignored."""
    src = Path(src)
    out_resolved = Path(out).resolve() if out is not None else None
    found: list[tuple[Path, str]] = []
    ignored: list[str] = []
    for path in sorted(src.iterdir(), key=lambda p: p.name):
        if path.name.startswith("."):
            continue
        if out_resolved is not None and path.resolve() == out_resolved:
            continue
        kind = kind_of(path)
        if kind is None:
            ignored.append(path.name)
            continue
        found.append((path, kind))
    stems = [_sanitize(p.name if k == "folder" else p.stem) for p, k in found]
    entries: list[Entry] = []
    used: set[str] = set()
    for (path, kind), stem in zip(found, stems, strict=True):
        ident = stem if stems.count(stem) == 1 else _sanitize(path.name)
        base, n = ident, 2
        while ident in used:
            ident, n = f"{base}-{n}", n + 1
        used.add(ident)
        entries.append(Entry(ident, path, kind))
    return entries, ignored


# -- results.json bookkeeping -------------------------------------------------------------


def read_results(path: Path) -> dict | None:
    """The parsed ``results.json``, or None if it is missing or not a results object."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        return None
    return data


def batch_stamp(data: dict | None) -> dict:
    extra = data.get("extra_data") if isinstance(data, dict) else None
    stamp = extra.get("batch") if isinstance(extra, dict) else None
    return stamp if isinstance(stamp, dict) else {}


def is_complete(path: Path, exercises: list[str], seed: int) -> bool:
    """Whether ``path`` holds a results.json this batch finished (same exercises and seed)."""
    stamp = batch_stamp(read_results(path))
    return (
        stamp.get("complete") is True
        and stamp.get("exercises") == list(exercises)
        and stamp.get("seed") == seed
    )


def exercise_scores(data: dict, exercises: list[str]) -> dict[str, tuple[float, float]]:
    """Exercise -> (score, max) from the ``tests`` of a results.json."""
    out = {name: (0.0, 0.0) for name in exercises}
    for test in data.get("tests", []):
        if not isinstance(test, dict):
            continue
        name = str(test.get("name", "")).split(":", 1)[0]
        if name in out:
            score, top = out[name]
            out[name] = (
                score + as_number(test.get("score")),
                top + as_number(test.get("max_score")),
            )
    return out


def as_number(x: object) -> float:
    """``x`` if it is a real number (not a bool), else 0."""
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else 0.0


def problem_notes(data: dict, exercises: list[str], missing: list[str]) -> str:
    """One short line per exercise that could not be graded normally (import error, ...)."""
    notes = [f"{name}: {name}.py is missing" for name in exercises if name in missing]
    for name in exercises:
        if name in missing:
            continue
        counts: dict[str, int] = {}
        first: dict[str, str] = {}
        for test in data.get("tests", []):
            if not isinstance(test, dict) or not str(test.get("name", "")).startswith(f"{name}:"):
                continue
            output = str(test.get("output", ""))
            extra = test.get("extra_data")
            verdict = str(extra.get("verdict", "")) if isinstance(extra, dict) else ""
            if verdict in PROBLEMS:
                counts[verdict] = counts.get(verdict, 0) + 1
                first.setdefault(verdict, output.splitlines()[0] if output else verdict)
        if "import error" in first:
            notes.append(f"{name}: {first['import error'][:200]}")
        elif counts:
            parts = [f"{n} check(s) {v}" for v, n in counts.items()]
            notes.append(f"{name}: {', '.join(parts)}")
    return "; ".join(notes)


def last_error(output: Path) -> str:
    """``": <the grader's last 'error: ...' line>"`` from its output, or ""."""
    try:
        lines = output.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    said = [ln.removeprefix("error: ") for ln in lines if ln.startswith("error: ")]
    return f": {said[-1][:200]}" if said else ""


def needs_retry(data: dict | None, output: Path) -> bool:
    """Whether a worker (or the sandbox probe) could not start: the sandbox user's process
    limit was full, e.g. because of another submission's fork bomb."""
    text = json.dumps(data.get("tests", [])) if data else ""
    try:
        text += output.read_text(errors="replace")[-20000:]
    except OSError:
        pass
    return any(sig in text for sig in RETRY_SIGNATURES)
