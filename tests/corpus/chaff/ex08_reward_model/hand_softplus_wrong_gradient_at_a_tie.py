"""Bug: a hand-written stable softplus, clamp(-d, min=0) + log1p(exp(-|d|)), has gradient -1 instead of -1/2 at a tie (d = 0)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check(r_chosen, r_rejected):
    if r_chosen.shape != r_rejected.shape:
        raise ValueError(f"r_rejected must have shape {tuple(r_chosen.shape)}, got {tuple(r_rejected.shape)}")
    if r_chosen.numel() == 0:
        raise ValueError("r_chosen is empty")


def preference_loss(r_chosen, r_rejected):
    _check(r_chosen, r_rejected)
    d = r_chosen - r_rejected
    per_pair = torch.clamp(-d, min=0.0) + torch.log1p(torch.exp(-d.abs()))  # = -log sigmoid(d)
    return per_pair.sum() / d.numel()


def preference_accuracy(r_chosen, r_rejected):
    _check(r_chosen, r_rejected)
    pairs = list(zip(r_chosen.tolist(), r_rejected.tolist()))
    return sum(1.0 for c, r in pairs if c > r) / len(pairs)
