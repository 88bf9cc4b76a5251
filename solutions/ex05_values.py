r"""Exercise 05 - state values and the Bellman equation.

The idea
--------
The value of a state under a policy is the return you expect when you start
there and keep following the policy. It satisfies a one-step consistency
condition, the **Bellman expectation equation** (Sutton & Barto, ch. 3-4):

.. math::

    V(s) = \sum_a \pi(a \mid s)\,\big[\, r(s, a) + \gamma\, V(s')\,\big(1 - \mathrm{done}(s, a)\big) \,\big]

where ``(s', r, done) = env.transition(s, a)`` is ex01's model. The ``(1 - done)``
factor means we never bootstrap through the end of an episode: entering the goal
earns 1.0 and nothing after it. From the goal itself the model returns
``(goal, 0.0, True)``, so V(goal) is always 0.

*Policy evaluation* turns the equation into an update. A **synchronous sweep**
computes a brand-new array from the old one (every state reads the old values;
Sutton & Barto 4.1 call it the two-array version, next to an in-place one), and we
repeat sweeps until ``max |V_new - V| < theta``. This converges when ``gamma < 1``,
or when ``gamma = 1`` and the policy surely reaches the goal from every state; with
``gamma = 1`` and a policy that never reaches the goal the values drift to minus
infinity, so after ``max_iters`` sweeps we give up loudly.

The action values ``Q(s, a) = r + gamma * V(s') * (1 - done)`` are the bracket
above before averaging over the policy. Replacing the average by a max gives the
**Bellman optimality** update; iterating it is *value iteration*, which finds
``V*``; acting greedily on ``Q*`` gives an optimal policy. Ties go to the lowest
action index (so the output is deterministic).

Example (4x4, uniform random policy, gamma = 0.9): one sweep from zeros gives
-0.01 everywhere except (2, 3) and (3, 2), which are one step from the goal:
(1.0 - 0.01 - 0.01 - 0.01) / 4 = 0.2425. The fixed point has V(0, 0) = -0.0219.
The optimal V*(0, 0) = -0.01 * (1 + 0.9 + ... + 0.9^4) + 0.9^5 = 0.549539.

How this is checked
-------------------
The numbers above by hand; "always up" with gamma = 0.9 gives -0.1 at every
non-goal state and with gamma = 1 raises ``RuntimeError``; the sweep is
synchronous (not in-place) and leaves ``V`` and ``policy`` untouched; float64
output of shape ``(size, size)`` (``(size, size, 4)`` for Q); ``ValueError`` for
a bad ``gamma``, wrong shapes, or policy rows that do not sum to 1; the optimal
policy's value equals ``V*``, and the reference on random policies and grid sizes.
"""

from __future__ import annotations

import numpy as np


def bellman_sweep(env, V: np.ndarray, policy: np.ndarray, gamma: float) -> np.ndarray:
    """One synchronous Bellman expectation backup of every state.

    Args:
        env: a ``SimpleGridWorld`` (uses ``env.size`` and ``env.transition``).
        V: ``(size, size)`` current value estimates (not modified).
        policy: ``(size, size, 4)`` action probabilities, each row summing to 1.
        gamma: discount factor in [0, 1].

    Returns:
        A new ``(size, size)`` float64 array; the goal entry is 0.

    Raises:
        ValueError: bad ``gamma``, wrong shapes, or a policy row that is not a distribution.
    """
    ### BEGIN SOLUTION
    n = env.size
    policy = np.asarray(policy, dtype=np.float64)  # (n, n, 4)
    if policy.shape != (n, n, 4):
        raise ValueError(f"policy must have shape {(n, n, 4)}, got {policy.shape}")
    if not np.all(np.isfinite(policy)) or np.any(policy < 0):
        raise ValueError("policy must hold finite, non-negative probabilities")
    if not np.allclose(policy.sum(axis=-1), 1.0, rtol=0.0, atol=1e-6):
        raise ValueError("policy rows must sum to 1")
    Q = q_from_v(env, V, gamma)  # (n, n, 4), also validates V and gamma
    return (policy * Q).sum(axis=-1)  # (n, n)
    ### END SOLUTION


def policy_evaluation(
    env, policy: np.ndarray, gamma: float, theta: float = 1e-8, max_iters: int = 100_000
) -> np.ndarray:
    """Iterate synchronous sweeps from ``V = 0`` until ``max |dV| < theta``.

    Args:
        env: a ``SimpleGridWorld``.
        policy: ``(size, size, 4)`` action probabilities.
        gamma: discount factor in [0, 1].
        theta: stop once the largest change in one sweep is below this (> 0).
        max_iters: the most sweeps to try.

    Returns:
        ``(size, size)`` float64 values ``V_pi``.

    Raises:
        ValueError: bad ``gamma``, ``theta``, ``max_iters`` or policy.
        RuntimeError: no convergence within ``max_iters`` sweeps.
    """
    ### BEGIN SOLUTION
    if not theta > 0:
        raise ValueError(f"theta must be > 0, got {theta}")
    if int(max_iters) != max_iters or max_iters < 1:
        raise ValueError(f"max_iters must be a positive integer, got {max_iters}")
    n = env.size
    V = np.zeros((n, n), dtype=np.float64)  # (n, n)
    bellman_sweep(env, V, policy, gamma)  # validates policy and gamma once
    policy = np.asarray(policy, dtype=np.float64)  # (n, n, 4)

    # The model does not change between sweeps: tabulate it once, then every sweep
    # is the same backup as bellman_sweep, done with whole-array numpy operations.
    R = np.zeros((n, n, 4))  # rewards
    cont = np.zeros((n, n, 4))  # 1 - done
    nr = np.zeros((n, n, 4), dtype=np.int64)  # next row
    nc = np.zeros((n, n, 4), dtype=np.int64)  # next col
    for r in range(n):
        for c in range(n):
            for a in range(4):
                (r2, c2), reward, done = env.transition((r, c), a)
                R[r, c, a], cont[r, c, a] = reward, 0.0 if done else 1.0
                nr[r, c, a], nc[r, c, a] = r2, c2

    for _ in range(int(max_iters)):
        Q = R + gamma * V[nr, nc] * cont  # (n, n, 4)
        V_new = (policy * Q).sum(axis=-1)  # (n, n)
        delta = np.max(np.abs(V_new - V))
        V = V_new
        if delta < theta:
            return V
    raise RuntimeError(f"policy evaluation did not converge within {max_iters} sweeps")
    ### END SOLUTION


def q_from_v(env, V: np.ndarray, gamma: float) -> np.ndarray:
    """Action values ``Q(s, a) = r + gamma * V(s') * (1 - done)`` from state values.

    Args:
        env: a ``SimpleGridWorld``.
        V: ``(size, size)`` state values (not modified).
        gamma: discount factor in [0, 1].

    Returns:
        ``(size, size, 4)`` float64 array; the goal row is all zeros.

    Raises:
        ValueError: bad ``gamma`` or shape of ``V``.
    """
    ### BEGIN SOLUTION
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    n = env.size
    V = np.asarray(V, dtype=np.float64)  # (n, n)
    if V.shape != (n, n):
        raise ValueError(f"V must have shape {(n, n)}, got {V.shape}")
    Q = np.zeros((n, n, 4), dtype=np.float64)  # (n, n, 4)
    for r in range(n):
        for c in range(n):
            for a in range(4):
                (r2, c2), reward, done = env.transition((r, c), a)
                Q[r, c, a] = reward + gamma * V[r2, c2] * (0.0 if done else 1.0)
    return Q
    ### END SOLUTION


def value_iteration(env, gamma: float, theta: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """Optimal values by repeated Bellman optimality backups, and a greedy policy.

    Args:
        env: a ``SimpleGridWorld``.
        gamma: discount factor in [0, 1].
        theta: stop once the largest change in one sweep is below this (> 0).

    Returns:
        ``(V_star, policy)``: ``(size, size)`` float64 optimal values and a
        ``(size, size, 4)`` one-hot greedy policy (ties -> lowest action index;
        at the goal every action ties, so it is action 0).

    Raises:
        ValueError: bad ``gamma`` or ``theta``.
        RuntimeError: no convergence within 100,000 sweeps.
    """
    ### BEGIN SOLUTION
    if not theta > 0:
        raise ValueError(f"theta must be > 0, got {theta}")
    n = env.size
    V = np.zeros((n, n), dtype=np.float64)  # (n, n)
    for _ in range(100_000):
        V_new = q_from_v(env, V, gamma).max(axis=-1)  # (n, n)
        delta = np.max(np.abs(V_new - V))
        V = V_new
        if delta < theta:
            break
    else:
        raise RuntimeError("value iteration did not converge within 100000 sweeps")
    Q = q_from_v(env, V, gamma)  # (n, n, 4)
    # Lowest index among the actions within rounding of the best one.
    best = np.isclose(Q, Q.max(axis=-1, keepdims=True), rtol=0.0, atol=1e-12)  # (n, n, 4)
    actions = best.argmax(axis=-1)  # (n, n), first True
    policy = np.eye(4)[actions]  # (n, n, 4)
    return V, policy
    ### END SOLUTION
