"""Bug: the lesson's `returns.insert(0, G)` - right numbers, but every insert shifts the list, so O(T^2) time."""

from __future__ import annotations

import torch


def discounted_returns(rewards, gamma: float) -> torch.Tensor:
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    returns = []
    G = 0.0
    for r in reversed([float(r) for r in rewards]):
        G = r + gamma * G
        returns.insert(0, G)
    return torch.tensor(returns, dtype=torch.float32)


def normalize(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.numel() == 0:
        return x.clone()
    return (x - x.mean()) / (x.std(unbiased=False) + eps)
