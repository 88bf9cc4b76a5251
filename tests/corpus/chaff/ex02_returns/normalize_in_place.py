"""Bug: normalize() uses in-place `x -= mean; x /= std`, so the caller's tensor is overwritten."""

from __future__ import annotations

import torch


def discounted_returns(rewards, gamma: float) -> torch.Tensor:
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    rewards = [float(r) for r in rewards]
    returns = [0.0] * len(rewards)
    G = 0.0
    for t in reversed(range(len(rewards))):
        G = rewards[t] + gamma * G
        returns[t] = G
    return torch.tensor(returns, dtype=torch.float32)


def normalize(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    if x.numel() == 0:
        return x
    std = x.std(correction=0)
    x -= x.mean()
    x /= std + eps
    return x
