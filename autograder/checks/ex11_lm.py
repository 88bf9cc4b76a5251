"""Checks for exercise 11: per-token log-probs, the completion mask, the sequence log-prob."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.checks._support import expect_array, expect_raises, guarded, show
from autograder.checks.ex11_lm_support import (
    EOS,
    HAND_LOGITS,
    HAND_TOKENS,
    LN,
    MASK_EXPECTED,
    MASK_TOKENS,
    expect_mask,
    expect_pipeline_like_ref,
    ids,
    lm_batches,
    short_run,
    t32,
    token_rows,
)
from autograder.grading import runcache
from autograder.grading.plugin import KEY
from autograder.seam.values import Array

EXERCISE = "ex11_lm"


# -- token_logprobs: hand-worked examples ---------------------------------------------------------
@pytest.mark.title("position t gives the log-prob of token t + 1")
def test_position_t_gives_the_log_prob_of_token_t_plus_1(impl):
    """Row 0: position 0 predicts token 0 with p = 1/8, position 1 token 1 with 2/8, position 2
    token 2 with 6/8. Reading position t at token t gives 5/8, 4/8, 1/6 instead."""
    call = f"token_logprobs(log({HAND_LOGITS.round(3).tolist()}), {HAND_TOKENS})"
    exp = LN([[1 / 8, 2 / 8, 6 / 8], [3 / 8, 6 / 8, 2 / 4]])
    out = impl.token_logprobs(t32(HAND_LOGITS), ids(HAND_TOKENS))
    expect_array(out, exp, call, atol=1e-5)


@pytest.mark.title("temperature 0.5 squares the probabilities before normalising")
def test_temperature_0_5_squares_the_probabilities_before_normalising(impl):
    """softmax(log [1, 2, 5] / 0.5) = [1, 4, 25] / 30; at temperature 2: sqrt, renormalised."""
    logits, tokens = LN([[[1, 2, 5], [1, 1, 1]]]), [[2, 0]]
    for tau, exp in ((0.5, 1 / 30), (2.0, 1 / (1 + math.sqrt(2) + math.sqrt(5)))):
        call = f"token_logprobs(log([[[1, 2, 5], [1, 1, 1]]]), {tokens}, temperature={tau})"
        out = impl.token_logprobs(t32(logits), ids(tokens), temperature=tau)
        expect_array(out, [[math.log(exp)]], call, atol=1e-5)


@pytest.mark.title("a logit gap of 300 gives -300, not -inf")
def test_a_logit_gap_of_300_gives_minus_300_not_minus_inf(impl):
    logits, tokens = [[[0.0, 300.0, 0.0], [0.0, 0.0, 0.0]]], [[1, 0]]
    call = f"token_logprobs({logits}, {tokens})"
    expect_array(impl.token_logprobs(t32(logits), ids(tokens)), [[-300.0]], call, atol=1e-3)


# -- completion_mask: hand-worked examples --------------------------------------------------------


def test_the_mask_covers_the_completion_up_to_and_including_the_first_eos(impl):
    call = f"completion_mask({MASK_TOKENS}, prompt_len=3, eos_id={EOS})"
    expect_mask(impl.completion_mask(ids(MASK_TOKENS), 3, EOS), MASK_EXPECTED, call)


def test_the_prompt_is_excluded_whatever_prompt_len(impl):
    row = [[9, 9, 9, 9, 9, 9]]
    for prompt_len in (1, 2, 5, 6):
        call = f"completion_mask({row}, prompt_len={prompt_len}, eos_id={EOS})"
        exp = (np.arange(1, 6) >= prompt_len)[None, :]
        expect_mask(impl.completion_mask(ids(row), prompt_len, EOS), exp, call)


# -- sequence_logprob: hand-worked example --------------------------------------------------------
def test_sequence_logprob_sums_the_masked_tokens_and_ignores_minus_inf_padding(impl):
    inf = float("inf")
    logp = [[-1.0, -2.0, -inf, 5.0], [-0.5, -0.25, -4.0, -8.0]]
    mask = [[1, 1, 0, 0], [0, 1, 1, 1]]
    call = f"sequence_logprob({logp}, {mask})"
    res = impl.grad(
        "sequence_logprob", t32(logp).requires_grad_(True), ids(mask), grad_output=torch.ones(2)
    )
    expect_array(res["out"], [-3.0, -12.25], call, atol=1e-6)
    assert res["graph"], f"{call}: expected a result attached to the graph of token_logp"
    expect_array(res["grads"][0], np.asarray(mask, dtype=np.float64), f"d {call} / d token_logp")
    bool_mask = torch.tensor(mask, dtype=torch.bool)
    expect_array(impl.sequence_logprob(t32(logp), bool_mask), [-3.0, -12.25], call + " (bool mask)")


def _all_three_work(impl) -> None:
    """The hand-worked values of all three functions (what the contract checks are guarded by)."""
    test_position_t_gives_the_log_prob_of_token_t_plus_1(impl)
    test_the_mask_covers_the_completion_up_to_and_including_the_first_eos(impl)
    logp, mask = t32([[-1.0, -2.0, -4.0]]), ids([[1, 1, 0]])
    expect_array(
        impl.sequence_logprob(logp, mask), [-3.0], "sequence_logprob([[-1, -2, -4]], [[1, 1, 0]])"
    )


# -- contracts ------------------------------------------------------------------------------------
def test_outputs_have_the_stated_shapes_dtypes_and_graph(impl):
    logits = torch.zeros(2, 5, 4)
    call = "token_logprobs(zeros((2, 5, 4)), zeros((2, 5), int64))"
    res = impl.grad("token_logprobs", logits.requires_grad_(True), torch.zeros(2, 5).long(),
                    grad_output=torch.ones(2, 4))  # fmt: skip
    expect_array(res["out"], np.full((2, 4), -math.log(4)), call, atol=1e-6)
    assert res["graph"], f"{call}: expected a result attached to the graph of logits"
    for dtype in (torch.int32, torch.int64):
        call = f"completion_mask(zeros((2, 5), {dtype}), prompt_len=2, eos_id=1)"
        out = impl.completion_mask(torch.zeros(2, 5, dtype=dtype), 2, 1)
        expect_mask(out, np.tile(np.arange(1, 5) >= 2, (2, 1)), call)


def test_a_temperature_that_is_not_finite_and_positive_raises_value_error(impl):
    guarded(
        lambda: _all_three_work(impl),
        "token_logprobs, completion_mask and sequence_logprob on the hand examples",
    )
    logits, tokens = torch.zeros(1, 3, 4), torch.zeros(1, 3).long()
    for tau in (0.0, -1.0, float("nan"), float("inf")):
        expect_raises(
            "ValueError",
            lambda tau=tau: impl.token_logprobs(logits, tokens, temperature=tau),
            f"token_logprobs(zeros((1, 3, 4)), zeros((1, 3)), temperature={tau})",
        )


def test_bad_shapes_ids_and_prompt_lengths_raise_value_error(impl):
    guarded(
        lambda: _all_three_work(impl),
        "token_logprobs, completion_mask and sequence_logprob on the hand examples",
    )
    z = torch.zeros(2, 3, 4)
    cases = [
        ("token_logprobs", (z, torch.zeros(2, 4).long()), "tokens of shape (2, 4) for logits (2, 3, 4)"),
        ("token_logprobs", (torch.zeros(2, 3), torch.zeros(2, 3).long()), "2-d logits"),
        ("token_logprobs", (z, torch.full((2, 3), 4)), "a token id 4 with V = 4"),
        ("token_logprobs", (z, torch.full((2, 3), -1)), "a token id -1"),
        ("completion_mask", (torch.zeros(2, 3).long(), 0, 1), "prompt_len=0"),
        ("completion_mask", (torch.zeros(2, 3).long(), 4, 1), "prompt_len=4 > T = 3"),
        ("completion_mask", (torch.zeros(3).long(), 1, 1), "1-d tokens"),
        ("sequence_logprob", (torch.zeros(2, 3), torch.ones(2, 4)), "mask of shape (2, 4)"),
        ("sequence_logprob", (torch.zeros(2, 3), torch.full((2, 3), 2.0)), "a mask holding 2"),
        ("sequence_logprob", (torch.zeros(6), torch.ones(6)), "1-d token_logp"),
    ]  # fmt: skip
    for fn, args, what in cases:
        expect_raises(
            "ValueError",
            lambda fn=fn, a=args: getattr(impl, fn)(*a),
            f"{fn}(...) with {what}",
        )


def test_the_inputs_are_not_modified(impl):
    guarded(
        lambda: _all_three_work(impl),
        "token_logprobs, completion_mask and sequence_logprob on the hand examples",
    )
    logits, tokens = t32(HAND_LOGITS), ids(HAND_TOKENS)
    res = impl.inputs_after("token_logprobs", logits, tokens, temperature=0.5)
    expect_array(res["args"][0], logits, "logits after token_logprobs(..., temperature=0.5)")
    expect_array(res["args"][1], tokens, "tokens after token_logprobs(...)", dtype="int64")
    res = impl.inputs_after("completion_mask", ids(MASK_TOKENS), 3, EOS)
    expect_array(res["args"][0], ids(MASK_TOKENS), "tokens after completion_mask", dtype="int64")
    logp, mask = t32([[-1.0, float("-inf")]]), ids([[1, 0]])
    res = impl.inputs_after("sequence_logprob", logp, mask)
    expect_array(res["args"][0], logp, "token_logp after sequence_logprob(...)")


# -- properties -----------------------------------------------------------------------------------


@given(batch=lm_batches(), tau=st.sampled_from([0.25, 0.7, 1.0, 1.5, 3.0]))
def test_log_probs_and_their_gradient_match_the_formula_at_any_temperature(impl, batch, tau):
    logits, tokens = batch
    call = f"token_logprobs({show(logits)}, {tokens.tolist()}, temperature={tau})"
    b, t, _ = logits.shape
    res = impl.grad(
        "token_logprobs",
        t32(logits).requires_grad_(True),
        ids(tokens),
        temperature=tau,
        grad_output=torch.ones(b, t - 1),
    )
    # Your log-prob of every possible next token (tokens[:, 1:] all set to v): these must be
    # a normalised distribution whose log-ratios are the logit differences / tau. Every other
    # expectation below is then built from your own outputs.
    every = []
    for v in range(logits.shape[2]):
        tok_v = tokens.copy()
        tok_v[:, 1:] = v
        got = impl.token_logprobs(t32(logits), ids(tok_v), temperature=tau)
        every.append(
            expect_array(
                got, np.zeros((b, t - 1)), f"{call} with every next token {v}", atol=np.inf
            )
        )
    every = np.stack(every).astype(np.float64)  # (V, B, T - 1)
    assert np.all(every <= 1e-6), f"{call}: log-probs must be <= 0, got {show(every)}"
    total = np.exp(every).sum(axis=0)  # (B, T - 1)
    assert np.allclose(total, 1.0, atol=1e-4), (
        f"{call}: over every possible next token, exp(log-prob) must sum to 1 at each position; "
        f"got sums {show(total)}"
    )
    z = logits[:, :-1].astype(np.float64)  # (B, T - 1, V)
    ratios = every - every[:1]  # (V, B, T - 1): log p(v) - log p(0)
    want = np.moveaxis(z - z[..., :1], -1, 0) / tau
    assert np.allclose(ratios, want, rtol=1e-4, atol=1e-4), (
        f"{call}: log p(v) - log p(0) must be (logits[v] - logits[0]) / temperature; "
        f"got {show(ratios)}, expected {show(want)}"
    )
    pick = np.take_along_axis(every, tokens[None, :, 1:], axis=0)[0]  # (B, T - 1)
    expect_array(res["out"], pick, call, rtol=1e-4, atol=1e-4)
    grad = np.zeros(logits.shape)  # (B, T, V): (one_hot(next) - p) / tau, 0 at the last position
    grad[:, :-1] = -np.moveaxis(np.exp(every), 0, -1) / tau
    np.put_along_axis(
        grad[:, :-1],
        tokens[:, 1:, None],
        np.take_along_axis(grad[:, :-1], tokens[:, 1:, None], axis=-1) + 1.0 / tau,
        axis=-1,
    )
    expect_array(
        res["grads"][0],
        grad,
        f"d sum({call}) / d logits (expected (one_hot(next) - softmax(z / tau)) / tau, "
        "0 at the last position)",
        rtol=1e-4,
        atol=1e-5,
    )


@given(rows=token_rows())
def test_the_mask_is_one_run_from_the_first_generated_token_to_the_first_generated_eos(impl, rows):
    tokens, prompt_len, eos = rows
    call = f"completion_mask({tokens.tolist()}, prompt_len={prompt_len}, eos_id={eos})"
    out = impl.completion_mask(ids(tokens), prompt_len, eos)
    B, T = tokens.shape
    assert isinstance(out, Array) and out.lib == "torch" and out.dtype == "bool", (
        f"{call}: expected a bool torch.Tensor, got {show(out)}"
    )
    assert out.shape == (B, T - 1), f"{call}: expected shape {(B, T - 1)}, got {out.shape}"
    m = out.value
    # A property of each row, read off the output (column t stands for token t + 1): False over
    # the prompt; then True from the first generated token on, without a gap, up to and
    # including the first generated EOS (or the row's end), False after it.
    for b in range(B):
        on = np.flatnonzero(m[b])
        why = None
        if prompt_len == T:
            why = "no token was generated" if on.size else None
        elif on.size == 0 or on[0] != prompt_len - 1:
            why = f"the run must start at column {prompt_len - 1} (the first generated token)"
        elif on[-1] - on[0] + 1 != on.size:
            why = "the True entries must form one run"
        elif np.any(tokens[b, on[:-1] + 1] == eos):
            why = "the run must stop at the first generated EOS"
        elif on[-1] != T - 2 and tokens[b, on[-1] + 1] != eos:
            why = "the run must go on to the first generated EOS or the end of the row"
        assert why is None, f"{call}: row {b}: {why}; got {show(m.astype(int))}"


@given(
    logp=st.lists(st.lists(st.floats(-20, 0, width=32), min_size=5, max_size=5), min_size=1, max_size=4),
    data=st.data(),
)  # fmt: skip
def test_sequence_logprob_is_the_masked_row_sum_with_the_mask_as_gradient(impl, logp, data):
    lp = np.array(logp, dtype=np.float32)
    mask = np.array(
        data.draw(st.lists(st.lists(st.integers(0, 1), min_size=5, max_size=5), min_size=len(logp), max_size=len(logp))),
        dtype=np.float32,
    )  # fmt: skip
    lp[mask == 0] = data.draw(st.sampled_from([0.0, -np.inf, 1e30]))
    call = f"sequence_logprob({show(lp)}, {show(mask)})"
    res = impl.grad(
        "sequence_logprob",
        t32(lp).requires_grad_(True),
        t32(mask),
        grad_output=torch.ones(len(lp)),
    )
    exp = np.where(mask == 1, lp.astype(np.float64), 0.0).sum(axis=1)
    expect_array(res["out"], exp, call, rtol=1e-5, atol=1e-4)
    if res["grads"][0] is None:  # nothing reached token_logp: fine only if nothing is masked in
        assert not mask.any(), f"d {call} / d token_logp: expected the mask, got no gradient"
        return
    expect_array(res["grads"][0], mask.astype(np.float64), f"d {call} / d token_logp")


# -- oracle ---------------------------------------------------------------------------------------
@pytest.mark.hidden
def test_the_pipeline_matches_the_reference_on_fresh_random_batches(impl, ref, rng):
    """Log-probs, mask and sequence log-probs of sampled-looking batches, as a trainer uses them."""
    expect_pipeline_like_ref(impl, ref, rng)


# -- integration: the student's functions train a small language model ------------------------------
CAPSTONE_MODULES = ("ex07_kl", "ex09_verifiers", "ex10_grpo")
CACHE_KIND = "capstone"  # runcache folder of the integration verdicts (pytest course/ only)
REUSED = "(reused from your last run of this exact code; edit any exercise file to re-run)"


def integration_key(submission: Path, seed: int) -> str:
    """The cache key of the integration run of ``submission`` with ``seed``.

    Args:
        submission: the folder of the student's modules (every ``ex*.py`` is hashed).
        seed: the run's seed.

    Returns:
        A key that changes with the student's code, the seed, the capstone code that trains
        and measures (:func:`integration.worker_sources`) and the SFT checkpoint.
    """
    from autograder.capstone import integration, sft

    grader = json.dumps(integration.worker_sources())
    checkpoint = Path(sft.CHECKPOINT).read_bytes()
    return runcache.key(runcache.source_hash(submission), str(seed), grader, checkpoint)


def cached_verdict(name: str) -> tuple[bool, float, float] | None:
    """``(passed, before, after)`` cached under ``name``, or None (none, or malformed).

    Args:
        name: the run's key (:func:`integration_key`).

    Returns:
        The verdict and the two accuracies (fractions in [0, 1]), or None.
    """
    data = runcache.load_json(CACHE_KIND, name)
    if data is None:
        return None
    passed, before, after = (data.get(k) for k in ("passed", "before", "after"))
    accuracies = (before, after)
    if type(passed) is not bool or not all(
        type(a) in (int, float) and 0.0 <= a <= 1.0 for a in accuracies
    ):
        return None
    return passed, float(before), float(after)


def test_your_functions_drive_a_short_grpo_run_that_raises_accuracy(impl, rng, request):
    """12 GRPO steps from the SFT checkpoint with your functions; the grader measures the result.

    The run happens in your worker (your ``group_advantages``, ``grpo_loss``, ``kl_k3``,
    ``math_reward``, ``format_reward`` and this exercise's functions); only the final weights
    come back, and the grader samples 600 held-out prompts from them with its own code.
    ``pytest course/`` reuses the verdict of an earlier run of exactly the same exercise files.
    """
    from autograder.capstone import integration

    for name in CAPSTONE_MODULES:
        impl.module(name).ensure_imported()
    seed = int(rng.integers(0, 2**31 - 1))
    student = request.config.stash[KEY].mode == "student"
    name = integration_key(impl.submission, seed) if student else ""
    cached = cached_verdict(name) if student else None
    if cached is not None:
        passed, before, after = cached
    else:
        passed, before, after = short_run(impl, seed)
        if student:
            runcache.store_json(
                CACHE_KIND, name, {"passed": passed, "before": before, "after": after}
            )
    assert passed, (
        f"after 12 GRPO steps with your functions, held-out sampled accuracy is {after:.1%}; "
        f"the SFT model it started from scores {before:.1%} on the same prompts, and the run "
        f"must add at least {integration.MIN_GAIN * 100:.0f} points (seed {seed})"
        + (f" {REUSED}" if cached is not None else "")
    )
