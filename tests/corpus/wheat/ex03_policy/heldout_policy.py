"""Alternative: held out (written from the stubs alone by someone who never saw the checks); two named layers and torch.relu, torch.multinomial on float64 probabilities, gather minus logsumexp."""

from __future__ import annotations

import torch
import torch.nn as nn
from torch.distributions import Categorical


class PolicyNetwork(nn.Module):
    """Linear -> ReLU -> Linear: states to action logits.

    Args:
        state_dim: size of one state vector.
        n_actions: number of discrete actions.
        hidden: width of the hidden layer.
    """

    def __init__(self, state_dim: int, n_actions: int, hidden: int = 64) -> None:
        super().__init__()
        self.state_dim = int(state_dim)
        self.n_actions = int(n_actions)
        self.hidden_layer = nn.Linear(self.state_dim, hidden)
        self.output_layer = nn.Linear(hidden, self.n_actions)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        """Map ``(..., state_dim)`` states to ``(..., n_actions)`` logits (not probabilities)."""
        h = torch.relu(self.hidden_layer(states))
        return self.output_layer(h)  # raw logits: no softmax here


def sample_action(logits: torch.Tensor) -> tuple[int, torch.Tensor]:
    """Sample one action from ``softmax(logits)``.

    Args:
        logits: ``(n_actions,)`` logits of one state.

    Returns:
        ``(action, log_prob)``: the action as a Python int and its log-probability
        as a 0-d tensor that keeps the autograd graph to ``logits``.
    """
    logits_1d = logits.reshape(-1)
    with torch.no_grad():
        probs = torch.softmax(logits_1d.double(), dim=-1)
        idx = int(torch.multinomial(probs, num_samples=1).item())
    logp = logits_1d[idx] - torch.logsumexp(logits_1d, dim=-1)
    return idx, logp


def log_prob(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """``log pi(a | s)`` of the given actions.

    Args:
        logits: ``(..., n_actions)`` logits.
        actions: ``(...)`` integer actions.

    Returns:
        ``(...)`` log-probabilities (float32 for float32 logits), differentiable w.r.t. ``logits``.
    """
    acts = torch.as_tensor(actions, device=logits.device).long()
    chosen = torch.gather(logits, -1, acts.unsqueeze(-1)).squeeze(-1)
    return chosen - torch.logsumexp(logits, dim=-1)


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy ``-sum_a pi(a) log pi(a)`` of each distribution.

    Args:
        logits: ``(..., n_actions)`` logits.

    Returns:
        ``(...)`` entropies in nats (float32 for float32 logits).
    """
    logp = torch.log_softmax(logits, dim=-1)
    p = logp.exp()
    terms = torch.where(p > 0, p * logp, torch.zeros_like(logp))
    return -terms.sum(dim=-1)
