# Generated from solutions/ex07_kl.py by `python -m autograder build-course`.
# Edit this copy: it is yours. Replace each `raise NotImplementedError()`.
r"""Exercise 07 - the KL penalty that keeps an RLHF policy near its reference.

The idea
--------
RLHF optimises a reward model's score, and a policy left alone will find text the
reward model over-rates. The fix is to pay for every step away from the frozen
reference model ``pi_ref``: a penalty ``beta * KL(pi || pi_ref)``. We only have
the log-probabilities of the sampled tokens, so the KL is *estimated* per token
from ``log r = ref_logp - logp``, i.e. ``r = pi_ref / pi`` at a token sampled from
``pi`` (Schulman, "Approximating KL Divergence", 2020):

.. math::

    \begin{aligned}
    k_1 &= -\log r = \log \pi - \log \pi_\text{ref} && \text{unbiased, high variance, often negative}\\
    k_3 &= (r - 1) - \log r && \text{unbiased as well, never negative}
    \end{aligned}

Both are unbiased estimates of ``KL(pi || pi_ref)`` when the tokens are sampled
from ``pi`` itself (the average of ``r - 1`` is then 0, so k3 is k1 plus a term
of mean zero). k1 is negative at every token that ``pi_ref`` likes more than
``pi`` does, so its per-token values are noisy; k3 has lower variance while
``pi`` stays close to ``pi_ref``. ``k3 >= 0`` because ``log x <= x - 1``. With
``d = log r``, written as ``exp(d) - 1 - d`` it can round to a tiny negative
number in float32 (a few times -1e-8); ``expm1(d) - d`` cannot. GRPO puts k3
into its loss (exercise 10).

PPO-style RLHF (Ziegler et al., 2019; InstructGPT, Ouyang et al., 2022) puts k1
into the **reward** instead. Each response token is one RL step: it earns
``-beta * k1_t``, and the last real token of the response also earns the reward
model's score for the whole response (summed over the tokens, the penalty is
``-beta * log(pi(y|x) / pi_ref(y|x))``, InstructGPT's per-response KL term):

.. math::

    r_t = -\beta\,\big(\log \pi_t - \log \pi_{\text{ref},t}\big) + [\,t = \text{last real token}\,]\cdot
    \mathrm{score}

Padding (``mask == 0``) earns exactly 0, whatever its log-probs hold. Batches are
padded on the right (``1 1 1 0 0``) or on the left (``0 0 1 1 1``); "last real
token" is the last position where the mask is 1 either way, not ``mask.sum() - 1``.
These rewards are data for the RL step, so they carry no gradient.

Example: logp ``[-1, -2, -0.5, pad, pad]``, ref ``[-1.5, -1, -0.5, ., .]``,
mask ``[1, 1, 1, 0, 0]``, beta 0.1, score 2.0 -> rewards ``[-0.05, 0.10, 2.00, 0, 0]``;
k3 on the real tokens is ``[0.1065, 0.7183, 0]``.

How this is checked
-------------------
The example by hand, left- and right-padded; inf/NaN or huge values in padded
positions leave the result finite and exactly 0 there; the result has no grad
and the inputs are unchanged; k3 is >= 0 in float32 for log-ratios over a wide
range and equals ``exp(d) - 1 - d`` in float64; ``ValueError`` for mismatched
shapes and for a row without a real token; the reference on random batches.
"""

from __future__ import annotations

import torch


def kl_k1(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k1 estimate ``logp - ref_logp``.

    Args:
        logp: ``(...)`` log-probs of the sampled tokens under the policy.
        ref_logp: ``(...)`` log-probs of the same tokens under the reference.

    Returns:
        ``(...)`` tensor of the inputs' dtype (keeps the graph to ``logp``).

    Raises:
        ValueError: the shapes differ.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def kl_k3(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate ``exp(d) - d - 1`` with ``d = ref_logp - logp``; never negative.

    Args:
        logp: ``(...)`` log-probs of the sampled tokens under the policy.
        ref_logp: ``(...)`` log-probs of the same tokens under the reference.

    Returns:
        ``(...)`` tensor ``>= 0`` of the inputs' dtype (keeps the graph to both inputs).

    Raises:
        ValueError: the shapes differ.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def kl_penalized_rewards(
    logp: torch.Tensor,
    ref_logp: torch.Tensor,
    mask: torch.Tensor,
    score: torch.Tensor,
    kl_coef: float,
) -> torch.Tensor:
    """Per-token RLHF rewards: ``-kl_coef * k1`` plus the score at each row's last real token.

    Args:
        logp: ``(B, T)`` policy log-probs of the response tokens.
        ref_logp: ``(B, T)`` reference log-probs of the same tokens.
        mask: ``(B, T)`` 0/1 or bool, 1 = real token (right or left padding).
        score: ``(B,)`` reward-model score of each response.
        kl_coef: the penalty weight beta (>= 0).

    Returns:
        ``(B, T)`` float32 rewards without grad; exactly 0 at padded positions.

    Raises:
        ValueError: mismatched shapes, a mask that is not 0/1, ``kl_coef < 0``,
            or a row without any real token.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
