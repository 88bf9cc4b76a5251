"""Bug: the greedy policy breaks ties toward the highest action index (DOWN over RIGHT, LEFT at the goal)."""

from __future__ import annotations

import numpy as np


def _check_gamma(gamma):
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")


def _check_policy(env, policy):
    n = env.size
    policy = np.asarray(policy, dtype=np.float64)
    if policy.shape != (n, n, 4):
        raise ValueError(f"policy must have shape {(n, n, 4)}, got {policy.shape}")
    if not np.allclose(policy.sum(axis=-1), 1.0, rtol=0.0, atol=1e-6):
        raise ValueError("policy rows must sum to 1")
    return policy


def q_from_v(env, V, gamma):
    _check_gamma(gamma)
    n = env.size
    V = np.asarray(V, dtype=np.float64)
    if V.shape != (n, n):
        raise ValueError(f"V must have shape {(n, n)}, got {V.shape}")
    Q = np.zeros((n, n, 4))
    for r in range(n):
        for c in range(n):
            for a in range(4):
                (r2, c2), reward, done = env.transition((r, c), a)
                Q[r, c, a] = reward + gamma * V[r2, c2] * (0.0 if done else 1.0)
    return Q


def bellman_sweep(env, V, policy, gamma):
    policy = _check_policy(env, policy)
    return (policy * q_from_v(env, V, gamma)).sum(axis=-1)


def policy_evaluation(env, policy, gamma, theta=1e-8, max_iters=100_000):
    if not theta > 0:
        raise ValueError(f"theta must be > 0, got {theta}")
    policy = _check_policy(env, policy)
    _check_gamma(gamma)
    V = np.zeros((env.size, env.size))
    for _ in range(max_iters):
        V_new = bellman_sweep(env, V, policy, gamma)
        delta = np.max(np.abs(V_new - V))
        V = V_new
        if delta < theta:
            return V
    raise RuntimeError(f"policy evaluation did not converge within {max_iters} sweeps")


def value_iteration(env, gamma, theta=1e-8):
    _check_gamma(gamma)
    n = env.size
    V = np.zeros((n, n))
    for _ in range(100_000):
        V_new = q_from_v(env, V, gamma).max(axis=-1)
        delta = np.max(np.abs(V_new - V))
        V = V_new
        if delta < theta:
            break
    else:
        raise RuntimeError("value iteration did not converge")
    Q = q_from_v(env, V, gamma)
    actions = 3 - Q[..., ::-1].argmax(axis=-1)  # last maximum
    return V, np.eye(4)[actions]
