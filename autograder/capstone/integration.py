"""The capstone's graded integration check, as two plain functions around a trust boundary.

* :func:`short_grpo` runs **in the sandboxed worker**: a short GRPO run from the SFT
  checkpoint driven by the student's functions (``fns``: ``group_advantages``,
  ``grpo_loss``, ``kl_k3``, ``math_reward``, ``format_reward``, ``token_logprobs``,
  ``completion_mask``, ``sequence_logprob``). It returns only the final weights (a state
  dict of tensors), never a number the grader would trust.
* :func:`evaluate_state` runs **in the grader process**: it loads those weights into the
  grader's own model and measures held-out sampled accuracy with the grader's own sampler
  and exact checker. :func:`verdict` compares it with the SFT checkpoint measured the same
  way.

How the worker gets this code: the worker imports nothing of the ``autograder`` package,
so the grader sends the capstone's source text as data (:func:`worker_sources`) with the
generic ``grader_code`` probe (``seam/worker/probes.py``), which executes it as modules
inside the worker and calls :func:`worker_entry` with the SFT weights (arrays through the
wire codec). The student's code shares that process and could tamper with the run, which
is why only weights come back and the grader measures them itself.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import SimpleNamespace

import torch

from autograder.capstone import rlvr, sft, student, task
from autograder.capstone.model import Config, TinyGPT

CONFIG = rlvr.RlvrConfig(steps=12, prompts=16, group=8, eval_every=10**9, eval_prompts=1)
EVAL_PROMPTS = 600
# Accuracy the short run must add over SFT. Measured (600 held-out prompts, reference
# functions): +11.7, +10.8, +13.7, +14.3, +11.3, +16.3 points on seeds 0-5 and +7.8 on a
# grading seed (mean +12.3, sd 2.7); a sign-flipped grpo_loss loses 71 (seed 0), the ex11
# no-shift bug 43 and 54 (seeds 0, 1). 2 points sits almost 4 sd below the reference's mean:
# noise does not fail a correct run, and those bugs never come near it.
MIN_GAIN = 0.02


# What the worker executes, in dependency order (each imports only those before it).
WORKER_MODULES = ("tokenizer", "task", "model", "sft", "student", "rlvr", "integration")


def worker_sources() -> list[list[str]]:
    """``[[dotted_name, source], ...]`` of the capstone modules the worker needs."""
    here = Path(__file__).resolve().parent
    return [
        [f"autograder.capstone.{name}", (here / f"{name}.py").read_text(encoding="utf-8")]
        for name in WORKER_MODULES
    ]


def short_grpo(
    fns: SimpleNamespace,
    seed: int,
    cfg: rlvr.RlvrConfig = CONFIG,
    start: TinyGPT | None = None,
) -> dict[str, torch.Tensor]:
    """Worker side: a short GRPO run with the student's functions; returns the final weights."""
    torch.set_num_threads(1)
    policy, _ = rlvr.train_rlvr(fns, seed, cfg, start=start)
    return {k: v.detach().clone() for k, v in policy.state_dict().items()}


def worker_entry(state: dict[str, torch.Tensor], seed: int) -> dict[str, torch.Tensor]:
    """Worker side: the student's RLVR functions (imported by module name) train from ``state``.

    Args:
        state: the SFT checkpoint's weights, sent by the grader.
        seed: the run's seed.

    Returns:
        The final weights, name -> tensor (a plain dict, as the wire codec wants).
    """
    fns = SimpleNamespace(
        **{
            name: getattr(importlib.import_module(module), name)
            for module, names in student.RLVR_NEEDS.items()
            for name in names
        }
    )
    model = TinyGPT(Config())
    model.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    return short_grpo(fns, seed, start=model)


def evaluate_state(state: dict[str, torch.Tensor], seed: int) -> float:
    """Grader side: held-out sampled accuracy of the returned weights (grader's own code).

    Raises:
        ValueError: the state dict does not fit the grader's model (missing, extra or
            misshapen tensors, or non-finite values).
    """
    model = TinyGPT(Config())
    expected = model.state_dict()
    if set(state) != set(expected):
        raise ValueError("the returned weights do not match the model's parameters")
    for k, v in state.items():
        if not isinstance(v, torch.Tensor) or v.shape != expected[k].shape:
            raise ValueError(f"the returned {k} has the wrong shape")
        if not torch.isfinite(v).all():
            raise ValueError(f"the returned {k} is not finite")
    model.load_state_dict({k: v.to(torch.float32) for k, v in state.items()})
    model.eval()
    _, held_out = task.split()
    return sft.accuracy(model, held_out[-EVAL_PROMPTS:], 1.0, seed=5000 + seed)


def baseline(seed: int) -> float:
    """The SFT checkpoint measured exactly as :func:`evaluate_state` measures a result."""
    model, _ = sft.load()
    return evaluate_state(model.state_dict(), seed)


def verdict(state: dict[str, torch.Tensor], seed: int) -> tuple[bool, float, float]:
    """``(passed, sft_accuracy, accuracy)``: passed iff accuracy >= SFT + ``MIN_GAIN``."""
    before, after = baseline(seed), evaluate_state(state, seed)
    return after >= before + MIN_GAIN, before, after
