# Generated from solutions/ex05_values.py by `python -m autograder build-course`.
# Edit this copy: it is yours. Replace each `raise NotImplementedError()`.
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
    # YOUR CODE HERE
    raise NotImplementedError()


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
    # YOUR CODE HERE
    raise NotImplementedError()


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
    # YOUR CODE HERE
    raise NotImplementedError()


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
    # YOUR CODE HERE
    raise NotImplementedError()
