r"""Exercise 03 - a policy that outputs logits.

The idea
--------
A stochastic policy ``pi(a | s)`` is a probability distribution over actions
for each state. For an LLM it is the softmax over the vocabulary given the
context. A small network maps a state to one real number per action, the
*logits* ``z``; the policy is

.. math::

    \pi(a \mid s) = \operatorname{softmax}(z)_a = \frac{e^{z_a}}{\sum_b e^{z_b}}, \qquad
    \log \pi(a \mid s) = z_a - \operatorname{logsumexp}(z)

The network must return the logits, not the probabilities. ``log_softmax``
computes ``log pi`` accurately at any logit gap; ``log(softmax(z))`` loses
precision once a probability underflows float32 (a gap of about 88) and gives
``-inf`` beyond a gap of about 104. ``Categorical(probs=softmax(z))`` fails much
sooner: it clamps probabilities at about 1.2e-7 (float32's machine epsilon), so
at a logit gap of 30 it reports a log-probability of -15.94 instead of -30.0
**and a zero gradient**: when a policy that has drifted away from an action does
sample it and is rewarded, the update cannot make that action more likely.

Softmax runs over the **last** dimension: a batch of states ``(B, state_dim)``
gives logits ``(B, n_actions)`` and each row is its own distribution.

* ``PolicyNetwork(state_dim, n_actions, hidden)``: Linear -> ReLU -> Linear.
* ``sample_action(logits)``: draw ``a ~ pi`` and return ``(a as int, log pi(a))``
  with the log-prob still attached to the graph (REINFORCE needs its gradient).
* ``log_prob(logits, actions)``: ``log pi(a | s)`` for given actions, shape ``(...)``.
* ``entropy(logits)``: ``H = -sum_a pi(a) log pi(a)``, shape ``(...)``.

How this is checked
-------------------
Output shapes for single states and batches; logits (not probabilities) from a
network whose weights the checker sets (through ``parameters()``, see
``PolicyNetwork``); each row of ``softmax`` sums to 1;
``log_prob`` and its gradient at logit gaps 30 and 120 (-30.0 and -120.0, not
-15.94); entropy of uniform and one-hot logits; the reference on random logits;
and a statistical check that ``sample_action`` frequencies match ``softmax``
within an explicit tolerance.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torch.distributions import Categorical


class PolicyNetwork(nn.Module):
    """Linear -> ReLU -> Linear: states to action logits.

    The checker sets the weights through ``self.parameters()``, in registration order, so
    the module must have exactly four parameters, in this order: the first layer's weight
    ``(hidden, state_dim)`` and bias ``(hidden,)``, then the second layer's weight
    ``(n_actions, hidden)`` and bias ``(n_actions,)`` (two ``nn.Linear`` layers with bias,
    created in that order, under any attribute names).

    Args:
        state_dim: size of one state vector.
        n_actions: number of discrete actions.
        hidden: width of the hidden layer.
    """

    def __init__(self, state_dim: int, n_actions: int, hidden: int = 64) -> None:
        super().__init__()
        ### BEGIN SOLUTION
        self.net = nn.Sequential(
            nn.Linear(state_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_actions),
        )
        ### END SOLUTION

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        """Map ``(..., state_dim)`` states to ``(..., n_actions)`` logits (not probabilities)."""
        ### BEGIN SOLUTION
        return self.net(states)  # (..., n_actions)
        ### END SOLUTION


def sample_action(logits: torch.Tensor) -> tuple[int, torch.Tensor]:
    """Sample one action from ``softmax(logits)``.

    Args:
        logits: ``(n_actions,)`` logits of one state.

    Returns:
        ``(action, log_prob)``: the action as a Python int and its log-probability
        as a 0-d tensor that keeps the autograd graph to ``logits``.
    """
    ### BEGIN SOLUTION
    dist = Categorical(logits=logits)
    action = dist.sample()  # ()
    return int(action.item()), dist.log_prob(action)  # int, ()
    ### END SOLUTION


def log_prob(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """``log pi(a | s)`` of the given actions.

    Args:
        logits: ``(..., n_actions)`` logits.
        actions: ``(...)`` integer actions.

    Returns:
        ``(...)`` log-probabilities (float32 for float32 logits), differentiable w.r.t. ``logits``.
    """
    ### BEGIN SOLUTION
    logp_all = torch.log_softmax(logits, dim=-1)  # (..., n_actions)
    return logp_all.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)  # (...)
    ### END SOLUTION


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy ``-sum_a pi(a) log pi(a)`` of each distribution.

    Args:
        logits: ``(..., n_actions)`` logits.

    Returns:
        ``(...)`` entropies in nats (float32 for float32 logits).
    """
    ### BEGIN SOLUTION
    logp_all = torch.log_softmax(logits, dim=-1)  # (..., n_actions)
    return -(logp_all.exp() * logp_all).sum(dim=-1)  # (...)
    ### END SOLUTION
