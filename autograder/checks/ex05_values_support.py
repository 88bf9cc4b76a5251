"""Helpers of ex05's checks: the grids' hand-written transition tables, hand-worked values,
policies and the comparison with the reference.

Only what the public checks use ships to students: the release drops the rest
(``autograder/build/release.py``, :func:`strip_support`).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.checks._support import expect_array, show
from autograder.grading.reference import reference
from autograder.seam.values import Array, Handle

UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3

ACTION_NAMES = ("UP", "RIGHT", "DOWN", "LEFT")

SIZES = (2, 3, 4)

# The next state (row * size + col) after UP, RIGHT, DOWN, LEFT from each state (row-major),
# written out by hand from ex01's rules: walls clamp, the goal (last state) is absorbing.
NEXT_STATE = {
    2: [[0, 1, 2, 0], [1, 1, 3, 0], [0, 3, 2, 2], [3, 3, 3, 3]],
    3: [
        [0, 1, 3, 0],
        [1, 2, 4, 0],
        [2, 2, 5, 1],
        [0, 4, 6, 3],
        [1, 5, 7, 3],
        [2, 5, 8, 4],
        [3, 7, 6, 6],
        [4, 8, 7, 6],
        [8, 8, 8, 8],
    ],  # fmt: skip
    4: [
        [0, 1, 4, 0],
        [1, 2, 5, 0],
        [2, 3, 6, 1],
        [3, 3, 7, 2],
        [0, 5, 8, 4],
        [1, 6, 9, 4],
        [2, 7, 10, 5],
        [3, 7, 11, 6],
        [4, 9, 12, 8],
        [5, 10, 13, 8],
        [6, 11, 14, 9],
        [7, 11, 15, 10],
        [8, 13, 12, 12],
        [9, 14, 13, 12],
        [10, 15, 14, 13],
        [15, 15, 15, 15],
    ],  # fmt: skip
}

# V_pi of the uniform random policy on the 4x4 grid at gamma 0.9 (the linear Bellman system
# (I - 0.9 P) V = r solved once with numpy, 9 decimals)
V_UNIFORM_4 = np.array(
    [
        [-0.021886201, -0.00452756, 0.025284741, 0.052756322],
        [-0.00452756, 0.025451011, 0.083307601, 0.148119634],
        [0.025284741, 0.083307601, 0.215845095, 0.4185704],
        [0.052756322, 0.148119634, 0.4185704, 0.0],
    ]
)

# V* by Manhattan distance d = 0..6 to the goal: d - 1 steps of -0.01, then 1.0, discounted
# (V*(d) = -0.01 (1 + gamma + ... + gamma^(d-2)) + gamma^(d-1), computed once and pasted)
V_STAR_BY_DISTANCE = {
    0.0: [0.0, 1.0, -0.01, -0.01, -0.01, -0.01, -0.01],
    0.5: [0.0, 1.0, 0.49, 0.235, 0.1075, 0.04375, 0.011875],
    0.9: [0.0, 1.0, 0.89, 0.791, 0.7019, 0.62171, 0.549539],
    1.0: [0.0, 1.0, 0.99, 0.98, 0.97, 0.96, 0.95],
}

# One synchronous sweep of V = arange(16).reshape(4, 4) / 10 (V[3, 3] = 0) at gamma 0.9, by
# hand; e.g. uniform at (0, 0): (0.9 * (0.0 + 0.1 + 0.4 + 0.0) - 0.04) / 4 = 0.1025
SYNC_UNIFORM = [
    [0.1025, 0.17, 0.26, 0.3275],
    [0.3725, 0.44, 0.53, 0.5975],
    [0.7325, 0.8, 0.89, 0.8725],
    [1.0025, 1.07, 1.075, 0.0],
]
SYNC_RIGHT = [
    [0.08, 0.17, 0.26, 0.26],
    [0.44, 0.53, 0.62, 0.62],
    [0.8, 0.89, 0.98, 0.98],
    [1.16, 1.25, 1.0, 0.0],
]  # always RIGHT: -0.01 + 0.9 V(right neighbour), 1.0 into the goal
# One sweep of V = linspace(-1, 1, 16).reshape(4, 4), i.e. V[r, c] = -1 + (4 r + c) * 2 / 15, at
# gamma 0.5 with pi(RIGHT, DOWN, LEFT) = (0.7, 0.2, 0.1), computed once and pasted
WEIGHTED_SWEEP = np.array(
    [
        [-0.41, -0.35, -0.2833333333, -0.2633333333],
        [-0.1433333333, -0.0833333333, -0.0166666667, 0.0033333333],
        [0.1233333333, 0.1833333333, 0.25, 0.372],
        [0.3366666667, 0.3966666667, 0.8203333333, 0.0],
    ]
)
UP_SWEEP = np.array(
    [
        [-0.51, -0.4433333333, -0.3766666667, -0.31],
        [-0.51, -0.4433333333, -0.3766666667, -0.31],
        [-0.2433333333, -0.1766666667, -0.11, -0.0433333333],
        [0.0233333333, 0.09, 0.1566666667, 0.0],
    ]
)  # always UP: -0.01 + 0.5 V(the cell above, or itself in the top row)


def table(size: int) -> tuple[list, list, list]:
    """The ``size x size`` grid's literal transition table: next states, rewards, dones.

    Rewards and dones follow ex01's docstring: entering the goal earns 1.0 and ends the
    episode, any other move costs 0.01, and the goal returns ``(goal, 0.0, True)``.
    """
    goal = size * size - 1
    nxt = NEXT_STATE[size]
    reward = [[1.0 if s2 == goal else -0.01 for s2 in row] for row in nxt]
    done = [[s2 == goal for s2 in row] for row in nxt]
    reward[goal], done[goal] = [0.0] * 4, [True] * 4
    return nxt, reward, done


def from_zeros(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Q and the uniform sweep from ``V = 0`` (any gamma): -0.01, 1 into the goal, 0 at it."""
    Q = np.full((n, n, 4), -0.01)
    Q[n - 2, n - 1, DOWN] = Q[n - 1, n - 2, RIGHT] = 1.0
    Q[n - 1, n - 1] = 0.0
    return Q, Q.mean(-1)


def uniform(n: int) -> np.ndarray:
    return np.full((n, n, 4), 0.25)


def always(n: int, action: int) -> np.ndarray:
    policy = np.zeros((n, n, 4))
    policy[..., action] = 1.0
    return policy


def grid(impl, n: int) -> Handle:
    """A ``n x n`` grid world model living in the worker (``size``, ``goal``, ``transition``)."""
    return impl.probe("grid_model", n, *table(n))


def values_of(out, call: str, expected) -> np.ndarray:
    """``out`` must be a float64 ``np.ndarray`` equal to ``expected`` (to 1e-6)."""
    return expect_array(out, expected, call, lib="numpy", dtype="float64", rtol=1e-6, atol=1e-6)


def expect_float64_array(out: object, shape: tuple[int, ...], call: str) -> None:
    """``out`` must be a float64 ``np.ndarray`` of ``shape`` (values are checked apart)."""
    assert isinstance(out, Array) and out.lib == "numpy", (
        f"{call}: expected an np.ndarray, got {show(out)}"
    )
    assert out.dtype == "float64" and out.shape == shape, (
        f"{call}: expected float64 of shape {shape}, got {out.describe()}"
    )


def expect_vi_pair(out: object, call: str) -> None:
    """``value_iteration``'s output must be a ``(V_star, policy)`` tuple."""
    assert type(out) is tuple and len(out) == 2, (
        f"{call}: expected a (V_star, policy) tuple, got {show(out)}"
    )


def policies(n: int):
    """Random action distributions ``(n, n, 4)``, some with zero-probability actions."""
    raw = hnp.arrays(np.float64, (n, n, 4), elements=st.sampled_from([0.0, 0.1, 0.5, 1.0, 3.0]))
    return raw.map(normalised)


def normalised(p: np.ndarray) -> np.ndarray:
    p = np.where(p.sum(-1, keepdims=True) > 0, p, 1.0)  # an all-zero row becomes uniform
    return p / p.sum(-1, keepdims=True)


def hand_values_work(impl) -> None:
    """The properties below score only with hand-worked values (constant bodies satisfy them)."""
    env = grid(impl, 4)
    values_of(
        impl.bellman_sweep(env, np.zeros((4, 4)), uniform(4), 0.9),
        "bellman_sweep(<4x4 grid>, zeros((4, 4)), <uniform policy>, 0.9)",
        from_zeros(4)[1],
    )
    values_of(
        impl.q_from_v(env, np.zeros((4, 4)), 0.9),
        "q_from_v(<4x4 grid>, zeros((4, 4)), 0.9)",
        from_zeros(4)[0],
    )
    values_of(
        impl.policy_evaluation(env, uniform(4), 0.9),
        "policy_evaluation(<4x4 grid>, <uniform policy>, 0.9)",
        V_UNIFORM_4,
    )


def table_of(model) -> tuple[list, list, list]:
    """Next states, rewards and dones of every (state, action) of ``model``."""
    n = model.size
    nxt, reward, done = [], [], []
    for s in range(n * n):
        outs = [model.transition((s // n, s % n), a) for a in range(4)]
        nxt.append([s2[0] * n + s2[1] for s2, _, _ in outs])
        reward.append([float(r) for _, r, _ in outs])
        done.append([bool(d) for _, _, d in outs])
    return nxt, reward, done


def compare_with_reference(impl, ref, rng, rounds: int) -> None:
    for _ in range(rounds):
        n = int(rng.integers(2, 7))
        gamma = float(rng.uniform(0.5, 0.95))  # clear gaps between non-tied actions
        policy = rng.dirichlet(np.ones(4) * 0.5, size=(n, n))  # (n, n, 4)
        V = rng.normal(size=(n, n))
        model = reference("ex01_gridworld").SimpleGridWorld(n)  # the reference's grid world
        env = impl.probe("grid_model", n, *table_of(model))
        tag = f"<{n}x{n} grid>"
        values_of(
            impl.bellman_sweep(env, V, policy, gamma),
            f"bellman_sweep({tag}, <random V>, <random policy>, {gamma:.3f})",
            ref.bellman_sweep(model, V, policy, gamma),
        )
        values_of(
            impl.q_from_v(env, V, gamma),
            f"q_from_v({tag}, <random V>, {gamma:.3f})",
            ref.q_from_v(model, V, gamma),
        )
        values_of(
            impl.policy_evaluation(env, policy, gamma),
            f"policy_evaluation({tag}, <random policy>, {gamma:.3f})",
            ref.policy_evaluation(model, policy, gamma),
        )
        out = impl.value_iteration(env, gamma)
        V_star, pi_star = ref.value_iteration(model, gamma)
        assert type(out) is tuple and len(out) == 2, (
            f"value_iteration({tag}, {gamma:.3f}): expected a (V_star, policy) tuple, got {show(out)}"
        )
        values_of(out[0], f"value_iteration({tag}, {gamma:.3f}): V_star", V_star)
        expect_array(
            out[1],
            pi_star,
            f"value_iteration({tag}, {gamma:.3f}): greedy policy",
            lib="numpy",
            dtype=None,
            rtol=0,
            atol=1e-12,
        )
