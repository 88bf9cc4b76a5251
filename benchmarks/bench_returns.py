"""Time ``discounted_returns`` at the size ex02's timing check uses, for the course text.

Prints the CPU time (one thread, as in the grader's worker) of the reference (one backward
pass), of a plain loop over tensor elements and of the lesson's ``returns.insert(0, G)``,
their ratios to the reference, and each one's growth from T / 4 to T. The check
``test_discounted_returns_is_linear_time_at_t_300000`` passes a ratio up to ``MAX_RATIO``,
and above it a growth up to ``MAX_GROWTH`` with a ratio under ``HARD_RATIO``.

    python benchmarks/bench_returns.py [--T 300000]

Absolute times depend on the machine; the ratios are what the course text quotes.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from autograder import REPO_ROOT
from autograder.checks.ex02_returns import HARD_RATIO, MAX_GROWTH, MAX_RATIO

sys.path.insert(0, str(REPO_ROOT / "solutions"))
from ex02_returns import discounted_returns  # noqa: E402


def insert_front(rewards: list[float], gamma: float) -> torch.Tensor:
    """The lesson's loop: right numbers, O(T^2) time."""
    returns, g = [], 0.0
    for r in reversed(rewards):
        g = r + gamma * g
        returns.insert(0, g)
    return torch.tensor(returns, dtype=torch.float32)


def tensor_loop(rewards: list[float], gamma: float) -> torch.Tensor:
    """O(T) but one Python-level tensor operation per element."""
    x = torch.tensor(rewards, dtype=torch.float32)
    out = torch.empty_like(x)
    g = torch.tensor(0.0)
    for t in range(len(x) - 1, -1, -1):
        g = x[t] + gamma * g
        out[t] = g
    return out


def best_of(fn, *args, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.thread_time()
        fn(*args)
        times.append(time.thread_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", type=int, default=300_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rewards, quarter = [0.5] * args.T, [0.5] * (args.T // 4)
    ref = best_of(discounted_returns, rewards, 0.99, repeat=5)
    print(
        f"T = {args.T:,}, CPU time; the check passes up to {MAX_RATIO}x, or a growth from "
        f"T / 4 up to {MAX_GROWTH:g}x below {HARD_RATIO}x"
    )
    print(f"  reference (backward pass)   {ref * 1000:9.1f} ms      1x")
    for name, fn in (
        ("loop over tensor elements", tensor_loop),
        ("list.insert(0, G)", insert_front),
    ):
        t = best_of(fn, rewards, 0.99, repeat=1)
        growth = t / best_of(fn, quarter, 0.99, repeat=1)
        print(f"  {name:<27} {t * 1000:9.1f} ms  {t / ref:5.0f}x  growth {growth:4.1f}x")


if __name__ == "__main__":
    main()
