"""``python -m autograder capstone`` and ``capstone-sft``: run the capstone with your functions.

``capstone`` loads your ``ex06``-``ex11`` from ``--course`` (default ``course/``), then
runs RLVR (GRPO) and RLHF (a reward model from a flawed labeller, PPO with and without
the KL penalty) for each seed, writes one PNG per run under ``--out`` and prints a
summary. ``capstone-sft`` (or ``capstone --regenerate-sft``) regenerates the shipped SFT
checkpoint deterministically.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from autograder.capstone import sft, student


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers the ``capstone`` and ``capstone-sft`` verbs."""
    c = subparsers.add_parser(
        "capstone", help="train a small LM with your own functions (RLVR and RLHF)"
    )
    c.add_argument("--only", choices=["rlvr", "rlhf"], help="run only this phase")
    c.add_argument("--seeds", type=int, default=1, help="run seeds 0..N-1 (default: 1)")
    c.add_argument("--course", default="course", help="your folder laid out like course/")
    c.add_argument("--out", default="capstone", help="where the PNGs go (default: capstone)")
    c.add_argument("--steps", type=int, help="training steps per run (default: each phase's own)")
    c.add_argument("--no-progress", action="store_true", help="no progress bars")
    c.add_argument(
        "--regenerate-sft",
        action="store_true",
        help="regenerate the shipped SFT checkpoint instead (instructors)",
    )
    c.set_defaults(func=run)
    s = subparsers.add_parser(
        "capstone-sft", help="regenerate the capstone's SFT checkpoint (deterministic)"
    )
    s.add_argument("--out", type=Path, default=sft.CHECKPOINT, help="checkpoint to write")
    s.add_argument("--steps", type=int, default=sft.STEPS, help=argparse.SUPPRESS)
    s.set_defaults(func=run_sft)


def run_sft(args: argparse.Namespace) -> int:
    """Regenerates the SFT checkpoint and prints its metadata."""
    out = Path(getattr(args, "out", None) or sft.CHECKPOINT)
    if out.suffix != ".pt":
        out = sft.CHECKPOINT
    meta = sft.regenerate(out, steps=getattr(args, "steps", None) or sft.STEPS)
    print(f"wrote {out}")
    for key, value in meta.items():
        print(f"  {key}: {value}")
    return 0


def _bar(desc: str, total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", disable=not enabled, leave=False)


def run(args: argparse.Namespace) -> int:
    """Runs the capstone phases for each seed; returns the exit status."""
    if args.regenerate_sft:
        return run_sft(argparse.Namespace(out=sft.CHECKPOINT, steps=sft.STEPS))
    import torch

    torch.set_num_threads(1)  # small matrices: one thread is as fast and the curve reproducible
    out = Path(args.out)
    progress = not args.no_progress and sys.stderr.isatty()
    seeds = list(range(max(args.seeds, 1)))
    try:
        if args.only in (None, "rlvr"):
            _run_rlvr(args, seeds, out, progress)
        if args.only in (None, "rlhf"):
            _run_rlhf(args, seeds, out, progress)
    except student.CapstoneError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _run_rlvr(args: argparse.Namespace, seeds: list[int], out: Path, progress: bool) -> None:
    from autograder.capstone import rlvr
    from autograder.capstone.plots import plot_runs

    fns = student.load(args.course, student.RLVR_NEEDS)
    student.check_rewards(fns)
    cfg = rlvr.RlvrConfig() if args.steps is None else rlvr.RlvrConfig(steps=args.steps)
    print(f"RLVR: GRPO from the SFT checkpoint, {cfg.steps} steps x {cfg.prompts} prompts x "
          f"{cfg.group} samples, kl_coef={cfg.kl_coef}")  # fmt: skip
    finals, gains = [], []
    for seed in seeds:
        bar = _bar(f"RLVR seed {seed}", cfg.steps, progress)

        def tick(step: int, m: dict, bar=bar) -> None:
            bar.update(1)
            bar.set_postfix(reward=f"{m['reward']:.2f}", kl=f"{m['kl']:.3f}", acc=f"{m['acc']:.0%}")

        t0 = time.perf_counter()
        _, curve = rlvr.train_rlvr(fns, seed, cfg, tick)
        bar.close()
        png = plot_runs(
            {"GRPO": curve},
            f"RLVR (GRPO), seed {seed}",
            out / f"rlvr_seed{seed}.png",
            "mean reward (math + 0.1 format)",
        )
        start, end = curve.accuracy[0], curve.accuracy[-1]
        finals.append(end)
        gains.append(end - start)
        print(
            f"  seed {seed}: held-out sampled accuracy {start:.1%} -> {end:.1%} "
            f"({end - start:+.1%}), final KL {curve.kl[-1]:.4f}, "
            f"{time.perf_counter() - t0:.0f} s  [{png}]"
        )
    if len(seeds) > 1:
        print(f"  mean over {len(seeds)} seeds: final accuracy {statistics.mean(finals):.1%}, "
              f"gain {statistics.mean(gains):+.1%}")  # fmt: skip


def _run_rlhf(args: argparse.Namespace, seeds: list[int], out: Path, progress: bool) -> None:
    from autograder.capstone import rlhf

    rlhf.run_cli(args, seeds, out, progress)
