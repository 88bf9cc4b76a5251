"""Alternative: a preallocated numpy float32 array filled backwards with float32 arithmetic; numpy population std."""

from __future__ import annotations

import numpy as np
import torch


def discounted_returns(rewards, gamma: float) -> torch.Tensor:
    if not 0 <= gamma <= 1:
        raise ValueError(f"gamma must lie in [0, 1]; got gamma={gamma}")
    if isinstance(rewards, torch.Tensor):
        r = rewards.detach().cpu().numpy().astype(np.float32)  # a copy
    else:
        r = np.array(rewards, dtype=np.float32)  # a copy
    out = np.empty_like(r)
    g = np.float32(gamma)
    running = np.float32(0.0)
    for t in range(r.shape[0] - 1, -1, -1):
        running = r[t] + g * running
        out[t] = running
    return torch.from_numpy(out)


def normalize(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    a = np.asarray(torch.as_tensor(x).detach(), dtype=np.float64)
    if a.size == 0:
        return torch.zeros(0, dtype=torch.float32)
    z = (a - a.mean()) / (a.std() + eps)
    return torch.from_numpy(z.astype(np.float32))
