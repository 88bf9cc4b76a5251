"""Bug: np.asarray() on a float32 tensor is a view, and the backward pass `r[t] += gamma * r[t+1]` overwrites the caller's rewards."""

from __future__ import annotations

import numpy as np
import torch


def discounted_returns(rewards, gamma: float) -> torch.Tensor:
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    r = np.asarray(rewards, dtype=np.float32)
    for t in range(len(r) - 2, -1, -1):
        r[t] += gamma * r[t + 1]
    return torch.from_numpy(r).clone()


def normalize(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.numel() == 0:
        return x.clone()
    return (x - x.mean()) / (x.std(correction=0) + eps)
