"""Alternative: states enumerated with itertools.product, the model tabulated into a dict once per call, values kept in float64 arrays updated from a copy, and ties broken by an explicit scan."""

from __future__ import annotations

import itertools

import numpy as np


def _gamma_ok(gamma):
    if not (0.0 <= gamma <= 1.0):
        raise ValueError("gamma outside [0, 1]")


def _model(env):
    n = env.size
    return n, {
        (s, a): env.transition(s, a)
        for s in itertools.product(range(n), range(n))
        for a in range(4)
    }


def _q(n, model, V, gamma):
    Q = np.zeros((n, n, 4))
    for (s, a), (s2, reward, done) in model.items():
        Q[s][a] = reward if done else reward + gamma * V[s2]
    return Q


def _policy_ok(policy, n):
    p = np.array(policy, dtype=np.float64)
    if p.shape != (n, n, 4):
        raise ValueError("policy has the wrong shape")
    if not np.isfinite(p).all() or (p < 0).any() or np.abs(p.sum(-1) - 1).max() > 1e-6:
        raise ValueError("each policy row must be a probability distribution")
    return p


def q_from_v(env, V, gamma):
    _gamma_ok(gamma)
    n, model = _model(env)
    V = np.array(V, dtype=np.float64)
    if V.shape != (n, n):
        raise ValueError("V has the wrong shape")
    return _q(n, model, V, gamma)


def bellman_sweep(env, V, policy, gamma):
    p = _policy_ok(policy, env.size)
    return np.einsum("ija,ija->ij", p, q_from_v(env, V, gamma))


def policy_evaluation(env, policy, gamma, theta=1e-8, max_iters=100_000):
    _gamma_ok(gamma)
    if theta <= 0 or max_iters < 1 or int(max_iters) != max_iters:
        raise ValueError("theta must be > 0 and max_iters a positive integer")
    n, model = _model(env)
    p = _policy_ok(policy, n)
    V = np.zeros((n, n))
    for _ in range(int(max_iters)):
        new = np.einsum("ija,ija->ij", p, _q(n, model, V.copy(), gamma))
        change = np.abs(new - V).max()
        V = new
        if change < theta:
            return V
    raise RuntimeError("no convergence")


def value_iteration(env, gamma, theta=1e-8):
    _gamma_ok(gamma)
    if theta <= 0:
        raise ValueError("theta must be > 0")
    n, model = _model(env)
    V = np.zeros((n, n))
    for _ in range(100_000):
        new = _q(n, model, V, gamma).max(axis=-1)
        change = np.abs(new - V).max()
        V = new
        if change < theta:
            break
    else:
        raise RuntimeError("no convergence")
    Q = _q(n, model, V, gamma)
    policy = np.zeros((n, n, 4))
    for r, c in itertools.product(range(n), range(n)):
        best = Q[r, c].max()
        first = next(a for a in range(4) if Q[r, c, a] >= best - 1e-12)
        policy[r, c, first] = 1.0
    return V, policy
