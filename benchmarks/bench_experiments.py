"""Time of the lesson's experiments and of grading the questions, on the reference solution.

Usage: python benchmarks/bench_experiments.py [--seeds N] [--jobs J] [--repeat R]

Runs ``python -m autograder experiments --impl-dir solutions`` (the whole set: 3
experiments, both metrics, N seeds, J worker processes) and ``python -m autograder
grade solutions --only questions``, prints the wall time and the CPU time of each
(median of R runs), the load average before each run, and the experiments' summary
(episodes to 90 % per setting, mean ± std [min-max] over seeds). Run it on an
otherwise idle machine: CPU contention inflates the wall times (the CPU times less).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds, CPU seconds (user + sys of the command and its children), the process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n"
            f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        )
    return wall, cpu, proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    ns = parser.parse_args()
    print(f"cores: {os.cpu_count()}   python: {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        runs = {
            f"experiments ({ns.seeds} seeds, {ns.jobs} jobs)": [
                sys.executable, "-m", "autograder", "experiments", "--impl-dir", "solutions",
                "--seeds", str(ns.seeds), "--jobs", str(ns.jobs), "--out", tmp, "--no-progress",
            ],
            "grade solutions --only questions": [
                sys.executable, "-m", "autograder", "grade", "solutions", "--only", "questions",
                "--no-sandbox", "--summary",
            ],
        }  # fmt: skip
        summary = ""
        for label, cmd in runs.items():
            walls, cpus, loads = [], [], []
            for _ in range(ns.repeat):
                loads.append(os.getloadavg()[0])
                wall, cpu, proc = timed(cmd)
                walls.append(wall)
                cpus.append(cpu)
                if label.startswith("experiments"):
                    summary = proc.stdout
            print(
                f"{label:<40} wall {statistics.median(walls):6.1f} s   "
                f"cpu {statistics.median(cpus):6.1f} s"
                f"   (load before: {', '.join(f'{x:.1f}' for x in loads)}; n={ns.repeat})"
            )
    print("\n" + summary)


if __name__ == "__main__":
    main()
