"""Alternative: plain Python loops over dicts of states, numpy only to build the returned arrays."""

from __future__ import annotations

import numpy as np


def _states(n):
    return [(r, c) for r in range(n) for c in range(n)]


def _validate(env, V=None, policy=None, gamma=None):
    n = env.size
    if gamma is not None and not (0 <= gamma <= 1):
        raise ValueError(f"gamma must be between 0 and 1, got {gamma}")
    if V is not None and np.shape(V) != (n, n):
        raise ValueError(f"V has shape {np.shape(V)}, expected {(n, n)}")
    if policy is not None:
        if np.shape(policy) != (n, n, 4):
            raise ValueError(f"policy has shape {np.shape(policy)}, expected {(n, n, 4)}")
        for r, c in _states(n):
            if abs(sum(float(p) for p in policy[r][c]) - 1.0) > 1e-6:
                raise ValueError(f"policy at {(r, c)} does not sum to 1")


def _q(env, V, gamma, s, a):
    s2, reward, done = env.transition(s, a)
    return reward if done else reward + gamma * float(V[s2[0]][s2[1]])


def q_from_v(env, V, gamma):
    _validate(env, V=V, gamma=gamma)
    n = env.size
    out = np.empty((n, n, 4), dtype=np.float64)
    for r, c in _states(n):
        for a in range(4):
            out[r, c, a] = _q(env, V, gamma, (r, c), a)
    return out


def bellman_sweep(env, V, policy, gamma):
    _validate(env, V=V, policy=policy, gamma=gamma)
    n = env.size
    new = np.empty((n, n), dtype=np.float64)
    for r, c in _states(n):
        new[r, c] = sum(float(policy[r][c][a]) * _q(env, V, gamma, (r, c), a) for a in range(4))
    return new


def policy_evaluation(env, policy, gamma, theta=1e-8, max_iters=100_000):
    if theta <= 0:
        raise ValueError(f"theta must be positive, got {theta}")
    _validate(env, policy=policy, gamma=gamma)
    V = np.zeros((env.size, env.size))
    it = 0
    while it < max_iters:
        it += 1
        new = bellman_sweep(env, V, policy, gamma)
        change = max(abs(new[s] - V[s]) for s in _states(env.size))
        V = new
        if change < theta:
            return V
    raise RuntimeError(f"no convergence after {max_iters} sweeps")


def value_iteration(env, gamma, theta=1e-8):
    if theta <= 0:
        raise ValueError(f"theta must be positive, got {theta}")
    _validate(env, gamma=gamma)
    n = env.size
    V = np.zeros((n, n))
    for _ in range(100_000):
        new = np.empty((n, n))
        for r, c in _states(n):
            new[r, c] = max(_q(env, V, gamma, (r, c), a) for a in range(4))
        change = np.abs(new - V).max()
        V = new
        if change < theta:
            break
    else:
        raise RuntimeError("value iteration did not converge")
    policy = np.zeros((n, n, 4))
    for r, c in _states(n):
        qs = [_q(env, V, gamma, (r, c), a) for a in range(4)]
        best = max(qs)
        policy[r, c, next(a for a in range(4) if qs[a] >= best - 1e-12)] = 1.0
    return V, policy
