"""``python -m autograder``: grade submissions and build the course files.

Commands:
    grade PATH [--json FILE] [--only EX ...]   grade one folder laid out like course/
    build-course [--check]                     regenerate course/ from solutions/
    build-notebooks [--check]                  regenerate nbgrader/source from solutions/ and checks
    nbgrader-init COURSE                       an nbgrader course folder (config + source notebooks)
    nbgrader-regrade COURSE [--assignment A]   authoritative re-grade into the nbgrader gradebook
    release OUT_DIR                            the student release (template repository)
    gradescope-zip OUT.zip                     the Gradescope autograder zip
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.rubric import Rubric, RubricError


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def _cmd_grade(ns: argparse.Namespace) -> int:
    from autograder.report import failure_results, write_json_atomic

    path = Path(ns.path)
    try:
        if not path.exists():
            raise CliError(f"{path}: no such directory")
        if not path.is_dir():
            raise CliError(f"{path}: not a directory (expected a folder laid out like course/)")
        rubric = Rubric.load()
        for name in ns.only or []:
            if name not in rubric.exercises:
                raise CliError(
                    f"--only {name}: unknown exercise (known: {', '.join(rubric.exercises)})"
                )
        run = grade_authoritative(path, ns)
    except CliError:
        raise
    except Exception as exc:  # noqa: BLE001 - results.json is written even now
        if ns.json:
            write_json_atomic(Path(ns.json), failure_results(f"{type(exc).__name__}: {exc}"))
        raise CliError(f"grading failed: {type(exc).__name__}: {exc}") from None
    print_run(run, ns.format)
    if ns.json:
        from autograder.report import gradescope

        write_json_atomic(Path(ns.json), gradescope(run))
        if ns.format != "json":
            print(f"wrote {ns.json}")
    return 0


def grade_authoritative(path: Path, ns: argparse.Namespace):
    """Grade with the sandbox (or loudly without), a secret seed, the chosen exercises."""
    import secrets

    from autograder.grading import grade
    from autograder.impl import PlainLauncher
    from autograder.sandbox import UNSANDBOXED, choose_launcher

    if ns.no_sandbox:
        launcher, note = PlainLauncher(), f"{UNSANDBOXED} (--no-sandbox)"
    else:
        try:
            launcher, note = choose_launcher(require_sandbox=ns.require_sandbox)
        except RuntimeError as exc:
            if ns.json:  # results.json is always written, also when grading is refused
                from autograder.report import failure_results, write_json_atomic

                write_json_atomic(Path(ns.json), failure_results(str(exc)))
            raise CliError(str(exc)) from None
    if note:
        print(note, file=sys.stderr)
    seed = ns.seed if ns.seed is not None else secrets.randbelow(2**32)
    run = grade(path, exercises=ns.only or None, launcher=launcher, seed=seed)
    if note:
        run.notes.insert(0, note)
    print(f"grading seed: {seed}", file=sys.stderr)
    return run


def print_run(run, fmt: str) -> None:
    import json

    from autograder.report import classroom_line, gradescope, render_table

    if fmt == "json":
        print(json.dumps(gradescope(run), indent=2))
        return
    if fmt == "classroom":
        print(classroom_line(run))
        return
    print(render_table(run, details=fmt == "table"))
    print(classroom_line(run))


def _cmd_build_course(ns: argparse.Namespace) -> int:
    from autograder.build.stubs import stale_files, write_course

    if ns.check:
        stale = stale_files()
        if stale:
            raise CliError(
                f"course/ is stale ({', '.join(stale)}); run: python -m autograder build-course"
            )
        print("course/ is up to date")
        return 0
    for name in write_course():
        print(f"wrote course/{name}")
    return 0


def _cmd_experiments(ns: argparse.Namespace) -> int:
    import os
    import time

    from autograder import experiments as X

    jobs = ns.jobs if ns.jobs is not None else max(1, min(2, os.cpu_count() or 1))
    try:
        if ns.write_bands:
            start = time.perf_counter()
            data = X.write_bands(jobs=jobs, progress=not ns.no_progress)
            for var, band in data["answers"].items():
                print(
                    f"{var:<22} band {band['band']}  (reference mean {band['mean']} ± {band['std']}, "
                    f"min {band['min']}, max {band['max']}, {len(data['seeds'])} seeds)"
                )
            print(f"wrote {X.BANDS_PATH} in {time.perf_counter() - start:.1f} s")
            return 0
        seeds = ns.seeds if ns.seed_list is None else ns.seed_list
        X.main(
            Path(ns.impl_dir),
            Path(ns.out),
            seeds=seeds,
            names=ns.only,
            jobs=jobs,
            plots=not ns.no_plots,
            progress=not ns.no_progress,
        )
    except (X.ExperimentError, ValueError) as exc:
        raise CliError(str(exc).splitlines()[0] if ns.write_bands else str(exc)) from None
    return 0


def _cmd_grade_batch(ns: argparse.Namespace) -> int:
    import signal

    from autograder.batch import Batch, lock_out_dir

    src, out = Path(ns.dir), Path(ns.out)
    if not src.is_dir():
        raise CliError(f"{src}: not a directory (expected a folder of submissions)")
    rubric = Rubric.load()
    for name in ns.only or []:
        if name not in rubric.exercises:
            raise CliError(
                f"--only {name}: unknown exercise (known: {', '.join(rubric.exercises)})"
            )
    if ns.jobs is not None and ns.jobs < 1:
        raise CliError("--jobs must be at least 1")
    if ns.timeout <= 0:
        raise CliError("--timeout must be positive")
    sandbox = "require" if ns.require_sandbox else "none" if ns.no_sandbox else "auto"
    if sandbox != "none":
        from autograder.sandbox import UNSANDBOXED, bwrap_works

        ok, why = bwrap_works()
        if not ok and sandbox == "require":
            raise CliError(f"--require-sandbox: the sandbox is unavailable: {why}")
        if not ok:
            print(f"{UNSANDBOXED} ({why})", file=sys.stderr)
    lock = lock_out_dir(out)
    if lock is None:
        raise CliError(f"{out}: another grade-batch is running on this folder")

    def _stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    with lock:
        batch = Batch(
            src,
            out,
            jobs=ns.jobs,
            seed=ns.seed,
            exercises=ns.only,
            sandbox=sandbox,
            timeout=ns.timeout,
            reap_orphans=True,
        )
        if batch.ignored:
            print(
                f"ignored (not a folder, .zip or .ipynb): {', '.join(batch.ignored)}",
                file=sys.stderr,
            )
        if not batch.entries:
            raise CliError(f"{src}: no submissions (folders, .zip or .ipynb files)")
        outcomes = batch.run()
    bad = [o for o in outcomes if o.status != "ok"]
    print(
        f"{len(outcomes)} submission(s): {len(outcomes) - len(bad)} ok, {len(bad)} error(s); "
        f"wrote {out / 'scores.csv'}"
    )
    return 0


def _cmd_build_notebooks(ns: argparse.Namespace) -> int:
    from autograder.build.notebooks import NotebookBuildError, stale_notebooks, write_notebooks

    try:
        if ns.check:
            stale = stale_notebooks()
            if stale:
                raise CliError(
                    f"nbgrader/source is stale ({', '.join(stale)}); run: python -m autograder build-notebooks"
                )
            print("nbgrader/source is up to date")
            return 0
        for name in write_notebooks():
            print(f"wrote nbgrader/source/{name}")
    except NotebookBuildError as exc:
        raise CliError(str(exc)) from None
    return 0


def _cmd_nbgrader_init(ns: argparse.Namespace) -> int:
    import shutil

    from autograder import PACKAGE_DIR
    from autograder.build.notebooks import SOURCE_DIR

    course = Path(ns.course_dir)
    config = course / "nbgrader_config.py"
    if config.exists() and not ns.force:
        raise CliError(f"{config} exists (use --force to overwrite it and the source notebooks)")
    if not SOURCE_DIR.is_dir():
        raise CliError(
            f"{SOURCE_DIR}: no generated notebooks (run from a clone of the course repository)"
        )
    course.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PACKAGE_DIR / "data" / "nbgrader_config.py", config)
    print(f"wrote {config}")
    for src in sorted(SOURCE_DIR.glob("*/*.ipynb")):
        dst = course / "source" / src.parent.name / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        print(f"wrote {dst}")
    print(
        f"next: cd {course} && nbgrader generate_assignment <assignment>  (see docs/instructors.md)"
    )
    return 0


def _cmd_nbgrader_regrade(ns: argparse.Namespace) -> int:
    from autograder.nbgrader_regrade import RegradeError, regrade, write_reports

    course = Path(ns.course_dir)
    if ns.require_sandbox:
        from autograder.sandbox import bwrap_works

        ok, why = bwrap_works()
        if not ok:
            raise CliError(f"--require-sandbox: the sandbox is unavailable: {why}")
    try:
        report = regrade(
            course,
            assignment=ns.assignment,
            students=ns.student,
            require_sandbox=ns.require_sandbox,
            no_sandbox=ns.no_sandbox,
            seed=ns.seed,
            jobs=ns.jobs,
            write=not ns.dry_run,
        )
    except RegradeError as exc:
        raise CliError(str(exc)) from None
    csv_path, md_path = write_reports(report, course, ns.assignment)
    print(report.markdown())
    print(
        f"wrote {csv_path} and {md_path}"
        + ("" if not ns.dry_run else " (dry run: gradebook unchanged)")
    )
    return 0


def _cmd_release(ns: argparse.Namespace) -> int:
    from autograder.build.release import ReleaseError, build_release

    try:
        files = build_release(Path(ns.out_dir), force=ns.force)
    except ReleaseError as exc:
        raise CliError(str(exc)) from None
    print(
        f"wrote {len(files)} files to {ns.out_dir} (no solutions, no hidden checks, no answer keys)"
    )
    return 0


def _cmd_gradescope_zip(ns: argparse.Namespace) -> int:
    from autograder.build.gradescope import build_zip
    from autograder.build.notebooks import assignment_of

    exercises = list(ns.only or [])
    if ns.assignment:
        try:
            exercises += list(assignment_of(ns.assignment).exercises)
        except KeyError:
            raise CliError(f"--assignment {ns.assignment}: unknown assignment") from None
    rubric = Rubric.load()
    for name in exercises:
        if name not in rubric.exercises:
            raise CliError(f"{name}: unknown exercise (known: {', '.join(rubric.exercises)})")
    members = build_zip(Path(ns.out), exercises or None)
    print(f"wrote {ns.out} ({len(members)} files); upload it as the Gradescope autograder")
    return 0


def _add_sandbox_and_seed(parser: argparse.ArgumentParser) -> None:
    """``--require-sandbox | --no-sandbox`` and ``--seed``, as grade and nbgrader-regrade take them."""
    sandbox = parser.add_mutually_exclusive_group()
    sandbox.add_argument(
        "--require-sandbox",
        action="store_true",
        help="refuse to grade without the bubblewrap sandbox",
    )
    sandbox.add_argument(
        "--no-sandbox", action="store_true", help="run workers as plain subprocesses (UNSANDBOXED)"
    )
    parser.add_argument(
        "--seed", type=int, help="seed for hidden checks (default: a fresh secret seed per run)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade a folder laid out like course/")
    g.add_argument("path", help="the student's folder (e.g. course/ or an unzipped submission)")
    g.add_argument("--json", metavar="FILE", help="write Gradescope results.json here")
    g.add_argument("--only", nargs="+", metavar="EXERCISE", help="grade only these exercises")
    g.add_argument(
        "--format",
        choices=["table", "summary", "json", "classroom"],
        default="table",
        help="terminal output: per-check table (default), totals only, results.json, or 'Points X/Y'",
    )
    g.add_argument(
        "--summary",
        dest="format",
        action="store_const",
        const="summary",
        help="same as --format summary",
    )
    _add_sandbox_and_seed(g)
    g.set_defaults(func=_cmd_grade)
    b = sub.add_parser("build-course", help="regenerate course/ from solutions/")
    b.add_argument(
        "--check", action="store_true", help="fail if course/ is stale instead of writing"
    )
    b.set_defaults(func=_cmd_build_course)
    x = sub.add_parser(
        "experiments", help="run the lesson's REINFORCE experiments with your train_bandit"
    )
    x.add_argument(
        "--impl-dir", default="course", help="your folder laid out like course/ (default: course)"
    )
    x.add_argument(
        "--out", default="experiments", help="where the PNG plots go (default: experiments)"
    )
    x.add_argument("--seeds", type=int, default=5, help="run seeds 0..N-1 (default: 5)")
    x.add_argument(
        "--seed-list", type=int, nargs="+", metavar="SEED", help="run exactly these seeds"
    )
    x.add_argument(
        "--only",
        nargs="+",
        choices=["target", "lr", "wrong_reward"],
        help="run only these experiments",
    )
    x.add_argument(
        "--jobs", type=int, help="worker processes at once (default: 2, or 1 on one core)"
    )
    x.add_argument("--no-plots", action="store_true", help="print the summary only")
    x.add_argument("--no-progress", action="store_true", help="no progress bar")
    x.add_argument(
        "--write-bands", action="store_true", help=argparse.SUPPRESS
    )  # instructors: needs solutions/
    x.set_defaults(func=_cmd_experiments)
    gb = sub.add_parser(
        "grade-batch",
        help="grade every submission (folder, .zip, .ipynb) of a folder, in parallel",
        description="Grade every entry of DIR (a folder, .zip or .ipynb laid out like course/) in its own "
        "`grade` process with one secret seed; write OUT/<id>/results.json, OUT/<id>/output.txt, "
        "OUT/scores.csv and OUT/batch.log. Rerunning resumes. Rules for zips and notebooks: "
        "see autograder/submission.py.",
    )
    gb.add_argument("dir", help="folder whose entries are the submissions")
    gb.add_argument("--out", required=True, help="output folder (created; rerun to resume)")
    gb.add_argument(
        "--jobs", type=int, help="submissions graded at once (default: the number of CPUs)"
    )
    gb.add_argument(
        "--seed",
        type=int,
        help="batch seed for hidden checks (default: the one in OUT/batch.log, "
        "else a fresh secret one)",
    )
    gb.add_argument("--only", nargs="+", metavar="EXERCISE", help="grade only these exercises")
    gb.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="wall-clock budget per submission; past it the grading is killed (default: 900)",
    )
    gsb = gb.add_mutually_exclusive_group()
    gsb.add_argument(
        "--require-sandbox", action="store_true", help="refuse to grade without the sandbox"
    )
    gsb.add_argument(
        "--no-sandbox", action="store_true", help="run workers as plain subprocesses (UNSANDBOXED)"
    )
    gb.set_defaults(func=_cmd_grade_batch)
    bn = sub.add_parser(
        "build-notebooks", help="regenerate the nbgrader source notebooks (nbgrader/source)"
    )
    bn.add_argument(
        "--check", action="store_true", help="fail if nbgrader/source is stale instead of writing"
    )
    bn.set_defaults(func=_cmd_build_notebooks)
    ni = sub.add_parser(
        "nbgrader-init", help="create an nbgrader course folder (config + source notebooks)"
    )
    ni.add_argument(
        "course_dir", help="the course folder to create (run nbgrader commands from there)"
    )
    ni.add_argument(
        "--force",
        action="store_true",
        help="overwrite an existing nbgrader_config.py and notebooks",
    )
    ni.set_defaults(func=_cmd_nbgrader_init)
    nr = sub.add_parser(
        "nbgrader-regrade",
        help="re-grade nbgrader submissions in the sandbox (no kernel) and write the gradebook",
    )
    nr.add_argument(
        "course_dir", help="the nbgrader course folder (holds gradebook.db and submitted/)"
    )
    nr.add_argument("--assignment", help="only this assignment (default: all)")
    nr.add_argument("--student", nargs="+", help="only these students (default: all)")
    _add_sandbox_and_seed(nr)
    nr.add_argument(
        "--jobs", type=int, default=1, help="submissions graded in parallel (default 1)"
    )
    nr.add_argument(
        "--dry-run", action="store_true", help="report only; do not write the gradebook"
    )
    nr.set_defaults(func=_cmd_nbgrader_regrade)
    rl = sub.add_parser("release", help="write the student release (template repository)")
    rl.add_argument("out_dir", help="folder to write (must be empty or absent)")
    rl.add_argument("--force", action="store_true", help="replace out_dir if it exists")
    rl.set_defaults(func=_cmd_release)
    gz = sub.add_parser("gradescope-zip", help="build the Gradescope autograder zip")
    gz.add_argument("out", help="the zip to write, e.g. autograder.zip")
    gzo = gz.add_mutually_exclusive_group()
    gzo.add_argument(
        "--assignment",
        help="grade only this notebook assignment's exercises (e.g. a1_policy_gradients)",
    )
    gzo.add_argument("--only", nargs="+", metavar="EXERCISE", help="grade only these exercises")
    gz.set_defaults(func=_cmd_gradescope_zip)
    from autograder.capstone.cli import add_parser as add_capstone_parsers

    add_capstone_parsers(sub)  # capstone, capstone-sft
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    ns = parser.parse_args(argv)
    try:
        return ns.func(ns)
    except (CliError, RubricError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
