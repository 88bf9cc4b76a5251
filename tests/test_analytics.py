"""``python -m autograder analytics``: pass rates worst first, distributions, histogram, gradebook.

A small class is written as a ``grade-batch`` output (one results.json per student) and as
an ``nbgrader-regrade`` class report; the numbers are worked out by hand below.
"""

from __future__ import annotations

import csv
import json

import pytest

from autograder.commands import main

# student -> {(exercise, check): (points, max)}
CLASS = {
    "alice": {("ex01", "a"): (2, 2), ("ex01", "b"): (3, 3), ("ex02", "c"): (5, 5)},
    "bob": {("ex01", "a"): (2, 2), ("ex01", "b"): (0, 3), ("ex02", "c"): (0, 5)},
    "carol": {("ex01", "a"): (0, 2), ("ex01", "b"): (0, 3), ("ex02", "c"): (0, 5)},
}


def _batch(tmp_path):
    out = tmp_path / "batch"
    for student, checks in CLASS.items():
        tests = [
            {"name": f"{e}: {c}", "score": p, "max_score": m, "status": "x"}
            for (e, c), (p, m) in checks.items()
        ]
        tests.append({"name": "ex02: why", "output": "", "extra_data": {"pending": "manual"}})
        (out / student).mkdir(parents=True)
        (out / student / "results.json").write_text(json.dumps({"tests": tests}))
    (out / "scores.csv").write_text("id\n")
    return out


def _course(tmp_path):
    course = tmp_path / "course"
    (course / "reports").mkdir(parents=True)
    (course / "gradebook.db").write_text("")
    with open(course / "reports" / "regrade-a1.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["student", "assignment", "notebook", "grade_id", "exercise", "check"]
            + ["max_score", "in_kernel", "authoritative", "disagrees", "verdict", "output"]
        )
        for student, checks in CLASS.items():
            for (e, c), (p, m) in checks.items():
                w.writerow([student, "a1", "a1", f"{e}-{c}", e, c, m, "", p, 0, "v", ""])
    return course


@pytest.mark.parametrize("kind", ["batch", "course"])
def test_analytics_of_a_small_class(tmp_path, kind, capsys):
    source = _batch(tmp_path) if kind == "batch" else _course(tmp_path)
    assert main(["analytics", str(source), "--out", str(tmp_path / "an")]) == 0
    an = tmp_path / "an"
    rates = list(csv.DictReader(open(an / "check_pass_rates.csv")))
    assert [(r["exercise"], r["check"], r["passed"]) for r in rates] == [
        ("ex01", "b", "1"),
        ("ex02", "c", "1"),
        ("ex01", "a", "2"),
    ]  # worst first; ties by exercise and check; the manual check is not an outcome
    assert float(rates[0]["pass_rate"]) == pytest.approx(1 / 3, abs=1e-4)
    dist = {r["exercise"]: r for r in csv.DictReader(open(an / "exercise_scores.csv"))}
    assert float(dist["ex01"]["max_points"]) == 5 and float(dist["ex01"]["mean"]) == pytest.approx(
        7 / 3, abs=1e-3
    )
    assert (dist["ex01"]["full_marks"], dist["ex01"]["zero"], dist["ex02"]["zero"]) == (
        "1",
        "1",
        "2",
    )
    assert float(dist["ex01"]["median"]) == 2.0
    book = list(csv.reader(open(an / "gradebook.csv")))
    assert book[0] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "ex01",
        "ex02",
        "Total",
    ]
    assert book[1][0] == "Points Possible" and book[1][5:] == ["5", "5", "10"]
    assert book[2:] == [
        ["alice", "", "", "alice", "", "5", "5", "10"],
        ["bob", "", "", "bob", "", "2", "0", "2"],
        ["carol", "", "", "carol", "", "0", "0", "0"],
    ]
    assert (an / "totals_histogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "ex01 | b | 1/3" in (an / "summary.md").read_text()


def test_an_empty_folder_is_one_clear_error(tmp_path, capsys):
    assert main(["analytics", str(tmp_path)]) == 2
    assert "no graded submissions" in capsys.readouterr().err
