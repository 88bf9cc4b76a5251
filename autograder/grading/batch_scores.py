"""``OUT/scores.csv`` of a batch (:mod:`autograder.grading.batch`), rebuilt from the
``OUT/<id>/results.json`` files: one row per submission, a submission whose results are not
stamped complete yet is ``pending``.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

from autograder.grading.ledger import (
    Entry,
    as_number,
    batch_stamp,
    exercise_scores,
    problem_notes,
    read_results,
)
from autograder.grading.rubric import Rubric


def results_path(out: Path, entry: Entry) -> Path:
    """``OUT/<id>/results.json`` of ``entry``."""
    return out / entry.id / "results.json"


def max_points(data: dict, rubric: Rubric, exercises: list[str]) -> float:
    """The points a results.json is out of: its tests' max scores, else the rubric's.

    Args:
        data: a parsed results.json.
        rubric: the course rubric.
        exercises: the batch's exercises.

    Returns:
        The maximum score.
    """
    tests = [t for t in data.get("tests", []) if isinstance(t, dict)]
    if tests:
        return sum(as_number(t.get("max_score")) for t in tests)
    return sum(rubric.exercises[n].max_points for n in exercises)


def status_of(path: Path) -> str:
    """The batch status stamped in the results.json at ``path`` (``"pending"`` if none)."""
    return str(batch_stamp(read_results(path)).get("status", "pending"))


def score_rows(
    out: Path, entries: list[Entry], exercises: list[str], rubric: Rubric
) -> list[dict[str, str]]:
    """One CSV row (column -> text) per entry, in the order of ``entries``.

    Args:
        out: the batch's output folder.
        entries: the submissions.
        exercises: the batch's exercises (one column each).
        rubric: the course rubric.

    Returns:
        The rows: ``id``, ``total``, ``max``, a score per exercise, ``status``,
        ``sandbox_tier`` and ``notes``.
    """
    rows = []
    for entry in entries:
        data = read_results(results_path(out, entry))
        stamp = batch_stamp(data)
        row = {"id": entry.id}
        if data is None or stamp.get("complete") is not True:
            row.update({"total": "", "max": "", "status": "pending", "notes": ""})
            rows.append(row)
            continue
        per = exercise_scores(data, exercises)
        row["total"] = f"{sum(s for s, _ in per.values()):g}"
        row["max"] = f"{max_points(data, rubric, exercises):g}"
        for name, (score, _) in per.items():
            row[name] = f"{score:g}"
        row["status"] = str(stamp.get("status", ""))
        extra = data.get("extra_data") if isinstance(data.get("extra_data"), dict) else {}
        row["sandbox_tier"] = str(extra.get("sandbox_tier", ""))
        missing = stamp.get("missing") if isinstance(stamp.get("missing"), list) else []
        row["notes"] = problem_notes(data, exercises, missing) if data["tests"] else ""
        rows.append(row)
    return rows


def write_scores(out: Path, entries: list[Entry], exercises: list[str], rubric: Rubric) -> None:
    """Rebuild ``out/scores.csv`` from the results.json files (atomically).

    Args:
        out: the batch's output folder.
        entries: the submissions.
        exercises: the batch's exercises.
        rubric: the course rubric.
    """
    fields = ["id", "total", "max", *exercises, "status", "sandbox_tier", "notes"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(score_rows(out, entries, exercises, rubric))
    fd, tmp = tempfile.mkstemp(prefix=".scores-", dir=out)
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(buf.getvalue())
        os.replace(tmp, out / "scores.csv")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
