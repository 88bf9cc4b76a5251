"""Helpers of ex11's checks: the grader's own float64 formulas, hand-worked logits and masks,
input strategies, the comparison with the reference and the integration run.

Only what the public checks use ships to students (``autograder/build/release.py``).
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from autograder.checks._support import expect_array, show
from autograder.seam.values import Array

LN = np.log


# -- the grader's own formulas (float64) ----------------------------------------------------------
def log_softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def t32(x) -> torch.Tensor:
    return torch.tensor(np.asarray(x, dtype=np.float32))


def ids(x) -> torch.Tensor:
    return torch.tensor(np.asarray(x, dtype=np.int64))


def expect_mask(out: object, expected: np.ndarray, call: str) -> None:
    assert isinstance(out, Array) and out.lib == "torch", (
        f"{call}: expected a torch.Tensor, got {show(out)}"
    )
    assert out.dtype == "bool", f"{call}: expected dtype bool, got {out.dtype}"
    assert out.shape == expected.shape, f"{call}: expected shape {expected.shape}, got {out.shape}"
    assert np.array_equal(out.value, expected), (
        f"{call}: expected {show(expected.astype(int))}, got {show(out.value.astype(int))}"
    )


# A 3-token vocabulary whose probabilities are easy: softmax(log [1, 2, 5]) = [1, 2, 5] / 8.
HAND_LOGITS = LN(
    [
        [[1, 2, 5], [4, 2, 2], [1, 1, 6], [1, 1, 1]],
        [[3, 3, 2], [1, 6, 1], [2, 1, 1], [7, 1, 0.5]],
    ]
)

HAND_TOKENS = [[2, 0, 1, 2], [1, 1, 1, 0]]

EOS = 1

MASK_TOKENS = [
    [5, 1, 4, 6, 7, 1, 8, 1],  # EOS in the prompt (ignored), first generated EOS at index 5
    [0, 0, 4, 6, 7, 8, 9, 6],  # no EOS: the completion runs to the end
    [0, 4, 4, 1, 6, 6, 6, 6],  # EOS straight away: only the EOS counts
]

MASK_EXPECTED = np.array(
    [
        [0, 0, 1, 1, 1, 0, 0],
        [0, 0, 1, 1, 1, 1, 1],
        [0, 0, 1, 0, 0, 0, 0],
    ],
    dtype=bool,
)


@st.composite
def lm_batches(draw):
    b, t, v = draw(st.integers(1, 3)), draw(st.integers(2, 6)), draw(st.integers(2, 5))
    floats = st.floats(-6, 6, width=32)
    logits = np.array(
        draw(st.lists(floats, min_size=b * t * v, max_size=b * t * v)), dtype=np.float32
    ).reshape(b, t, v)
    tokens = np.array(
        draw(st.lists(st.integers(0, v - 1), min_size=b * t, max_size=b * t)), dtype=np.int64
    ).reshape(b, t)
    return logits, tokens


@st.composite
def token_rows(draw):
    b, t = draw(st.integers(1, 4)), draw(st.integers(2, 9))
    tokens = np.array(
        draw(st.lists(st.integers(0, 3), min_size=b * t, max_size=b * t)), dtype=np.int64
    ).reshape(b, t)
    return tokens, draw(st.integers(1, t)), draw(st.integers(0, 3))


def expect_pipeline_like_ref(impl, ref, rng: np.random.Generator) -> None:
    """Ten random batches through token_logprobs, completion_mask and sequence_logprob, against the reference."""
    for _ in range(10):
        b, t, v = int(rng.integers(1, 5)), int(rng.integers(3, 12)), int(rng.integers(3, 9))
        prompt_len, eos = int(rng.integers(1, t)), int(rng.integers(0, v))
        tau = float(rng.choice([0.6, 1.0, 1.3]))
        logits = rng.normal(0, 3, size=(b, t, v)).astype(np.float32)
        tokens = rng.integers(0, v, size=(b, t)).astype(np.int64)
        call = f"<random {b}x{t}x{v} batch, prompt_len={prompt_len}, eos_id={eos}, tau={tau}>"
        exp_lp = ref.token_logprobs(torch.from_numpy(logits), torch.from_numpy(tokens), tau)
        got_lp = impl.token_logprobs(t32(logits), ids(tokens), temperature=tau)
        expect_array(got_lp, exp_lp, f"token_logprobs{call}", rtol=1e-4, atol=1e-5)
        exp_m = ref.completion_mask(torch.from_numpy(tokens), prompt_len, eos)
        expect_mask(
            impl.completion_mask(ids(tokens), prompt_len, eos),
            exp_m.numpy(),
            f"completion_mask{call}",
        )
        exp_s = ref.sequence_logprob(exp_lp, exp_m)
        got_s = impl.sequence_logprob(exp_lp, exp_m)
        expect_array(got_s, exp_s, f"sequence_logprob{call}", rtol=1e-5, atol=1e-5)


# -- the integration run -------------------------------------------------------------------------
CAPSTONE_TIMEOUT = 90.0  # CPU seconds; 12 GRPO steps take about 20 s of CPU


def short_run(impl, seed: int) -> tuple[bool, float, float]:
    """The integration run in the student's worker, measured here.

    Args:
        impl: the ex11 proxy (its worker has the capstone's exercise modules imported).
        seed: the run's seed.

    Returns:
        ``(passed, before, after)`` of :func:`integration.verdict`.
    """
    from autograder.capstone import integration, sft
    from autograder.capstone.student import RLVR_NEEDS

    problem = impl.not_callable(RLVR_NEEDS)
    if problem is not None:  # one of the functions it drives hung or crashed before
        raise problem
    start = {k: v.clone() for k, v in sft.load()[0].state_dict().items()}
    state = impl.using(timeout=CAPSTONE_TIMEOUT).probe(
        "grader_code",
        integration.worker_sources(),
        "autograder.capstone.integration",
        "worker_entry",
        start,
        seed,
    )
    assert isinstance(state, dict) and all(isinstance(v, Array) for v in state.values()), (
        f"the capstone run returned {show(state)}, not the model's weights"
    )
    try:
        tensors = {k: torch.from_numpy(np.array(v.value)) for k, v in state.items()}
        passed, before, after = integration.verdict(tensors, seed)
    except ValueError as exc:
        raise AssertionError(f"the weights your run produced are unusable: {exc}") from None
    return bool(passed), float(before), float(after)
