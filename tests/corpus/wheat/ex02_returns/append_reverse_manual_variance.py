"""Alternative: append then reverse (O(T)), and the population std written out as sqrt(mean((x - mean)^2)) in float64."""

from __future__ import annotations

import torch


def discounted_returns(rewards, gamma: float) -> torch.Tensor:
    gamma = float(gamma)
    if gamma != gamma or gamma < 0.0 or gamma > 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    values = torch.as_tensor(rewards, dtype=torch.float64).reshape(-1).tolist()
    returns = []
    G = 0.0
    for r in values[::-1]:
        G = r + gamma * G
        returns.append(G)
    returns.reverse()
    return torch.tensor(returns, dtype=torch.float64).to(torch.float32)


def normalize(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    x = torch.as_tensor(x, dtype=torch.float64)
    if x.numel() == 0:
        return torch.empty(0)
    centered = x - x.mean()
    std = centered.pow(2).mean().sqrt()
    return (centered / (std + eps)).to(torch.float32)
