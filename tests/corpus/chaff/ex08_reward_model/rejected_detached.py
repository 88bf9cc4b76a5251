"""Bug: the rejected rewards are detached, so the reward model is never pushed down on rejected answers."""

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
    return -F.logsigmoid(r_chosen - r_rejected.detach()).mean()


def preference_accuracy(r_chosen, r_rejected):
    _check(r_chosen, r_rejected)
    return float((r_chosen > r_rejected).float().mean())
