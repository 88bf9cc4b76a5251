r"""Exercise 04 - REINFORCE, the simplest policy gradient.

The idea
--------
Sample actions from the policy, see what they earned, then make the actions that
led to high returns more likely. Williams's REINFORCE (1992) turns that into a
loss whose *negative* gradient, for one sampled episode, is an estimate of the
gradient of the expected return (the likelihood-ratio or "log-derivative" trick,
``grad E[R] = E[R * grad log pi]``):

.. math::

    \mathcal{L} = -\sum_t \log \pi(a_t \mid s_t)\; G_t

``G_t`` is a constant weight (``.detach()``): we push on the log-probabilities,
not on the returns. So ``d loss / d log pi(a_t|s_t) = -G_t`` exactly: an action
followed by a large return gets its log-probability raised the most. The loss is
a **sum** over the episode, as in the lesson (longer episodes take bigger steps).

With ``gamma = 1`` and the raw reward-to-go the estimate is unbiased: the
rewards *before* step ``t`` are left out because an action cannot change them, so
they only add noise. Discounting ``G_t`` and normalising the returns (what
``reinforce_update`` does) are common practice but make the estimate biased:
they trade a little bias for much less variance.

One update (``reinforce_update``) is: rewards -> discounted returns (ex02) ->
normalise (ex02) -> loss -> ``zero_grad``, ``backward``, ``step``.

``run_episode`` rolls out one episode: feed ``torch.tensor(state, dtype=float32)``
to the policy, draw with ``sample_action`` (ex03), step the environment, stop at
``done`` or after ``max_steps``. It returns the stacked log-probs ``(T,)`` (still
attached to the graph) and the rewards.

``train_bandit`` is the lesson's complete runnable example as a seeded function:
one-step episodes with a state of two uniform ``[0, 1)`` numbers, 4 actions,
reward 1.0 for ``target_action`` and ``wrong_reward`` otherwise, the policy
``Linear(2, 32) -> ReLU -> Linear(32, 4)``, loss ``-log_prob * reward``, Adam. Every
``eval_every`` episodes it records the *greedy target rate*: the fraction of 100
fresh random states on which ``argmax`` of the logits is the target action.

How this is checked
-------------------
The loss by hand and against the reference, its gradient (``-returns``, and none
for the returns), ``run_episode`` with a scripted policy on the grid world,
``reinforce_update`` against the same update done by the checker (using your own
ex02 functions, so an ex02 bug is not counted twice), and ``train_bandit``:
seeded and reproducible, curve length and range, and a greedy target rate of at
least 90 % after 300 episodes in three seeded runs (target 2 with seeds 0 and 1,
target 0 with seed 2).
"""

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
    ### BEGIN SOLUTION
    return -(log_probs * returns.detach()).sum()  # ()
    ### END SOLUTION


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
    ### BEGIN SOLUTION
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
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    returns = normalize(discounted_returns(rewards, gamma))  # (T,)
    loss = reinforce_loss(log_probs, returns)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return float(loss.item())
    ### END SOLUTION


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

    The setting, as in the lesson (ex04's checks grade it; the questions re-run your own
    ``train_bandit`` as it is):

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
    ### BEGIN SOLUTION
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
        dist = Categorical(logits=policy(state))
        action = dist.sample()
        reward = 1.0 if action.item() == target_action else wrong_reward
        loss = -dist.log_prob(action) * reward
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
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
    ### END SOLUTION
