"""Time per capstone phase, and accuracy / KL per seed.

Usage: python benchmarks/bench_capstone.py [--seeds 3] [--first-seed 0] [--course DIR] [--sft]
       [--only rlvr|rlhf|integration]

Phases: SFT regeneration (``--sft``; minutes, written to a temp file, not over the shipped
checkpoint), RLVR (GRPO) per seed, RLHF per seed (reward model, then PPO with
``kl_coef = 0`` and with ``rlhf.KL_COEF``), and the integration check (its 12 GRPO steps,
then the grader's own measurement of the SFT checkpoint and of the result, and the verdict).
``--course`` is a folder laid out like ``course/`` (default ``solutions/``); its ex09 must
read ``<answer>`` first (SPEC, turn 2). Run it on an otherwise idle machine; the torch thread
count is printed with the figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.capstone import integration, rlhf, rlvr, sft, student  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. +seeds-1")
    ap.add_argument("--course", default=str(ROOT / "solutions"))
    ap.add_argument("--sft", action="store_true", help="also time the SFT regeneration")
    ap.add_argument("--only", choices=["rlvr", "rlhf", "integration"])
    args = ap.parse_args()
    torch.set_num_threads(1)  # as the capstone command
    print(f"torch threads: {torch.get_num_threads()}")
    if args.sft:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            meta = sft.regenerate(Path(tmp) / "sft.pt")
            same = meta["digest"] == sft.load()[1]["digest"]
            print(f"SFT regeneration: {time.perf_counter() - t0:.0f} s, sampled "
                  f"{meta['held_out_sampled_accuracy']:.1%}, greedy "
                  f"{meta['held_out_greedy_accuracy']:.1%}, identical to the shipped weights: "
                  f"{same}")  # fmt: skip
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if args.only in (None, "rlvr"):
        fns = student.load(args.course, student.RLVR_NEEDS)
        student.check_rewards(fns)
        finals, gains = [], []
        for seed in seeds:
            _, c = rlvr.train_rlvr(fns, seed)
            finals.append(c.accuracy[-1])
            gains.append(c.accuracy[-1] - c.accuracy[0])
            print(f"RLVR seed {seed}: {c.seconds:.0f} s, accuracy {c.accuracy[0]:.1%} -> "
                  f"{c.accuracy[-1]:.1%}, final KL {c.kl[-1]:.4f}")  # fmt: skip
        print(f"RLVR mean: final {statistics.mean(finals):.1%}, gain "
              f"{statistics.mean(gains):+.1%}")  # fmt: skip
    if args.only in (None, "rlhf"):
        fns = student.load(args.course, student.RLHF_NEEDS)
        for seed in seeds:
            t0 = time.perf_counter()
            rm, info = rlhf.train_reward_model(fns, sft.load()[0], seed, rlhf.RlhfConfig())
            print(f"RLHF seed {seed}: reward model {time.perf_counter() - t0:.0f} s "
                  f"({info['pairs']} pairs, agrees {info['rm_agrees_with_labeller']:.0%})")  # fmt: skip
            for kl_coef in (0.0, rlhf.KL_COEF):
                _, run = rlhf.train_ppo(fns, rm, seed, kl_coef)
                c = run.curve
                print(f"  kl_coef={kl_coef}: {c.seconds:.0f} s, RM {c.reward[0]:+.2f} -> "
                      f"{c.reward[-1]:+.2f}, accuracy {c.accuracy[0]:.1%} -> "
                      f"{c.accuracy[-1]:.1%}, KL {c.kl[-1]:.3f}, '!' {run.excl[0]:.0%} -> "
                      f"{run.excl[-1]:.0%}; after: {run.after[0]!r}")  # fmt: skip
    if args.only in (None, "integration"):
        fns = student.load(args.course, student.RLVR_NEEDS)
        for seed in seeds:
            t0 = time.perf_counter()
            state = integration.short_grpo(fns, seed)
            t1 = time.perf_counter()
            passed, before, after = integration.verdict(state, seed)
            print(f"integration seed {seed}: GRPO {t1 - t0:.0f} s, grader's measurement "
                  f"{time.perf_counter() - t1:.0f} s; held-out accuracy {before:.1%} -> "
                  f"{after:.1%} ({after - before:+.1%}), passed: {passed}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
