"""Alternative: explicit fc1/fc2 attributes with F.relu, and Categorical(logits=...) for sampling, log-probs and entropy."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical


class PolicyNetwork(nn.Module):
    def __init__(self, state_dim: int, n_actions: int, hidden: int = 64) -> None:
        super().__init__()
        self.fc1 = nn.Linear(state_dim, hidden)
        self.fc2 = nn.Linear(hidden, n_actions)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.fc1(states))
        return self.fc2(h)


def sample_action(logits: torch.Tensor) -> tuple[int, torch.Tensor]:
    dist = Categorical(logits=logits)
    a = dist.sample()
    return int(a), dist.log_prob(a)


def log_prob(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    return Categorical(logits=logits).log_prob(actions)


def entropy(logits: torch.Tensor) -> torch.Tensor:
    return Categorical(logits=logits).entropy()
