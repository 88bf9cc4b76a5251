"""Alternative: Gumbel-max sampling (argmax of logits + Gumbel noise) and log_softmax with torch.take_along_dim."""

from __future__ import annotations

import torch
import torch.nn as nn


class PolicyNetwork(nn.Module):
    def __init__(self, state_dim: int, n_actions: int, hidden: int = 64) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(state_dim, hidden), nn.Linear(hidden, n_actions)])

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return self.layers[1](torch.relu(self.layers[0](states)))


def sample_action(logits: torch.Tensor) -> tuple[int, torch.Tensor]:
    u = torch.rand(logits.shape).clamp_(1e-10, 1.0 - 1e-7)
    gumbel = -torch.log(-torch.log(u))
    action = int(torch.argmax(logits.detach() + gumbel))
    return action, torch.log_softmax(logits, dim=-1)[action]


def log_prob(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    logp = torch.log_softmax(logits, dim=-1)
    return torch.take_along_dim(logp, actions.long()[..., None], dim=-1)[..., 0]


def entropy(logits: torch.Tensor) -> torch.Tensor:
    logp = torch.log_softmax(logits, dim=-1)
    return -(torch.exp(logp) * logp).sum(-1)
