"""Bug: computes in numpy float64 and returns torch.from_numpy(...) - a float64 tensor instead of float32."""

from __future__ import annotations

import numpy as np
import torch


def discounted_returns(rewards, gamma: float) -> torch.Tensor:
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    r = np.asarray(rewards, dtype=np.float64)
    out = np.zeros_like(r)
    G = 0.0
    for t in range(len(r) - 1, -1, -1):
        G = r[t] + gamma * G
        out[t] = G
    return torch.from_numpy(out)


def normalize(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.numel() == 0:
        return x.clone()
    return (x - x.mean()) / (x.std(correction=0) + eps)
