"""Alternative: log pi = z - logsumexp(z) with advanced indexing, torch.multinomial sampling, entropy = logsumexp(z) - sum(p * z)."""

from __future__ import annotations

import torch
from torch import nn


class PolicyNetwork(nn.Module):
    def __init__(self, state_dim: int, n_actions: int, hidden: int = 64) -> None:
        super().__init__()
        self.hidden_layer = nn.Linear(state_dim, hidden)
        self.activation = nn.ReLU()
        self.output_layer = nn.Linear(hidden, n_actions)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return self.output_layer(self.activation(self.hidden_layer(states)))


def _log_pi(logits: torch.Tensor) -> torch.Tensor:
    return logits - torch.logsumexp(logits, dim=-1, keepdim=True)


def sample_action(logits: torch.Tensor) -> tuple[int, torch.Tensor]:
    logp = _log_pi(logits)
    action = int(torch.multinomial(logp.detach().exp(), num_samples=1).item())
    return action, logp[action]


def log_prob(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    logp = _log_pi(logits)
    flat = logp.reshape(-1, logp.shape[-1])
    idx = actions.reshape(-1).long()
    return flat[torch.arange(flat.shape[0]), idx].reshape(actions.shape)


def entropy(logits: torch.Tensor) -> torch.Tensor:
    p = torch.softmax(logits, dim=-1)
    return torch.logsumexp(logits, dim=-1) - (p * logits).sum(dim=-1)
