"""Checks for exercise 04: REINFORCE."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.checks._support import expect_array, expect_float, expect_raises, show
from autograder.seam.values import Array, Handle

EXERCISE = "ex04_reinforce"
TRAIN_TIMEOUT = 20.0  # CPU seconds; the reference takes about 1 s

float_lists = st.lists(st.floats(-5, 5, width=32), min_size=1, max_size=30)


# -- the loss -----------------------------------------------------------------------------------------
def test_the_loss_of_a_hand_worked_episode_is_2(impl):
    lp, ret = torch.tensor([-1.0, -2.0]), torch.tensor([1.0, 0.5])
    expect_array(
        impl.reinforce_loss(lp, ret), 2.0, "reinforce_loss(tensor([-1., -2.]), tensor([1., 0.5]))"
    )


def test_the_loss_is_a_0_d_tensor_attached_to_the_log_probs(impl):
    lp = torch.tensor([-0.5, -1.5, -0.1], requires_grad=True)
    res = impl.grad("reinforce_loss", lp, torch.tensor([1.0, -1.0, 2.0]))
    call = "reinforce_loss(log_probs with requires_grad, returns)"
    assert res["graph"], (
        f"{call}: expected a loss attached to the graph of log_probs, got a constant"
    )
    expect_array(res["out"], 0.5 - 1.5 + 0.2, call)


@given(lp=float_lists, data=st.data())
def test_the_gradient_wrt_log_probs_is_minus_the_returns(impl, lp, data):
    ret = data.draw(st.lists(st.floats(-5, 5, width=32), min_size=len(lp), max_size=len(lp)))
    t_lp = torch.tensor(lp, requires_grad=True)
    t_ret = torch.tensor(ret, requires_grad=True)
    res = impl.grad("reinforce_loss", t_lp, t_ret)
    call = f"reinforce_loss({show(lp)}, {show(ret)})"
    assert res["graph"], (
        f"{call}: expected a loss attached to the graph of log_probs, got a constant"
    )
    expect_array(res["out"], -(np.float64(lp) * np.float64(ret)).sum(), call, rtol=1e-4, atol=1e-4)
    expect_array(res["grads"][0], -np.float64(ret), f"d {call} / d log_probs", atol=1e-5)
    g_ret = res["grads"][1]
    assert g_ret is None or np.all(g_ret.value == 0), (
        f"d {call} / d returns: expected no gradient (returns are constants: .detach()), got {show(g_ret)}"
    )


# -- rollouts -------------------------------------------------------------------------------------------
def scripted(impl, length: int, action: int, gap: float = 50.0) -> Handle:
    table = np.zeros((1, length, 4), dtype=np.float32)
    table[..., action] = gap  # the policy picks `action` with probability 1 - 3e-22
    return impl.probe("scripted_policy", table)


@contextmanager
def correct_sampler(impl):
    """Run with a known-correct ``sample_action`` in the student's ex04 module.

    ``run_episode`` samples through ex03's ``sample_action``; swapping in a correct
    one means an ex03 bug is graded in ex03 only, never twice.
    """
    old = impl.probe("set_module_attr", EXERCISE, "sample_action", impl.probe("sampler"))
    try:
        yield
    finally:
        impl.probe("set_module_attr", EXERCISE, "sample_action", old)


def test_run_episode_rolls_out_until_done_with_float32_states(impl):
    env = impl.probe("corridor", 5)
    policy = scripted(impl, 5, action=1)
    with correct_sampler(impl):
        out = impl.run_episode(env, policy)
    call = "run_episode(<1x5 corridor>, <policy that always moves right>)"
    assert type(out) is tuple and len(out) == 2, (
        f"{call}: expected (log_probs, rewards), got {show(out)}"
    )
    log_probs, rewards = out
    assert isinstance(log_probs, Array) and log_probs.lib == "torch", (
        f"{call}: expected log_probs as a torch.Tensor, got {show(log_probs)}"
    )
    assert log_probs.shape == (4,), (
        f"{call}: expected 4 steps, so log_probs of shape (4,), got {log_probs.shape}"
    )
    assert log_probs.requires_grad, (
        f"{call}: expected log_probs attached to the policy's graph (requires_grad)"
    )
    expect_array(log_probs, np.zeros(4), f"{call}: log_probs of near-certain actions", atol=1e-4)
    assert type(rewards) is list and rewards == [-0.01, -0.01, -0.01, 1.0], (
        f"{call}: expected rewards [-0.01, -0.01, -0.01, 1.0], got {show(rewards)}"
    )
    seen = impl.probe("recorded_inputs", policy)
    for i, s in enumerate(seen):
        expect_array(s, [0.0, float(i)], f"{call}: state fed to the policy at step {i}")
    assert len(seen) == 4, (
        f"{call}: expected the policy to be called once per step (4 times), got {len(seen)}"
    )
    assert impl.probe("recorded_actions", env) == [1, 1, 1, 1], (
        f"{call}: expected the env to receive the Python int actions [1, 1, 1, 1]"
    )


def test_run_episode_stops_after_max_steps(impl):
    env = impl.probe("corridor", 5)
    policy = scripted(impl, 5, action=3)  # never moves, never done
    with correct_sampler(impl):
        log_probs, rewards = impl.run_episode(env, policy, max_steps=7)
    call = "run_episode(<corridor>, <policy that never moves>, max_steps=7)"
    assert isinstance(log_probs, Array) and log_probs.shape == (7,), (
        f"{call}: expected 7 log-probs, got {show(log_probs)}"
    )
    assert rewards == [-0.01] * 7, f"{call}: expected seven rewards of -0.01, got {show(rewards)}"


# -- one update ---------------------------------------------------------------------------------------------
def test_reinforce_update_does_returns_normalize_loss_and_one_optimizer_step(impl):
    g = torch.Generator().manual_seed(7)
    weights = [
        torch.randn(8, 2, generator=g),
        torch.randn(8, generator=g),
        torch.randn(4, 8, generator=g),
        torch.randn(4, generator=g),
    ]
    states = torch.rand(6, 2, generator=g)
    actions = torch.randint(0, 4, (6,), generator=g)
    rewards = [-0.01, -0.01, 0.3, -0.01, -0.01, 1.0]
    gamma = 0.9
    # The returns come from the student's own ex02, so an ex02 bug is not counted twice.
    ex02 = impl.module("ex02_returns")
    rets = ex02.normalize(
        torch.from_numpy(np.asarray(ex02.discounted_returns(rewards, gamma).value))
    )
    assert isinstance(rets, Array), (
        f"normalize(discounted_returns(...)) from your ex02: expected a tensor, got {show(rets)}"
    )

    policy = impl.probe("mlp", weights)
    opt = impl.probe("optimizer", policy, "sgd", 0.1)
    # stale gradients from an earlier episode: a correct update clears them (zero_grad) first
    impl.probe("set_grads", policy, [torch.full_like(w, 5.0) for w in weights])
    lp = impl.probe("log_probs", policy, states, actions, keep=True)
    loss = impl.reinforce_update(policy, opt, lp, rewards, gamma)

    mine = [w.clone().requires_grad_(True) for w in weights]
    logits = torch.relu(states @ mine[0].T + mine[1]) @ mine[2].T + mine[3]
    my_lp = torch.log_softmax(logits, -1)[torch.arange(6), actions]
    my_loss = -(my_lp * torch.from_numpy(rets.value.copy())).sum()
    my_loss.backward()
    call = f"reinforce_update(<MLP with stale .grad>, SGD(lr=0.1), <6 log-probs>, {rewards}, gamma={gamma})"
    expect_float(loss, float(my_loss), f"{call}: returned loss", rtol=1e-4, atol=1e-5)
    after = impl.probe("parameters", policy)
    for i, (w, got) in enumerate(zip(weights, after, strict=True)):
        expect_array(
            got,
            w - 0.1 * mine[i].grad,
            f"{call}: parameter {i} after the step",
            rtol=1e-4,
            atol=1e-5,
        )


# -- training --------------------------------------------------------------------------------------------------
def test_train_bandit_is_seeded_and_returns_one_rate_per_evaluation(impl):
    slow = impl.using(timeout=TRAIN_TIMEOUT)
    call = "train_bandit(episodes=60, eval_every=20, seed=3)"
    a = slow.train_bandit(episodes=60, eval_every=20, seed=3)
    assert type(a) is list and len(a) == 3, f"{call}: expected a list of 3 rates, got {show(a)}"
    assert all(type(x) is float and 0.0 <= x <= 1.0 for x in a), (
        f"{call}: expected Python floats in [0, 1], got {show(a)}"
    )
    # the "prob" metric is continuous, so two seeds practically never give the same curve
    runs = {s: slow.train_bandit(episodes=60, eval_every=20, seed=s, metric="prob") for s in (3, 4)}
    again = slow.train_bandit(episodes=60, eval_every=20, seed=3, metric="prob")
    call = "train_bandit(episodes=60, eval_every=20, seed=s, metric='prob')"
    assert again == runs[3], (
        f"{call} twice with seed 3: expected the same curve, got {runs[3]} and {again}"
    )
    assert runs[3] != runs[4], (
        f"{call} with seeds 3 and 4: expected different curves (is the seed used?), got {runs[3]} for both"
    )


def test_the_prob_metric_is_the_target_probability_and_rises_with_training(impl):
    slow = impl.using(timeout=TRAIN_TIMEOUT)
    call = "train_bandit(target_action=1, episodes=300, eval_every=50, seed=5, metric='prob')"
    curve = slow.train_bandit(target_action=1, episodes=300, eval_every=50, seed=5, metric="prob")
    assert type(curve) is list and len(curve) == 6, f"{call}: expected 6 values, got {show(curve)}"
    assert all(type(x) is float and 0.0 <= x <= 1.0 for x in curve), (
        f"{call}: expected Python floats in [0, 1], got {show(curve)}"
    )
    assert curve[-1] >= 0.9 and curve[-1] > curve[0], (
        f"{call}: expected the mean probability of the target to rise to at least 0.9, got {show(curve)}"
    )
    expect_raises(
        "ValueError",
        lambda: slow.train_bandit(episodes=2, eval_every=1, metric="accuracy"),
        "train_bandit(metric='accuracy')",
    )


def test_train_bandit_reaches_90_percent_within_300_episodes(impl):
    slow = impl.using(timeout=TRAIN_TIMEOUT)
    for target, seed in ((2, 0), (2, 1), (0, 2)):
        call = f"train_bandit(target_action={target}, episodes=300, eval_every=100, seed={seed})"
        curve = slow.train_bandit(target_action=target, episodes=300, eval_every=100, seed=seed)
        assert type(curve) is list and len(curve) == 3, (
            f"{call}: expected 3 rates, got {show(curve)}"
        )
        assert curve[-1] >= 0.9, (
            f"{call}: expected a greedy target rate of at least 0.9 after 300 episodes, got {show(curve)}"
        )
