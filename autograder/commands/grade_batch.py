"""``python -m autograder grade-batch DIR --out OUT``: grade every submission of a folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.commands.common import (
    CliError,
    add_sandbox_flags,
    add_seed,
    check_exercises,
    sandbox_mode,
    warn_if_exposed,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Declare the verb."""
    gb = sub.add_parser(
        "grade-batch",
        help="grade every submission (folder, .zip, .ipynb) of a folder, in parallel",
        description="Grade every entry of DIR (a folder, .zip or .ipynb laid out like course/) in its own "
        "`grade` process with one secret seed; write OUT/<id>/results.json, OUT/<id>/output.txt, "
        "OUT/scores.csv and OUT/batch.log. Rerunning resumes. Rules for zips and notebooks: "
        "see autograder/ingest/submission.py and autograder/ingest/notebook.py.",
    )
    gb.add_argument("dir", help="folder whose entries are the submissions")
    gb.add_argument("--out", required=True, help="output folder (created; rerun to resume)")
    gb.add_argument(
        "--jobs", type=int, help="submissions graded at once (default: the number of CPUs)"
    )
    add_seed(
        gb,
        "batch seed for hidden checks (default: the one in OUT/batch.log, else a fresh secret one)",
    )
    gb.add_argument("--only", nargs="+", metavar="EXERCISE", help="grade only these exercises")
    gb.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="CPU-time budget per submission (its grading process and workers); past it, or "
        "past a wall-clock backstop of max(3 x SECONDS, SECONDS + 30), the grading is killed "
        "(default: 900)",
    )
    add_sandbox_flags(gb)
    gb.set_defaults(func=run)


def run(ns: argparse.Namespace) -> int:
    """Grade the batch (resuming), write scores.csv."""
    import signal

    from autograder.grading.batch import Batch, lock_out_dir

    src, out = Path(ns.dir), Path(ns.out)
    if not src.is_dir():
        raise CliError(f"{src}: not a directory (expected a folder of submissions)")
    check_exercises(ns.only)
    if ns.jobs is not None and ns.jobs < 1:
        raise CliError("--jobs must be at least 1")
    if ns.timeout <= 0:
        raise CliError("--timeout must be positive")
    sandbox = sandbox_mode(ns)
    if sandbox != "off":  # the tier every grading process will choose (bwrap, uid-only, none)
        from autograder.seam.sandbox import SandboxUnavailable, choose_launcher

        try:
            _, note = choose_launcher(sandbox)
        except SandboxUnavailable as exc:
            raise CliError(str(exc)) from exc
        if note:
            print(note, file=sys.stderr)
        warn_if_exposed(sandbox, [src])
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
