"""Class analytics: which checks most students fail, score distributions, a gradebook CSV.

Reads the authoritative per-check outcomes of a class, from either

* a ``grade-batch`` output folder (``OUT/<id>/results.json``, one per submission), or
* an nbgrader course folder after ``nbgrader-regrade`` (the class report
  ``reports/regrade-<assignment>.csv``, one row per grade cell),

and writes (see ``docs/instructors.md``, class analytics)::

    check_pass_rates.csv   exercise, check, students, passed, pass_rate   (worst first)
    exercise_scores.csv    exercise, max_points, students, mean, min, p25, median, p75, max,
                           full_marks, zero
    totals_histogram.png   a histogram of the students' totals
    gradebook.csv          Canvas-style: Student, ID, SIS User ID, SIS Login ID, Section,
                           one column per exercise, Total; second row "Points Possible"
    summary.md             the tables above, for reading
"""

from __future__ import annotations

import csv
import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from autograder.grading.ledger import as_number

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


class AnalyticsError(RuntimeError):
    """The input folder holds no graded class (one clear line)."""


@dataclass(frozen=True)
class Outcome:
    """One check of one student: its points and whether it passed."""

    student: str
    exercise: str
    check: str
    points: float
    max_points: float
    passed: bool


def from_batch(out: Path) -> list[Outcome]:
    """The outcomes in a ``grade-batch`` output folder (pending/manual checks left out)."""
    rows = []
    for path in sorted(Path(out).glob("*/results.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for test in data.get("tests", []) if isinstance(data, dict) else []:
            if not isinstance(test, dict) or "max_score" not in test:
                continue  # graded by hand or later: not an automatic outcome
            exercise, _, check = str(test.get("name", "")).partition(": ")
            score = as_number(test.get("score"))
            top = as_number(test.get("max_score"))
            rows.append(Outcome(path.parent.name, exercise, check, score, top, score >= top > 0))
    return rows


def from_regrade_csv(path: Path) -> list[Outcome]:
    """The outcomes in an ``nbgrader-regrade`` class report CSV."""
    rows = []
    with open(path, newline="") as fh:
        for d in csv.DictReader(fh):
            score, top = float(d["authoritative"]), float(d["max_score"])
            rows.append(
                Outcome(d["student"], d["exercise"], d["check"], score, top, score >= top > 0)
            )
    return rows


def load(source: Path, assignment: str | None = None) -> list[Outcome]:
    """The class's outcomes from a ``grade-batch`` output or an nbgrader course folder.

    Args:
        source: the folder.
        assignment: for a course folder, the assignment (default: the only class report).

    Raises:
        AnalyticsError: no graded submissions found.
    """
    source = Path(source)
    reports = source / "reports"
    if (
        (source / "gradebook.db").exists()
        or reports.is_dir()
        and not (source / "scores.csv").exists()
    ):
        names = [assignment] if assignment else None
        found = (
            [reports / f"regrade-{a}.csv" for a in names]
            if names
            else sorted(reports.glob("regrade-*.csv"))
        )
        found = [p for p in found if p.is_file()]
        if len(found) != 1:
            raise AnalyticsError(
                f"{source}: expected one class report reports/regrade-<assignment>.csv "
                f"(run nbgrader-regrade; pass --assignment), found {[p.name for p in found]}"
            )
        rows = from_regrade_csv(found[0])
    else:
        rows = from_batch(source)
    if not rows:
        raise AnalyticsError(f"{source}: no graded submissions (a grade-batch output or a course)")
    return rows


def pass_rates(rows: list[Outcome]) -> list[dict]:
    """Per check: students, passed, pass_rate; sorted worst first (then by exercise, check)."""
    agg: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        a = agg.setdefault((r.exercise, r.check), [0, 0])
        a[0] += 1
        a[1] += r.passed
    out = [
        {"exercise": e, "check": c, "students": n, "passed": p, "pass_rate": round(p / n, 4)}
        for (e, c), (n, p) in agg.items()
    ]
    return sorted(out, key=lambda d: (d["pass_rate"], d["exercise"], d["check"]))


def scores(rows: list[Outcome]) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """``({student: {exercise: points}}, {exercise: max_points})``."""
    per: dict[str, dict[str, float]] = {}
    top: dict[str, dict[str, float]] = {}
    for r in rows:
        per.setdefault(r.student, {}).setdefault(r.exercise, 0.0)
        per[r.student][r.exercise] += r.points
        top.setdefault(r.exercise, {}).setdefault(r.check, r.max_points)
    return per, {e: sum(c.values()) for e, c in sorted(top.items())}


def distribution(values: list[float], max_points: float) -> dict:
    """mean, min, quartiles, max, and how many got full marks / zero."""
    q = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
    return {
        "max_points": max_points,
        "students": len(values),
        "mean": round(statistics.fmean(values), 3),
        "min": min(values),
        "p25": round(q[0], 3),
        "median": round(q[1], 3),
        "p75": round(q[2], 3),
        "max": max(values),
        "full_marks": sum(v >= max_points for v in values),
        "zero": sum(v == 0 for v in values),
    }


def write_analytics(rows: list[Outcome], out: Path) -> dict[str, Path]:
    """Write the five files (see the module docstring) into ``out``.

    Returns:
        name -> path of every file written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rates = pass_rates(rows)
    per, top = scores(rows)
    students = sorted(per)
    exercises = list(top)
    dists = {e: distribution([per[s].get(e, 0.0) for s in students], top[e]) for e in exercises}
    totals = [sum(per[s].values()) for s in students]
    paths = {n: out / n for n in ("check_pass_rates.csv", "exercise_scores.csv", "gradebook.csv")}
    _write_csv(paths["check_pass_rates.csv"], rates)
    _write_csv(paths["exercise_scores.csv"], [{"exercise": e, **d} for e, d in dists.items()])
    with open(paths["gradebook.csv"], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*CANVAS_COLUMNS, *exercises, "Total"])
        w.writerow(
            ["Points Possible", "", "", "", "", *(f"{top[e]:g}" for e in exercises)]
            + [f"{sum(top.values()):g}"]
        )
        for s in students:
            pts = [per[s].get(e, 0.0) for e in exercises]
            w.writerow([s, "", "", s, "", *(f"{p:g}" for p in pts), f"{sum(pts):g}"])
    paths["totals_histogram.png"] = histogram(
        totals, sum(top.values()), out / "totals_histogram.png"
    )
    paths["summary.md"] = out / "summary.md"
    paths["summary.md"].write_text(summary(rates, dists, totals, sum(top.values())))
    return paths


def histogram(totals: list[float], max_total: float, path: Path) -> Path:
    """A PNG histogram of the totals (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(totals, bins=min(20, max(5, len(set(totals)))), range=(0, max_total or 1))
    ax.set_xlabel(f"total points (of {max_total:g})")
    ax.set_ylabel("students")
    ax.set_title(f"Totals of {len(totals)} students")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def summary(rates: list[dict], dists: dict[str, dict], totals: list[float], top: float) -> str:
    """The analytics as Markdown."""
    lines = ["# Class analytics", "", f"{len(totals)} students; totals out of {top:g}.", ""]
    lines += [
        "## Checks, worst first",
        "",
        "| exercise | check | passed | rate |",
        "|---|---|---:|---:|",
    ]
    lines += [
        f"| {r['exercise']} | {r['check']} | {r['passed']}/{r['students']} | {r['pass_rate']:.0%} |"
        for r in rates
    ]
    lines += ["", "## Exercises", "", "| exercise | max | mean | median | full | zero |"]
    lines += ["|---|---:|---:|---:|---:|---:|"]
    lines += [
        f"| {e} | {d['max_points']:g} | {d['mean']:g} | {d['median']:g} | {d['full_marks']} | {d['zero']} |"
        for e, d in dists.items()
    ]
    return "\n".join(lines) + "\n"


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else [])
        w.writeheader()
        w.writerows(rows)
