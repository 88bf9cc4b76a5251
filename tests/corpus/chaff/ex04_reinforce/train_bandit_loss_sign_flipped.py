"""Bug: train_bandit minimises log_prob * reward (sign flipped), so it learns to AVOID the target action."""

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
    returns = normalize(discounted_returns(rewards, gamma))
    loss = reinforce_loss(log_probs, returns)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def train_bandit(
    target_action=2, lr=3e-3, wrong_reward=-0.1, episodes=1000, eval_every=200, seed=0, metric="greedy"
) -> list[float]:
    if metric not in ("greedy", "prob"):
        raise ValueError(f"metric must be 'greedy' or 'prob', got {metric!r}")
    torch.manual_seed(seed)
    random.seed(seed)
    policy = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 4))
    eval_states = torch.rand(100, 2, generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.Adam(policy.parameters(), lr=lr)
    curve = []
    for episode in range(1, episodes + 1):
        state = torch.tensor([random.random(), random.random()])
        dist = Categorical(logits=policy(state))
        action = dist.sample()
        reward = 1.0 if action.item() == target_action else wrong_reward
        loss = dist.log_prob(action) * reward
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if episode % eval_every == 0:
            with torch.no_grad():
                if metric == "prob":
                    rate = torch.softmax(policy(eval_states), dim=-1)[:, target_action].mean().item()
                else:
                    states = torch.tensor([[random.random(), random.random()] for _ in range(100)])
                    rate = (policy(states).argmax(dim=-1) == target_action).float().mean().item()
            curve.append(rate)
    return curve
