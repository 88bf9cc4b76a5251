"""Alternative: the lesson's own style - generator-sum loss, torch.FloatTensor states, a SimpleEnv class and global random/torch seeding; the prob metric as a loop over the fixed states."""

from __future__ import annotations

import random

import torch
import torch.nn as nn
import torch.optim as optim
from torch.distributions import Categorical

from ex02_returns import discounted_returns, normalize
from ex03_policy import sample_action


def reinforce_loss(log_probs, returns):
    return -sum(lp * R for lp, R in zip(log_probs, returns.detach(), strict=True))


def run_episode(env, policy, max_steps=200):
    state = env.reset()
    log_probs = []
    rewards = []
    steps = 0
    done = False
    while not done and steps < max_steps:
        state_tensor = torch.FloatTensor(state)
        action, lp = sample_action(policy(state_tensor))
        state, reward, done = env.step(action)
        log_probs.append(lp)
        rewards.append(reward)
        steps += 1
    return torch.stack(log_probs), [float(r) for r in rewards]


def reinforce_update(policy, optimizer, log_probs, rewards, gamma=0.99):
    returns = discounted_returns(rewards, gamma)
    returns = normalize(returns)
    loss = reinforce_loss(log_probs, returns)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


class SimpleEnv:
    def __init__(self, target_action, wrong_reward):
        self.target_action = target_action
        self.wrong_reward = wrong_reward

    def reset(self):
        return [random.random(), random.random()]  # random 2D state

    def step(self, action):
        reward = 1.0 if action == self.target_action else self.wrong_reward
        return self.reset(), reward, True


def train_bandit(target_action=2, lr=3e-3, wrong_reward=-0.1, episodes=1000, eval_every=200, seed=0,
                 metric="greedy"):
    if metric != "greedy" and metric != "prob":
        raise ValueError("metric should be 'greedy' or 'prob', not " + repr(metric))
    random.seed(seed)
    torch.manual_seed(seed)
    policy = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 4))
    optimizer = optim.Adam(policy.parameters(), lr=lr)
    env = SimpleEnv(target_action, wrong_reward)
    eval_states = torch.rand(100, 2, generator=torch.Generator().manual_seed(seed))
    rates = []
    for episode in range(1, episodes + 1):
        state = torch.FloatTensor(env.reset())
        dist = Categorical(logits=policy(state))
        action = dist.sample()
        log_prob = dist.log_prob(action)
        _, reward, _ = env.step(action.item())
        loss = -log_prob * reward
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if episode % eval_every == 0:
            if metric == "prob":
                total = 0.0
                for s in eval_states:
                    total += Categorical(logits=policy(s)).probs[target_action].item()
                rates.append(total / len(eval_states))
            else:
                correct = sum(
                    1 for _ in range(100) if policy(torch.FloatTensor(env.reset())).argmax().item() == target_action
                )
                rates.append(correct / 100)
    return rates
