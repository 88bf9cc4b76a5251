"""Reports: the terminal table, Gradescope ``results.json``, the Classroom line."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from autograder.grading.results import MANUAL, ON_SUBMISSION, PENDING, RunResult
from autograder.verdict import TODO, Verdict

STUDENT_SIDE = (Verdict.IMPORT_ERROR, Verdict.MISSING_FILE)
"""Verdicts whose message is about the student's module only; hidden checks may show it."""

MARK = {
    "passed": "PASS",
    "failed": "FAIL",
    "not implemented": "TODO",
    "not answered": "TODO",
    MANUAL: "HAND",
    ON_SUBMISSION: "WAIT",
}


def _pts(x: float) -> str:
    return f"{x:g}"


def student_output(c) -> str:
    """What a student may see of a check's outcome (hidden checks: pass/fail only)."""
    if c.hidden:
        if c.passed:
            return "hidden check: passed"
        if c.verdict in STUDENT_SIDE and c.output:
            # about the student's own module (it is missing or does not import): no expected
            # value in it, and the student needs the reason to fix it
            return f"hidden check: failed ({c.verdict}): {c.output}"
        return f"hidden check: failed ({c.verdict})"
    if c.verdict == "passed":
        return "passed"
    if c.verdict == "failed":
        return c.output
    return f"{c.verdict}: {c.output}" if c.output else c.verdict


def render_table(run: RunResult, details: bool = True) -> str:
    """The score table, with one line per check when ``details`` is set."""
    lines: list[str] = []
    if details:
        for ex in run.exercises:
            lines.append(f"{ex.name} - {ex.title}  ({_pts(ex.score)}/{_pts(ex.max_points)} points)")
            if ex.problem:
                lines.extend(f"  !! {line}" for line in ex.problem.splitlines()[:10])
            for c in ex.checks:
                mark = MARK.get(c.verdict, "FAIL")
                tail = "" if c.verdict in ("passed", "failed") else f" - {c.verdict}"
                hidden = " (hidden)" if c.hidden else ""
                got = (
                    "?" if c.verdict in PENDING else _pts(c.score)
                )  # "?": decided later or by hand
                lines.append(f"  {mark}  {c.title}{hidden}{tail}  [{got}/{_pts(c.max_points)}]")
                shown = c.output if not c.hidden else ""
                if (
                    c.verdict not in ("passed", "not implemented", "missing file")
                    and shown
                    and not ex.problem
                ):
                    for out in shown.splitlines()[:12]:
                        lines.append(f"        {out}")
            lines.append("")
    width = max([len(e.name) for e in run.exercises] + [8])
    # "passed" counts the checks of the points column only; checks graded later or by a
    # person (WAIT, HAND) have their own column, so "2/2 ... 4/4" never reads "2/9 ... 4/4".
    header = f"{'exercise':<{width}}  {'passed':>7}  {'todo':>5}  {'later':>5}  {'points':>9}"
    lines += ["=" * len(header), header, "-" * len(header)]
    for ex in run.exercises:
        counted = [c for c in ex.checks if c.counted]
        passed = f"{sum(c.passed for c in counted)}/{len(counted)}"
        todo = str(sum(c.verdict in TODO for c in counted))
        later = str(len(ex.checks) - len(counted))
        pts = _pts(ex.score) + "/" + _pts(ex.max_points)
        lines.append(f"{ex.name:<{width}}  {passed:>7}  {todo:>5}  {later:>5}  {pts:>9}")
    lines.append("-" * len(header))
    total = f"{_pts(run.score)}/{_pts(run.max_points)}"
    lines.append(f"{'TOTAL':<{width}}  {'':>7}  {'':>5}  {'':>5}  {total:>9}")
    lines.append("=" * len(header))
    if run.tier:
        lines.append(f"sandbox tier: {run.tier}")
    for note in run.notes:
        lines.append(note)
    return "\n".join(lines)


def classroom_line(run: RunResult) -> str:
    """The GitHub Classroom summary line."""
    return f"Points {_pts(run.score)}/{_pts(run.max_points)}"


def gradescope(run: RunResult) -> dict:
    """``results.json`` in the Gradescope autograder schema."""
    tests = []
    for ex in run.exercises:
        for c in ex.checks:
            if not c.counted:  # graded by a person or later: no automatic score, not even 0
                tests.append(pending_test(ex.name, c))
                continue
            test = {
                "name": f"{ex.name}: {c.title}",
                "score": c.score,
                "max_score": c.max_points,
                "status": "passed" if c.passed else "failed",
                "output": student_output(c),
                "visibility": "after_published" if c.hidden else "visible",
                "extra_data": {"check": c.check, "verdict": str(c.verdict)},
            }
            if c.hidden and not c.passed:
                test["extra_data"]["instructor_output"] = c.output  # stored, never shown
            tests.append(test)
    return {
        "score": run.score,
        "execution_time": round(run.duration, 2),
        "output": "\n".join(
            [classroom_line(run), *([f"sandbox tier: {run.tier}"] if run.tier else []), *run.notes]
        ),
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "submission": run.submission,
            "mode": run.mode,
            "sandbox": run.sandbox,
            "sandbox_tier": run.tier,
            "seed": run.seed,
        },
    }


def pending_test(exercise: str, c) -> dict:
    """A results.json entry with no score: Gradescope shows it without points or status."""
    return {
        "name": f"{exercise}: {c.title}",
        "output": student_output(c),
        "visibility": "after_published" if c.hidden else "visible",
        "extra_data": {
            "check": c.check,
            "pending": str(MANUAL if c.manual else c.verdict),
            "verdict": str(MANUAL if c.manual else c.verdict),
            "points": c.max_points,
        },
    }


def failure_results(message: str) -> dict:
    """``results.json`` for a run that could not grade at all (always written)."""
    return {
        "score": 0.0,
        "output": f"The autograder could not grade this submission: {message}",
        "tests": [],
        "extra_data": {"catastrophic": True},
    }


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON to a temp file next to ``path`` and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".results-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
