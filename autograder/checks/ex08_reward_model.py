"""Checks for exercise 08: a Bradley-Terry reward model (preference loss and accuracy)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.checks._support import expect_array, expect_float, expect_raises, guarded, show
from autograder.seam.values import Array

EXERCISE = "ex08_reward_model"
LOG2 = math.log(2.0)


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) in float64 without overflow."""
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-softplus(-x))


def bt_grads(rc: np.ndarray, rr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """d loss / d r_chosen = -sigmoid(rr - rc) / B and its mirror for r_rejected."""
    s = sigmoid(np.float64(rr) - np.float64(rc)) / len(rc)
    return -s, s


pairs = st.integers(1, 30).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(-50, 50, width=32), min_size=n, max_size=n),
        st.lists(st.floats(-50, 50, width=32), min_size=n, max_size=n),
    )
)


def grad_call(impl, rc: np.ndarray, rr: np.ndarray, call: str) -> dict:
    res = impl.grad(
        "preference_loss",
        torch.tensor(rc, dtype=torch.float32, requires_grad=True),
        torch.tensor(rr, dtype=torch.float32, requires_grad=True),
    )
    assert res["graph"], (
        f"{call}: expected a loss attached to the graph of r_chosen and r_rejected, "
        "got a constant (no grad)"
    )
    return res


# -- hand-computed examples ------------------------------------------------------------------
def test_equal_rewards_give_a_loss_of_log_2_and_gradients_of_minus_and_plus_1_over_2b(impl):
    for rc in ([0.0], [0.0, 0.0, 0.0], [3.0, -1.0, 250.0]):
        r = np.float32(rc)
        call = f"preference_loss({show(r)}, {show(r)})"
        res = grad_call(impl, r, r.copy(), call)
        expect_array(res["out"], LOG2, call)
        half = np.full(len(rc), 0.5 / len(rc))  # sigmoid(0) / B
        expect_array(res["grads"][0], -half, f"d {call} / d r_chosen", atol=1e-7)
        expect_array(res["grads"][1], half, f"d {call} / d r_rejected", atol=1e-7)


def test_a_hand_worked_batch_gives_the_mean_of_softplus_of_minus_the_margin(impl):
    # margins 2, 0, -2 -> softplus(-2) = 0.126928, log 2 = 0.693147, softplus(2) = 2.126928
    rc, rr = torch.tensor([2.0, 0.0, -1.0]), torch.tensor([0.0, 0.0, 1.0])
    call = f"preference_loss({show(rc)}, {show(rr)})"
    expect_array(impl.preference_loss(rc, rr), (0.126928 + 0.693147 + 2.126928) / 3, call)


def test_the_loss_is_finite_at_margins_of_plus_and_minus_1e4_with_gradients_0_and_1(impl):
    cases = [
        ([1e4], [0.0], 0.0, [0.0], [0.0]),
        ([-1e4], [0.0], 1e4, [-1.0], [1.0]),
        ([0.0, 5e3], [1e4, -5e3], 5e3, [-0.5, 0.0], [0.5, 0.0]),
    ]
    for rc, rr, loss, g_c, g_r in cases:
        call = f"preference_loss(tensor({rc}), tensor({rr}))"
        res = grad_call(impl, np.float32(rc), np.float32(rr), call)
        expect_array(
            res["out"], loss, f"{call} (margins {show(np.float32(rc) - np.float32(rr))})", atol=1e-3
        )
        expect_array(res["grads"][0], g_c, f"d {call} / d r_chosen", atol=1e-6)
        expect_array(res["grads"][1], g_r, f"d {call} / d r_rejected", atol=1e-6)


def test_accuracy_counts_strict_wins_and_a_tie_counts_as_wrong(impl):
    rc, rr = torch.tensor([1.0, 2.0, 3.0, -1.0]), torch.tensor([0.0, 2.0, 4.0, -2.0])
    call = f"preference_accuracy({show(rc)}, {show(rr)})"
    expect_float(impl.preference_accuracy(rc, rr), 0.5, call, rtol=0, atol=1e-12)
    t = torch.tensor([0.5, 0.5])
    call = f"preference_accuracy({show(t)}, {show(t)})"
    expect_float(impl.preference_accuracy(t, t.clone()), 0.0, call, rtol=0, atol=1e-12)


# -- contracts ---------------------------------------------------------------------------------
def test_the_loss_is_a_0_d_float32_tensor_with_a_graph(impl):
    rc, rr = np.float32([0.3, -1.2]), np.float32([1.0, 0.5])
    call = f"preference_loss({show(rc)}, {show(rr)})"
    res = grad_call(impl, rc, rr, call)
    out = res["out"]
    assert isinstance(out, Array) and out.lib == "torch" and out.shape == (), (
        f"{call}: expected a 0-d torch.Tensor, got {show(out)}"
    )
    # (softplus(1.0 - 0.3) + softplus(0.5 + 1.2)) / 2, in float64 from the float32 inputs
    expect_array(out, 1.4854860553, call)


def _both_work(impl) -> None:
    rc, rr = torch.tensor([1.0, -2.0, 0.5]), torch.tensor([0.0, 3.0, 0.5])
    call = f"preference_loss({show(rc)}, {show(rr)})"
    # (softplus(-1) + softplus(5) + log 2) / 3
    expect_array(impl.preference_loss(rc, rr), 2.0043747389, call)
    call = f"preference_accuracy({show(rc)}, {show(rr)})"
    expect_float(impl.preference_accuracy(rc, rr), 1 / 3, call, rtol=1e-6, atol=1e-9)


def test_mismatched_shapes_and_empty_batches_raise_value_error(impl):
    guarded(lambda: _both_work(impl), "preference_loss and preference_accuracy")
    a3, a2, empty = torch.zeros(3), torch.zeros(2), torch.zeros(0)
    for fn in ("preference_loss", "preference_accuracy"):
        f = getattr(impl, fn)
        expect_raises("ValueError", lambda f=f: f(a3, a2), f"{fn}(<3 rewards>, <2 rewards>)")
        expect_raises(
            "ValueError", lambda f=f: f(empty, empty.clone()), f"{fn}(tensor([]), tensor([]))"
        )


def test_inputs_are_not_modified(impl):
    rc, rr = torch.tensor([1.0, -2.0, 0.5]), torch.tensor([0.0, 3.0, 0.5])
    guarded(lambda: _both_work(impl), "preference_loss and preference_accuracy")
    for fn in ("preference_loss", "preference_accuracy"):
        res = impl.inputs_after(fn, rc, rr)
        expect_array(res["args"][0], rc, f"r_chosen after {fn}({show(rc)}, {show(rr)})")
        expect_array(res["args"][1], rr, f"r_rejected after {fn}({show(rc)}, {show(rr)})")


# -- properties ---------------------------------------------------------------------------------
@pytest.mark.hidden
@given(p=pairs)
def test_the_loss_is_the_mean_softplus_of_minus_the_margin(impl, ref, p):
    rc, rr = np.float32(p[0]), np.float32(p[1])
    call = f"preference_loss({show(rc)}, {show(rr)})"
    exp = ref.preference_loss(torch.from_numpy(rc).double(), torch.from_numpy(rr).double())
    expect_array(
        impl.preference_loss(torch.from_numpy(rc), torch.from_numpy(rr)),
        float(exp),
        call,
        rtol=1e-4,
        atol=1e-5,
    )


@given(p=pairs)
def test_swapping_chosen_and_rejected_changes_the_loss_by_the_mean_margin(impl, p):
    """softplus(-d) - softplus(d) = -d for every pair, so loss(a, b) - loss(b, a) = -mean(a - b)."""
    a, b = torch.tensor(p[0]), torch.tensor(p[1])
    fwd, bwd = impl.preference_loss(a, b), impl.preference_loss(b, a)
    for out, call in (
        (fwd, f"preference_loss({show(a)}, {show(b)})"),
        (bwd, f"preference_loss({show(b)}, {show(a)})"),
    ):
        assert isinstance(out, Array) and out.shape == (), (
            f"{call}: expected a 0-d tensor, got {show(out)}"
        )
    d = np.float64(p[0]) - np.float64(p[1])
    got = float(fwd.value) - float(bwd.value)
    tol = 1e-4 + 1e-5 * float(np.abs(d).max())
    assert abs(got - (-d.mean())) <= tol, (
        f"preference_loss(a, b) - preference_loss(b, a) with a = {show(a)}, b = {show(b)}: "
        f"expected -mean(a - b) = {-d.mean():.6g}, got {got:.6g}"
    )


@given(p=pairs, shift=st.floats(-100, 100, width=32))
def test_adding_the_same_constant_to_every_reward_changes_nothing(impl, p, shift):
    guarded(lambda: _both_work(impl), "preference_loss")  # a constant is shift-invariant too
    rc, rr = np.float32(p[0]), np.float32(p[1])
    base = impl.preference_loss(torch.from_numpy(rc), torch.from_numpy(rr))
    src, srr = rc + np.float32(shift), rr + np.float32(shift)
    call = f"preference_loss({show(src)}, {show(srr)}) (both shifted by {shift:g})"
    out = impl.preference_loss(torch.from_numpy(src), torch.from_numpy(srr))
    for got, c in ((base, f"preference_loss({show(rc)}, {show(rr)})"), (out, call)):
        assert isinstance(got, Array) and got.shape == () and np.isfinite(got.value), (
            f"{c}: expected a finite 0-d tensor, got {show(got)}"
        )
    # the shifted float32 inputs round a little: the loss is 1-Lipschitz in every margin, so
    # it may move by at most the largest change of a margin that the rounding caused
    drift = float(np.max(np.abs((np.float64(src) - srr) - (np.float64(rc) - rr))))
    tol = 1e-4 * (1 + abs(float(base.value))) + drift
    assert abs(float(out.value) - float(base.value)) <= tol, (
        f"{call}: expected the loss of the unshifted rewards, {float(base.value):.6g} "
        f"(within {tol:.2g}), got {float(out.value):.6g}"
    )


@given(p=pairs)
def test_accuracy_is_the_fraction_of_strict_wins_as_a_python_float(impl, p):
    rc, rr = torch.tensor(p[0]), torch.tensor(p[1])
    exp = float(np.mean(np.float32(p[0]) > np.float32(p[1])))
    call = f"preference_accuracy({show(rc)}, {show(rr)})"
    expect_float(impl.preference_accuracy(rc, rr), exp, call, rtol=0, atol=1e-6)


# -- gradients ------------------------------------------------------------------------------------
@given(p=pairs)
def test_the_gradients_are_minus_and_plus_sigmoid_of_minus_the_margin_over_b(impl, p):
    rc, rr = np.float32(p[0]), np.float32(p[1])
    call = f"preference_loss({show(rc)}, {show(rr)})"
    res = grad_call(impl, rc, rr, call)
    g_c, g_r = bt_grads(rc, rr)
    expect_array(res["grads"][0], g_c, f"d {call} / d r_chosen", rtol=1e-4, atol=1e-6)
    expect_array(res["grads"][1], g_r, f"d {call} / d r_rejected", rtol=1e-4, atol=1e-6)


# -- a tiny Bradley-Terry fit ---------------------------------------------------------------------
UTILITIES = np.array([0.0, 1.6, -1.2, 0.8, 2.4, -0.4])  # hidden; gaps of 0.4 or more
FIT_STEPS, FIT_LR = 200, 10.0


def synthetic_preferences(seed: int = 8, per_pair: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of the 6 items compared ``per_pair`` times, winners drawn from Bradley-Terry."""
    rng = np.random.default_rng(seed)
    i, j = np.triu_indices(len(UTILITIES), k=1)
    i, j = np.repeat(i, per_pair), np.repeat(j, per_pair)
    i_wins = rng.random(len(i)) < sigmoid(UTILITIES[i] - UTILITIES[j])
    return np.where(i_wins, i, j), np.where(i_wins, j, i)


def test_a_bradley_terry_fit_with_your_loss_recovers_the_ranking_of_hidden_utilities(impl):
    """200 gradient steps on a 6-item utility vector; values and gradients from your loss.

    The grader keeps the parameters and does the update; each step sends the current
    rewards of the 2,400 (chosen, rejected) pairs to ``preference_loss`` and applies the
    gradients it returns. The result must rank the items like the hidden utilities and
    agree with the same fit done in float64 by the grader within 0.02.
    """
    chosen, rejected = synthetic_preferences()
    n = len(UTILITIES)
    theta = np.zeros(n)
    mine = np.zeros(n)
    call = f"a {FIT_STEPS}-step fit on {len(chosen)} synthetic preferences between {n} items"
    for step in range(FIT_STEPS):
        rc, rr = np.float32(theta[chosen]), np.float32(theta[rejected])
        res = impl.grad(
            "preference_loss",
            torch.from_numpy(rc).requires_grad_(True),
            torch.from_numpy(rr).requires_grad_(True),
        )
        g_c, g_r = res["grads"]
        for g, name in ((g_c, "r_chosen"), (g_r, "r_rejected")):
            assert isinstance(g, Array) and g.shape == rc.shape and np.all(np.isfinite(g.value)), (
                f"{call}, step {step}: expected a finite gradient w.r.t. {name} of shape "
                f"{rc.shape}, got {show(g)}"
            )
        grad = np.zeros(n)
        np.add.at(grad, chosen, g_c.value.astype(np.float64))
        np.add.at(grad, rejected, g_r.value.astype(np.float64))
        theta -= FIT_LR * grad
        m_c, m_r = bt_grads(mine[chosen], mine[rejected])
        my_grad = np.zeros(n)
        np.add.at(my_grad, chosen, m_c)
        np.add.at(my_grad, rejected, m_r)
        mine -= FIT_LR * my_grad
    theta, mine = theta - theta.mean(), mine - mine.mean()
    want = np.argsort(UTILITIES)
    assert np.array_equal(np.argsort(mine), want)  # the grader's own fit (sanity)
    assert np.array_equal(np.argsort(theta), want), (
        f"{call}: expected the fitted utilities to rank the items like the hidden utilities "
        f"{UTILITIES.tolist()} (order {want.tolist()}), got {np.round(theta, 3).tolist()} "
        f"(order {np.argsort(theta).tolist()})"
    )
    assert np.max(np.abs(theta - mine)) <= 0.02, (
        f"{call}: expected fitted utilities (centred) {np.round(mine, 3).tolist()} "
        f"within 0.02, got {np.round(theta, 3).tolist()}"
    )


# -- oracle ----------------------------------------------------------------------------------------
@pytest.mark.hidden
def test_matches_the_reference_on_fresh_random_batches(impl, ref, rng):
    for _ in range(15):
        b = int(rng.integers(1, 64))
        scale = float(rng.choice([0.1, 1.0, 10.0, 1e3]))
        rc = (rng.normal(size=b) * scale).astype(np.float32)
        rr = (rng.normal(size=b) * scale).astype(np.float32)
        ties = rng.random(b) < 0.1
        rr[ties] = rc[ties]
        call = f"preference_loss(<{b} random rewards, scale {scale:g}>)"
        t_c = torch.from_numpy(rc).requires_grad_(True)
        t_r = torch.from_numpy(rr).requires_grad_(True)
        exp = ref.preference_loss(t_c, t_r)
        exp_gc, exp_gr = torch.autograd.grad(exp, (t_c, t_r))
        res = grad_call(impl, rc, rr, call)
        expect_array(res["out"], exp.detach(), call, rtol=1e-4, atol=1e-5)
        expect_array(res["grads"][0], exp_gc, f"d {call} / d r_chosen", rtol=1e-4, atol=1e-6)
        expect_array(res["grads"][1], exp_gr, f"d {call} / d r_rejected", rtol=1e-4, atol=1e-6)
        acc = ref.preference_accuracy(torch.from_numpy(rc), torch.from_numpy(rr))
        got = impl.preference_accuracy(torch.from_numpy(rc), torch.from_numpy(rr))
        expect_float(got, acc, f"preference_accuracy(<{b} random rewards>)", rtol=0, atol=1e-6)
