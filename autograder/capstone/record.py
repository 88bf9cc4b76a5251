"""The record of a student's RLHF run that the capstone questions can check (issue 12, 7b).

``python -m autograder capstone`` writes ``<out>/capstone_record.json``: the seeds, the
figures a question asks about (per ``kl_coef``, means over the seeds: the reward-model
score gain, the change in true held-out accuracy, the final accuracy, the final KL to the
SFT model), a hash of the student's functions that drove the run, and a digest over
all of that. A checker can then tell, without re-running minutes of PPO, that numbers
copied into an answer are the ones this command printed for *these* functions (the
digest ties them together; editing a number or a function after the run breaks it). It is
a consistency check, not a signature: the recipe is public, so it deters copying numbers
between students or from the lesson, not a determined forger.

The hash (:func:`autograder.capstone.sources.sources_digest`, version 2) covers the
normalised source of the functions the run uses, so the same functions give the same hash
written as ``course/*.py`` files or as cells of the a4 notebook; a version-1 record (a hash
of the file bytes) is refused with "re-run the capstone".
"""

from __future__ import annotations

import hashlib
import json
import statistics
from pathlib import Path

from autograder.capstone.sources import SourceError, sources_digest

RECORD_NAME = "capstone_record.json"
VERSION = 2
MAX_BYTES = 64 * 1024  # the largest record a grader reads (a real one is well under 1 KB)
Needs = dict[str, tuple[str, ...]]  # module -> the functions the run calls (student.RLHF_NEEDS)


def figures(runs: list) -> dict[str, float]:
    """Means over seeds of one ``kl_coef`` setting's :class:`~.rlhf.RlhfRun` list, rounded."""

    def mean(values) -> float:
        return round(statistics.mean(values), 3)

    return {
        "rm_score_gain": mean(r.curve.reward[-1] - r.curve.reward[0] for r in runs),
        "accuracy_change": mean(r.curve.accuracy[-1] - r.curve.accuracy[0] for r in runs),
        "final_accuracy": mean(r.curve.accuracy[-1] for r in runs),
        "final_kl": mean(r.curve.kl[-1] for r in runs),
    }


def digest(body: dict) -> str:
    """sha256 of the record's canonical JSON without its ``digest`` field."""
    rest = {k: v for k, v in body.items() if k != "digest"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()


def build(folder: str | Path, needs: Needs, seeds: list[int], summary: dict) -> dict:
    """The record for ``summary`` (``{kl_coef: [RlhfRun, ...]}``) of a run on ``seeds``.

    Args:
        folder: the modules the run loaded (``course/``, or a notebook's extracted modules).
        needs: module -> the functions the run called (hashed with what they use).
        seeds: the seeds of the run.
        summary: ``{kl_coef: [RlhfRun, ...]}`` (see :func:`figures`).

    Returns:
        The record as a dict (``version``, ``seeds``, ``sources``, ``settings``, ``digest``).
    """
    body = {
        "version": VERSION,
        "seeds": list(seeds),
        "sources": sources_digest(folder, needs),
        "settings": {f"kl_coef={k:g}": figures(runs) for k, runs in summary.items() if runs},
    }
    body["digest"] = digest(body)
    return body


def write(out: Path, record: dict) -> Path:
    """Writes ``record`` as ``<out>/capstone_record.json``; returns the path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / RECORD_NAME
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def problem(record: object, folder: str | Path, needs: Needs) -> str | None:
    """What is wrong with ``record`` for the modules in ``folder`` (None: consistent).

    Reads the modules in ``folder`` (never runs them).
    """
    if not isinstance(record, dict) or record.get("version") != VERSION:
        return "not a capstone record of this version (re-run `python -m autograder capstone`)"
    if record.get("digest") != digest(record):
        return "the record was edited after the run (its digest does not match its content)"
    try:
        mine = sources_digest(folder, needs)
    except SourceError as exc:
        return f"cannot read your functions: {exc}"
    if record.get("sources") != mine:
        return (
            "your functions (ex06-ex11) changed since this run: re-run "
            "`python -m autograder capstone`"
        )
    return None
