"""Checks for exercise 07: the KL penalty that keeps an RLHF policy near its reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.checks._support import (
    expect_array,
    expect_float,
    expect_raises,
    guarded,
    pasteable,
    reproducible_call,
    show,
    unchanged,
)
from autograder.seam.values import Array

EXERCISE = "ex07_kl"
INF, NAN = float("inf"), float("nan")

# The lesson's example: three real tokens, two padded ones.
LOGP, REF = [-1.0, -2.0, -0.5], [-1.5, -1.0, -0.5]
LESSON_REWARDS = [-0.05, 0.10, 2.00]


# k3 of the lesson example: d = ref - logp = [-0.5, 1, 0] -> exp(d) - 1 - d
K3_LESSON = [math.exp(-0.5) - 1 + 0.5, math.e - 2, 0.0]  # [0.1065, 0.7183, 0]


def f32(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float32)


def expect_rewards(out, expected: np.ndarray, mask, call: str) -> np.ndarray:
    """float32 ``(B, T)`` rewards equal to ``expected``, finite, and exactly 0 on padding."""
    got = expect_array(out, expected, call, rtol=1e-5, atol=1e-5)
    pad = ~np.asarray(mask).astype(bool)
    assert np.all(got[pad] == 0.0), (
        f"{call}: expected exactly 0 at every padded position, got {show(got)}"
    )
    return got


def padded(
    rows: list[list[float]], starts: list[int], T: int, fill: float | list[float] = 0.0
) -> torch.Tensor:
    """Rows of real values placed at ``starts``, the rest filled with ``fill`` (a value or one per row)."""
    out = torch.empty(len(rows), T)
    for b, (row, s) in enumerate(zip(rows, starts, strict=True)):
        out[b] = fill[b] if isinstance(fill, list) else fill
        out[b, s : s + len(row)] = f32(row)
    return out


def mask_of(lengths: list[int], starts: list[int], T: int) -> torch.Tensor:
    idx = torch.arange(T)
    return torch.stack([(idx >= s) & (idx < s + n) for n, s in zip(lengths, starts, strict=True)])


# -- hand-computed examples --------------------------------------------------------------------------------
@pytest.mark.title("the lesson's example gives [-0.05, 0.10, 2.00, 0, 0]")
def test_the_lesson_example_gives_minus_0_05_0_10_2_00_0_0(impl):
    logp, ref = f32([LOGP + [0.0, 0.0]]), f32([REF + [0.0, 0.0]])
    mask = f32([[1, 1, 1, 0, 0]])
    out = impl.kl_penalized_rewards(logp, ref, mask, f32([2.0]), 0.1)
    call = "kl_penalized_rewards(logp=[[-1, -2, -0.5, pad, pad]], ref=[[-1.5, -1, -0.5, pad, pad]], mask=[[1, 1, 1, 0, 0]], score=[2.0], kl_coef=0.1)"
    expect_rewards(out, [LESSON_REWARDS + [0.0, 0.0]], mask, call)


def test_left_padding_puts_the_score_at_the_last_column_and_zeros_in_front(impl):
    logp, ref = f32([[0.0, 0.0] + LOGP]), f32([[0.0, 0.0] + REF])
    mask = f32([[0, 0, 1, 1, 1]])
    out = impl.kl_penalized_rewards(logp, ref, mask, f32([2.0]), 0.1)
    call = "kl_penalized_rewards(logp=[[pad, pad, -1, -2, -0.5]], ref=[[pad, pad, -1.5, -1, -0.5]], mask=[[0, 0, 1, 1, 1]], score=[2.0], kl_coef=0.1)"
    expect_rewards(out, [[0.0, 0.0] + LESSON_REWARDS], mask, call)


def test_the_score_goes_to_the_last_real_token_of_each_row(impl):
    T, lengths, starts = (
        5,
        [2, 3, 5, 3, 1],
        [0, 2, 0, 1, 4],
    )  # right, left, full, both sides, one token
    logp = padded(
        [[-1.0, -2.0], [-0.5, -1.5, -3.0], [-1.0] * 5, [-2.0, -0.1, -0.7], [-0.3]], starts, T
    )
    ref = padded(
        [[-1.5, -1.0], [-0.5, -1.0, -2.5], [-1.2] * 5, [-1.0, -0.6, -0.2], [-0.8]], starts, T
    )
    mask = mask_of(lengths, starts, T)
    score = f32([1.0, 2.0, 3.0, 4.0, 5.0])
    out = impl.kl_penalized_rewards(logp, ref, mask, score, 0.2)
    # -0.2 (logp - ref) on real tokens, + score at each row's last real token (worked once, pasted)
    exp = [
        [-0.1, 1.2, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.1, 2.1],
        [-0.04, -0.04, -0.04, -0.04, 2.96],
        [0.0, 0.2, -0.1, 4.1, 0.0],
        [0.0, 0.0, 0.0, 0.0, 4.9],
    ]
    last = [s + n - 1 for n, s in zip(lengths, starts, strict=True)]
    call = f"kl_penalized_rewards(<5 rows: right-, left-, un-, both-side-padded, one token; last real tokens at {last}>, mask={mask.int().tolist()}, score=[1, 2, 3, 4, 5], kl_coef=0.2)"
    expect_rewards(out, exp, mask, call)


def test_kl_k1_and_k3_of_the_lesson_example(impl):
    logp, ref = f32(LOGP), f32(REF)
    call = "(logp=[-1, -2, -0.5], ref_logp=[-1.5, -1, -0.5])"
    expect_array(impl.kl_k1(logp, ref), [0.5, -1.0, 0.0], f"kl_k1{call} = logp - ref_logp")
    # d = ref - logp = [-0.5, 1, 0]; exp(d) - 1 - d
    expect_array(
        impl.kl_k3(logp, ref), K3_LESSON, f"kl_k3{call} = exp(ref - logp) - 1 - (ref - logp)"
    )


def test_a_policy_more_confident_than_the_reference_is_penalised(impl):
    logp, ref = (
        f32([[-0.1, -3.0]]),
        f32([[-2.0, -0.5]]),
    )  # token 0: the policy is surer; token 1: less sure
    mask, score = f32([[1, 1]]), f32([0.0])
    call = "kl_penalized_rewards(logp=[[-0.1, -3.0]], ref=[[-2.0, -0.5]], mask=[[1, 1]], score=[0], kl_coef=0.5)"
    got = expect_rewards(
        impl.kl_penalized_rewards(logp, ref, mask, score, 0.5), [[-0.95, 1.25]], mask, call
    )
    assert got[0, 0] < 0 < got[0, 1], (
        f"{call}: expected a penalty (< 0) where logp > ref and a bonus (> 0) where logp < ref, got {show(got)}"
    )
    k1 = expect_array(
        impl.kl_k1(logp[0], ref[0]),
        [1.9, -2.5],
        "kl_k1(logp=[-0.1, -3.0], ref_logp=[-2.0, -0.5]) = logp - ref_logp",
    )
    assert k1[0] > 0, (
        f"kl_k1(logp=[-0.1, -3.0], ref_logp=[-2.0, -0.5]): expected k1 > 0 where the policy is more confident, got {show(k1)}"
    )


# -- contracts --------------------------------------------------------------------------------------------------
def test_padding_is_exactly_0_whatever_the_padded_log_probs_hold(impl):
    T, lengths, starts = 4, [2, 3, 1], [0, 1, 3]
    logp = padded([[-1.0, -2.0], [-0.5, -1.5, -3.0], [-0.3]], starts, T, fill=[INF, NAN, 1e30])
    ref = padded([[-1.5, -1.0], [-0.5, -1.0, -2.5], [-0.8]], starts, T, fill=[-INF, NAN, -1e30])
    mask = mask_of(lengths, starts, T)
    score = f32([1.0, -2.0, 0.5])
    call = "kl_penalized_rewards(<3 rows with inf / nan / 1e30 in the padded log-probs>, mask=[[1, 1, 0, 0], [0, 1, 1, 1], [0, 0, 0, 1]], score=[1, -2, 0.5], kl_coef=0.1)"
    exp = [[-0.05, 1.1, 0.0, 0.0], [0.0, 0.0, 0.05, -1.95], [0.0, 0.0, 0.0, 0.45]]
    expect_rewards(impl.kl_penalized_rewards(logp, ref, mask, score, 0.1), exp, mask, call)
    call = call.replace("mask=[[", "mask=(bool) [[")
    expect_rewards(impl.kl_penalized_rewards(logp, ref, mask.bool(), score, 0.1), exp, mask, call)


def test_the_rewards_are_float32_of_shape_b_t_and_carry_no_grad(impl):
    logp = f32([LOGP + [0.0], [0.0] + REF]).requires_grad_(True)
    ref, mask = f32([REF + [0.0], [0.0] + LOGP]), f32([[1, 1, 1, 0], [0, 1, 1, 1]])
    score = f32([2.0, -1.0]).requires_grad_(True)
    call = (
        "kl_penalized_rewards(logp (requires grad), ref, mask, score (requires grad), kl_coef=0.1)"
    )
    out = impl.kl_penalized_rewards(logp, ref, mask, score, 0.1)
    assert isinstance(out, Array) and out.lib == "torch", (
        f"{call}: expected a torch.Tensor, got {show(out)}"
    )
    assert out.dtype == "float32" and out.shape == (2, 4), (
        f"{call}: expected float32 of shape (2, 4), got {out.describe()}"
    )
    assert not out.requires_grad, (
        f"{call}: expected rewards without grad (they are data for the RL step: compute them under torch.no_grad() or detach), got a tensor that requires grad"
    )
    expect_rewards(out, [[-0.05, 0.1, 2.0, 0.0], [0.0, 0.05, -0.1, -1.0]], mask, call)


def test_inputs_are_not_modified(impl):
    T, lengths, starts = 4, [2, 3], [0, 1]
    logp = padded([[-1.0, -2.0], [-0.5, -1.5, -3.0]], starts, T, fill=[5.0, NAN])
    ref = padded([[-1.5, -1.0], [-0.5, -1.0, -2.5]], starts, T, fill=[-7.0, INF])
    mask, score = mask_of(lengths, starts, T), f32([1.0, 2.0])
    res = impl.inputs_after("kl_penalized_rewards", logp, ref, mask, score, 0.1)
    call = "kl_penalized_rewards(logp, ref_logp, mask, score, 0.1) with garbage in the padding"
    expect_rewards(  # the contract scores only with the values
        res["out"], [[-0.05, 1.1, 0.0, 0.0], [0.0, 0.0, 0.05, 2.05]], mask, call
    )
    for i, (name, sent) in enumerate(
        (("logp", logp), ("ref_logp", ref), ("mask", mask), ("score", score))
    ):
        after = res["args"][i]
        assert isinstance(after, Array) and after.shape == tuple(sent.shape), (
            f"{name} after {call}: expected the tensor you were given, got {show(after)}"
        )
        unchanged(
            sent,
            after.value,
            name,
            f"{name} after {call} (expected {show(sent)}, got {show(after.value)})",
        )
    for fn in ("kl_k1", "kl_k3"):
        a, b = f32(LOGP), f32(REF)
        res = impl.inputs_after(fn, a, b)
        want = np.float64(LOGP) - np.float64(REF) if fn == "kl_k1" else K3_LESSON
        expect_array(res["out"], want, f"{fn}(logp={LOGP}, ref_logp={REF})", atol=1e-6)
        expect_array(
            res["args"][0],
            a,
            f"logp after {fn}(logp, ref_logp) (expected it unchanged)",
            rtol=0,
            atol=0,
        )
        expect_array(
            res["args"][1],
            b,
            f"ref_logp after {fn}(logp, ref_logp) (expected it unchanged)",
            rtol=0,
            atol=0,
        )


def _lesson_example_works(impl) -> None:
    logp, ref = f32([LOGP + [0.0, 0.0]]), f32([REF + [0.0, 0.0]])
    mask = f32([[1, 1, 1, 0, 0]])
    out = impl.kl_penalized_rewards(logp, ref, mask, f32([2.0]), 0.1)
    expect_rewards(
        out, [LESSON_REWARDS + [0.0, 0.0]], mask, "kl_penalized_rewards(<the lesson example>)"
    )
    for fn, want in (
        ("kl_k1", np.float64(LOGP) - np.float64(REF)),
        ("kl_k3", K3_LESSON),
    ):
        expect_array(
            getattr(impl, fn)(f32(LOGP), f32(REF)),
            want,
            f"{fn}(logp={LOGP}, ref_logp={REF})",
            atol=1e-6,
        )


def test_a_row_without_a_real_token_or_mismatched_shapes_raise_value_error(impl):
    guarded(lambda: _lesson_example_works(impl), "kl_penalized_rewards, kl_k1 and kl_k3")
    logp, ref = (
        f32([[-1.0, -2.0, -0.5], [-1.0, -1.0, -1.0]]),
        f32([[-1.5, -1.0, -0.5], [-1.0, -1.0, -1.0]]),
    )
    score = f32([1.0, 1.0])
    expect_raises(
        "ValueError",
        lambda: impl.kl_penalized_rewards(logp, ref, f32([[1, 1, 0], [0, 0, 0]]), score, 0.1),
        "kl_penalized_rewards(..., mask=[[1, 1, 0], [0, 0, 0]], ...) (row 1 has no real token)",
    )
    expect_raises(
        "ValueError",
        lambda: impl.kl_penalized_rewards(
            logp, ref[:, :2], f32([[1, 1, 1], [1, 1, 1]]), score, 0.1
        ),
        "kl_penalized_rewards(logp of shape (2, 3), ref_logp of shape (2, 2), ...)",
    )
    expect_raises(
        "ValueError",
        lambda: impl.kl_penalized_rewards(logp, ref, f32([[1, 1], [1, 1]]), score, 0.1),
        "kl_penalized_rewards(logp of shape (2, 3), ref_logp, mask of shape (2, 2), ...)",
    )
    expect_raises(
        "ValueError",
        lambda: impl.kl_k1(f32(LOGP), f32(REF[:2])),
        "kl_k1(logp of shape (3,), ref_logp of shape (2,))",
    )
    expect_raises(
        "ValueError",
        lambda: impl.kl_k3(f32(LOGP), f32(REF[:2])),
        "kl_k3(logp of shape (3,), ref_logp of shape (2,))",
    )


def test_k1_and_k3_keep_the_graph_with_the_right_gradients(impl):
    d = np.float64(REF) - np.float64(LOGP)
    for fn, g_logp, g_ref in (
        ("kl_k1", np.ones(3), -np.ones(3)),
        ("kl_k3", 1 - np.exp(d), np.exp(d) - 1),
    ):
        res = impl.grad(
            fn,
            f32(LOGP).requires_grad_(True),
            f32(REF).requires_grad_(True),
            grad_output=torch.ones(3),
        )
        call = f"{fn}(logp=[-1, -2, -0.5], ref_logp=[-1.5, -1, -0.5]), both requiring grad"
        assert res["graph"], (
            f"{call}: expected the result attached to the inputs' graph (GRPO backpropagates through it), it was a constant"
        )
        expect_array(res["grads"][0], g_logp, f"d sum {call} / d logp", atol=1e-6)
        expect_array(res["grads"][1], g_ref, f"d sum {call} / d ref_logp", atol=1e-6)


# -- properties --------------------------------------------------------------------------------------------------
@pytest.mark.title("k3 is never negative in float32 over log-ratios in [-20, 20]")
def test_k3_is_never_negative_in_float32_over_log_ratios_in_minus_20_20(impl):
    small = np.logspace(-8, math.log10(20), 2000)
    d = np.concatenate([small, -small, np.linspace(-20, 20, 4001)]).astype(np.float32)
    logp, ref = torch.zeros(d.shape), torch.from_numpy(d)  # ref - logp = d exactly
    call = f"kl_k3(zeros({d.size}), <{d.size} log-ratios d from -20 to 20, many tiny>)"
    out = impl.kl_k3(logp, ref)
    assert isinstance(out, Array) and out.shape == d.shape and out.dtype == "float32", (
        f"{call}: expected a float32 tensor of shape {d.shape}, got {show(out)}"
    )
    got = out.value.astype(np.float64)
    bad = np.flatnonzero(~(got >= 0))
    assert bad.size == 0, (
        f"{call}: expected k3 >= 0 everywhere (write exp(d) - 1 as expm1(d)), got {bad.size} negative values, e.g. k3({d[bad[0]]:.4g}) = {got[bad[0]]:.3g}"
    )
    # Values without a second implementation: near 0, k3 = d^2 / 2 + d^3 / 6 + O(d^4)
    # (Taylor); elsewhere a few points worked once in float64; k3 falls then rises through 0.
    d64 = np.float64(d)
    tiny = np.abs(d64) <= 1e-2
    taylor = d64[tiny] ** 2 / 2 + d64[tiny] ** 3 / 6
    off = np.abs(got[tiny] - taylor) > 1e-6 + 1e-4 * np.abs(taylor)
    assert not np.any(off), (
        f"{call} at |d| <= 0.01: expected d^2 / 2 + d^3 / 6 (tolerance: rel 1e-4, abs 1e-6), "
        f"e.g. at d = {d64[tiny][off][0]:.4g} expected {taylor[off][0]:.6g}, got {got[tiny][off][0]:.6g}"
    )
    points = {-20.0: 19.000000002, -5.0: 4.006737947, -1.0: 0.3678794412, -0.1: 0.004837418}
    points |= {0.1: 0.0051709181, 1.0: 0.7182818285, 5.0: 142.4131591026, 20.0: 485165174.41}
    for x, want in points.items():
        i = int(np.argmin(np.abs(d64 - x)))  # the sweep holds x up to float32 rounding
        expect_float(float(got[i]), want, f"{call}: k3 at d = {x:g}", rtol=1e-4, atol=1e-6)
    order = np.argsort(d64, kind="stable")
    s, k = d64[order], got[order]
    falls, rises = np.diff(k[s <= 0]), np.diff(k[s >= 0])
    assert np.all(falls <= 1e-6) and np.all(rises >= -1e-6), (
        f"{call}: expected k3 to decrease for d < 0 and increase for d > 0 (its minimum 0 at d = 0)"
    )


@pytest.mark.hidden
@given(
    logp=hnp.arrays(np.float32, st.integers(1, 30), elements=st.floats(-20, 0, width=32)),
    data=st.data(),
)
def test_k3_equals_exp_d_minus_1_minus_d_and_is_never_negative(impl, ref, logp, data):
    ref_logp = data.draw(
        hnp.arrays(np.float32, logp.shape, elements=st.floats(-20, 0, width=32)), label="ref_logp"
    )
    call = f"kl_k3({show(logp)}, {show(ref_logp)})"
    got = expect_array(
        impl.kl_k3(torch.from_numpy(logp), torch.from_numpy(ref_logp)),
        ref.kl_k3(torch.from_numpy(logp).double(), torch.from_numpy(ref_logp).double()),
        call,
        rtol=1e-4,
        atol=1e-6,
    )
    assert np.all(got >= 0), f"{call}: expected k3 >= 0, got {show(got)}"


GARBAGE = st.sampled_from([0.0, -1.0, 1e30, -1e30, INF, -INF, NAN])


@st.composite
def padded_batches(draw):
    B, T = draw(st.integers(1, 4)), draw(st.integers(1, 8))
    lengths = [draw(st.integers(1, T)) for _ in range(B)]
    side = draw(st.sampled_from(["right", "left", "any"]))
    starts = [
        0 if side == "right" else T - n if side == "left" else draw(st.integers(0, T - n))
        for n in lengths
    ]
    mask = mask_of(lengths, starts, T)
    logp = torch.from_numpy(
        draw(hnp.arrays(np.float32, (B, T), elements=st.floats(-20, 0, width=32)))
    )
    ref = torch.from_numpy(
        draw(hnp.arrays(np.float32, (B, T), elements=st.floats(-20, 0, width=32)))
    )
    logp[~mask], ref[~mask] = draw(GARBAGE), draw(GARBAGE)
    score = torch.from_numpy(
        draw(hnp.arrays(np.float32, (B,), elements=st.floats(-5, 5, width=32)))
    )
    kind = draw(st.sampled_from([torch.bool, torch.float32, torch.int64]))
    return logp, ref, mask.to(kind), score, draw(st.floats(0, 1))


@pytest.mark.hidden
@given(batch=padded_batches())
def test_rewards_match_the_per_token_formula_on_random_padded_batches(impl, ref, batch):
    logp, ref_logp, mask, score, beta = batch
    call = f"kl_penalized_rewards({show(logp)}, {show(ref_logp)}, mask={show(mask)}, score={show(score)}, kl_coef={beta:.4g})"
    expect_rewards(
        impl.kl_penalized_rewards(logp, ref_logp, mask, score, beta),
        ref.kl_penalized_rewards(logp, ref_logp, mask, score, beta),
        mask,
        call,
    )


# -- oracle against the reference ----------------------------------------------------------------------------------
def random_kl_case(seed: int) -> dict:
    """The arguments of one random ``kl_penalized_rewards`` call, rebuilt from ``seed``."""
    rng = np.random.default_rng(seed)
    B, T = int(rng.integers(1, 6)), int(rng.integers(1, 16))
    lengths = rng.integers(1, T + 1, B)
    left = bool(rng.integers(2))
    starts = [int(T - n) if left else 0 for n in lengths]
    mask = mask_of([int(n) for n in lengths], starts, T)
    logp = torch.from_numpy(rng.uniform(-8, 0, (B, T)).astype(np.float32))
    ref = torch.from_numpy((logp.numpy() + rng.normal(0, 1, (B, T))).astype(np.float32))
    logp[~mask], ref[~mask] = 1e4, -1e4
    score = torch.from_numpy(rng.normal(0, 2, B).astype(np.float32))
    beta = float(rng.uniform(0, 0.5))
    return {"logp": logp, "ref_logp": ref, "mask": mask, "score": score, "kl_coef": beta}


def _compare_with_reference(impl, ref_module, rng, rounds: int) -> None:
    for _ in range(rounds):
        seed = int(rng.integers(2**31))
        case = random_kl_case(seed)
        logp, ref, mask, score, beta = case.values()
        expect_rewards(
            impl.kl_penalized_rewards(logp, ref, mask, score, beta),
            ref_module.kl_penalized_rewards(logp, ref, mask, score, beta),
            mask,
            reproducible_call("kl_penalized_rewards", case, random_kl_case, seed),
        )
        real = {"logp": logp[mask], "ref_logp": ref[mask]}
        where = f"logp, ref_logp = the real tokens of {random_kl_case.__name__}({seed})"
        for fn in ("kl_k1", "kl_k3"):
            call = pasteable(fn, **real)
            if "<tensor" in call:
                call = f"{fn}(logp, ref_logp) with {where}"
            expect_array(
                getattr(impl, fn)(*real.values()),
                getattr(ref_module, fn)(*real.values()),
                call,
                rtol=1e-4 if fn == "kl_k3" else 1e-5,
                atol=1e-6,
            )


@pytest.mark.hidden
def test_matches_the_reference_on_random_batches(impl, ref):
    _compare_with_reference(impl, ref, np.random.default_rng(7), rounds=20)


@pytest.mark.hidden
def test_matches_the_reference_on_fresh_random_inputs(impl, ref, rng):
    _compare_with_reference(impl, ref, rng, rounds=20)
