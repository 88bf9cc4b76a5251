# Generated from solutions/ex10_grpo.py by `python -m autograder build-course`.
# Edit this copy: it is yours. Replace each `raise NotImplementedError()`.
r"""Exercise 10 - GRPO: group-relative advantages without a value network.

The idea
--------
PPO needs a learned value function to say whether a reward was better than
expected. GRPO (DeepSeekMath, Shao et al., 2024) gets the baseline from the
samples themselves: draw G completions of the **same prompt**, score each one,
and compare every completion with its own group,

.. math::

    A_i = \frac{r_i - \operatorname{mean}(r_\text{group})}{\operatorname{std}(r_\text{group}) + \epsilon}

with the unbiased std (divide by G - 1, as TRL; DeepSeekMath does not say which)
and ``eps = 1e-4``. Completions of one prompt sit next to each other in the
batch, so the groups are ``rewards.view(-1, G)``: rows are prompts. A group where
every completion scored the same carries no signal and gets zeros (also for
``G = 1``). Dividing by the std does not make all prompts weigh the same: it
**up-weights prompts whose rewards barely vary**. With 0/1 rewards and G = 16, the
one success in a nearly-always-wrong group gets ``A = 3.75``, a success in a
half-right group ``A = 0.97`` (0.94 and 0.5 without the division). Dr. GRPO
(Liu et al., 2025) calls this a question-difficulty bias and drops the division:
``scale=False`` gives ``A_i = r_i - mean(r_group)``. Dr. GRPO also removes the
per-response length normalisation (the division of each completion's loss by its
own length, kept below as the original "grpo" aggregation), which favours short
correct answers and long wrong ones; this exercise keeps the original aggregation.

Every token of completion i gets the same advantage ``A_i``. The loss is PPO's
clipped surrogate per token, plus a k3 KL penalty towards the reference model:

.. math::

    \ell_t = -\min\big(\mathrm{ratio}_t A_i,\; \operatorname{clamp}(\mathrm{ratio}_t, 1-\epsilon, 1+\epsilon) A_i\big)
    + \texttt{kl\_coef}\,\big(e^{\,\mathrm{ref}_t - \log \pi_t} - (\mathrm{ref}_t - \log \pi_t) - 1\big)

averaged first over the real tokens of each completion (DeepSeekMath's
``1/|o_i|``), then over completions (the original "grpo" aggregation): a 1-token
answer weighs as much as a 1000-token one. Per-token losses
``[[1, 1, 1, 1], [2, pad, pad, pad]]`` give ``(1 + 2) / 2 = 1.5``, not
``6 / 5 = 1.2`` (token mean) nor ``6 / 8`` (padding counted). Padded positions may
hold anything - even inf - and must reach neither the value nor the gradient.
Multiplying by the mask is not enough (``inf * 0 = nan``), so padding is replaced
with ``torch.where`` before any arithmetic.

The KL term is k3 from exercise 07, which DeepSeekMath calls unbiased; strictly,
that holds for tokens sampled from the current policy, and here they come from
the sampling policy ``pi_old``. Used as a loss with the sampled tokens held fixed,
its expected gradient (tokens drawn from ``pi``) is that of ``KL(pi_ref || pi)``,
not of ``KL(pi || pi_ref)``: both vanish at ``pi = pi_ref``, and both pull the
policy back towards the reference.

Reference: rewards ``[1,0,0,0 | 1,1,1,1 | 0,0,1,1]``, G = 4 ->
``[1.4997, -0.4999, -0.4999, -0.4999 | 0, 0, 0, 0 | -0.8659, -0.8659, 0.8659, 0.8659]``.

How this is checked
-------------------
The reference advantages, ``scale=False``, all-equal and singleton groups, the
contiguous layout (``view(-1, G)``, not ``view(G, -1)``), invariance to
``10 * r + 3``, ``ValueError`` when ``N % G != 0``; the 1.5 aggregation case with
large and infinite values in the padding; ratio 1 with ``kl_coef = 0`` gives
``-mean(A)``; gradients flow only into ``logp`` and are zero on padding; the KL term
is 0 when ``logp == ref_logp``; and the reference on random batches.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def group_advantages(
    rewards: Sequence[float] | torch.Tensor,
    group_size: int,
    eps: float = 1e-4,
    scale: bool = True,
) -> torch.Tensor:
    """Group-relative advantages for contiguous groups of ``group_size`` completions.

    Args:
        rewards: ``(N,)`` one reward per completion, ``N = num_prompts * group_size``.
        group_size: completions per prompt ``G >= 1``.
        eps: added to the group std (>= 0).
        scale: divide by ``std + eps`` (GRPO); ``False`` only subtracts the mean (Dr. GRPO).

    Returns:
        ``(N,)`` float32 advantages without grad; zeros for all-equal groups and ``G = 1``.

    Raises:
        ValueError: ``group_size`` is not a positive int, ``N % group_size != 0``, or ``eps < 0``.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def grpo_loss(
    logp: torch.Tensor,
    logp_old: torch.Tensor,
    ref_logp: torch.Tensor,
    adv: torch.Tensor,
    mask: torch.Tensor,
    clip_eps: float = 0.2,
    kl_coef: float = 0.0,
) -> torch.Tensor:
    """GRPO loss: clipped surrogate + k3 KL; mean over real tokens per sequence, then sequences.

    Args:
        logp: ``(B, T)`` log-probs of the sampled tokens under the current policy (with grad).
        logp_old: ``(B, T)`` log-probs under the sampling policy (constant).
        ref_logp: ``(B, T)`` log-probs under the reference model (constant).
        adv: ``(B,)`` one advantage per completion (constant).
        mask: ``(B, T)`` 0/1 or bool, 1 = real token.
        clip_eps: clip range ``eps >= 0``.
        kl_coef: weight of the k3 penalty (>= 0).

    Returns:
        0-d float32 loss tensor (for float32 inputs); padding affects neither its value nor its gradient.

    Raises:
        ValueError: mismatched shapes, a mask that is not 0/1, a row without a real
            token, ``clip_eps < 0`` or ``kl_coef < 0``.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
