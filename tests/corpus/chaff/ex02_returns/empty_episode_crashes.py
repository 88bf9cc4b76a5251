"""Bug: starts the backward pass from `G = rewards[-1]`, so an empty episode raises IndexError instead of giving an empty tensor."""

from __future__ import annotations

import torch


def discounted_returns(rewards, gamma: float) -> torch.Tensor:
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    rewards = [float(r) for r in rewards]
    G = rewards[-1]
    returns = [G]
    for r in reversed(rewards[:-1]):
        G = r + gamma * G
        returns.append(G)
    returns.reverse()
    return torch.tensor(returns, dtype=torch.float32)


def normalize(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.numel() == 0:
        return x.clone()
    return (x - x.mean()) / (x.std(correction=0) + eps)
