"""Checks for exercise 06: PPO's clipped objective and generalised advantage estimation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.checks._support import expect_array, expect_float, expect_raises, guarded, show
from autograder.checks.ex06_ppo_support import (
    CASES,
    GAE_3,
    LESSON_GRAD,
    LESSON_LOSS,
    LOGP_OLD,
    compare_with_reference,
    expect_graph,
    expect_loss_and_gradient_like_ref,
    expect_pair,
    expect_stats_dict,
    expect_stats_like_ref,
    expect_unchanged,
    f32,
    lesson_batch,
    loss_of,
    own_values,
    ppo_batches,
    run_gae,
    td_errors,
    trajectories,
)
from autograder.seam.values import Array

EXERCISE = "ex06_ppo"


# -- hand-computed examples ------------------------------------------------------------------------
def test_the_four_ratio_sign_cases_and_ratio_1_give_the_lesson_values(impl):
    for (ratio, a, exp), old in zip(CASES, LOGP_OLD, strict=True):
        lp_old = f32([old])
        lp_new = lp_old + math.log(ratio)
        call = f"ppo_clip_loss(logp_new - logp_old = log({ratio:g}), adv={a:+g}, clip_eps=0.2)"
        loss_of(impl.ppo_clip_loss(lp_new, lp_old, f32([a]), 0.2), exp, call)
    new, old, adv = lesson_batch()
    mean = sum(c[2] for c in CASES) / len(CASES)
    loss_of(
        impl.ppo_clip_loss(new, old, adv, 0.2),
        mean,
        f"ppo_clip_loss(<the six cases in one batch: ratios {[c[0] for c in CASES]}, adv {[c[1] for c in CASES]}>)",
    )


def test_the_gradient_is_zero_exactly_where_the_clipped_term_binds(impl):
    new, old, adv = lesson_batch()
    res = impl.grad("ppo_clip_loss", new.clone().requires_grad_(True), old, adv, 0.2)
    call = (
        f"d ppo_clip_loss(ratios {[c[0] for c in CASES]}, adv {[c[1] for c in CASES]}) / d logp_new"
    )
    expect_graph(res, call)
    # -A * ratio / N where min() picks the unclipped term; 0 where the clipped term binds.
    expect_array(res["grads"][0], LESSON_GRAD, call, atol=1e-6)


def test_the_mean_runs_over_mask_1_entries_only(impl):
    new, old, adv = lesson_batch()
    mask = f32([1, 1, 0, 1, 0, 1])
    exp = sum(c[2] for c, m in zip(CASES, mask, strict=True) if m) / 4
    for m, name in ((mask, "float 0/1"), (mask.bool(), "bool")):
        call = f"ppo_clip_loss(<the six lesson cases>, mask={name} {mask.int().tolist()})"
        loss_of(impl.ppo_clip_loss(new, old, adv, 0.2, mask=m), exp, call)
    # (B, T) with right padding
    new2, old2, adv2 = new.reshape(2, 3), old.reshape(2, 3), adv.reshape(2, 3)
    mask2 = f32([[1, 1, 1], [1, 0, 0]])
    exp2 = sum(c[2] for c in CASES[:4]) / 4
    loss_of(
        impl.ppo_clip_loss(new2, old2, adv2, 0.2, mask=mask2),
        exp2,
        "ppo_clip_loss(<the lesson cases as a (2, 3) batch>, mask=[[1, 1, 1], [1, 0, 0]])",
    )


def test_garbage_in_padding_changes_neither_the_loss_nor_its_gradient(impl):
    new, old, adv = lesson_batch()
    mask = torch.tensor([1, 1, 1, 1, 0, 0], dtype=torch.bool)
    new, old, adv = new.clone(), old.clone(), adv.clone()
    new[~mask], old[~mask], adv[~mask] = 300.0, -300.0, 1e6  # exp(600) overflows float32
    exp = sum(c[2] for c in CASES[:4]) / 4
    call = "ppo_clip_loss(<lesson cases>, logp_new=300, logp_old=-300, adv=1e6 at the two padded entries, mask=[1, 1, 1, 1, 0, 0])"
    res = impl.grad("ppo_clip_loss", new.requires_grad_(True), old, adv, 0.2, mask=mask)
    expect_graph(res, call)
    loss_of(res["out"], exp, call)
    expect_array(
        res["grads"][0],
        [0.0, -0.5 / 4, 1.5 / 4, 0.0, 0.0, 0.0],
        f"d {call} / d logp_new (exactly 0 at padding, finite everywhere)",
        atol=1e-6,
    )


def test_ppo_stats_gives_the_clip_fraction_and_approx_kl_of_a_hand_example(impl):
    ratios = [1.5, 0.5, 1.1, 1.0]
    old = f32([-1.0, -0.5, -2.0, -0.2])
    new = old + f32([math.log(r) for r in ratios])
    adv = f32([1.0, -1.0, 0.5, 2.0])
    approx_kl = sum((r - 1) - math.log(r) for r in ratios) / 4  # 0.0731
    call = f"ppo_stats(<ratios {ratios}>, clip_eps=0.2)"
    out = impl.ppo_stats(new, old, adv, 0.2)
    expect_stats_dict(out, call)
    expect_float(
        out["clip_fraction"], 0.5, f"{call}['clip_fraction'] (|ratio - 1| > 0.2 for 1.5 and 0.5)"
    )
    expect_float(
        out["approx_kl"],
        approx_kl,
        f"{call}['approx_kl'] = mean((ratio - 1) - log ratio)",
        rtol=1e-5,
        atol=1e-6,
    )
    mask = torch.tensor([True, False, True, True, False])
    new5, old5, adv5 = (
        torch.cat([t, f32([v])]) for t, v in ((new, 50.0), (old, -50.0), (adv, 1e6))
    )
    new5[1], old5[1] = 40.0, -40.0
    call = f"ppo_stats(<ratios {ratios} + one more>, clip_eps=0.2, mask=[1, 0, 1, 1, 0]) with garbage at the padding"
    out = impl.ppo_stats(new5, old5, adv5, 0.2, mask=mask)
    # the entries 0, 2, 3 count: ratios 1.5, 1.1, 1.0 -> one of three outside [0.8, 1.2]
    kl3 = sum((r - 1) - math.log(r) for r in (1.5, 1.1, 1.0)) / 3  # 0.0331
    exp = {"clip_fraction": 1 / 3, "approx_kl": kl3}
    expect_stats_dict(out, call)
    expect_float(out["clip_fraction"], exp["clip_fraction"], f"{call}['clip_fraction']")
    expect_float(out["approx_kl"], exp["approx_kl"], f"{call}['approx_kl']", rtol=1e-5, atol=1e-6)


def test_gae_of_a_hand_worked_trajectory_with_an_episode_end_in_the_middle(impl):
    call = "gae([1, 0, 2, -1], values=[0.5, 0.4, 0.3, 0.2], dones=[F, T, F, F], gamma=0.9, lam=0.8, last_value=0.7)"
    out = impl.gae(
        [1.0, 0.0, 2.0, -1.0],
        [0.5, 0.4, 0.3, 0.2],
        [False, True, False, False],
        gamma=0.9,
        lam=0.8,
        last_value=0.7,
    )
    expect_pair(out, call)
    # delta = [0.86, -0.4, 1.88, -0.57]; A_1 stops at done, A_3 bootstraps from last_value.
    expect_array(out[0], [0.572, -0.4, 1.4696, -0.57], f"{call}: advantages", atol=1e-5)
    expect_array(
        out[1], [1.072, 0.0, 1.7696, -0.37], f"{call}: returns = advantages + values", atol=1e-5
    )


# -- contracts ------------------------------------------------------------------------------------------
def test_the_loss_is_a_0_d_float32_tensor_and_no_gradient_reaches_logp_old_or_adv(impl):
    new, old, adv = lesson_batch()
    call = "ppo_clip_loss(logp_new, logp_old, adv) with all three requiring grad"
    res = impl.grad(
        "ppo_clip_loss",
        new.requires_grad_(True),
        old.requires_grad_(True),
        adv.requires_grad_(True),
        0.2,
    )
    out = res["out"]
    assert (
        isinstance(out, Array) and out.lib == "torch" and out.shape == () and out.dtype == "float32"
    ), f"{call}: expected a 0-d float32 tensor, got {show(out)}"
    loss_of(out, LESSON_LOSS, call)  # the contract scores only with the value and the gradient
    expect_array(res["grads"][0], LESSON_GRAD, f"d {call} / d logp_new", rtol=1e-4, atol=1e-6)
    for name, g in (("logp_old", res["grads"][1]), ("adv", res["grads"][2])):
        assert g is None or not np.any(g.value), (
            f"d {call} / d {name}: expected no gradient ({name} comes from the rollout: .detach() it), got {show(g)}"
        )


def test_inputs_are_not_modified(impl):
    new, old, adv = lesson_batch()
    mask = f32([1, 1, 1, 1, 0, 0])
    for fn in ("ppo_clip_loss", "ppo_stats"):
        res = impl.inputs_after(fn, new, old, adv, 0.2, mask=mask)
        call = f"{fn}(logp_new, logp_old, adv, 0.2, mask=[1, 1, 1, 1, 0, 0])"
        if fn == "ppo_clip_loss":  # the contract scores only with the value
            loss_of(res["out"], sum(c[2] for c in CASES[:4]) / 4, call)
        else:  # ratios 1.5, 0.5, 1.5, 0.5: all outside [0.8, 1.2]
            kl4 = sum((r - 1) - math.log(r) for r in (1.5, 0.5, 1.5, 0.5)) / 4  # 0.1438
            want = {"clip_fraction": 1.0, "approx_kl": kl4}
            got = res["out"]
            assert isinstance(got, dict) and all(
                type(got.get(k)) is float and abs(got[k] - v) <= 1e-5 for k, v in want.items()
            ), f"{call}: expected {want}, got {show(got)}"
        for i, (name, sent) in enumerate((("logp_new", new), ("logp_old", old), ("adv", adv))):
            expect_unchanged(
                res["args"][i],
                sent,
                f"{name} after {fn}(logp_new, logp_old, adv, 0.2, mask) (expected it unchanged)",
            )
        expect_unchanged(
            res["kwargs"]["mask"], mask, f"mask after {fn}(...) (expected it unchanged)"
        )
    r, v, d = f32([1.0, 0.0, 2.0]), f32([0.5, 0.4, 0.3]), torch.tensor([False, True, False])
    res = impl.inputs_after("gae", r, v, d, 0.9, 0.8)
    out = res["out"]
    call = "gae(rewards=[1., 0., 2.], values=[0.5, 0.4, 0.3], dones=[False, True, False], 0.9, 0.8)"
    expect_pair(out, call)
    expect_array(out[0], GAE_3[0.9, 0.8], f"{call}: advantages", atol=1e-5)
    expect_unchanged(
        res["args"][0],
        r,
        "rewards after gae(rewards, values, dones, 0.9, 0.8) (expected them unchanged)",
    )
    expect_unchanged(
        res["args"][1],
        v,
        "values after gae(rewards, values, dones, 0.9, 0.8) (expected them unchanged)",
    )


def test_gae_returns_two_float32_tensors_without_grad_for_lists_or_tensors(impl):
    exp = np.array(GAE_3[0.9, 0.8])
    for r, v, d in (
        ([1, 0, 2], [0.5, 0.4, 0.3], [0, 1, 0]),
        (
            f32([1.0, 0.0, 2.0]),
            f32([0.5, 0.4, 0.3]).requires_grad_(True),
            torch.tensor([False, True, False]),
        ),
    ):
        call = f"gae({show(r)}, {show(v)}{' (requires grad)' if isinstance(v, torch.Tensor) else ''}, {show(d)}, 0.9, 0.8)"
        out = impl.gae(r, v, d, 0.9, 0.8)
        expect_pair(out, call)
        for name, got, want in (
            ("advantages", out[0], exp),
            ("returns", out[1], exp + [0.5, 0.4, 0.3]),
        ):
            expect_array(got, want, f"{call}: {name}", atol=1e-5)
            assert not got.requires_grad, (
                f"{call}: expected {name} without grad (they are targets: detach them), got a tensor that requires grad"
            )


def test_bad_shapes_clip_eps_and_an_empty_mask_raise_value_error(impl):
    new, old, adv = lesson_batch()
    mean = sum(c[2] for c in CASES) / len(CASES)
    guarded(
        lambda: loss_of(
            impl.ppo_clip_loss(new, old, adv, 0.0 + 0.2), mean, "ppo_clip_loss(<the six cases>)"
        ),
        "ppo_clip_loss",
    )
    guarded(
        lambda: loss_of(
            impl.ppo_clip_loss(new[:1], old[:1], adv[:1], 0.0),
            -1.0,  # ratio 1.5 clipped to 1, advantage +1
            "ppo_clip_loss(<the first case>, clip_eps=0.0)",
        ),
        "ppo_clip_loss (clip_eps = 0 is allowed)",
    )
    expect_raises(
        "ValueError",
        lambda: impl.ppo_clip_loss(new, old[:5], adv, 0.2),
        "ppo_clip_loss(logp_new of shape (6,), logp_old of shape (5,), adv)",
    )
    expect_raises(
        "ValueError",
        lambda: impl.ppo_clip_loss(new, old, adv[:4], 0.2),
        "ppo_clip_loss(logp_new of shape (6,), logp_old, adv of shape (4,))",
    )
    expect_raises(
        "ValueError",
        lambda: impl.ppo_clip_loss(new, old, adv, 0.2, mask=torch.ones(3)),
        "ppo_clip_loss(<shape (6,)>, mask of shape (3,))",
    )
    expect_raises(
        "ValueError",
        lambda: impl.ppo_clip_loss(new, old, adv, -0.1),
        "ppo_clip_loss(..., clip_eps=-0.1)",
    )
    expect_raises(
        "ValueError",
        lambda: impl.ppo_clip_loss(new, old, adv, 0.2, mask=torch.zeros(6)),
        "ppo_clip_loss(..., mask=zeros(6)) (no entry to average over)",
    )
    expect_raises(
        "ValueError",
        lambda: impl.ppo_stats(new, old, adv, 0.2, mask=torch.zeros(6)),
        "ppo_stats(..., mask=zeros(6)) (no entry to average over)",
    )


@pytest.mark.title("gae rejects gamma or lam outside [0, 1] and mismatched lengths")
def test_gae_rejects_gamma_or_lam_outside_0_1_and_mismatched_lengths(impl):
    r, v, d = [1.0, 0.0, 2.0], [0.5, 0.4, 0.3], [False, True, False]
    for g, lam in ((1.0, 1.0), (0.0, 0.0)):  # the ends of [0, 1] are allowed
        call = f"gae({r}, {v}, {d}, gamma={g}, lam={lam})"
        guarded(
            lambda g=g, lam=lam, c=call: expect_array(
                impl.gae(r, v, d, gamma=g, lam=lam)[0], GAE_3[g, lam], f"{c}: advantages", atol=1e-5
            ),
            "gae",
        )
    expect_raises("ValueError", lambda: impl.gae(r, v, d, gamma=1.5), "gae(..., gamma=1.5)")
    expect_raises("ValueError", lambda: impl.gae(r, v, d, gamma=-0.1), "gae(..., gamma=-0.1)")
    expect_raises("ValueError", lambda: impl.gae(r, v, d, lam=1.2), "gae(..., lam=1.2)")
    expect_raises(
        "ValueError", lambda: impl.gae(r, v[:2], d), "gae(<3 rewards>, <2 values>, <3 dones>)"
    )
    expect_raises(
        "ValueError", lambda: impl.gae(r, v, d[:2]), "gae(<3 rewards>, <3 values>, <2 dones>)"
    )


# -- properties ------------------------------------------------------------------------------------------
@pytest.mark.hidden
@given(batch=ppo_batches(), as_float=st.booleans())
def test_the_loss_and_its_gradient_match_the_clipped_formula(impl, ref, batch, as_float):
    expect_loss_and_gradient_like_ref(impl, ref, batch, as_float)


@pytest.mark.hidden
@given(batch=ppo_batches())
def test_ppo_stats_match_their_definitions(impl, ref, batch):
    expect_stats_like_ref(impl, ref, batch)


@given(traj=trajectories(), gamma=st.floats(0, 1), lam=st.floats(0, 1))
def test_gae_satisfies_its_recursion_with_episode_ends_anywhere(impl, traj, gamma, lam):
    # A property, not a second implementation: the output must satisfy the docstring's
    # A_t = delta_t + gamma lam (1 - done_t) A_{t+1} (A_T = 0) at every t, read off its own values.
    (adv, ret), call = run_gae(impl, traj, gamma, lam)
    n, dones = len(traj[0]), traj[2]
    A = own_values(adv, n, f"{call}: advantages")
    A_next = np.append(A[1:], 0.0)
    expect_array(
        adv,
        td_errors(traj, gamma) + gamma * lam * (1 - dones) * A_next,
        f"{call}: advantages (expected A_t = delta_t + gamma lam (1 - done_t) A_t+1 for every t)",
        rtol=1e-4,
        atol=1e-4,
    )
    expect_array(
        ret, A + np.float64(traj[1]), f"{call}: returns = advantages + values", rtol=1e-4, atol=1e-4
    )


@given(traj=trajectories(), gamma=st.floats(0, 1))
def test_gae_with_lam_1_is_monte_carlo_g_minus_v_and_with_lam_0_the_td_error(impl, traj, gamma):
    rewards, values, dones, last_value = traj
    (adv, ret), call = run_gae(impl, traj, gamma, 1.0)
    # with lam = 1 the returns are Monte-Carlo returns: G_t = r_t + gamma (1 - done_t) G_t+1,
    # G_T = last_value (checked on the output's own values, as a property)
    G = own_values(ret, len(rewards), f"{call}: returns")
    G_next = np.append(G[1:], last_value)
    expect_array(
        ret,
        np.float64(rewards) + gamma * (1 - dones) * G_next,
        f"{call}: returns (expected the Monte-Carlo return G_t = r_t + gamma (1 - done_t) G_t+1)",
        rtol=1e-4,
        atol=1e-4,
    )
    expect_array(
        adv,
        G - np.float64(values),
        f"{call}: advantages (expected G_t - V_t)",
        rtol=1e-4,
        atol=1e-4,
    )
    (adv, _), call = run_gae(impl, traj, gamma, 0.0)
    expect_array(
        adv,
        td_errors(traj, gamma),
        f"{call}: advantages (expected the one-step TD error r_t + gamma V_t+1 (1 - done_t) - V_t)",
        rtol=1e-4,
        atol=1e-4,
    )


# -- oracle against the reference, with gradients -------------------------------------------------------------
def random_ppo_case(seed: int) -> dict:
    """The arguments of one random ``ppo_clip_loss``/``ppo_stats`` call, rebuilt from ``seed``."""
    rng = np.random.default_rng(seed)
    B, T = int(rng.integers(1, 5)), int(rng.integers(1, 12))
    old = torch.from_numpy(rng.uniform(-6, 0, (B, T)).astype(np.float32))
    new = old + torch.from_numpy(rng.normal(0, 0.4, (B, T)).astype(np.float32))
    adv = torch.from_numpy(rng.normal(0, 2, (B, T)).astype(np.float32))
    lengths = rng.integers(1, T + 1, B)
    mask = torch.from_numpy(np.arange(T)[None, :] < lengths[:, None])  # (B, T), right padding
    new[~mask], old[~mask] = 200.0, -200.0  # garbage in the padding
    eps = float(rng.choice([0.1, 0.2, 0.3]))
    return {"logp_new": new, "logp_old": old, "adv": adv, "clip_eps": eps, "mask": mask}


def random_gae_case(seed: int) -> dict:
    """The arguments of one random ``gae`` call, rebuilt from ``seed``."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    r, v = rng.normal(size=n).astype(np.float32), rng.normal(size=n).astype(np.float32)
    d = rng.random(n) < 0.15
    return {
        "rewards": torch.from_numpy(r),
        "values": torch.from_numpy(v),
        "dones": torch.from_numpy(d),
        "gamma": float(rng.uniform(0.8, 1)),
        "lam": float(rng.uniform(0.5, 1)),
        "last_value": float(rng.normal()),
    }


@pytest.mark.hidden
def test_matches_the_reference_on_random_batches_with_gradients(impl, ref):
    compare_with_reference(
        impl, ref, np.random.default_rng(6), 15, random_ppo_case, random_gae_case
    )


@pytest.mark.hidden
def test_matches_the_reference_on_fresh_random_inputs(impl, ref, rng):
    compare_with_reference(impl, ref, rng, 15, random_ppo_case, random_gae_case)
