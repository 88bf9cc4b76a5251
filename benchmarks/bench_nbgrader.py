"""Authoritative ``grade`` of a complete submission against ``nbgrader autograde`` of the same one.

Usage: python benchmarks/bench_nbgrader.py [--assignments a1_policy_gradients ...]

Sets up an nbgrader course in a temporary folder (``python -m autograder nbgrader-init``,
``nbgrader generate_assignment``), submits the reference code as one student's notebooks
(every solution cell of the release filled from the source notebook), and times, side by side:

- ``nbgrader autograde``: each assignment for that student (the grade cells run in the kernel);
- ``grade``: ``python -m autograder grade`` of the same reference as a folder (sandboxed when
  bubblewrap works; the hidden checks and the questions included).

Issue 14's line: ``grade`` at most 15 s and at least 5x faster than ``nbgrader autograde``.
Prints wall seconds, the machine's cores and load; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_speed import complete_course  # noqa: E402

ASSIGNMENTS = ["a1_policy_gradients", "a2_values_ppo", "a3_rlhf_rlvr", "a4_capstone"]
STUDENT = "alice"


def timed(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd[:4])} failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return took, proc


def submit_reference(course: Path, assignment: str) -> None:
    """The release notebook of ``assignment`` with every solution cell taken from the source."""
    import nbformat

    from autograder.build.markers import strip_markers

    name = f"{assignment}.ipynb"
    release = nbformat.read(str(course / "release" / assignment / name), as_version=4)
    source = {
        c.get("id"): c for c in nbformat.read(str(course / "source" / assignment / name), 4).cells
    }
    for cell in release.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.get("id") in source:
            src = source[cell.id].source
            cell.source = strip_markers(src) if cell.cell_type == "code" else src
    folder = course / "submitted" / STUDENT / assignment
    folder.mkdir(parents=True)
    nbformat.write(release, str(folder / name))
    (folder / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignments", nargs="*", choices=ASSIGNMENTS, default=ASSIGNMENTS)
    ns = parser.parse_args()
    nbgrader = shutil.which("nbgrader", path=str(Path(sys.executable).parent)) or "nbgrader"
    print(f"cores {os.cpu_count()}   load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="rl4llm-bench-nb-") as tmp:
        course = Path(tmp) / "course"
        timed([sys.executable, "-m", "autograder", "nbgrader-init", str(course)], ROOT)
        autograde = 0.0
        for assignment in ns.assignments:
            timed([nbgrader, "generate_assignment", assignment], course)
            submit_reference(course, assignment)
            took, _ = timed([nbgrader, "autograde", assignment, "--student", STUDENT], course)
            print(f"nbgrader autograde {assignment:<22} {took:7.1f} s")
            autograde += took
        print(f"nbgrader autograde, all             {autograde:7.1f} s")
        folder = complete_course(ROOT, Path(tmp) / "submission")
        took, proc = timed([sys.executable, "-m", "autograder", "grade", str(folder)], ROOT)
        total = [line for line in proc.stdout.splitlines() if line.startswith("TOTAL")]
        print(f"grade (authoritative)               {took:7.1f} s   {total[-1] if total else ''}")
        ratio = autograde / took if took else float("inf")
        verdict = "ok" if took <= 15 and ratio >= 5 else "MISSED"
        print(
            f"ratio autograde / grade             {ratio:7.1f}x  [target <= 15 s and >= 5x: {verdict}]"
        )


if __name__ == "__main__":
    main()
