"""Reports: the terminal table, Gradescope ``results.json``, the Classroom line."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from autograder.results import RunResult

MARK = {
    "passed": "PASS",
    "failed": "FAIL",
    "not implemented": "TODO",
}


def _pts(x: float) -> str:
    return f"{x:g}"


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
                lines.append(f"  {mark}  {c.title}{tail}  [{_pts(c.score)}/{_pts(c.max_points)}]")
                if c.verdict not in ("passed", "not implemented", "missing file") and c.output and not ex.problem:
                    for out in c.output.splitlines()[:12]:
                        lines.append(f"        {out}")
            lines.append("")
    width = max([len(e.name) for e in run.exercises] + [8])
    header = f"{'exercise':<{width}}  {'passed':>7}  {'todo':>5}  {'points':>9}"
    lines += ["=" * len(header), header, "-" * len(header)]
    for ex in run.exercises:
        passed = f"{ex.count('passed')}/{len(ex.checks)}"
        todo = str(ex.count("not implemented"))
        lines.append(f"{ex.name:<{width}}  {passed:>7}  {todo:>5}  {_pts(ex.score) + '/' + _pts(ex.max_points):>9}")
    lines.append("-" * len(header))
    total = f"{_pts(run.score)}/{_pts(run.max_points)}"
    lines.append(f"{'TOTAL':<{width}}  {'':>7}  {'':>5}  {total:>9}")
    lines.append("=" * len(header))
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
            output = c.output if c.verdict != "passed" else "passed"
            if c.verdict not in ("passed", "failed"):
                output = f"{c.verdict}: {output}" if output else c.verdict
            tests.append(
                {
                    "name": f"{ex.name}: {c.title}",
                    "score": c.score,
                    "max_score": c.max_points,
                    "status": "passed" if c.passed else "failed",
                    "output": output,
                    "visibility": "visible",
                }
            )
    notes = list(run.notes)
    return {
        "score": run.score,
        "execution_time": round(run.duration, 2),
        "output": "\n".join([classroom_line(run), *notes]),
        "tests": tests,
        "extra_data": {"submission": run.submission, "mode": run.mode, "sandbox": run.sandbox},
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
