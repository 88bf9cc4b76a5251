"""The re-grade's reports: one row per grade cell, the class report and each run's copy.

``reports/regrade-<assignment>.csv``/``.md`` is the class report; every run also writes
``reports/runs/regrade-<assignment>-<UTC time>[-partial][-dry-run].{csv,md}``. A partial
run (``--student``) merges into the class report, a dry run never touches it
(:func:`write_reports`). Each report says whether the sandbox was on and which tier ran.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CellRow:
    """One grade cell of one submission: the in-kernel and the authoritative score."""

    student: str
    assignment: str
    notebook: str
    grade_id: str
    exercise: str
    check: str
    max_score: float
    kernel: float | None  # score of nbgrader's in-kernel autograde (None: not autograded / failed)
    authoritative: float
    verdict: str
    output: str = ""
    tier: str = ""  # the sandbox tier that graded it: "bwrap", "uid-only" or "none"
    feedback: str = ""  # the student-facing reason (hidden checks: pass/fail only)

    @property
    def disagrees(self) -> bool:
        return self.kernel is None or abs(self.kernel - self.authoritative) > 1e-9


@dataclass
class Report:
    rows: list[CellRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seed: int | None = None
    title: str = "Authoritative re-grade"
    regrade_only: int = 0  # autograded notebooks this run created (no in-kernel autograde)

    @property
    def tiers(self) -> list[str]:
        """The sandbox tiers that graded this report's cells ("bwrap", "uid-only", "none")."""
        return sorted({r.tier for r in self.rows if r.tier})

    @property
    def disagreements(self) -> list[CellRow]:
        return [r for r in self.rows if r.disagrees]

    def totals(self) -> dict[tuple[str, str, str], tuple[float | None, float, float]]:
        """(student, assignment, notebook) -> (in-kernel, authoritative, max) over graded cells."""
        out: dict = {}
        for r in self.rows:
            key = (r.student, r.assignment, r.notebook)
            k, a, m = out.get(key, (0.0, 0.0, 0.0))
            k = None if (k is None or r.kernel is None) else k + r.kernel
            out[key] = (k, a + r.authoritative, m + r.max_score)
        return out

    def markdown(self) -> str:
        def fmt(x):
            return "-" if x is None else f"{x:g}"

        lines = [f"# {self.title}", ""]
        if self.seed is not None:
            lines += [f"Seed of this run: {self.seed}", ""]
        tiers = ", ".join(self.tiers) or "unknown (no cell was graded)"
        sandboxed = "on" if self.tiers and "none" not in self.tiers else "OFF"
        lines += [f"Sandbox: {sandboxed} (tier: {tiers})", ""]
        lines += [f"* {n}" for n in self.notes] + ([""] if self.notes else [])
        lines += [
            "| student | assignment | notebook | in-kernel | authoritative | max |",
            "|---|---|---|---:|---:|---:|",
        ]
        for (s, a, nb), (k, auth, m) in sorted(self.totals().items()):
            lines.append(f"| {s} | {a} | {nb} | {fmt(k)} | {fmt(auth)} | {fmt(m)} |")
        lines += [
            "",
            f"## Cells where the in-kernel autograde and the re-grade disagree ({len(self.disagreements)})",
            "",
        ]
        if self.rows and all(r.kernel is None for r in self.rows):
            lines.append("No in-kernel autograde to compare with (a re-grade-only run).")
        elif not self.disagreements:
            lines.append("None.")
        else:
            lines += [
                "| student | notebook | grade cell | check | in-kernel | authoritative | verdict |",
                "|---|---|---|---|---:|---:|---|",
            ]
            for r in self.disagreements:
                verdict = r.verdict.replace("|", "/")
                lines.append(
                    f"| {r.student} | {r.notebook} | {r.grade_id} | {r.exercise}::{r.check} | "
                    f"{fmt(r.kernel)} | {fmt(r.authoritative)} | {verdict} |"
                )
        return "\n".join(lines) + "\n"

    def write_csv(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(
                [
                    "student",
                    "assignment",
                    "notebook",
                    "grade_id",
                    "exercise",
                    "check",
                    "max_score",
                    "in_kernel",
                    "authoritative",
                    "disagrees",
                    "verdict",
                    "output",
                    "sandbox_tier",
                ]
            )
            for r in self.rows:
                w.writerow(
                    [
                        r.student,
                        r.assignment,
                        r.notebook,
                        r.grade_id,
                        r.exercise,
                        r.check,
                        r.max_score,
                        "" if r.kernel is None else r.kernel,
                        r.authoritative,
                        int(r.disagrees),
                        r.verdict,
                        r.output[:2000],
                        r.tier,
                    ]
                )


def read_csv(path: Path) -> list[CellRow]:
    """The rows of a report CSV written by :meth:`Report.write_csv` (``[]`` if missing)."""
    if not Path(path).is_file():
        return []
    rows = []
    with open(path, newline="") as fh:
        for d in csv.DictReader(fh):
            rows.append(
                CellRow(
                    d["student"],
                    d["assignment"],
                    d["notebook"],
                    d["grade_id"],
                    d["exercise"],
                    d["check"],
                    float(d["max_score"]),
                    None if d["in_kernel"] == "" else float(d["in_kernel"]),
                    float(d["authoritative"]),
                    d["verdict"],
                    d["output"],
                    d.get("sandbox_tier", ""),
                )
            )
    return rows


def write_reports(
    report: Report,
    course: Path,
    assignment: str | None,
    *,
    partial: bool = False,
    dry_run: bool = False,
    stamp: str | None = None,
) -> tuple[Path, Path, Path | None]:
    """Write this run's report, and the class report when the run may change it.

    Every run writes ``reports/runs/regrade-<assignment|all>-<UTC time>[-partial][-dry-run]``
    (``.csv`` and ``.md``). The class report ``reports/regrade-<assignment|all>.csv``/``.md``
    is replaced by a full run, merged with a partial run that wrote the gradebook (the rows
    of the re-graded students replace theirs, everyone else's stay) and never touched by a
    dry run.

    Args:
        report: this run's rows.
        course: the nbgrader course folder.
        assignment: the assignment re-graded (None: all).
        partial: only some students were re-graded (``--student``).
        dry_run: the gradebook was not written (``--dry-run``).
        stamp: the run's time stamp (default: now, UTC, ``YYYYmmddTHHMMSSZ``).

    Returns:
        ``(run_csv, run_md, class_csv or None when the class report was left alone)``.
    """
    import datetime as dt

    stem = f"regrade-{assignment or 'all'}"
    stamp = stamp or dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    kind = ("-partial" if partial else "") + ("-dry-run" if dry_run else "")
    runs = Path(course) / "reports" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    run_csv, run_md = runs / f"{stem}-{stamp}{kind}.csv", runs / f"{stem}-{stamp}{kind}.md"
    report.write_csv(run_csv)
    run_md.write_text(report.markdown())
    if dry_run:
        return run_csv, run_md, None
    class_csv = Path(course) / "reports" / f"{stem}.csv"
    merged = report
    if partial:
        students = {r.student for r in report.rows}
        kept = [r for r in read_csv(class_csv) if r.student not in students]
        merged = Report(
            rows=sorted(kept + report.rows, key=lambda r: (r.student, r.notebook)),
            notes=[*report.notes, f"merged: {len(students)} student(s) re-graded at {stamp}"],
            seed=None,
            title="Authoritative re-grade (class report, merged)",
        )
    merged.write_csv(class_csv)
    class_csv.with_suffix(".md").write_text(merged.markdown())
    return run_csv, run_md, class_csv
