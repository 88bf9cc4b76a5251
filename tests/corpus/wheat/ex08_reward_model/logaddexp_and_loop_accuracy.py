"""Alternative: -log sigmoid(d) as logaddexp(0, -d), and the accuracy counted in a Python loop."""

from __future__ import annotations

import torch


def _check(r_chosen, r_rejected):
    if r_chosen.shape != r_rejected.shape:
        raise ValueError(f"r_rejected must have shape {tuple(r_chosen.shape)}, got {tuple(r_rejected.shape)}")
    if r_chosen.numel() == 0:
        raise ValueError("r_chosen is empty")


def preference_loss(r_chosen, r_rejected):
    _check(r_chosen, r_rejected)
    d = r_chosen - r_rejected
    # log(1 + e^{-d}) = logaddexp(0, -d): no overflow, gradient -sigmoid(-d)
    return torch.logaddexp(torch.zeros_like(d), -d).sum() / d.numel()


def preference_accuracy(r_chosen, r_rejected):
    _check(r_chosen, r_rejected)
    pairs = list(zip(r_chosen.tolist(), r_rejected.tolist()))
    return sum(1.0 for c, r in pairs if c > r) / len(pairs)
