"""Re-grade reports: partial and dry runs never overwrite the class report; every report
says whether the sandbox was on and which tier ran (fast: no grading)."""

from __future__ import annotations

import csv

from autograder.grading.regrade_report import CellRow, Report, read_csv, write_reports

ASG = "a1_policy_gradients"


def _report(students: dict[str, float], tier: str = "bwrap") -> Report:
    rows = [
        CellRow(s, ASG, ASG, "ex02-a", "ex02_returns", "test_a", 2.0, 2.0, pts, "passed", "", tier)
        for s, pts in students.items()
    ]
    return Report(rows=rows, seed=7)


def _class_scores(course) -> dict[str, float]:
    return {r.student: r.authoritative for r in read_csv(course / "reports" / f"regrade-{ASG}.csv")}


def test_a_full_run_writes_the_class_report_and_a_timestamped_copy(tmp_path):
    run_csv, run_md, class_csv = write_reports(_report({"alice": 2, "bob": 0}), tmp_path, ASG)
    assert class_csv == tmp_path / "reports" / f"regrade-{ASG}.csv"
    assert run_csv.parent == tmp_path / "reports" / "runs" and run_csv.is_file()
    assert _class_scores(tmp_path) == {"alice": 2.0, "bob": 0.0}
    assert "Sandbox: on (tier: bwrap)" in class_csv.with_suffix(".md").read_text()
    assert "Sandbox: on (tier: bwrap)" in run_md.read_text()
    assert {r["sandbox_tier"] for r in csv.DictReader(open(class_csv))} == {"bwrap"}


def test_a_dry_run_never_touches_the_class_report(tmp_path):
    write_reports(_report({"alice": 2, "bob": 0}), tmp_path, ASG, stamp="1")
    before = (tmp_path / "reports" / f"regrade-{ASG}.md").read_text()
    run_csv, _, class_csv = write_reports(
        _report({"alice": 0}), tmp_path, ASG, partial=True, dry_run=True, stamp="2"
    )
    assert class_csv is None
    assert run_csv.name == f"regrade-{ASG}-2-partial-dry-run.csv"
    assert _class_scores(tmp_path) == {"alice": 2.0, "bob": 0.0}
    assert (tmp_path / "reports" / f"regrade-{ASG}.md").read_text() == before


def test_a_partial_run_merges_its_students_into_the_class_report(tmp_path):
    write_reports(_report({"alice": 2, "bob": 0, "carol": 2}), tmp_path, ASG, stamp="1")
    write_reports(_report({"bob": 2}, tier="uid-only"), tmp_path, ASG, partial=True, stamp="2")
    assert _class_scores(tmp_path) == {"alice": 2.0, "bob": 2.0, "carol": 2.0}
    md = (tmp_path / "reports" / f"regrade-{ASG}.md").read_text()
    assert "merged" in md and "tier: bwrap, uid-only" in md
    assert len(list((tmp_path / "reports" / "runs").glob("*.csv"))) == 2


def test_an_unsandboxed_run_says_so(tmp_path):
    _, run_md, _ = write_reports(_report({"alice": 2}, tier="none"), tmp_path, ASG)
    assert "Sandbox: OFF (tier: none)" in run_md.read_text()


def test_the_autograded_notebook_shows_the_authoritative_verdicts(tmp_path):
    import nbformat

    from autograder.grading.regrade_feedback import annotate_autograded

    def cell(gid: str):
        c = nbformat.v4.new_code_cell("check('ex02_returns', 'x')")
        c.metadata["nbgrader"] = {"grade": True, "grade_id": gid, "points": 2}
        c.outputs = [nbformat.v4.new_output("stream", name="stdout", text="in-kernel: passed")]
        return c

    nb = nbformat.v4.new_notebook(cells=[cell("visible"), cell("hidden"), cell("other")])
    path = tmp_path / "autograded" / "mallory" / ASG / f"{ASG}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, str(path))
    rows = [
        CellRow(
            "mallory",
            ASG,
            ASG,
            "visible",
            "ex02_returns",
            "a",
            2.0,
            2.0,
            0.0,
            "failed",
            "full output",
            "bwrap",
            "expected [1.0] got [2.0]",
        ),
        CellRow(
            "mallory",
            ASG,
            ASG,
            "hidden",
            "ex02_returns",
            "b",
            2.0,
            2.0,
            0.0,
            "failed",
            "SECRET hidden output",
            "bwrap",
            "hidden check: failed (failed)",
        ),
    ]
    assert annotate_autograded(tmp_path, "mallory", ASG, ASG, rows)
    out = [c.outputs for c in nbformat.read(str(path), as_version=4).cells]
    assert out[0][0]["text"].startswith("Authoritative grade (sandboxed re-grade): FAILED - 0/2")
    assert "expected [1.0] got [2.0]" in out[0][0]["text"]
    assert "hidden check: failed" in out[1][0]["text"] and "SECRET" not in out[1][0]["text"]
    assert out[2][0]["text"] == "in-kernel: passed"  # not re-graded: left alone
    assert not annotate_autograded(tmp_path, "nobody", ASG, ASG, rows)
