"""``python -m autograder experiments``: the lesson's REINFORCE experiments with your code."""

from __future__ import annotations

import argparse
from pathlib import Path

from autograder.commands.common import CliError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Declare the verb."""
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
    x.set_defaults(func=run)


def run(ns: argparse.Namespace) -> int:
    """Run the experiments (or, for instructors, write the answer bands)."""
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
