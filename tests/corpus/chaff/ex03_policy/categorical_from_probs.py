"""Bug: the lesson's Categorical(probs=softmax(logits)) - log-probs are floored at -15.94 with zero gradient beyond a logit gap of ~16."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical


class PolicyNetwork(nn.Module):
    def __init__(self, state_dim: int, n_actions: int, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(state_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_actions),
        )

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return self.net(states)


def sample_action(logits: torch.Tensor) -> tuple[int, torch.Tensor]:
    dist = Categorical(probs=F.softmax(logits, dim=-1))
    action = dist.sample()
    return action.item(), dist.log_prob(action)


def log_prob(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    return Categorical(probs=F.softmax(logits, dim=-1)).log_prob(actions)


def entropy(logits: torch.Tensor) -> torch.Tensor:
    return Categorical(probs=F.softmax(logits, dim=-1)).entropy()
