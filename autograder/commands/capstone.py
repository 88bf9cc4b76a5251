"""``python -m autograder capstone`` / ``capstone-sft``: train a small LM with your own functions.

The arguments are declared here; the work is in ``autograder/capstone/cli.py`` (imported only
when the verb runs, so that ``--help`` stays fast).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers the ``capstone`` and ``capstone-sft`` verbs."""
    c = subparsers.add_parser(
        "capstone", help="train a small LM with your own functions (RLVR and RLHF)"
    )
    c.add_argument("--only", choices=["rlvr", "rlhf"], help="run only this phase")
    c.add_argument("--seeds", type=int, default=1, help="run seeds 0..N-1 (default: 1)")
    c.add_argument("--course", default="course", help="your folder laid out like course/")
    c.add_argument(
        "--notebook",
        help="run the functions of this saved notebook (e.g. a4_capstone.ipynb) instead of "
        "--course; capstone_record.json is written next to it",
    )
    c.add_argument("--out", default="capstone", help="where the PNGs go (default: capstone)")
    c.add_argument("--steps", type=int, help="training steps per run (default: each phase's own)")
    c.add_argument("--no-progress", action="store_true", help="no progress bars")
    c.add_argument(
        "--regenerate-sft",
        action="store_true",
        help="regenerate the shipped SFT checkpoint instead (instructors)",
    )
    c.set_defaults(func=_run)
    s = subparsers.add_parser(
        "capstone-sft", help="regenerate the capstone's SFT checkpoint (deterministic)"
    )
    s.add_argument(
        "--out", type=Path, default=None, help="checkpoint to write (default: the shipped one)"
    )
    s.add_argument("--steps", type=int, default=None, help=argparse.SUPPRESS)
    s.set_defaults(func=_run_sft)


def _run(args: argparse.Namespace) -> int:
    from autograder.capstone.cli import run

    return run(args)


def _run_sft(args: argparse.Namespace) -> int:
    from autograder.capstone.cli import run_sft

    return run_sft(args)
