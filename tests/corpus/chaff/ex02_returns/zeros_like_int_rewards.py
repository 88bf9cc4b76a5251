"""Bug: `returns = torch.zeros_like(rewards)` inherits an integer dtype from int rewards, so [1, 2, 3] at gamma=0.5 is truncated to [2, 3, 3]."""

from __future__ import annotations

import torch


def discounted_returns(rewards, gamma: float) -> torch.Tensor:
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    rewards = torch.as_tensor(rewards)
    if rewards.dtype == torch.float64:
        rewards = rewards.float()
    returns = torch.zeros_like(rewards)
    G = 0.0
    for t, r in zip(reversed(range(len(rewards))), reversed(rewards.tolist()), strict=True):
        G = r + gamma * G
        returns[t] = G
    return returns


def normalize(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.numel() == 0:
        return x.clone()
    return (x - x.mean()) / (x.std(correction=0) + eps)
