"""Alternative: tabulate the model once into index arrays and do every backup with whole-array numpy ops."""

from __future__ import annotations

import numpy as np


def _model(env):
    n = env.size
    R = np.zeros((n, n, 4))
    keep = np.zeros((n, n, 4))
    nxt = np.zeros((n, n, 4), dtype=np.intp)  # flat index of s'
    for r in range(n):
        for c in range(n):
            for a in range(4):
                (r2, c2), reward, done = env.transition((r, c), a)
                R[r, c, a] = reward
                keep[r, c, a] = 0.0 if done else 1.0
                nxt[r, c, a] = r2 * n + c2
    return R, keep, nxt


def _gamma(gamma):
    if not (gamma >= 0 and gamma <= 1):
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")


def _policy(env, policy):
    p = np.asarray(policy, dtype=np.float64)
    if p.shape != (env.size, env.size, 4):
        raise ValueError(f"policy must be {(env.size, env.size, 4)}, got {p.shape}")
    if np.any(np.abs(p.sum(-1) - 1) > 1e-6):
        raise ValueError("each policy row must sum to 1")
    return p


def _backup(model, V, gamma):
    R, keep, nxt = model
    return R + gamma * V.reshape(-1)[nxt] * keep


def q_from_v(env, V, gamma):
    _gamma(gamma)
    V = np.asarray(V, dtype=np.float64)
    if V.shape != (env.size, env.size):
        raise ValueError(f"V must be {(env.size, env.size)}, got {V.shape}")
    return _backup(_model(env), V, gamma)


def bellman_sweep(env, V, policy, gamma):
    p = _policy(env, policy)
    return np.einsum("rca,rca->rc", p, q_from_v(env, V, gamma))


def policy_evaluation(env, policy, gamma, theta=1e-8, max_iters=100_000):
    if not theta > 0:
        raise ValueError("theta must be > 0")
    _gamma(gamma)
    p = _policy(env, policy)
    model = _model(env)
    V = np.zeros((env.size, env.size))
    for _ in range(max_iters):
        V, old = np.einsum("rca,rca->rc", p, _backup(model, V, gamma)), V
        if np.abs(V - old).max() < theta:
            return V
    raise RuntimeError(f"did not converge in max_iters={max_iters} sweeps")


def value_iteration(env, gamma, theta=1e-8):
    if not theta > 0:
        raise ValueError("theta must be > 0")
    _gamma(gamma)
    model = _model(env)
    V = np.zeros((env.size, env.size))
    for _ in range(100_000):
        V, old = _backup(model, V, gamma).max(-1), V
        if np.abs(V - old).max() < theta:
            break
    else:
        raise RuntimeError("value iteration did not converge")
    Q = _backup(model, V, gamma)
    return V, np.eye(4)[np.argmax(Q, axis=-1)]
