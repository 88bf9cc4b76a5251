"""Throughput of `python -m autograder grade-batch` on a class of honest submissions.

Usage: python benchmarks/bench_batch.py [--n 50] [--jobs N] [--only EX ...] [--keep DIR]

Builds N submissions in a temp dir (copies of solutions/; every fifth one has its
last exercise replaced by the course/ stub, every seventh is a zip), grades them
with grade-batch (default --jobs: the number of CPUs) and prints the total wall
time, submissions per minute and the mean time per submission (from each
submission's results.json). Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def exercises(only: list[str] | None) -> list[str]:
    """The rubric's exercises (or ``only``), in rubric order."""
    from autograder.grading.rubric import Rubric

    names = list(Rubric.load().exercises)
    return [n for n in names if n in only] if only else names


def build(root: Path, n: int, names: list[str]) -> None:
    root.mkdir(parents=True)
    for i in range(n):
        ident = f"student{i:03d}"
        # each student's files differ (as a real class's do): nothing the grader keeps for
        # identical files (its run cache) makes this class faster than a real one
        files = {
            name: f"# {ident}\n" + (ROOT / "solutions" / f"{name}.py").read_text() for name in names
        }
        if i % 5 == 4:  # partial: the last exercise left as the stub
            last = names[-1]
            files[last] = (ROOT / "course" / f"{last}.py").read_text()
        if i % 7 == 6:
            with zipfile.ZipFile(root / f"{ident}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
                for name, text in files.items():
                    zf.writestr(f"{ident}/{name}.py", text)
            continue
        (root / ident).mkdir()
        for name, text in files.items():
            (root / ident / f"{name}.py").write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=50, help="submissions (default: 50)")
    parser.add_argument("--jobs", type=int, help="passed to grade-batch (default: its own)")
    parser.add_argument("--only", nargs="+", metavar="EXERCISE", help="grade only these exercises")
    parser.add_argument("--keep", metavar="DIR", help="build and grade in DIR and keep it")
    ns = parser.parse_args()
    names = exercises(ns.only)
    tmp = Path(ns.keep) if ns.keep else Path(tempfile.mkdtemp(prefix="rl4llm-bench-batch-"))
    try:
        subs, out = tmp / "submissions", tmp / "out"
        build(subs, ns.n, names)
        cmd = [sys.executable, "-m", "autograder", "grade-batch", str(subs), "--out", str(out)]
        if ns.jobs:
            cmd += ["--jobs", str(ns.jobs)]
        if ns.only:
            cmd += ["--only", *ns.only]
        print(f"cores: {os.cpu_count()}   submissions: {ns.n}   exercises: {', '.join(names)}")
        print(f"jobs: {ns.jobs or os.cpu_count()}   load average before: {os.getloadavg()[0]:.2f}")
        start = time.perf_counter()
        env = dict(os.environ, XDG_CACHE_HOME=str(tmp / "xdg"))  # an empty run cache
        proc = subprocess.run(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"grade-batch failed ({proc.returncode}):\n{proc.stdout[-2000:]}")
        with open(out / "scores.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        per = [
            json.loads((out / r["id"] / "results.json").read_text())["extra_data"]["batch"][
                "seconds"
            ]
            for r in rows
        ]
        ok = sum(r["status"] == "ok" for r in rows)
        print(f"graded: {len(rows)} ({ok} ok)   load average after: {os.getloadavg()[0]:.2f}")
        print(f"total wall time          {wall:8.1f} s")
        print(f"throughput               {len(rows) / wall * 60:8.1f} submissions/minute")
        print(
            f"per submission (mean)    {statistics.mean(per):8.2f} s   "
            f"(median {statistics.median(per):.2f} s, max {max(per):.2f} s; wall of its own process)"
        )
        print(
            f"wall time / submission   {wall / len(rows):8.2f} s   (with {ns.jobs or os.cpu_count()} at a time)"
        )
    finally:
        if not ns.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
