"""Time the README's re-grade-only instructor commands on a generated class of ``a1`` notebooks.

Usage: python benchmarks/bench_class.py [--students 200] [--jobs 2] [--keep DIR] [--again]

Creates an nbgrader course (``nbgrader-init``, a due date, ``generate_assignment``), writes
the class with ``benchmarks/make_class.py`` (honest, partial, untouched, tampered, broken;
every seventh late), then times ``nbgrader-regrade --jobs N``, ``generate_feedback``,
``export`` and ``analytics`` (and, with ``--again``, a second ``nbgrader-regrade`` of the
same class, which reuses the questions' runs of identical files). Run it on an otherwise
idle machine (e.g. ``taskset -c 0,1`` for two cores); the issue's target is 200 notebooks
in under 20 minutes on 2 cores. The run cache starts empty and every generated notebook
differs from the others, as a real class's do.
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

from make_class import ASSIGNMENT, DUE, make_class  # noqa: E402


def step(name: str, args: list[str], cwd: Path, times: dict[str, float]) -> None:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    start = time.monotonic()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    times[name] = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"{name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    print(f"{name}: {times[name]:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", help="build the course here and keep it")
    parser.add_argument("--again", action="store_true", help="then time a second re-grade")
    ns = parser.parse_args()
    course = Path(ns.keep) if ns.keep else Path(tempfile.mkdtemp(prefix="rl4llm-class-")) / "c"
    py = [sys.executable, "-m", "autograder"]
    # An empty run cache: nothing kept from earlier gradings, the class is graded for the first time.
    os.environ["XDG_CACHE_HOME"] = str(course.parent / "xdg")
    times: dict[str, float] = {}
    step("nbgrader-init", [*py, "nbgrader-init", str(course)], ROOT, times)
    with open(course / "nbgrader_config.py", "a") as fh:
        fh.write('\nc.AssignLatePenalties.plugin_class = "autograder.grading.late.PercentPerDay"\n')
    due = ["nbgrader", "db", "assignment", "add", ASSIGNMENT, "--duedate", f"{DUE} UTC"]
    step("due date", due, course, times)
    step("generate_assignment", ["nbgrader", "generate_assignment", ASSIGNMENT], course, times)
    make_class(course, ns.students, late_every=7)
    regrade = [*py, "nbgrader-regrade", str(course), "--assignment", ASSIGNMENT]
    step("nbgrader-regrade", [*regrade, "--jobs", str(ns.jobs)], ROOT, times)
    step(
        "generate_feedback", ["nbgrader", "generate_feedback", ASSIGNMENT, "--force"], course, times
    )
    step("export", ["nbgrader", "export"], course, times)
    step("analytics", [*py, "analytics", str(course), "--assignment", ASSIGNMENT], ROOT, times)
    if ns.again:  # e.g. after fixing a rubric: the questions' runs of the same files are reused
        step("nbgrader-regrade (again)", [*regrade, "--jobs", str(ns.jobs)], ROOT, times)
    graded = sum(times[k] for k in ("nbgrader-regrade", "generate_feedback", "export", "analytics"))
    print(
        f"{ns.students} notebooks, --jobs {ns.jobs}: graded, fed back and exported in "
        f"{graded / 60:.1f} min ({graded / ns.students:.1f} s per notebook)"
    )
    if not ns.keep:
        shutil.rmtree(course.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
