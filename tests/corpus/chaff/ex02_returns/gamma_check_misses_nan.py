"""Bug: `if gamma < 0 or gamma > 1: raise` - both comparisons are False for NaN, so gamma=nan returns NaN returns."""

from __future__ import annotations

import torch


def discounted_returns(rewards, gamma: float) -> torch.Tensor:
    if gamma < 0 or gamma > 1:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    rewards = [float(r) for r in rewards]
    returns = [0.0] * len(rewards)
    G = 0.0
    for t in reversed(range(len(rewards))):
        G = rewards[t] + gamma * G
        returns[t] = G
    return torch.tensor(returns, dtype=torch.float32)


def normalize(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.numel() == 0:
        return x.clone()
    return (x - x.mean()) / (x.std(correction=0) + eps)
