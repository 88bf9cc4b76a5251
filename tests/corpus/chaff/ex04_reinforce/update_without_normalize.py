"""Bug: reinforce_update uses the raw discounted returns and skips normalize()."""

from __future__ import annotations

import random

import torch
import torch.nn as nn
from torch.distributions import Categorical

from ex02_returns import discounted_returns, normalize
from ex03_policy import sample_action


def reinforce_loss(log_probs: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    return -(log_probs * returns.detach()).sum()


def run_episode(env, policy: nn.Module, max_steps: int = 200) -> tuple[torch.Tensor, list[float]]:
    state = env.reset()
    log_probs, rewards = [], []
    for _ in range(max_steps):
        logits = policy(torch.tensor(state, dtype=torch.float32))
        action, logp = sample_action(logits)
        state, reward, done = env.step(action)
        log_probs.append(logp)
        rewards.append(float(reward))
        if done:
            break
    return torch.stack(log_probs), rewards


def reinforce_update(policy, optimizer, log_probs, rewards, gamma: float = 0.99) -> float:
    returns = discounted_returns(rewards, gamma)
    loss = reinforce_loss(log_probs, returns)
    optimizer.zero_grad()
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
