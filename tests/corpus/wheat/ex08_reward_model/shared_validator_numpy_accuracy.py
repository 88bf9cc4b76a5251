"""Alternative: one shared validation helper with its own error wording, a softplus stabilised by hand with max(x, 0), and the accuracy counted in numpy."""

from __future__ import annotations

import numpy as np
import torch


def _check_pair(a, b):
    if tuple(a.shape) != tuple(b.shape) or a.numel() == 0:
        raise ValueError("need two reward tensors of one and the same non-empty shape")


def preference_loss(r_chosen, r_rejected):
    _check_pair(r_chosen, r_rejected)
    x = r_rejected - r_chosen  # softplus(x) = m + log(exp(-m) + exp(x - m)), m = max(x, 0)
    m = torch.clamp(x, min=0)
    return (m + torch.log(torch.exp(-m) + torch.exp(x - m))).mean()


def preference_accuracy(r_chosen, r_rejected):
    _check_pair(r_chosen, r_rejected)
    wins = np.asarray(r_chosen.detach().cpu().numpy() > r_rejected.detach().cpu().numpy())
    return int(wins.sum()) / wins.size
