"""``python -m autograder``: grade submissions and build the course files.

Commands:
    grade PATH [--json FILE] [--only EX ...]   grade one folder laid out like course/
    build-course [--check]                     regenerate course/ from solutions/
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
                raise CliError(f"--only {name}: unknown exercise (known: {', '.join(rubric.exercises)})")
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
            raise CliError(f"course/ is stale ({', '.join(stale)}); run: python -m autograder build-course")
        print("course/ is up to date")
        return 0
    for name in write_course():
        print(f"wrote course/{name}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n")[0])
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
    g.add_argument("--summary", dest="format", action="store_const", const="summary", help="same as --format summary")
    sb = g.add_mutually_exclusive_group()
    sb.add_argument("--require-sandbox", action="store_true", help="refuse to grade without the bubblewrap sandbox")
    sb.add_argument("--no-sandbox", action="store_true", help="run workers as plain subprocesses (UNSANDBOXED)")
    g.add_argument("--seed", type=int, help="seed for hidden checks (default: a fresh secret seed per run)")
    g.set_defaults(func=_cmd_grade)
    b = sub.add_parser("build-course", help="regenerate course/ from solutions/")
    b.add_argument("--check", action="store_true", help="fail if course/ is stale instead of writing")
    b.set_defaults(func=_cmd_build_course)
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
