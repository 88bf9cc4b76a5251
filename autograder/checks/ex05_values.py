"""Checks for exercise 05: state values and the Bellman equation.

The environment passed to the student's functions is the worker's public
``grid_model`` probe (the grid world's dynamics as ``docs/exercise-api.md`` states them, ex01),
so an ex01 bug never costs ex05 points; expected values come from
:class:`GridModel`, the same model written out here in the grader.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.checks._support import expect_array, expect_raises, guarded, show
from autograder.seam.values import Array, Handle

EXERCISE = "ex05_values"
UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3
MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))
ACTION_NAMES = ("UP", "RIGHT", "DOWN", "LEFT")
STEP, GOAL_REWARD = -0.01, 1.0


# -- the model, computed in the grader -------------------------------------------------------
class GridModel:
    """The grid world's model as ``docs/exercise-api.md`` states it (``.size`` and ``.transition``)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def transition(self, state, action):
        n = self.size
        goal = (n - 1, n - 1)
        if tuple(state) == goal:
            return goal, 0.0, True
        dr, dc = MOVES[int(action)]
        nxt = (min(max(state[0] + dr, 0), n - 1), min(max(state[1] + dc, 0), n - 1))
        return (nxt, GOAL_REWARD, True) if nxt == goal else (nxt, STEP, False)


def q_by_hand(n: int, V: np.ndarray, gamma: float) -> np.ndarray:
    """``Q(s, a) = r + gamma V(s') (1 - done)``, (n, n, 4) float64."""
    model, Q = GridModel(n), np.zeros((n, n, 4))
    for r in range(n):
        for c in range(n):
            for a in range(4):
                (r2, c2), reward, done = model.transition((r, c), a)
                Q[r, c, a] = reward + gamma * V[r2, c2] * (0.0 if done else 1.0)
    return Q


def sweep_by_hand(n: int, V: np.ndarray, policy: np.ndarray, gamma: float) -> np.ndarray:
    """One synchronous backup: every state reads the old ``V``."""
    return (policy * q_by_hand(n, V, gamma)).sum(axis=-1)


def v_pi_exact(n: int, policy: np.ndarray, gamma: float) -> np.ndarray:
    """``V_pi`` by solving the linear Bellman system ``(I - gamma P_pi) V = r_pi`` (gamma < 1)."""
    model, k = GridModel(n), n * n
    P, r_pi = np.zeros((k, k)), np.zeros(k)
    for r in range(n):
        for c in range(n):
            for a in range(4):
                (r2, c2), reward, done = model.transition((r, c), a)
                p = policy[r, c, a]
                r_pi[r * n + c] += p * reward
                if not done:
                    P[r * n + c, r2 * n + c2] += p
    return np.linalg.solve(np.eye(k) - gamma * P, r_pi).reshape(n, n)


def v_star_closed_form(n: int, gamma: float) -> np.ndarray:
    """Walk straight to the goal: ``d - 1`` steps of -0.01, then 1.0, discounted."""
    V = np.zeros((n, n))
    for r in range(n):
        for c in range(n):
            d = (n - 1 - r) + (n - 1 - c)  # Manhattan distance to the goal
            if d:
                V[r, c] = (
                    sum(STEP * gamma**k for k in range(d - 1)) + gamma ** (d - 1) * GOAL_REWARD
                )
    return V


def uniform(n: int) -> np.ndarray:
    return np.full((n, n, 4), 0.25)


def always(n: int, action: int) -> np.ndarray:
    policy = np.zeros((n, n, 4))
    policy[..., action] = 1.0
    return policy


def grid(impl, n: int) -> Handle:
    """A ``n x n`` grid world model living in the worker (``size``, ``goal``, ``transition``)."""
    return impl.probe("grid_model", n)


def values_of(out, call: str, expected) -> np.ndarray:
    """``out`` must be a float64 ``np.ndarray`` equal to ``expected`` (to 1e-6)."""
    return expect_array(out, expected, call, lib="numpy", dtype="float64", rtol=1e-6, atol=1e-6)


def policies(n: int):
    """Random action distributions ``(n, n, 4)``, some with zero-probability actions."""
    raw = hnp.arrays(np.float64, (n, n, 4), elements=st.sampled_from([0.0, 0.1, 0.5, 1.0, 3.0]))
    return raw.map(_normalised)


def _normalised(p: np.ndarray) -> np.ndarray:
    p = np.where(p.sum(-1, keepdims=True) > 0, p, 1.0)  # an all-zero row becomes uniform
    return p / p.sum(-1, keepdims=True)


# -- hand-computed examples ---------------------------------------------------------------------
@pytest.mark.title("one sweep from zeros gives -0.01, except 0.2425 next to the goal")
def test_one_sweep_from_zeros_gives_minus_0_01_except_0_2425_next_to_the_goal(impl):
    exp = np.full((4, 4), -0.01)
    exp[2, 3] = exp[3, 2] = (1.0 - 0.01 * 3) / 4  # 0.2425
    exp[3, 3] = 0.0
    out = impl.bellman_sweep(grid(impl, 4), np.zeros((4, 4)), uniform(4), 0.9)
    values_of(out, "bellman_sweep(<4x4 grid>, zeros((4, 4)), <uniform policy>, 0.9)", exp)


def test_the_sweep_is_synchronous_every_state_reads_the_old_values(impl):
    V = np.arange(16, dtype=np.float64).reshape(4, 4) / 10
    V[3, 3] = 0.0
    env = grid(impl, 4)
    for name, policy in (("uniform policy", uniform(4)), ("always RIGHT", always(4, RIGHT))):
        exp = sweep_by_hand(4, V, policy, 0.9)
        call = f"bellman_sweep(<4x4 grid>, V={show(V)}, <{name}>, 0.9) (an in-place sweep reads values it already updated)"
        values_of(impl.bellman_sweep(env, V, policy, 0.9), call, exp)


def test_the_goal_stays_0_and_the_step_into_it_does_not_bootstrap(impl):
    V = np.zeros((4, 4))
    V[3, 3] = 5.0  # whatever V holds at the goal, nothing may bootstrap from it
    env = grid(impl, 4)
    exp = np.full((4, 4), -0.01)
    exp[2, 3] = exp[3, 2] = 0.2425
    exp[3, 3] = 0.0
    values_of(
        impl.bellman_sweep(env, V, uniform(4), 0.9),
        "bellman_sweep(<4x4 grid>, V with V[3, 3] = 5, <uniform policy>, 0.9) (expected no 0.9 * V(goal) after done and V(goal) = 0)",
        exp,
    )
    values_of(
        impl.q_from_v(env, V, 0.9),
        "q_from_v(<4x4 grid>, V with V[3, 3] = 5, 0.9) (expected Q[2, 3, DOWN] = 1.0 and Q[goal] = 0)",
        q_by_hand(4, V, 0.9),
    )


def test_the_sweep_weights_each_action_by_the_policy(impl):
    V = np.linspace(-1.0, 1.0, 16).reshape(4, 4)
    policy = np.zeros((4, 4, 4))
    policy[..., RIGHT], policy[..., DOWN], policy[..., LEFT] = 0.7, 0.2, 0.1
    env = grid(impl, 4)
    exp = sweep_by_hand(4, V, policy, 0.5)
    values_of(
        impl.bellman_sweep(env, V, policy, 0.5),
        f"bellman_sweep(<4x4 grid>, V={show(V)}, <pi(RIGHT, DOWN, LEFT) = (0.7, 0.2, 0.1)>, 0.5)",
        exp,
    )
    exp = sweep_by_hand(4, V, always(4, UP), 0.5)
    values_of(
        impl.bellman_sweep(env, V, always(4, UP), 0.5),
        f"bellman_sweep(<4x4 grid>, V={show(V)}, <always UP>, 0.5)",
        exp,
    )


@pytest.mark.title(
    "the uniform random policy at gamma 0.9 gives -0.0219, and 0.4186 next to the goal"
)
def test_uniform_random_policy_at_gamma_0_9_gives_minus_0_0219_and_0_4186_next_to_the_goal(impl):
    exp = v_pi_exact(4, uniform(4), 0.9)  # V(0, 0) = -0.0218862, V(2, 3) = V(3, 2) = 0.4185704
    out = impl.policy_evaluation(grid(impl, 4), uniform(4), 0.9)
    values_of(out, "policy_evaluation(<4x4 grid>, <uniform policy>, 0.9)", exp)


@pytest.mark.title("always UP at gamma 0.9 is -0.1 everywhere but the goal")
def test_always_up_at_gamma_0_9_is_minus_0_1_everywhere_but_the_goal(impl):
    exp = np.full((4, 4), -0.1)
    exp[3, 3] = 0.0
    out = impl.policy_evaluation(grid(impl, 4), always(4, UP), 0.9)
    values_of(out, "policy_evaluation(<4x4 grid>, <always UP>, 0.9)", exp)


@pytest.mark.title("Q from zeros is -0.01, except 1 into the goal and 0 at the goal")
def test_q_from_zeros_is_minus_0_01_except_1_into_the_goal_and_0_at_the_goal(impl):
    exp = np.full((4, 4, 4), -0.01)
    exp[2, 3, DOWN] = exp[3, 2, RIGHT] = 1.0
    exp[3, 3] = 0.0
    values_of(
        impl.q_from_v(grid(impl, 4), np.zeros((4, 4)), 0.9),
        "q_from_v(<4x4 grid>, zeros((4, 4)), 0.9)",
        exp,
    )


@pytest.mark.title("V* at the start is 0.549539 at gamma 0.9")
def test_v_star_at_the_start_is_0_549539_at_gamma_0_9(impl):
    out = impl.value_iteration(grid(impl, 4), 0.9)
    call = "value_iteration(<4x4 grid>, 0.9)"
    assert type(out) is tuple and len(out) == 2, (
        f"{call}: expected a (V_star, policy) tuple, got {show(out)}"
    )
    V = values_of(out[0], f"{call}: V_star", v_star_closed_form(4, 0.9))
    assert abs(V[0, 0] - 0.549539) < 1e-6, (
        f"{call}: expected V*(0, 0) = 0.549539, got {V[0, 0]:.6g}"
    )


def test_the_greedy_policy_breaks_ties_toward_the_lowest_action(impl):
    # RIGHT and DOWN tie wherever both lead toward the goal -> RIGHT; last column -> DOWN;
    # at the goal all four tie -> UP.
    actions = np.array([[1, 1, 1, 2], [1, 1, 1, 2], [1, 1, 1, 2], [1, 1, 1, 0]])
    call = "value_iteration(<4x4 grid>, 0.9): greedy policy"
    out = impl.value_iteration(grid(impl, 4), 0.9)
    assert type(out) is tuple and len(out) == 2, (
        f"value_iteration(<4x4 grid>, 0.9): expected a (V_star, policy) tuple, got {show(out)}"
    )
    expect_array(
        out[1],
        np.eye(4)[actions],
        f"{call} (one-hot rows; actions {actions.tolist()})",
        lib="numpy",
        dtype=None,
        rtol=0,
        atol=1e-12,
    )


# -- contracts ----------------------------------------------------------------------------------------
def test_outputs_are_float64_numpy_arrays_of_the_grid_shape(impl):
    env, pi = grid(impl, 3), uniform(3)
    calls = {
        "bellman_sweep(<3x3 grid>, zeros((3, 3)), <uniform>, 0.9)": (
            impl.bellman_sweep(env, np.zeros((3, 3)), pi, 0.9),
            (3, 3),
        ),
        "q_from_v(<3x3 grid>, zeros((3, 3)), 0.9)": (
            impl.q_from_v(env, np.zeros((3, 3)), 0.9),
            (3, 3, 4),
        ),
        "policy_evaluation(<3x3 grid>, <uniform>, 0.9)": (
            impl.policy_evaluation(env, pi, 0.9),
            (3, 3),
        ),
    }
    vi = impl.value_iteration(env, 0.9)
    assert type(vi) is tuple and len(vi) == 2, (
        f"value_iteration(<3x3 grid>, 0.9): expected a (V_star, policy) tuple, got {show(vi)}"
    )
    calls["value_iteration(<3x3 grid>, 0.9): V_star"] = (vi[0], (3, 3))
    calls["value_iteration(<3x3 grid>, 0.9): policy"] = (vi[1], (3, 3, 4))
    for call, (out, shape) in calls.items():
        assert isinstance(out, Array) and out.lib == "numpy", (
            f"{call}: expected an np.ndarray, got {show(out)}"
        )
        assert out.dtype == "float64" and out.shape == shape, (
            f"{call}: expected float64 of shape {shape}, got {out.describe()}"
        )
    # the contract scores only with the values (a constant of the right shape earns nothing)
    zeros = np.zeros((3, 3))
    expected = {
        "bellman_sweep(<3x3 grid>, zeros((3, 3)), <uniform>, 0.9)": sweep_by_hand(
            3, zeros, pi, 0.9
        ),
        "q_from_v(<3x3 grid>, zeros((3, 3)), 0.9)": q_by_hand(3, zeros, 0.9),
        "value_iteration(<3x3 grid>, 0.9): V_star": v_star_closed_form(3, 0.9),
    }
    for call, exp in expected.items():
        expect_array(calls[call][0], exp, call, lib="numpy", dtype="float64", rtol=1e-5, atol=1e-5)


def test_v_and_the_policy_are_not_modified(impl):
    env = grid(impl, 4)
    V = np.linspace(-1.0, 1.0, 16).reshape(4, 4)
    policy = np.zeros((4, 4, 4))
    policy[..., UP], policy[..., RIGHT] = 0.4, 0.6
    for fn, args in (
        ("bellman_sweep", (env, V, policy, 0.9)),
        ("q_from_v", (env, V, 0.9)),
        ("policy_evaluation", (env, policy, 0.9)),
    ):
        res = impl.inputs_after(fn, *args)
        if fn == "q_from_v":  # the contract scores only with the values
            values_of(res["out"], "q_from_v(<4x4 grid>, V, 0.9)", q_by_hand(4, V, 0.9))
        elif fn == "bellman_sweep":
            values_of(
                res["out"],
                "bellman_sweep(<4x4 grid>, V, <40% UP, 60% RIGHT>, 0.9)",
                sweep_by_hand(4, V, policy, 0.9),
            )
        for i, sent in enumerate(args):
            if isinstance(sent, np.ndarray):
                name = "V" if sent.shape == (4, 4) else "policy"
                expect_array(
                    res["args"][i],
                    sent,
                    f"{name} after {fn}(<4x4 grid>, ...) (expected it unchanged)",
                    lib="numpy",
                    dtype="float64",
                    rtol=0,
                    atol=0,
                )


def test_bad_gamma_shapes_and_policies_raise_value_error(impl):
    env, V, pi = grid(impl, 4), np.zeros((4, 4)), uniform(4)
    for gamma in (0.0, 1.0):  # the ends of [0, 1] are allowed
        call = f"bellman_sweep(<4x4 grid>, zeros((4, 4)), <uniform>, {gamma})"
        guarded(
            lambda g=gamma, c=call: values_of(
                impl.bellman_sweep(env, V, pi, g), c, sweep_by_hand(4, V, pi, g)
            ),
            "bellman_sweep",
        )
    for gamma in (-0.1, 1.5):
        expect_raises(
            "ValueError",
            lambda g=gamma: impl.bellman_sweep(env, V, pi, g),
            f"bellman_sweep(<4x4 grid>, V, <uniform>, {gamma})",
        )
        expect_raises(
            "ValueError",
            lambda g=gamma: impl.q_from_v(env, V, g),
            f"q_from_v(<4x4 grid>, V, {gamma})",
        )
        expect_raises(
            "ValueError",
            lambda g=gamma: impl.value_iteration(env, g),
            f"value_iteration(<4x4 grid>, {gamma})",
        )
    expect_raises(
        "ValueError",
        lambda: impl.bellman_sweep(env, np.zeros((3, 3)), pi, 0.9),
        "bellman_sweep(<4x4 grid>, zeros((3, 3)), <uniform 4x4 policy>, 0.9)",
    )
    expect_raises(
        "ValueError",
        lambda: impl.q_from_v(env, np.zeros(16), 0.9),
        "q_from_v(<4x4 grid>, zeros(16), 0.9)",
    )
    expect_raises(
        "ValueError",
        lambda: impl.bellman_sweep(env, V, uniform(3), 0.9),
        "bellman_sweep(<4x4 grid>, V, <policy of shape (3, 3, 4)>, 0.9)",
    )
    bad = uniform(4)
    bad[1, 2] = [0.5, 0.5, 0.5, 0.0]
    expect_raises(
        "ValueError",
        lambda: impl.bellman_sweep(env, V, bad, 0.9),
        "bellman_sweep(<4x4 grid>, V, <policy whose row (1, 2) sums to 1.5>, 0.9)",
    )
    expect_raises(
        "ValueError",
        lambda: impl.policy_evaluation(env, bad, 0.9),
        "policy_evaluation(<4x4 grid>, <policy whose row (1, 2) sums to 1.5>, 0.9)",
    )


def test_no_convergence_within_max_iters_raises_runtime_error(impl):
    env = grid(impl, 4)
    expect_raises(
        "RuntimeError",
        lambda: impl.policy_evaluation(env, always(4, UP), 1.0, max_iters=1000),
        "policy_evaluation(<4x4 grid>, <always UP>, 1.0, max_iters=1000) (values drift to minus infinity)",
    )
    # Synchronous sweeps from V = 0 need 113 sweeps here (an in-place sweep needs 78).
    expect_raises(
        "RuntimeError",
        lambda: impl.policy_evaluation(env, uniform(4), 0.9, max_iters=100),
        "policy_evaluation(<4x4 grid>, <uniform>, 0.9, max_iters=100) (synchronous sweeps from V = 0 reach max |dV| < 1e-8 only after 113 sweeps)",
    )
    out = impl.policy_evaluation(env, uniform(4), 0.9, max_iters=120)
    values_of(
        out,
        "policy_evaluation(<4x4 grid>, <uniform>, 0.9, max_iters=120)",
        v_pi_exact(4, uniform(4), 0.9),
    )


# -- properties ----------------------------------------------------------------------------------------
@given(n=st.integers(2, 5), gamma=st.floats(0.0, 0.9), data=st.data())
def test_policy_evaluation_solves_the_linear_bellman_system(impl, n, gamma, data):
    policy = data.draw(policies(n), label="policy")
    out = impl.policy_evaluation(grid(impl, n), policy, gamma)
    values_of(
        out,
        f"policy_evaluation(<{n}x{n} grid>, policy={show(policy)}, {gamma:.4g})",
        v_pi_exact(n, policy, gamma),
    )


@given(n=st.integers(2, 5), gamma=st.floats(0.0, 0.9), data=st.data())
def test_q_averaged_over_the_policy_gives_back_v_pi(impl, n, gamma, data):
    policy = data.draw(policies(n), label="policy")
    env = grid(impl, n)
    V = impl.policy_evaluation(env, policy, gamma)
    assert isinstance(V, Array) and V.shape == (n, n), (
        f"policy_evaluation(<{n}x{n} grid>, ...): expected an (n, n) array, got {show(V)}"
    )
    call = f"q_from_v(<{n}x{n} grid>, V_pi, {gamma:.4g}) with V_pi = policy_evaluation(..., policy={show(policy)})"
    Q = expect_array(
        impl.q_from_v(env, np.array(V.value), gamma),
        q_by_hand(n, V.value, gamma),
        call,
        lib="numpy",
        dtype="float64",
        rtol=1e-9,
        atol=1e-9,
    )
    averaged = (policy * Q).sum(-1)
    assert np.allclose(averaged, V.value, rtol=0, atol=1e-6), (
        f"{call}: expected sum_a pi(a|s) Q(s, a) = V_pi(s), got {show(averaged)} vs V_pi {show(V.value)}"
    )


@given(n=st.integers(2, 7), gamma=st.one_of(st.just(0.0), st.floats(0.05, 1.0)))
def test_value_iteration_matches_the_closed_form_for_sizes_2_to_7(impl, n, gamma):
    call = f"value_iteration(<{n}x{n} grid>, {gamma:.4g})"
    out = impl.value_iteration(grid(impl, n), gamma)
    assert type(out) is tuple and len(out) == 2, (
        f"{call}: expected a (V_star, policy) tuple, got {show(out)}"
    )
    V_star = v_star_closed_form(n, gamma)
    values_of(out[0], f"{call}: V_star (walk straight to the goal)", V_star)
    policy = out[1]
    assert isinstance(policy, Array) and policy.shape == (n, n, 4), (
        f"{call}: expected a policy of shape {(n, n, 4)}, got {show(policy)}"
    )
    p = policy.value.astype(np.float64)
    assert np.all((p == 0) | (p == 1)) and np.all(p.sum(-1) == 1), (
        f"{call}: expected a one-hot greedy policy, got {show(p)}"
    )
    Q = q_by_hand(n, V_star, gamma)
    chosen = (p * Q).sum(-1)
    worst = np.unravel_index(np.argmax(Q.max(-1) - chosen), (n, n))
    assert np.all(chosen >= Q.max(-1) - 1e-6), (
        f"{call}: expected a greedy (optimal) action everywhere; at {tuple(int(i) for i in worst)} the policy picks "
        f"{ACTION_NAMES[int(p[worst].argmax())]} with Q* {chosen[worst]:.6g}, the best is {Q[worst].max():.6g}"
    )


# -- oracle against the reference -------------------------------------------------------------------------
def _compare_with_reference(impl, ref, rng, rounds: int) -> None:
    for _ in range(rounds):
        n = int(rng.integers(2, 7))
        gamma = float(rng.uniform(0.5, 0.95))  # clear gaps between non-tied actions
        policy = rng.dirichlet(np.ones(4) * 0.5, size=(n, n))  # (n, n, 4)
        V = rng.normal(size=(n, n))
        env, model = grid(impl, n), GridModel(n)
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


@pytest.mark.hidden
def test_matches_the_reference_on_random_policies_and_sizes(impl, ref):
    _compare_with_reference(impl, ref, np.random.default_rng(5), rounds=12)


@pytest.mark.hidden
def test_matches_the_reference_on_fresh_random_inputs(impl, ref, rng):
    _compare_with_reference(impl, ref, rng, rounds=12)
