"""Alternative: torch.dot loss, pre-sized log-prob list, and train_bandit drawing states from its own seeded torch.Generator (a dict of metric evaluators)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ex02_returns import discounted_returns, normalize
from ex03_policy import sample_action


def reinforce_loss(log_probs: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    return -torch.dot(log_probs.reshape(-1), returns.detach().reshape(-1).to(log_probs.dtype))


def run_episode(env, policy: nn.Module, max_steps: int = 200):
    obs = env.reset()
    logps: list[torch.Tensor] = []
    rewards: list[float] = []
    for _t in range(max_steps):
        x = torch.as_tensor(obs, dtype=torch.float32)
        a, lp = sample_action(policy(x))
        obs, r, done = env.step(a)
        logps.append(lp.reshape(1))
        rewards.append(float(r))
        if done:
            break
    return torch.cat(logps), rewards


def reinforce_update(policy, optimizer, log_probs, rewards, gamma: float = 0.99) -> float:
    advantages = normalize(discounted_returns(rewards, gamma)).to(log_probs.dtype)
    optimizer.zero_grad(set_to_none=True)
    loss = reinforce_loss(log_probs, advantages)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def _greedy_rate(policy: nn.Module, states: torch.Tensor, target: int) -> float:
    return float((policy(states).argmax(-1) == target).sum()) / states.shape[0]


def _target_prob(policy: nn.Module, states: torch.Tensor, target: int) -> float:
    return F.softmax(policy(states), dim=-1).select(-1, target).mean().item()


def train_bandit(target_action: int = 2, lr: float = 3e-3, wrong_reward: float = -0.1,
                 episodes: int = 1000, eval_every: int = 200, seed: int = 0,
                 metric: str = "greedy") -> list[float]:
    evaluators = {"greedy": _greedy_rate, "prob": _target_prob}
    if metric not in evaluators:
        raise ValueError(f"unknown metric {metric!r}; choose one of {sorted(evaluators)}")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    fixed = torch.rand(100, 2, generator=torch.Generator().manual_seed(seed))
    policy = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 4))
    opt = torch.optim.Adam(policy.parameters(), lr=lr)
    curve: list[float] = []
    for ep in range(episodes):
        state = torch.rand(2, generator=gen)
        logits = policy(state)
        logp = F.log_softmax(logits, dim=-1)
        action = int(torch.multinomial(logp.exp().detach(), 1, generator=gen))
        reward = 1.0 if action == target_action else wrong_reward
        loss = -logp[action] * reward
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (ep + 1) % eval_every == 0:
            states = fixed if metric == "prob" else torch.rand(100, 2, generator=gen)
            with torch.no_grad():
                curve.append(evaluators[metric](policy, states, target_action))
    return curve
