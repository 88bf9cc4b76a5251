"""Alternative: log_softmax + torch.multinomial sampling in train_bandit with zero_grad after the optimizer step, and parameter grads cleared by hand in reinforce_update."""

from __future__ import annotations

import random

import torch
import torch.nn as nn
from torch.distributions import Categorical

from ex02_returns import discounted_returns, normalize
from ex03_policy import sample_action


def reinforce_loss(log_probs: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    """REINFORCE loss ``-sum_t log_probs[t] * returns[t]``.

    Args:
        log_probs: ``(T,)`` log pi(a_t | s_t), attached to the policy's graph.
        returns: ``(T,)`` returns (treated as constants).

    Returns:
        0-d float32 loss tensor (for float32 inputs); its gradient w.r.t. ``log_probs[t]`` is ``-returns[t]``.
    """
    return -(log_probs * returns.detach()).sum()  # ()


def run_episode(env, policy: nn.Module, max_steps: int = 200) -> tuple[torch.Tensor, list[float]]:
    """Roll out one episode with ``policy`` in ``env``.

    Args:
        env: an environment with ``reset()`` and ``step(action)`` (e.g. ``SimpleGridWorld``).
        policy: maps a float32 state tensor to action logits.
        max_steps: stop after this many steps even if not done.

    Returns:
        ``(log_probs, rewards)``: ``(T,)`` tensor of log pi(a_t | s_t) with grad, and
        the ``T`` rewards as floats.
    """
    state = env.reset()
    log_probs, rewards = [], []
    for _ in range(max_steps):
        logits = policy(torch.tensor(state, dtype=torch.float32))  # (n_actions,)
        action, logp = sample_action(logits)
        state, reward, done = env.step(action)
        log_probs.append(logp)
        rewards.append(float(reward))
        if done:
            break
    if not log_probs:
        return torch.zeros(0), rewards
    return torch.stack(log_probs), rewards  # (T,), list of T floats


def reinforce_update(
    policy: nn.Module,
    optimizer: torch.optim.Optimizer,
    log_probs: torch.Tensor,
    rewards: list[float],
    gamma: float = 0.99,
) -> float:
    """One REINFORCE step: returns -> normalise -> loss -> optimizer step.

    Args:
        policy: the policy whose parameters ``optimizer`` updates.
        optimizer: a torch optimizer over ``policy.parameters()``.
        log_probs: ``(T,)`` log-probs of the taken actions, attached to the graph.
        rewards: the ``T`` rewards of the episode.
        gamma: discount factor.

    Returns:
        The loss value as a float.
    """
    returns = normalize(discounted_returns(list(rewards), gamma)).detach()  # (T,)
    for p in policy.parameters():  # the same as optimizer.zero_grad(): no stale gradient
        p.grad = None
    loss = reinforce_loss(log_probs, returns)
    loss.backward()
    optimizer.step()
    return loss.item()


def train_bandit(
    target_action: int = 2,
    lr: float = 3e-3,
    wrong_reward: float = -0.1,
    episodes: int = 1000,
    eval_every: int = 200,
    seed: int = 0,
    metric: str = "greedy",
) -> list[float]:
    """The lesson's runnable REINFORCE example as a seeded function.

    The setting, as in the lesson (the checks and the graded questions rely on it):

    * **states**: two independent uniform numbers in ``[0, 1)``, a float32 tensor of
      shape ``(2,)``, drawn with ``random.Random(seed)`` (one new state per episode);
    * **actions**: 4 (``0..3``); reward ``1.0`` for ``target_action``, ``wrong_reward``
      for the other three; every episode is one step;
    * **policy**: ``nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 4))``
      giving logits, built after ``torch.manual_seed(seed)``; actions sampled from the
      softmax of the logits (e.g. ``Categorical(logits=...)``);
    * **update**: one Adam step (learning rate ``lr``) per episode on the loss
      ``-log_prob(action) * reward`` (no baseline, no normalisation).

    Args:
        target_action: the rewarded action (0..3).
        lr: Adam learning rate.
        wrong_reward: reward for any other action.
        episodes: number of one-step episodes.
        eval_every: evaluate after every this many episodes.
        seed: seeds ``torch`` and ``random``; the same seed gives the same curve.
        metric: what each evaluation records, a float in [0, 1]:

            * ``"greedy"`` (default, the lesson's "action-2 rate"): the fraction of 100
              *fresh* random states (drawn from the training ``random.Random(seed)``) on
              which ``argmax`` of the logits is ``target_action``;
            * ``"prob"``: the mean softmax probability of ``target_action`` over a *fixed*
              set of 100 evaluation states, drawn once before training with
              ``torch.rand(100, 2, generator=torch.Generator().manual_seed(seed))``. It
              uses no training randomness, so evaluating does not change the run, and it
              keeps rising after the greedy rate has saturated at 1.0 (the graded
              questions use it).

    Returns:
        ``episodes // eval_every`` evaluations (see ``metric``), each a float in [0, 1].

    Raises:
        ValueError: ``metric`` is not ``"greedy"`` or ``"prob"``.
    """
    if metric not in ("greedy", "prob"):
        raise ValueError(f"metric must be 'greedy' or 'prob', got {metric!r}")
    torch.manual_seed(seed)
    rng = random.Random(seed)
    policy = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 4))
    if metric == "prob":
        fixed = torch.rand(100, 2, generator=torch.Generator().manual_seed(seed))  # (100, 2)
    optimizer = torch.optim.Adam(policy.parameters(), lr=lr)
    curve = []
    for episode in range(1, episodes + 1):
        state = torch.tensor([rng.random(), rng.random()])  # (2,)
        log_pi = torch.log_softmax(policy(state), dim=-1)  # (4,)
        action = int(torch.multinomial(log_pi.exp().detach(), 1))
        reward = 1.0 if action == target_action else wrong_reward
        (-log_pi[action] * reward).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)  # cleared after the step, ready for the next
        if episode % eval_every == 0 and metric == "prob":
            with torch.no_grad():
                probs = torch.softmax(policy(fixed), dim=-1)  # (100, 4)
            curve.append(float(probs[:, target_action].mean()))
        elif episode % eval_every == 0:
            with torch.no_grad():
                states = torch.tensor(
                    [[rng.random(), rng.random()] for _ in range(100)]
                )  # (100, 2)
                greedy = policy(states).argmax(dim=-1)  # (100,)
            curve.append(float((greedy == target_action).float().mean()))
    return curve
