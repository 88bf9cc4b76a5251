"""Checks for exercise 03: a policy that outputs logits."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.checks._support import expect_array, show
from autograder.seam.values import Array, Handle

EXERCISE = "ex03_policy"

logit_arrays = hnp.arrays(
    np.float32,
    st.tuples(st.integers(1, 4), st.integers(2, 6)),
    elements=st.floats(-20, 20, width=32),
)


def policy_net(impl, state_dim: int = 2, n_actions: int = 4, hidden: int = 8) -> Handle:
    net = impl.PolicyNetwork(state_dim, n_actions, hidden=hidden)
    assert isinstance(net, Handle), (
        f"PolicyNetwork({state_dim}, {n_actions}, hidden={hidden}): expected a module, got {show(net)}"
    )
    return net


# -- hand-computed examples ------------------------------------------------------------------------
@pytest.mark.title("log_prob at a logit gap of 30 is -30, not -15.94")
def test_log_prob_at_a_logit_gap_of_30_is_minus_30_not_minus_15_94(impl):
    logits = torch.tensor([[30.0, 0.0, 0.0, 0.0]])
    out = impl.log_prob(logits, torch.tensor([1]))
    expect_array(
        out, [-30.0], "log_prob(tensor([[30., 0., 0., 0.]]), tensor([1]))", rtol=1e-5, atol=1e-4
    )


def test_log_prob_at_a_logit_gap_of_120_is_minus_120(impl):
    logits = torch.tensor([[120.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    out = impl.log_prob(logits, torch.tensor([1, 2]))
    expect_array(
        out,
        [-120.0, -math.log(4)],
        "log_prob(tensor([[120., 0, 0, 0], [0, 0, 0, 0]]), tensor([1, 2]))",
        rtol=1e-5,
        atol=1e-4,
    )


def test_log_prob_gradient_at_large_gaps_is_one_hot_minus_softmax(impl):
    for gap in (30.0, 120.0):
        logits = torch.tensor([gap, 0.0, 0.0, 0.0], requires_grad=True)
        res = impl.grad("log_prob", logits, torch.tensor(1))
        call = f"d log_prob(tensor([{gap:g}, 0, 0, 0]), 1) / d logits"
        assert res["graph"], (
            f"{call}: expected the log-prob to be attached to the logits' graph, it was not"
        )
        expect_array(res["grads"][0], [-1.0, 1.0, 0.0, 0.0], call, atol=1e-5)


def test_entropy_of_uniform_logits_is_log_n_and_of_a_sure_action_is_0(impl):
    expect_array(impl.entropy(torch.zeros(4)), math.log(4), "entropy(tensor([0., 0., 0., 0.]))")
    expect_array(
        impl.entropy(torch.tensor([[0.0, 0.0], [200.0, 0.0]])),
        [math.log(2), 0.0],
        "entropy(tensor([[0., 0.], [200., 0.]]))",
        atol=1e-6,
    )


# -- contracts ---------------------------------------------------------------------------------------
def test_the_network_maps_states_to_n_actions_logits_for_any_batch_shape(impl):
    net = policy_net(impl, 3, 5)
    for shape in ((3,), (7, 3), (2, 4, 3)):
        out = net(torch.zeros(shape))
        exp_shape = shape[:-1] + (5,)
        call = f"PolicyNetwork(3, 5)(zeros{shape})"
        assert isinstance(out, Array) and out.lib == "torch", (
            f"{call}: expected a torch.Tensor, got {show(out)}"
        )
        assert out.shape == exp_shape and out.dtype == "float32", (
            f"{call}: expected float32 of shape {exp_shape}, got {out.describe()}"
        )
    states = torch.tensor([[0.0, 0.0, 0.0], [1.0, -2.0, 3.0]])
    out = net(states)
    call = "PolicyNetwork(3, 5)(tensor([[0., 0., 0.], [1., -2., 3.]]))"
    assert isinstance(out, Array) and out.shape == (2, 5), (
        f"{call}: expected a (2, 5) tensor, got {show(out)}"
    )
    assert not np.array_equal(out.value[0], out.value[1]), (
        f"{call}: expected different logits for different states (the logits come from the "
        f"state through the network), got {show(out.value)}"
    )


def test_the_network_is_linear_relu_linear_and_returns_logits_not_probabilities(impl):
    net = policy_net(impl, 2, 4, hidden=3)
    g = torch.Generator().manual_seed(0)
    w1, b1 = torch.randn(3, 2, generator=g) * 2, torch.randn(3, generator=g)
    w2, b2 = torch.randn(4, 3, generator=g) * 3, torch.randn(4, generator=g)
    try:
        impl.probe("set_parameters", net, [w1, b1, w2, b2])
    except Exception as exc:  # noqa: BLE001 - the message explains the architecture mismatch
        raise AssertionError(
            f"PolicyNetwork(2, 4, hidden=3): expected parameters Linear(2, 3) then Linear(3, 4) "
            f"(weights (3, 2), (3,), (4, 3), (4,)); {getattr(exc, 'message', exc)}"
        ) from None
    states = torch.randn(6, 2, generator=g)
    exp = torch.relu(states @ w1.T + b1) @ w2.T + b2  # (6, 4) logits
    out = net(states)
    expect_array(
        out,
        exp,
        "PolicyNetwork(2, 4, hidden=3) with set weights on 6 random states (expected raw logits)",
        rtol=1e-4,
        atol=1e-4,
    )


def test_softmax_is_over_the_last_dimension_only(impl):
    logits = torch.tensor([[1.0, 2.0, 3.0], [3.0, 0.0, -1.0]])
    exp = torch.log_softmax(logits, dim=-1)
    for a in range(3):
        actions = torch.tensor([a, a])
        expect_array(
            impl.log_prob(logits, actions),
            exp[:, a],
            f"log_prob({show(logits)}, {show(actions)}) (each row is its own distribution)",
            atol=1e-5,
        )


def test_sample_action_returns_an_int_and_a_0_d_log_prob_with_grad(impl):
    logits = torch.tensor([0.5, -1.0, 2.0, 0.0], requires_grad=True)
    out = impl.sample_action(logits)
    call = "sample_action(tensor([0.5, -1., 2., 0.], requires_grad=True))"
    assert type(out) is tuple and len(out) == 2, (
        f"{call}: expected (action, log_prob), got {show(out)}"
    )
    action, logp = out
    assert type(action) is int and 0 <= action < 4, (
        f"{call}: expected the action as a Python int in 0..3, got {show(action)}"
    )
    assert isinstance(logp, Array) and logp.lib == "torch" and logp.shape == (), (
        f"{call}: expected a 0-d tensor log-prob, got {show(logp)}"
    )
    assert logp.requires_grad, (
        f"{call}: expected the log-prob to keep its graph (requires_grad), it did not"
    )
    exp = torch.log_softmax(logits.detach(), -1)[action]
    expect_array(logp, exp, f"{call} -> action {action}: log-prob", atol=1e-5)


# -- properties ------------------------------------------------------------------------------------------
@given(logits=logit_arrays, data=st.data())
def test_log_prob_and_entropy_match_log_softmax_on_random_logits(impl, logits, data):
    b, a = logits.shape
    actions = np.array(data.draw(st.lists(st.integers(0, a - 1), min_size=b, max_size=b)))
    t = torch.from_numpy(logits)
    lsm = torch.log_softmax(t.double(), -1)
    expect_array(
        impl.log_prob(t, torch.from_numpy(actions)),
        lsm[torch.arange(b), actions],
        f"log_prob({show(t)}, {show(actions)})",
        rtol=1e-4,
        atol=1e-4,
    )
    expect_array(
        impl.entropy(t), -(lsm.exp() * lsm).sum(-1), f"entropy({show(t)})", rtol=1e-4, atol=1e-4
    )


# -- oracle ------------------------------------------------------------------------------------------------
@pytest.mark.hidden
def test_matches_the_reference_on_random_batches(impl, ref):
    g = torch.Generator().manual_seed(3)
    for shape in ((5, 4), (2, 3, 6), (10,)):
        logits = torch.randn(shape, generator=g) * 8
        actions = torch.randint(0, shape[-1], shape[:-1], generator=g)
        call = f"<random logits of shape {shape}>"
        expect_array(
            impl.log_prob(logits, actions),
            ref.log_prob(logits, actions),
            f"log_prob({call})",
            rtol=1e-4,
            atol=1e-4,
        )
        expect_array(
            impl.entropy(logits), ref.entropy(logits), f"entropy({call})", rtol=1e-4, atol=1e-4
        )


# -- statistics -------------------------------------------------------------------------------------------
SAMPLING_TIMEOUT = 60.0  # CPU seconds for the 4,000 draws (a correct but slow sampler fits)


def test_sample_action_frequencies_match_softmax(impl):
    """4,000 draws; each frequency within 5 standard errors (+0.005) of softmax (false alarm < 1e-5)."""
    n = 4000
    logits = torch.tensor([1.0, 0.0, -1.0, 2.0])
    p = torch.softmax(logits, -1).numpy()
    impl.probe("seed", 1234)
    # 4,000 calls in one request: about 2 s of CPU for the reference on a quiet machine, more
    # beside other work, so the request gets a budget of its own rather than one call's 5 s
    draws = impl.using(timeout=SAMPLING_TIMEOUT).raw_call("sample_action", logits, repeat=n)
    actions = [d[0] if type(d) is tuple and len(d) == 2 else None for d in draws]
    assert all(type(a) is int and 0 <= a < 4 for a in actions), (
        f"sample_action({show(logits)}): expected int actions in 0..3, got e.g. {show(draws[:3])}"
    )
    freq = np.bincount(actions, minlength=4) / n
    tol = 5 * np.sqrt(p * (1 - p) / n) + 0.005
    assert np.all(np.abs(freq - p) <= tol), (
        f"sample_action({show(logits)}) x {n}: expected frequencies {np.round(p, 3)} "
        f"(+/- {np.round(tol, 3)}), got {np.round(freq, 3)}"
    )
