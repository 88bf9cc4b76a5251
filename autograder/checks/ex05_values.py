"""Checks for exercise 05: state values and the Bellman equation.

The environment passed to the student's functions is the worker's ``grid_model`` probe: a
transition *table* sent from here as data (the worker holds no rule of the grid world), so an
ex01 bug never costs ex05 points. The public checks know the tables of the 2x2, 3x3 and 4x4
grids as literals (``NEXT_STATE`` in ``ex05_values_support.py``, read off ex01's rules by
hand) and expected values as hand-worked literals; comparisons on random policies and sizes
use the reference (``ref``), whose tables come from the reference grid world and never ship.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograder.checks._support import expect_array, expect_raises, guarded, show
from autograder.checks.ex05_values_support import (
    DOWN,
    LEFT,
    RIGHT,
    SIZES,
    SYNC_RIGHT,
    SYNC_UNIFORM,
    UP,
    UP_SWEEP,
    V_STAR_BY_DISTANCE,
    V_UNIFORM_4,
    WEIGHTED_SWEEP,
    always,
    compare_with_reference,
    expect_float64_array,
    expect_vi_pair,
    from_zeros,
    grid,
    hand_values_work,
    policies,
    uniform,
    values_of,
)
from autograder.seam.values import Array

EXERCISE = "ex05_values"


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
    for name, policy, exp in (
        ("uniform policy", uniform(4), np.array(SYNC_UNIFORM)),
        ("always RIGHT", always(4, RIGHT), np.array(SYNC_RIGHT)),
    ):
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
        from_zeros(4)[0],
    )


def test_the_sweep_weights_each_action_by_the_policy(impl):
    V = np.linspace(-1.0, 1.0, 16).reshape(4, 4)
    policy = np.zeros((4, 4, 4))
    policy[..., RIGHT], policy[..., DOWN], policy[..., LEFT] = 0.7, 0.2, 0.1
    env = grid(impl, 4)
    values_of(
        impl.bellman_sweep(env, V, policy, 0.5),
        f"bellman_sweep(<4x4 grid>, V={show(V)}, <pi(RIGHT, DOWN, LEFT) = (0.7, 0.2, 0.1)>, 0.5)",
        WEIGHTED_SWEEP,
    )
    values_of(
        impl.bellman_sweep(env, V, always(4, UP), 0.5),
        f"bellman_sweep(<4x4 grid>, V={show(V)}, <always UP>, 0.5)",
        UP_SWEEP,
    )


@pytest.mark.title(
    "the uniform random policy at gamma 0.9 gives -0.0219, and 0.4186 next to the goal"
)
def test_uniform_random_policy_at_gamma_0_9_gives_minus_0_0219_and_0_4186_next_to_the_goal(impl):
    exp = V_UNIFORM_4  # V(0, 0) = -0.0218862, V(2, 3) = V(3, 2) = 0.4185704
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
    expect_vi_pair(out, call)
    V = values_of(
        out[0],
        f"{call}: V_star",
        np.array(V_STAR_BY_DISTANCE[0.9])[6 - np.add.outer(range(4), range(4))],
    )
    assert abs(V[0, 0] - 0.549539) < 1e-6, (
        f"{call}: expected V*(0, 0) = 0.549539, got {V[0, 0]:.6g}"
    )


def test_the_greedy_policy_breaks_ties_toward_the_lowest_action(impl):
    # RIGHT and DOWN tie wherever both lead toward the goal -> RIGHT; last column -> DOWN;
    # at the goal all four tie -> UP.
    actions = np.array([[1, 1, 1, 2], [1, 1, 1, 2], [1, 1, 1, 2], [1, 1, 1, 0]])
    call = "value_iteration(<4x4 grid>, 0.9): greedy policy"
    out = impl.value_iteration(grid(impl, 4), 0.9)
    expect_vi_pair(out, "value_iteration(<4x4 grid>, 0.9)")
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
        expect_float64_array(out, shape, call)
    # the contract scores only with the values (a constant of the right shape earns nothing)
    expected = {
        "bellman_sweep(<3x3 grid>, zeros((3, 3)), <uniform>, 0.9)": from_zeros(3)[1],
        "q_from_v(<3x3 grid>, zeros((3, 3)), 0.9)": from_zeros(3)[0],
        "value_iteration(<3x3 grid>, 0.9): V_star": np.array(V_STAR_BY_DISTANCE[0.9])[
            4 - np.add.outer(range(3), range(3))
        ],
    }
    for call, exp in expected.items():
        expect_array(calls[call][0], exp, call, lib="numpy", dtype="float64", rtol=1e-5, atol=1e-5)


def test_v_and_the_policy_are_not_modified(impl):
    env = grid(impl, 4)
    V = np.zeros((4, 4))
    V[0, 0] = 1.0
    policy = np.zeros((4, 4, 4))
    policy[..., UP], policy[..., RIGHT] = 0.4, 0.6
    # by hand: -0.01 per move, 1.0 into the goal, -0.01 + 0.9 * 1 = 0.89 into (0, 0)
    Q = from_zeros(4)[0]
    Q[0, 0, UP] = Q[0, 0, LEFT] = Q[0, 1, LEFT] = Q[1, 0, UP] = 0.89
    sweep = (policy * Q).sum(-1)  # 0.4 Q[UP] + 0.6 Q[RIGHT]: 0.35 at (0, 0) and (1, 0)
    for fn, args in (
        ("bellman_sweep", (env, V, policy, 0.9)),
        ("q_from_v", (env, V, 0.9)),
        ("policy_evaluation", (env, policy, 0.9)),
    ):
        res = impl.inputs_after(fn, *args)
        if fn == "q_from_v":  # the contract scores only with the values
            values_of(res["out"], "q_from_v(<4x4 grid>, V, 0.9)", Q)
        elif fn == "bellman_sweep":
            values_of(
                res["out"],
                "bellman_sweep(<4x4 grid>, V, <40% UP, 60% RIGHT>, 0.9)",
                sweep,
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
                impl.bellman_sweep(env, V, pi, g), c, from_zeros(4)[1]
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
        V_UNIFORM_4,
    )


# -- properties ----------------------------------------------------------------------------------------


@given(n=st.sampled_from(SIZES), gamma=st.floats(0.0, 0.9), data=st.data())
def test_policy_evaluation_solves_the_linear_bellman_system(impl, n, gamma, data):
    # V_pi is the fixed point of the sweep: one more (the student's own, checked by hand
    # above) changes nothing, and the goal stays 0.
    guarded(lambda: hand_values_work(impl), "bellman_sweep, q_from_v and policy_evaluation")
    policy = data.draw(policies(n), label="policy")
    env = grid(impl, n)
    call = f"policy_evaluation(<{n}x{n} grid>, policy={show(policy)}, {gamma:.4g})"
    V = impl.policy_evaluation(env, policy, gamma)
    assert isinstance(V, Array) and V.shape == (n, n), (
        f"{call}: expected an ({n}, {n}) array, got {show(V)}"
    )
    assert V.value[n - 1, n - 1] == 0.0, f"{call}: expected V(goal) = 0, got {show(V)}"
    values_of(
        impl.bellman_sweep(env, np.array(V.value), policy, gamma),
        f"bellman_sweep(<{n}x{n} grid>, V_pi, policy, {gamma:.4g}) with V_pi = {call} "
        "(expected V_pi back: V_pi solves V = sum_a pi(a|s) [r + gamma V(s') (1 - done)])",
        V.value,
    )


@given(n=st.sampled_from(SIZES), gamma=st.floats(0.0, 0.9), data=st.data())
def test_q_averaged_over_the_policy_gives_back_v_pi(impl, n, gamma, data):
    guarded(lambda: hand_values_work(impl), "bellman_sweep, q_from_v and policy_evaluation")
    policy = data.draw(policies(n), label="policy")
    env = grid(impl, n)
    V = impl.policy_evaluation(env, policy, gamma)
    assert isinstance(V, Array) and V.shape == (n, n), (
        f"policy_evaluation(<{n}x{n} grid>, ...): expected an (n, n) array, got {show(V)}"
    )
    call = f"q_from_v(<{n}x{n} grid>, V_pi, {gamma:.4g}) with V_pi = policy_evaluation(..., policy={show(policy)})"
    out = impl.q_from_v(env, np.array(V.value), gamma)
    assert isinstance(out, Array) and out.dtype == "float64" and out.shape == (n, n, 4), (
        f"{call}: expected a float64 array of shape {(n, n, 4)}, got {show(out)}"
    )
    Q = out.value
    assert np.all(Q[n - 1, n - 1] == 0.0), f"{call}: expected Q(goal, a) = 0, got {show(Q)}"
    averaged = (policy * Q).sum(-1)
    assert np.allclose(averaged, V.value, rtol=0, atol=1e-6), (
        f"{call}: expected sum_a pi(a|s) Q(s, a) = V_pi(s), got {show(averaged)} vs V_pi {show(V.value)}"
    )


@given(n=st.sampled_from(SIZES), gamma=st.sampled_from(sorted(V_STAR_BY_DISTANCE)))
def test_value_iteration_matches_the_closed_form_for_sizes_2_to_4(impl, n, gamma):
    call = f"value_iteration(<{n}x{n} grid>, {gamma:.4g})"
    env = grid(impl, n)
    out = impl.value_iteration(env, gamma)
    expect_vi_pair(out, call)
    distance = 2 * (n - 1) - np.add.outer(range(n), range(n))  # (n, n) steps to the goal
    V_star = np.array(V_STAR_BY_DISTANCE[gamma])[distance]
    values_of(out[0], f"{call}: V_star (walk straight to the goal)", V_star)
    policy = out[1]
    assert isinstance(policy, Array) and policy.shape == (n, n, 4), (
        f"{call}: expected a policy of shape {(n, n, 4)}, got {show(policy)}"
    )
    p = policy.value.astype(np.float64)
    assert np.all((p == 0) | (p == 1)) and np.all(p.sum(-1) == 1), (
        f"{call}: expected a one-hot greedy policy, got {show(p)}"
    )
    # Bellman optimality: V* = max_a Q*(s, a), so a greedy policy's own backup of V* is V*.
    values_of(
        impl.bellman_sweep(env, V_star, p, gamma),
        f"bellman_sweep(<{n}x{n} grid>, V_star, pi_star, {gamma:.4g}) with pi_star from {call} "
        "(expected V_star back: a greedy policy picks an action with Q*(s, a) = V*(s))",
        V_star,
    )


# -- oracle against the reference -------------------------------------------------------------------------


@pytest.mark.hidden
def test_matches_the_reference_on_random_policies_and_sizes(impl, ref):
    compare_with_reference(impl, ref, np.random.default_rng(5), rounds=12)


@pytest.mark.hidden
def test_matches_the_reference_on_fresh_random_inputs(impl, ref, rng):
    compare_with_reference(impl, ref, rng, rounds=12)
