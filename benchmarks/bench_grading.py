"""Wall time of grading the reference and of `pytest course/` on a complete implementation.

Usage: python benchmarks/bench_grading.py [--repeat N]

Prints one line per measurement (median of N runs, plus min and max) and the
machine's core count. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], cwd: Path) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, proc.returncode


def complete_course(tmp: Path) -> Path:
    """A copy of course/ in which every exercise is the reference implementation."""
    dst = tmp / "course"
    shutil.copytree(ROOT / "course", dst)
    for src in (ROOT / "solutions").glob("ex[0-9][0-9]_*.py"):
        shutil.copy(src, dst / src.name)
    return dst


def report(label: str, times: list[float]) -> None:
    print(
        f"{label:<48} median {statistics.median(times):6.2f} s   "
        f"min {min(times):6.2f} s   max {max(times):6.2f} s   (n={len(times)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    ns = parser.parse_args()
    print(f"cores: {os.cpu_count()}   python: {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        course = complete_course(Path(tmp))
        grade = [sys.executable, "-m", "autograder", "grade", str(ROOT / "solutions"), "--summary"]
        student = [sys.executable, "-m", "pytest", str(course), "-q", "-p", "no:cacheprovider"]
        stubs = [
            sys.executable,
            "-m",
            "pytest",
            str(ROOT / "course"),
            "-q",
            "-p",
            "no:cacheprovider",
        ]
        for label, cmd, cwd in (
            ("python -m autograder grade solutions/", grade, ROOT),
            ("pytest course/ (complete implementation)", student, Path(tmp)),
            ("pytest course/ (untouched stubs)", stubs, ROOT),
        ):
            times = []
            for _ in range(ns.repeat):
                t, rc = timed(cmd, cwd)
                times.append(t)
            report(label, times)


if __name__ == "__main__":
    main()
