"""Alternative: a backward loop over tensor elements (O(T), one tensor operation per element, about 60x the reference's CPU time at T = 300,000), normalize with torch.std(correction=0)."""

from __future__ import annotations

import numpy as np
import torch


def discounted_returns(rewards, gamma: float) -> torch.Tensor:
    if not 0.0 <= gamma <= 1.0:  # NaN fails the comparison too
        raise ValueError(f"gamma must be in [0, 1], got {gamma!r}")
    x = torch.tensor(np.asarray(rewards, dtype=np.float64).reshape(-1))  # a copy
    out = torch.empty_like(x)
    g = torch.tensor(0.0, dtype=torch.float64)
    for t in range(x.shape[0] - 1, -1, -1):
        g = x[t] + gamma * g
        out[t] = g
    return out.to(torch.float32)


def normalize(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    x = torch.as_tensor(x).to(torch.float32)
    if x.numel() == 0:
        return x.clone()
    return (x - x.mean()) / (x.std(correction=0) + eps)
