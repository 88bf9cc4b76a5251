"""Checks for exercise 10: GRPO (group-relative advantages and the GRPO loss)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.checks._support import (
    expect_array,
    expect_raises,
    guarded,
    reproducible_call,
    show,
)
from autograder.seam.values import Array

EXERCISE = "ex10_grpo"
EPS = 1e-4

REWARDS = [1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0]


# group_advantages(REWARDS, 4): (r - mean) / (unbiased std + 1e-4) per group of 4; flat -> 0
REWARD_ADVANTAGES = [
    1.4997,
    -0.4999,
    -0.4999,
    -0.4999,
    0,
    0,
    0,
    0,
    -0.8659,
    -0.8659,
    0.8659,
    0.8659,
]


def t32(x) -> torch.Tensor:
    return torch.tensor(np.asarray(x, dtype=np.float32))


def loss_grad(impl, logp, logp_old, ref_logp, adv, mask, call: str, **kw) -> dict:
    """Call grpo_loss with every float input requiring grad; check the result is a 0-d tensor."""
    args = [t32(x).requires_grad_(True) for x in (logp, logp_old, ref_logp, adv)]
    res = impl.grad("grpo_loss", *args, torch.as_tensor(np.asarray(mask)), **kw)
    out = res["out"]
    assert isinstance(out, Array) and out.lib == "torch" and out.shape == (), (
        f"{call}: expected a 0-d torch.Tensor, got {show(out)}"
    )
    assert res["graph"], f"{call}: expected a loss attached to the graph of logp, got a constant"
    return res


def expect_no_grad(res: dict, call: str) -> None:
    for i, name in ((1, "logp_old"), (2, "ref_logp"), (3, "adv")):
        g = res["grads"][i]
        assert g is None or (isinstance(g, Array) and not np.any(g.value)), (
            f"d {call} / d {name}: expected no gradient ({name} is a constant: .detach()), "
            f"got {show(g)}"
        )


def _advantages_work(impl) -> None:
    call = f"group_advantages({REWARDS}, 4)"
    expect_array(
        impl.group_advantages(torch.tensor(REWARDS), 4),
        REWARD_ADVANTAGES,
        call,
        atol=2e-4,
    )


def _loss_works(impl) -> None:
    logp, old, ref = [[-1.0, -2.0]], [[-1.5, -1.0]], [[-0.5, -3.0]]
    call = f"grpo_loss(logp={logp}, logp_old={old}, ref_logp={ref}, adv=[0.7], mask=[[1, 1]], kl_coef=0.1)"
    out = impl.grpo_loss(t32(logp), t32(old), t32(ref), t32([0.7]), t32([[1, 1]]), kl_coef=0.1)
    # ratios exp(0.5), exp(-1) with A = 0.7: -(1.2 + exp(-1)) * 0.7 / 2 + 0.1 * mean k3
    expect_array(out, -0.5229277611, call, atol=1e-5)


# -- group_advantages: hand-computed examples ---------------------------------------------------
def test_the_reference_rewards_give_the_reference_advantages(impl):
    call = f"group_advantages({REWARDS}, 4)"
    out = impl.group_advantages(torch.tensor(REWARDS), 4)
    expect_array(out, REWARD_ADVANTAGES, call, rtol=0, atol=2e-4)


def test_scale_false_only_subtracts_the_group_mean(impl):
    exp = [0.75, -0.25, -0.25, -0.25, 0, 0, 0, 0, -0.5, -0.5, 0.5, 0.5]
    call = f"group_advantages({REWARDS}, 4, scale=False)"
    expect_array(impl.group_advantages(torch.tensor(REWARDS), 4, scale=False), exp, call, atol=1e-6)


def test_groups_are_contiguous_blocks_not_interleaved_or_transposed(impl):
    # 3 prompts x 2 completions: [1, 0 | 0, 0 | 0, 0]. Unbiased std of [1, 0] is 1/sqrt(2).
    rewards = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    a = 0.5 / (math.sqrt(0.5) + EPS)
    call = f"group_advantages({rewards}, 2)"
    expect_array(
        impl.group_advantages(torch.tensor(rewards), 2), [a, -a, 0, 0, 0, 0], call, atol=1e-5
    )
    rewards = [0.0, 1.0, 2.0, 3.0, 10.0, 30.0]  # G = 3: [0, 1, 2 | 3, 10, 30]
    call = f"group_advantages({rewards}, 3)"
    expect_array(
        impl.group_advantages(torch.tensor(rewards), 3),
        # [-1, 0, 1] / (1 + 1e-4); [3, 10, 30] has mean 14.33 and unbiased std 14.01
        [-0.99990001, 0.0, 0.99990001, -0.8088305433, -0.3092587371, 1.1180892804],
        call,
        atol=1e-5,
    )


@pytest.mark.title("the std is unbiased, so a pair [0, 1] gives +/-0.707")
def test_the_std_is_unbiased_so_a_pair_0_1_gives_plus_minus_0_707(impl):
    call = "group_advantages([0.0, 1.0], 2)"
    a = 0.5 / (math.sqrt(0.5) + EPS)  # population std would give 0.5 / 0.5 = 1
    expect_array(impl.group_advantages(torch.tensor([0.0, 1.0]), 2), [-a, a], call, atol=1e-5)


def test_singleton_and_all_equal_groups_give_zeros_not_nan(impl):
    guarded(lambda: _advantages_work(impl), "group_advantages")
    for rewards, g in (([3.0, -1.0, 2.0], 1), ([0.7, 0.7, 0.7, -2.0, -2.0, -2.0], 3), ([5.0], 1)):
        for scale in (True, False):
            call = f"group_advantages({rewards}, {g}, scale={scale})"
            expect_array(
                impl.group_advantages(torch.tensor(rewards), g, scale=scale),
                np.zeros(len(rewards)),
                call,
                atol=1e-3,
            )


# -- group_advantages: contracts -------------------------------------------------------------------
def test_advantages_are_a_float32_tensor_without_grad_from_lists_or_tensors(impl):
    for rewards in ([1, 0, 0, 1], [1.0, 0.0, 0.0, 1.0], torch.tensor([1.0, 0.0, 0.0, 1.0])):
        out = impl.group_advantages(rewards, 2)
        call = f"group_advantages({show(rewards)}, 2)"
        a = 0.5 / (math.sqrt(0.5) + EPS)  # each pair [1, 0] / [0, 1]
        expect_array(out, [a, -a, -a, a], call, atol=1e-5)
        assert not out.requires_grad, (
            f"{call}: expected advantages without grad (constants), got requires_grad=True"
        )


def test_a_length_that_is_not_a_multiple_of_group_size_raises_value_error(impl):
    guarded(lambda: _advantages_work(impl), "group_advantages")
    for rewards, g in (([1.0, 0.0, 1.0, 0.0, 1.0], 2), ([1.0, 0.0, 1.0], 4)):
        call = f"group_advantages({rewards}, {g})"
        expect_raises(
            "ValueError",
            lambda r=rewards, g=g: impl.group_advantages(torch.tensor(r), g),
            call,
        )


def test_the_rewards_are_not_modified(impl):
    guarded(lambda: _advantages_work(impl), "group_advantages")
    rewards = torch.tensor(REWARDS)
    res = impl.inputs_after("group_advantages", rewards, 4)
    expect_array(res["args"][0], rewards, f"the rewards after group_advantages({REWARDS}, 4)")


# -- group_advantages: properties ------------------------------------------------------------------
grouped_rewards = st.tuples(st.integers(1, 5), st.integers(1, 6)).flatmap(
    lambda pg: st.tuples(
        st.lists(
            st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0, -1.0]),
            min_size=pg[0] * pg[1],
            max_size=pg[0] * pg[1],
        ),
        st.just(pg[1]),
    )
)


@pytest.mark.hidden
@given(rg=grouped_rewards)
def test_advantages_match_the_formula_per_contiguous_group(impl, ref, rg):
    rewards, g = rg
    for scale in (True, False):
        call = f"group_advantages({rewards}, {g}, scale={scale})"
        out = impl.group_advantages(torch.tensor(rewards), g, scale=scale)
        exp = ref.group_advantages(torch.tensor(rewards), g, scale=scale)
        expect_array(out, exp, call, rtol=1e-4, atol=1e-4)


@given(rg=grouped_rewards)
def test_advantages_of_10_r_plus_3_equal_those_of_r(impl, rg):
    rewards, g = rg
    guarded(lambda: _advantages_work(impl), "group_advantages")
    base = impl.group_advantages(torch.tensor(rewards), g)
    moved = [10 * r + 3 for r in rewards]
    call = f"group_advantages({moved}, {g}) vs group_advantages({rewards}, {g})"
    assert isinstance(base, Array), (
        f"group_advantages({rewards}, {g}): expected a tensor, got {show(base)}"
    )
    # eps is added to a 10x larger std, so the two differ by about eps / std <= 1e-3 relative
    expect_array(
        impl.group_advantages(torch.tensor(moved), g), base.value, call, rtol=2e-3, atol=2e-3
    )


# -- grpo_loss: hand-computed examples -------------------------------------------------------------
PAD = [[0.0, 0.0, 0.0, 0.0], [0.0, 3.0, 3.0, 3.0]]  # logp; padding of row 2 holds 3.0
MASK_4_1 = [[1, 1, 1, 1], [1, 0, 0, 0]]


@pytest.mark.title("per-token losses [1, 1, 1] and [2, pad] aggregate to 1.5")
def test_per_token_losses_1_1_1_1_and_2_pad_aggregate_to_1_5(impl):
    """Ratio 1 and kl_coef 0 make each real token's loss -A: [[1, 1, 1, 1], [2, pad, pad, pad]].

    The mean of the sequence means is 1.5; the token mean over the batch would be 1.2, and
    dividing by the padded length 0.75 even with zeros there. The padding holds log-probs
    whose ratio is e^3 (a per-token loss of 40), so an unmasked mean is far off.
    """
    old = [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    ref = [[0.0, 0.0, 0.0, 0.0], [0.0, -7.0, 5.0, 9.0]]
    adv = [-1.0, -2.0]
    call = f"grpo_loss(logp={PAD}, logp_old=zeros, ref_logp={ref}, adv={adv}, mask={MASK_4_1})"
    res = loss_grad(impl, PAD, old, ref, adv, MASK_4_1, call)
    expect_array(res["out"], 1.5, call, atol=1e-5)
    res = loss_grad(
        impl, PAD, old, ref, adv, torch.tensor(MASK_4_1, dtype=torch.bool), call + " (bool mask)"
    )
    expect_array(res["out"], 1.5, call + " (bool mask)", atol=1e-5)
    res = loss_grad(impl, PAD, old, ref, adv, MASK_4_1, call + " with kl_coef=0.1", kl_coef=0.1)
    expect_array(res["out"], 1.5, call + " with kl_coef=0.1 (k3 = 0 on real tokens)", atol=1e-5)


def test_garbage_and_inf_in_the_padding_reach_neither_the_value_nor_the_gradient(impl):
    inf = float("inf")
    logp = [[-0.5, -1.0, -2.0], [-1.0, 1e30, -inf]]
    old = [[-0.5, -1.0, -2.0], [-1.0, -inf, inf]]
    ref = [[-0.5, -1.0, -2.0], [-1.0, inf, -1e30]]
    mask = [[1, 1, 1], [1, 0, 0]]
    adv = [-1.0, -2.0]
    call = (
        f"grpo_loss(logp={logp}, logp_old={old}, ref_logp={ref}, adv={adv}, mask={mask}, "
        "kl_coef=0.5)"
    )
    res = loss_grad(impl, logp, old, ref, adv, mask, call, kl_coef=0.5)
    expect_array(res["out"], 1.5, call, atol=1e-5)
    exp = [[1 / 6, 1 / 6, 1 / 6], [1.0, 0.0, 0.0]]  # -A_i / (B |o_i|), zero on padding
    expect_array(res["grads"][0], exp, f"d {call} / d logp", atol=1e-5)


def test_clipping_matches_ppo_on_four_one_token_completions(impl):
    # ratio 1.5 / 0.5 with A = +1 / -1: per-sequence losses -1.2, -0.5, 1.5, 0.8 (clip_eps 0.2)
    r = np.log([1.5, 0.5, 1.5, 0.5])[:, None]
    adv = [1.0, 1.0, -1.0, -1.0]
    call = f"grpo_loss(<ratios [1.5, 0.5, 1.5, 0.5]>, adv={adv}, mask=ones((4, 1)), clip_eps=0.2)"
    res = loss_grad(
        impl, r, np.zeros((4, 1)), np.zeros((4, 1)), adv, np.ones((4, 1)), call, clip_eps=0.2
    )
    expect_array(res["out"], (-1.2 - 0.5 + 1.5 + 0.8) / 4, call, atol=1e-5)
    # gradient: zero where the clipped term is the minimum; -ratio * A / B elsewhere
    expect_array(
        res["grads"][0], [[0.0], [-0.5 / 4], [1.5 / 4], [0.0]], f"d {call} / d logp", atol=1e-5
    )


def test_the_kl_term_is_plus_kl_coef_times_k3_of_logp_and_ref_logp(impl):
    # k3 at logp [-1, -2], ref [-1.5, -1] = [0.1065, 0.7183]; A = 0 leaves only the penalty.
    logp, ref, mask = [[-1.0, -2.0]], [[-1.5, -1.0]], [[1, 1]]
    call = (
        f"grpo_loss(logp={logp}, logp_old=logp, ref_logp={ref}, adv=[0.], mask={mask}, kl_coef=0.1)"
    )
    res = loss_grad(impl, logp, logp, ref, [0.0], mask, call, kl_coef=0.1)
    exp = 0.1 * (0.10653066 + 0.71828183) / 2  # 0.1 * mean k3 = 0.0412406
    expect_array(res["out"], exp, f"{call} (a penalty: positive, 0.1 * mean k3)", atol=1e-6)
    g = 0.1 * (1 - np.exp(np.array([-1.5, -1.0]) - np.array([-1.0, -2.0]))) / 2
    expect_array(res["grads"][0], g[None, :], f"d {call} / d logp", atol=1e-6)


# -- grpo_loss: contracts --------------------------------------------------------------------------
def test_bad_shapes_and_a_row_without_real_tokens_raise_value_error(impl):
    guarded(lambda: _loss_works(impl), "grpo_loss")
    z, m = torch.zeros(2, 3), torch.ones(2, 3)
    cases = [
        ((z, z, z, torch.zeros(3), m), "adv of shape (3,) for B = 2"),
        ((z, torch.zeros(2, 4), z, torch.zeros(2), m), "logp_old of shape (2, 4)"),
        ((z, z, z, torch.zeros(2), torch.ones(2, 4)), "mask of shape (2, 4)"),
        (
            (z, z, z, torch.zeros(2), torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])),
            "a row without real tokens",
        ),
    ]
    for args, what in cases:
        expect_raises(
            "ValueError", lambda a=args: impl.grpo_loss(*a), f"grpo_loss(...) with {what}"
        )


def test_the_inputs_are_not_modified(impl):
    guarded(lambda: _loss_works(impl), "grpo_loss")
    logp, old = t32([[-1.0, -2.0, 5.0]]), t32([[-1.5, -1.0, 9.0]])
    ref, adv, mask = t32([[-0.5, -3.0, 7.0]]), t32([0.7]), t32([[1, 1, 0]])
    res = impl.inputs_after("grpo_loss", logp, old, ref, adv, mask, kl_coef=0.1)
    for i, (name, x) in enumerate(
        (("logp", logp), ("logp_old", old), ("ref_logp", ref), ("adv", adv), ("mask", mask))
    ):
        expect_array(res["args"][i], x, f"{name} after grpo_loss(...)")


# -- grpo_loss: properties -------------------------------------------------------------------------
@st.composite
def batches(draw, ratio_one: bool = False):
    b, t = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    lengths = draw(st.lists(st.integers(1, t), min_size=b, max_size=b))
    mask = (np.arange(t)[None, :] < np.array(lengths)[:, None]).astype(np.float32)
    floats = st.floats(-3, 0, width=32)
    grid = st.lists(st.lists(floats, min_size=t, max_size=t), min_size=b, max_size=b)
    logp = np.array(draw(grid), dtype=np.float32)
    old = logp.copy() if ratio_one else np.array(draw(grid), dtype=np.float32)
    ref = np.array(draw(grid), dtype=np.float32)
    junk = np.float32(draw(st.sampled_from([0.0, 50.0, -50.0])))
    for x in (logp, old, ref):
        x[mask == 0] = junk
    adv = np.array(
        draw(st.lists(st.floats(-3, 3, width=32), min_size=b, max_size=b)), dtype=np.float32
    )
    return logp, old, ref, adv, mask


@given(batch=batches(ratio_one=True))
def test_at_ratio_1_the_gradient_wrt_each_real_tokens_logp_is_minus_a_over_b_times_its_length(
    impl, batch
):
    logp, old, ref, adv, mask = batch
    b = mask.shape[0]
    n = mask.sum(axis=1, keepdims=True)
    call = (
        f"grpo_loss(logp={show(logp)}, logp_old=logp, adv={show(adv)}, mask={show(mask)}, "
        "kl_coef=0)"
    )
    res = loss_grad(impl, logp, old, ref, adv, mask, call)
    expect_array(
        res["out"],
        -float(np.float64(adv).mean()),
        f"{call} (expected -mean(A))",
        rtol=1e-5,
        atol=1e-5,
    )
    exp = np.where(mask == 1, -np.float64(adv)[:, None] / (b * n), 0.0)
    expect_array(
        res["grads"][0], exp, f"d {call} / d logp (expected -A_i / (B |o_i|))", rtol=1e-5, atol=1e-6
    )
    expect_no_grad(res, call)


@pytest.mark.hidden
@given(
    batch=batches(),
    clip_eps=st.sampled_from([0.1, 0.2, 0.3]),
    kl_coef=st.sampled_from([0.0, 0.04, 0.5]),
)
def test_the_loss_and_its_gradient_match_the_formula_on_random_padded_batches(
    impl, ref, batch, clip_eps, kl_coef
):
    logp, old, ref_logp, adv, mask = batch
    call = (
        f"grpo_loss(logp={show(logp)}, logp_old={show(old)}, ref_logp={show(ref_logp)}, "
        f"adv={show(adv)}, "
        f"mask={show(mask)}, clip_eps={clip_eps}, kl_coef={kl_coef})"
    )
    leaf = t32(logp).requires_grad_(True)
    exp = ref.grpo_loss(
        leaf, t32(old), t32(ref_logp), t32(adv), t32(mask), clip_eps=clip_eps, kl_coef=kl_coef
    )
    (grad,) = torch.autograd.grad(exp, leaf)
    loss = float(exp.detach())
    res = loss_grad(impl, logp, old, ref_logp, adv, mask, call, clip_eps=clip_eps, kl_coef=kl_coef)
    expect_array(res["out"], loss, call, rtol=1e-4, atol=1e-4)
    expect_array(res["grads"][0], grad, f"d {call} / d logp", rtol=1e-3, atol=1e-4)
    expect_no_grad(res, call)


# -- oracle ----------------------------------------------------------------------------------------
def random_advantages_case(seed: int) -> dict:
    """The arguments of one random ``group_advantages`` call, rebuilt from ``seed``."""
    rng = np.random.default_rng(seed)
    g, p = int(rng.integers(1, 9)), int(rng.integers(1, 5))
    rewards = torch.from_numpy(rng.choice([0.0, 0.5, 1.0], size=p * g).astype(np.float32))
    return {"rewards": rewards, "group_size": g, "scale": bool(rng.random() < 0.7)}


def random_grpo_case(seed: int) -> dict:
    """The arguments of one random ``grpo_loss`` call, rebuilt from ``seed``."""
    rng = np.random.default_rng(seed)
    b, t = int(rng.integers(1, 33)), int(rng.integers(1, 12))
    lengths = rng.integers(1, t + 1, size=b)
    mask = (np.arange(t)[None, :] < lengths[:, None]).astype(np.float32)
    if rng.random() < 0.5:
        mask = mask[:, ::-1].copy()  # left padding
    logp = rng.uniform(-4, 0, size=(b, t)).astype(np.float32)
    old = (logp + rng.normal(0, 0.3, size=(b, t))).astype(np.float32)
    refl = (logp + rng.normal(0, 0.5, size=(b, t))).astype(np.float32)
    logp[mask == 0] = 5.0  # padding: anything
    adv = rng.normal(0, 1, size=b).astype(np.float32)
    return {
        "logp": torch.from_numpy(logp),
        "logp_old": torch.from_numpy(old),
        "ref_logp": torch.from_numpy(refl),
        "adv": torch.from_numpy(adv),
        "mask": torch.from_numpy(mask),
        "clip_eps": float(rng.choice([0.1, 0.2, 0.28])),
        "kl_coef": float(rng.choice([0.0, 0.001, 0.04])),
    }


@pytest.mark.hidden
def test_matches_the_reference_on_fresh_random_batches(impl, ref, rng):
    for _ in range(12):
        seed = int(rng.integers(2**31))
        case = random_advantages_case(seed)
        call = reproducible_call("group_advantages", case, random_advantages_case, seed)
        expect_array(
            impl.group_advantages(**case),
            ref.group_advantages(**case),
            call,
            rtol=1e-4,
            atol=1e-4,
        )
        seed = int(rng.integers(2**31))
        case = random_grpo_case(seed)
        logp, old, refl, adv, mask, clip_eps, kl_coef = case.values()
        leaves = [x.clone().requires_grad_(True) for x in (logp, old, refl)]
        exp = ref.grpo_loss(*leaves, adv, mask, clip_eps=clip_eps, kl_coef=kl_coef)
        (exp_g,) = torch.autograd.grad(exp, leaves[0])
        call = reproducible_call("grpo_loss", case, random_grpo_case, seed)
        res = loss_grad(impl, logp, old, refl, adv, mask, call, clip_eps=clip_eps, kl_coef=kl_coef)
        expect_array(res["out"], exp.detach(), call, rtol=1e-4, atol=1e-5)
        expect_array(res["grads"][0], exp_g, f"d {call} / d logp", rtol=1e-4, atol=1e-6)
