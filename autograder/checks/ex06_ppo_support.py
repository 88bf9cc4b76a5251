"""Helpers of ex06's checks: the lesson's hand-worked cases, the shape expectations, input
strategies, GAE property helpers and the comparisons with the reference.

Only what the public checks use ships to students: the release drops the rest
(``autograder/build/release.py``, :func:`strip_support`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.checks._support import expect_array, expect_float, reproducible_call, show
from autograder.seam.values import Array

# The lesson's cases, eps = 0.2: (ratio, advantage) -> per-sample loss.
CASES = [
    (1.5, 1.0, -1.2),
    (0.5, 1.0, -0.5),
    (1.5, -1.0, 1.5),
    (0.5, -1.0, 0.8),
    (1.0, 2.0, -2.0),
    (1.0, -3.0, 3.0),
]

LOGP_OLD = [-1.0, -2.0, -0.3, -0.7, -1.1, -0.4]

# The lesson batch's loss (the mean of the six cases) and its gradient with respect to logp_new:
# -A * ratio / 6 where min() picks the unclipped term, 0 where the clipped term binds.
LESSON_LOSS = sum(c[2] for c in CASES) / len(CASES)

LESSON_GRAD = [0.0, -0.5 / 6, 1.5 / 6, 0.0, -2.0 / 6, 3.0 / 6]

# gae(rewards=[1, 0, 2], values=[0.5, 0.4, 0.3], dones=[F, T, F], last_value=0) by hand:
# gamma = 0.9, lam = 0.8: delta = [0.86, -0.4, 1.7], A_0 = 0.86 + 0.72 * (-0.4) = 0.572
# gamma = lam = 1: delta = [0.9, -0.4, 1.7], A_0 = 0.9 - 0.4 = 0.5; gamma = lam = 0: r - v
GAE_3 = {(0.9, 0.8): [0.572, -0.4, 1.7], (1.0, 1.0): [0.5, -0.4, 1.7], (0.0, 0.0): [0.5, -0.4, 1.7]}


def loss_of(out, expected: float, call: str) -> float:
    got = expect_array(out, expected, call, rtol=1e-5, atol=1e-5)
    assert out.shape == (), f"{call}: expected a 0-d tensor, got shape {out.shape}"
    return float(got)


def expect_pair(out: object, call: str) -> None:
    """``gae``'s output must be an ``(advantages, returns)`` tuple."""
    assert type(out) is tuple and len(out) == 2, (
        f"{call}: expected (advantages, returns), got {show(out)}"
    )


def expect_stats_dict(out: object, call: str) -> None:
    """``ppo_stats``'s output must be a dict with exactly its two keys."""
    assert type(out) is dict and set(out) == {"clip_fraction", "approx_kl"}, (
        f"{call}: expected a dict with keys 'clip_fraction' and 'approx_kl', got {show(out)}"
    )


def expect_graph(res: dict, call: str) -> None:
    """The loss of an ``impl.grad`` call must depend on logp_new (not be a constant)."""
    assert res["graph"], (
        f"{call}: expected the loss to be attached to logp_new's graph, it was a constant"
    )


def f32(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float32)


def expect_unchanged(out, sent, what: str) -> None:
    """An argument after the call (``out``) must equal what was sent, bit for bit."""
    expect_array(out, sent, what, rtol=0, atol=0)


def lesson_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    old = f32(LOGP_OLD)
    new = old + f32([math.log(r) for r, _, _ in CASES])
    adv = f32([a for _, a, _ in CASES])
    return new, old, adv


small = st.floats(-5, 5, width=32)

NUMBERS = st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, -0.25, 3.5, -4.0])


@st.composite
def ppo_batches(draw):
    n = draw(st.integers(1, 20))
    old = np.float32(draw(st.lists(st.floats(-5, 0, width=32), min_size=n, max_size=n)))
    log_ratio = np.float32(draw(st.lists(st.floats(-1, 1, width=32), min_size=n, max_size=n)))
    adv = np.float32(draw(st.lists(small, min_size=n, max_size=n)))
    eps = draw(st.floats(0.0, 0.5))
    mask = None
    if draw(st.booleans()):
        mask = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        mask[draw(st.integers(0, n - 1))] = True
    return old + log_ratio, old, adv, eps, mask


def mask_arg(mask: np.ndarray | None, as_float: bool):
    if mask is None:
        return {}
    return {"mask": torch.from_numpy(mask.astype(np.float32) if as_float else mask)}


@st.composite
def trajectories(draw):
    n = draw(st.integers(1, 24))
    # A few simple values: failures shrink fast and print readably.
    rewards = draw(hnp.arrays(np.float32, n, elements=NUMBERS))
    values = draw(hnp.arrays(np.float32, n, elements=NUMBERS))
    dones = draw(hnp.arrays(np.bool_, n))
    return rewards, values, dones, float(draw(NUMBERS))


def run_gae(impl, traj, gamma, lam):
    rewards, values, dones, last_value = traj
    call = f"gae({show(rewards)}, {show(values)}, {show(dones)}, gamma={gamma:.4g}, lam={lam:.4g}, last_value={last_value:.4g})"
    out = impl.gae(
        torch.from_numpy(rewards),
        torch.from_numpy(values),
        torch.from_numpy(dones),
        gamma=gamma,
        lam=lam,
        last_value=last_value,
    )
    expect_pair(out, call)
    return out, call


def own_values(out, n: int, call: str) -> np.ndarray:
    """``out`` as float64 values once it is a finite float32 tensor of shape ``(n,)``."""
    assert isinstance(out, Array) and out.lib == "torch", (
        f"{call}: expected a torch.Tensor, got {show(out)}"
    )
    assert out.dtype == "float32" and out.shape == (n,), (
        f"{call}: expected float32 of shape {(n,)}, got {out.describe()}"
    )
    got = out.value.astype(np.float64)
    assert np.all(np.isfinite(got)), f"{call}: expected finite values, got {show(out.value)}"
    return got


def td_errors(traj, gamma: float) -> np.ndarray:
    """``delta_t = r_t + gamma V_{t+1} (1 - done_t) - V_t`` with ``V_T = last_value``, float64."""
    rewards, values, dones, last_value = traj
    v_next = np.append(np.float64(values[1:]), last_value)
    return np.float64(rewards) + gamma * v_next * (1 - dones) - np.float64(values)


def expect_loss_and_gradient_like_ref(impl, ref, batch: tuple, as_float: bool) -> None:
    """ppo_clip_loss on one drawn batch: its value and gradient against the reference's."""
    new, old, adv, eps, mask = batch
    kw = mask_arg(mask, as_float)
    leaf = torch.from_numpy(new).clone().requires_grad_(True)
    exp = ref.ppo_clip_loss(leaf, torch.from_numpy(old), torch.from_numpy(adv), eps, **kw)
    exp.backward()
    exp_loss, exp_grad = float(exp), leaf.grad.numpy()
    call = f"ppo_clip_loss({show(new)}, {show(old)}, {show(adv)}, clip_eps={eps:.4g}" + (
        f", mask={show(kw['mask'])})" if kw else ")"
    )
    res = impl.grad(
        "ppo_clip_loss",
        torch.from_numpy(new).requires_grad_(True),
        torch.from_numpy(old),
        torch.from_numpy(adv),
        eps,
        **kw,
    )
    expect_graph(res, call)
    loss_of(res["out"], exp_loss, call)
    grad = res["grads"][0]
    assert isinstance(grad, Array) and grad.shape == new.shape, (
        f"d {call} / d logp_new: expected a gradient of shape {new.shape}, got {show(grad)}"
    )
    ratio = np.exp(np.float64(new) - np.float64(old))
    edge = (np.abs(ratio - (1 - eps)) < 1e-4) | (np.abs(ratio - (1 + eps)) < 1e-4)
    exp_grad = np.where(edge, grad.value, exp_grad)  # on the clip boundary any subgradient will do
    expect_array(
        grad,
        exp_grad,
        f"d {call} / d logp_new (zero where the clipped term binds or the entry is padding)",
        rtol=1e-4,
        atol=1e-5,
    )


def expect_stats_like_ref(impl, ref, batch: tuple) -> None:
    """ppo_stats on one drawn batch against the reference's (clip_fraction away from the clip edges)."""
    new, old, adv, eps, mask = batch
    kw = mask_arg(mask, as_float=False)
    exp = ref.ppo_stats(
        torch.from_numpy(new), torch.from_numpy(old), torch.from_numpy(adv), eps, **kw
    )
    call = f"ppo_stats({show(new)}, {show(old)}, adv, clip_eps={eps:.4g}" + (
        f", mask={show(kw['mask'])})" if kw else ")"
    )
    out = impl.ppo_stats(
        torch.from_numpy(new), torch.from_numpy(old), torch.from_numpy(adv), eps, **kw
    )
    expect_stats_dict(out, call)
    ratio = np.exp(np.float64(new) - np.float64(old))
    if np.all(np.abs(np.abs(ratio - 1) - eps) > 1e-5):  # no ratio on the edge of the clip range
        expect_float(
            out["clip_fraction"],
            exp["clip_fraction"],
            f"{call}['clip_fraction'] = mean(|ratio - 1| > eps)",
        )
    expect_float(
        out["approx_kl"],
        exp["approx_kl"],
        f"{call}['approx_kl'] = mean((ratio - 1) - log ratio)",
        rtol=1e-4,
        atol=1e-6,
    )


def compare_with_reference(
    impl,
    ref,
    rng: np.random.Generator,
    rounds: int,
    ppo_case: Callable[[int], dict],
    gae_case: Callable[[int], dict],
) -> None:
    """``rounds`` random ppo_clip_loss/ppo_stats and gae calls against the reference.

    Args:
        impl, ref: the student's exercise and the reference.
        rng: draws the seeds.
        rounds: how many of each call.
        ppo_case, gae_case: the checks module's builders of a case from a seed (the failure
            message says how to import them to rebuild the arguments).
    """
    for _ in range(rounds):
        seed = int(rng.integers(2**31))
        case = ppo_case(seed)
        new, old, adv, eps, mask = case.values()
        tag = reproducible_call("ppo_clip_loss", case, ppo_case, seed)
        leaf = new.clone().requires_grad_(True)
        exp = ref.ppo_clip_loss(leaf, old, adv, eps, mask=mask)
        exp.backward()
        res = impl.grad("ppo_clip_loss", new.clone().requires_grad_(True), old, adv, eps, mask=mask)
        assert res["graph"], f"{tag}: expected the loss to be attached to logp_new's graph"
        loss_of(res["out"], float(exp), tag)
        expect_array(res["grads"][0], leaf.grad, f"d {tag} / d logp_new", rtol=1e-4, atol=1e-6)
        stats, exp_stats = (
            impl.ppo_stats(new, old, adv, eps, mask=mask),
            ref.ppo_stats(new, old, adv, eps, mask=mask),
        )
        tag = reproducible_call("ppo_stats", case, ppo_case, seed)
        assert type(stats) is dict and set(stats) == set(exp_stats), (
            f"{tag}: expected keys {sorted(exp_stats)}, got {show(stats)}"
        )
        for key, value in exp_stats.items():
            expect_float(stats[key], value, f"{tag}[{key!r}]", rtol=1e-4, atol=1e-6)
        seed = int(rng.integers(2**31))
        case = gae_case(seed)
        call = reproducible_call("gae", case, gae_case, seed)
        out = impl.gae(**case)
        exp_adv, exp_ret = ref.gae(**case)
        expect_pair(out, call)
        expect_array(out[0], exp_adv, f"{call}: advantages", rtol=1e-4, atol=1e-4)
        expect_array(out[1], exp_ret, f"{call}: returns", rtol=1e-4, atol=1e-4)
