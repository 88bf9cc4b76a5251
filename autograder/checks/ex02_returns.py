"""Checks for exercise 02: discounted returns and normalisation."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.checks._support import expect_array, expect_raises, guarded, show
from autograder.seam.values import Array

EXERCISE = "ex02_returns"

rewards_lists = st.lists(st.floats(-10, 10, allow_nan=False, width=32), min_size=0, max_size=40)
gammas = st.floats(0.0, 1.0, allow_nan=False)


# -- hand-computed examples -------------------------------------------------------------
@pytest.mark.title("the lesson's grid episode gives [0.791, 0.89, 1]")
def test_the_lesson_grid_episode_gives_0_791_0_89_1(impl):
    out = impl.discounted_returns([-0.01, -0.01, 1.0], 0.9)
    expect_array(out, [0.791, 0.89, 1.0], "discounted_returns([-0.01, -0.01, 1.0], 0.9)")


@pytest.mark.title("rewards [1, 2, 3] at gamma 1/2 give [2.75, 3.5, 3]")
def test_rewards_1_2_3_at_gamma_one_half_give_2_75_3_5_3(impl):
    out = impl.discounted_returns([1, 2, 3], 0.5)
    expect_array(out, [2.75, 3.5, 3.0], "discounted_returns([1, 2, 3], 0.5)")


@pytest.mark.title("normalize of [1, 0] is [1, -1], with the population std")
def test_normalize_of_1_0_is_1_minus_1_with_the_population_std(impl):
    out = impl.normalize(torch.tensor([1.0, 0.0]))
    expect_array(out, [1.0, -1.0], "normalize(tensor([1., 0.]))", atol=1e-5)


# -- contracts: types, shapes, edge cases, bad arguments, inputs untouched ---------------
# Each contract check also checks a hand-worked value (``guarded``): a constant, an identity
# or an always-raise body satisfies a contract but must earn nothing.
def _returns_work(impl) -> None:
    expect_array(
        impl.discounted_returns([1.0, 2.0], 1.0), [3.0, 2.0], "discounted_returns([1.0, 2.0], 1.0)"
    )


def _normalize_works(impl) -> None:
    expect_array(
        impl.normalize(torch.tensor([3.0, 1.0])),
        [1.0, -1.0],
        "normalize(tensor([3., 1.]))",
        atol=1e-5,
    )


def test_lists_arrays_and_tensors_of_ints_or_floats_all_give_float32(impl):
    inputs = [
        [1, 0, 2],
        [1.0, 0.0, 2.0],
        np.array([1, 0, 2], dtype=np.int64),
        np.array([1.0, 0.0, 2.0], dtype=np.float64),
        torch.tensor([1, 0, 2]),
        torch.tensor([1.0, 0.0, 2.0]),
    ]
    for rewards in inputs:
        expect_array(
            impl.discounted_returns(rewards, 0.5),
            [1.5, 1.0, 2.0],
            f"discounted_returns({show(rewards)}, 0.5)",
        )


def test_an_empty_episode_gives_an_empty_float32_tensor(impl):
    guarded(lambda: _returns_work(impl), "discounted_returns")
    guarded(lambda: _normalize_works(impl), "normalize")
    expect_array(impl.discounted_returns([], 0.9), np.zeros(0), "discounted_returns([], 0.9)")
    expect_array(impl.normalize(torch.zeros(0)), np.zeros(0), "normalize(tensor([]))")


@pytest.mark.title("a gamma outside [0, 1] raises ValueError")
def test_a_gamma_outside_0_1_raises_value_error(impl):
    guarded(lambda: _returns_work(impl), "discounted_returns (gamma = 1 is allowed)")
    for gamma in (-0.1, 1.5, float("nan")):
        expect_raises(
            "ValueError",
            lambda g=gamma: impl.discounted_returns([1.0, 2.0], g),
            f"discounted_returns([1.0, 2.0], {gamma})",
        )


def test_one_element_and_all_equal_inputs_normalize_to_zeros_not_nan(impl):
    guarded(lambda: _normalize_works(impl), "normalize")
    for x in (torch.tensor([3.0]), torch.tensor([2.5, 2.5, 2.5, 2.5])):
        expect_array(impl.normalize(x), np.zeros(x.shape), f"normalize({show(x)})")


def test_inputs_are_not_modified(impl):
    rewards = torch.tensor([1.0, -2.0, 3.0])
    res = impl.inputs_after("discounted_returns", rewards, 0.9)
    expect_array(
        res["out"],
        [1.63, 0.7, 3.0],  # 1 - 0.9 * 2 + 0.81 * 3, -2 + 0.9 * 3, 3
        "discounted_returns(tensor([1., -2., 3.]), 0.9)",
        rtol=1e-5,
        atol=1e-5,
    )
    expect_array(
        res["args"][0], rewards, "the rewards tensor after discounted_returns(rewards, 0.9)"
    )
    x = torch.tensor([1.0, 5.0, -2.0])
    res = impl.inputs_after("normalize", x)
    xs = np.float64([1.0, 5.0, -2.0])
    expect_array(
        res["out"],
        (xs - xs.mean()) / xs.std(),
        "normalize(tensor([1., 5., -2.]))",
        rtol=1e-4,
        atol=1e-5,
    )
    expect_array(res["args"][0], x, "the input tensor after normalize(x)")


# -- properties --------------------------------------------------------------------------
@given(rewards=rewards_lists)
def test_gamma_zero_returns_the_rewards_themselves(impl, rewards):
    expect_array(
        impl.discounted_returns(rewards, 0.0),
        np.float32(rewards) if rewards else np.zeros(0),
        f"discounted_returns({show(rewards)}, 0.0)",
        atol=1e-5,
    )


@given(rewards=rewards_lists)
def test_gamma_one_is_a_reversed_cumulative_sum(impl, rewards):
    exp = np.cumsum(np.float64(rewards)[::-1])[::-1] if rewards else np.zeros(0)
    expect_array(
        impl.discounted_returns(rewards, 1.0),
        exp,
        f"discounted_returns({show(rewards)}, 1.0)",
        rtol=1e-4,
        atol=1e-3,
    )


@given(rewards=rewards_lists, gamma=gammas)
def test_returns_satisfy_the_bellman_recursion(impl, rewards, gamma):
    # A property of the output's own values, not a second implementation:
    # G_t = r_t + gamma G_{t+1} at every t, with G_T = 0 after the last reward.
    call = f"discounted_returns({show(rewards)}, {gamma:.4g})"
    out = impl.discounted_returns(rewards, gamma)
    assert isinstance(out, Array) and out.shape == (len(rewards),), (
        f"{call}: expected a tensor of shape {(len(rewards),)}, got {show(out)}"
    )
    G = out.value.astype(np.float64)
    expect_array(
        out,
        np.float64(rewards).reshape(-1) + gamma * np.append(G[1:], 0.0)[: len(G)],
        f"{call} (expected G_t = r_t + gamma G_t+1 at every t, G after the last reward = 0)",
        rtol=1e-4,
        atol=1e-3,
    )


@given(x=st.lists(st.floats(-100, 100, allow_nan=False, width=32), min_size=2, max_size=40))
def test_normalized_output_has_mean_0_and_population_std_1(impl, x):
    """Values are compared where the spread is well above float32 rounding.

    For (nearly) constant inputs the float32 mean is not exact, so any finite
    result (at most sqrt(n) in magnitude) is accepted there; the exactly-constant case is pinned down by
    ``test_one_element_and_all_equal_inputs_normalize_to_zeros_not_nan``.
    """
    t = torch.tensor(x, dtype=torch.float32)
    xs = np.float64(t.numpy())
    std = xs.std()
    call = f"normalize({show(t)})"
    if std <= 1e-4 * np.abs(xs).max():  # spread at float32 rounding level
        out = impl.normalize(t)
        expect_array(out, np.zeros(len(x)), call, atol=np.sqrt(len(x)) + 1e-5)
        return
    exp = (xs - xs.mean()) / (std + 1e-8)
    got = expect_array(impl.normalize(t), exp, call, rtol=1e-3, atol=1e-3)
    if std <= 1e-3:  # eps dominates a tiny spread: the output is ~0, not standardised
        return
    assert abs(got.mean()) < 1e-3 and abs(got.std() - 1) < 1e-3, (
        f"{call}: expected mean 0 and population std 1, got mean {got.mean():.4g}, std {got.std():.4g}"
    )


# -- oracle against the reference ------------------------------------------------------------
@pytest.mark.hidden
def test_matches_the_reference_on_random_episodes(impl, ref):
    rng = np.random.default_rng(2)
    for _ in range(20):
        t = int(rng.integers(1, 300))
        rewards = rng.normal(size=t).astype(np.float32)
        gamma = float(rng.uniform(0, 1))
        call = f"discounted_returns(<{t} random rewards>, {gamma:.3f})"
        exp = ref.discounted_returns(rewards, gamma)
        got = expect_array(impl.discounted_returns(rewards, gamma), exp, call, rtol=1e-4, atol=1e-4)
        expect_array(
            impl.normalize(torch.from_numpy(got.astype(np.float32))),
            ref.normalize(torch.from_numpy(got.astype(np.float32))),
            f"normalize(<{t} returns>)",
            rtol=1e-3,
            atol=1e-4,
        )


# -- complexity --------------------------------------------------------------------------------
def _worker_cpu(impl, fn) -> float:
    """CPU seconds the student's worker spent on ``fn()``, read by the grader from ``/proc``.

    CPU time, not wall time: a busy machine does not make a correct loop look slow. Where
    ``/proc`` is missing (macOS) it falls back to the wall clock.
    """
    before = impl.cpu_seconds()
    if before is None:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    fn()
    return max(impl.cpu_seconds() - before, 0.0)


def _own_cpu(fn) -> float:
    """CPU seconds this thread of the grader spent on ``fn()`` (other threads excluded)."""
    start = time.thread_time()
    fn()
    return time.thread_time() - start


# CPU times at T = 300,000 against the reference (benchmarks/bench_returns.py): a loop over
# tensor elements (O(T), one tensor operation per element) ~60x; the lesson's insert(0, G)
# (O(T^2), memmove-bound) 140-350x on a busy 2-core machine, more on a quiet one. The ratios
# overlap too little for one cap, so a call over MAX_RATIO is timed again at a quarter of
# the length: linear code grows about 4x, insert(0, G) about 16x.
MAX_RATIO = 100  # below this, no further question
MAX_GROWTH = 8.0  # time(T) / time(T / 4) above this is not linear
HARD_RATIO = 400  # above this, fails whatever the growth (a growth can be padded; this cannot)


@pytest.mark.hidden
def test_discounted_returns_is_linear_time_at_t_300000(impl, ref):
    """O(T) is required: CPU time at T = 300,000 against the reference (channel cost removed).

    CPU times: the student's call in the worker (read from ``/proc`` by the grader, so
    neither the machine's load nor the student's code can bend it) against the reference
    in the grader. Up to MAX_RATIO times the reference passes. Above it the call is timed
    again at T = 75,000 and passes if its time grew at most MAX_GROWTH-fold (linear: about
    4x; the lesson's ``returns.insert(0, G)``: about 16x), up to HARD_RATIO, a cap that
    cannot be padded down.
    """
    big, small = [0.5] * 300_000, [0.5] * 75_000
    slow = impl.using(timeout=60)
    call = "discounted_returns(<300,000 rewards>, 0.99)"

    def student(rewards: list, out: list | None = None) -> float:
        # the call first: a stub or a crash ends the check before any of the timing below
        sink = out if out is not None else []
        took = _worker_cpu(impl, lambda: sink.append(slow.discounted_returns(rewards, 0.99)))
        channel = min(_worker_cpu(impl, lambda: impl.probe("echo", rewards)) for _ in range(2))
        return max(took - channel, 1e-4)

    out: list = []
    t_big = student(big, out)
    t_ref = max(min(_own_cpu(lambda: ref.discounted_returns(big, 0.99)) for _ in range(5)), 1e-3)
    expect_array(out[0], ref.discounted_returns(big, 0.99), call, rtol=1e-4, atol=1e-3)
    ratio = t_big / t_ref
    if ratio <= MAX_RATIO:
        return
    growth = t_big / student(small)
    assert ratio <= HARD_RATIO and growth <= MAX_GROWTH, (
        f"{call}: expected O(T) time: it took {t_big:.2f} s of CPU time, {ratio:.0f}x the "
        f"reference's {t_ref * 1000:.0f} ms, and {growth:.1f}x its time at T = 75,000 "
        f"(linear code: about 4x; passes up to {MAX_GROWTH:g}x, below {HARD_RATIO}x the "
        "reference). list.insert(0, ...) shifts the whole list on every step (O(T^2)); "
        "append and reverse once, or fill a preallocated array backwards"
    )
