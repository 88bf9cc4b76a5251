"""Alternative: held out (written from the stubs alone by someone who never saw the checks); dynamics tabulated once per call from env.transition, vectorised numpy sweeps, ties broken within a relative tolerance."""

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
    g = _check_gamma(gamma)
    model = _tabulate(env)
    values = _check_values(V, model.size)
    pi = _check_policy(policy, model.size)
    return _expectation_backup(model, values, pi, g)


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
    g = _check_gamma(gamma)
    if isinstance(theta, bool) or not isinstance(theta, (int, float, np.integer, np.floating)) or not theta > 0:
        raise ValueError(f"theta must be a number > 0, got {theta!r}")
    if isinstance(max_iters, bool) or not isinstance(max_iters, (int, np.integer)) or max_iters < 1:
        raise ValueError(f"max_iters must be a positive int, got {max_iters!r}")
    model = _tabulate(env)
    pi = _check_policy(policy, model.size)
    current = np.zeros((model.size, model.size), dtype=np.float64)
    for _ in range(int(max_iters)):
        updated = _expectation_backup(model, current, pi, g)
        if np.max(np.abs(updated - current)) < theta:
            return updated
        current = updated
    raise RuntimeError(f"policy evaluation did not converge within {max_iters} sweeps (gamma={g})")


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
    g = _check_gamma(gamma)
    model = _tabulate(env)
    values = _check_values(V, model.size)
    return _action_values(model, values, g)


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
    g = _check_gamma(gamma)
    if isinstance(theta, bool) or not isinstance(theta, (int, float, np.integer, np.floating)) or not theta > 0:
        raise ValueError(f"theta must be a number > 0, got {theta!r}")
    model = _tabulate(env)
    current = np.zeros((model.size, model.size), dtype=np.float64)
    for _ in range(100_000):
        q = _action_values(model, current, g)
        updated = q.max(axis=-1)
        if np.max(np.abs(updated - current)) < theta:
            break
        current = updated
    else:
        raise RuntimeError("value iteration did not converge within 100,000 sweeps")
    q = _action_values(model, updated, g)
    greedy = np.zeros(q.shape, dtype=np.float64)
    # first action whose value is (up to rounding) the best one: ties go to the lowest index
    best = q.max(axis=-1, keepdims=True)
    near_best = q >= best - 1e-12 * np.maximum(1.0, np.abs(best))
    choice = np.argmax(near_best, axis=-1)
    np.put_along_axis(greedy, choice[..., None], 1.0, axis=-1)
    return updated, greedy


class _Model:
    """The grid world's dynamics as arrays: for every (row, col, action) the next state,
    the reward and the done flag, read once from ``env.transition``."""

    def __init__(self, size: int, next_r, next_c, reward, done) -> None:
        self.size = size
        self.next_flat = next_r * size + next_c  # index into V.ravel()
        self.reward = reward
        self.not_done = 1.0 - done


def _tabulate(env) -> _Model:
    size = int(env.size)
    next_r = np.zeros((size, size, 4), dtype=np.intp)
    next_c = np.zeros((size, size, 4), dtype=np.intp)
    reward = np.zeros((size, size, 4), dtype=np.float64)
    done = np.zeros((size, size, 4), dtype=np.float64)
    for r in range(size):
        for c in range(size):
            for a in range(4):
                (nr, nc), rew, d = env.transition((r, c), a)
                next_r[r, c, a], next_c[r, c, a] = nr, nc
                reward[r, c, a] = rew
                done[r, c, a] = 1.0 if d else 0.0
    return _Model(size, next_r, next_c, reward, done)


def _action_values(model: _Model, V: np.ndarray, gamma: float) -> np.ndarray:
    return model.reward + gamma * model.not_done * V.ravel()[model.next_flat]


def _expectation_backup(model: _Model, V: np.ndarray, policy: np.ndarray, gamma: float) -> np.ndarray:
    return (policy * _action_values(model, V, gamma)).sum(axis=-1)


def _check_gamma(gamma) -> float:
    try:
        g = float(gamma)
    except (TypeError, ValueError):
        raise ValueError(f"gamma must be a number in [0, 1], got {gamma!r}") from None
    if isinstance(gamma, bool) or not 0.0 <= g <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma!r}")
    return g


def _check_values(V, size: int) -> np.ndarray:
    arr = np.array(V, dtype=np.float64)  # a copy: the caller's array is never touched
    if arr.shape != (size, size):
        raise ValueError(f"V must have shape ({size}, {size}), got {arr.shape}")
    return arr


def _check_policy(policy, size: int) -> np.ndarray:
    arr = np.array(policy, dtype=np.float64)
    if arr.shape != (size, size, 4):
        raise ValueError(f"policy must have shape ({size}, {size}, 4), got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("policy must hold finite, non-negative probabilities")
    if not np.allclose(arr.sum(axis=-1), 1.0, rtol=0.0, atol=1e-6):
        raise ValueError("every policy row must sum to 1")
    return arr
