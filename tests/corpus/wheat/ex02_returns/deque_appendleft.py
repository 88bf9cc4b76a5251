"""Alternative: collections.deque.appendleft (the upstream pytorch/examples fix) and torch.std(unbiased=False) computed in float64."""

from __future__ import annotations

import math
from collections import deque

import torch


def discounted_returns(rewards, gamma: float) -> torch.Tensor:
    if not (0.0 <= gamma <= 1.0) or math.isnan(gamma):
        raise ValueError(f"gamma must be in [0, 1], got {gamma!r}")
    if isinstance(rewards, torch.Tensor):
        rewards = rewards.tolist()
    returns: deque[float] = deque()
    G = 0.0
    for r in reversed(list(rewards)):
        G = float(r) + gamma * G
        returns.appendleft(G)
    return torch.tensor(list(returns), dtype=torch.float32)


def normalize(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    x = torch.as_tensor(x).double()  # float64 inside: the mean of equal values is exact
    if x.numel() < 2:
        return torch.zeros_like(x, dtype=torch.float32)
    return ((x - x.mean()) / (torch.std(x, unbiased=False) + eps)).float()
