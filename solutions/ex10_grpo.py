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
    ### BEGIN SOLUTION
    if isinstance(group_size, bool) or int(group_size) != group_size or group_size < 1:
        raise ValueError(f"group_size must be a positive integer, got {group_size!r}")
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    r = torch.as_tensor(rewards).detach().to(torch.float32).reshape(-1)  # (N,)
    G = int(group_size)
    if r.numel() % G != 0:
        raise ValueError(f"len(rewards) = {r.numel()} is not a multiple of group_size = {G}")
    groups = r.view(-1, G)  # (num_prompts, G), one row per prompt
    centred = groups - groups.mean(dim=1, keepdim=True)  # (num_prompts, G)
    if scale and G > 1 and groups.numel() > 0:
        std = groups.std(dim=1, keepdim=True, correction=1)  # (num_prompts, 1), unbiased
        centred = centred / (std + eps)
    # No signal in a group whose rewards are all equal (also G == 1): exactly 0,
    # not the rounding error of the mean divided by eps.
    flat = (groups == groups[:, :1]).all(dim=1, keepdim=True)  # (num_prompts, 1)
    return torch.where(flat, 0.0, centred).reshape(-1)  # (N,)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    if logp.ndim != 2:
        raise ValueError(f"logp must have shape (B, T), got {tuple(logp.shape)}")
    B, T = logp.shape
    for name, t in (("logp_old", logp_old), ("ref_logp", ref_logp), ("mask", mask)):
        if t.shape != logp.shape:
            raise ValueError(f"{name} must have shape {(B, T)}, got {tuple(t.shape)}")
    if adv.shape != (B,):
        raise ValueError(f"adv must have shape {(B,)}, got {tuple(adv.shape)}")
    if not clip_eps >= 0:
        raise ValueError(f"clip_eps must be >= 0, got {clip_eps}")
    if not kl_coef >= 0:
        raise ValueError(f"kl_coef must be >= 0, got {kl_coef}")
    if mask.dtype != torch.bool and not ((mask == 0) | (mask == 1)).all():
        raise ValueError("mask must hold only 0 and 1")
    m = mask.bool()  # (B, T)
    if not m.any(dim=1).all():
        raise ValueError("mask has a row without any real token")

    # Replace padding before any arithmetic, so garbage there cannot reach the value
    # or the gradient (torch.where passes a zero gradient to the unselected input).
    lp = torch.where(m, logp, 0.0)  # (B, T)
    lp_old = torch.where(m, logp_old.detach(), 0.0)  # (B, T)
    lp_ref = torch.where(m, ref_logp.detach(), 0.0)  # (B, T)
    a = adv.detach().unsqueeze(1)  # (B, 1), broadcast to every token

    ratio = torch.exp(lp - lp_old)  # (B, T)
    clipped = torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps)  # (B, T)
    per_token = -torch.min(ratio * a, clipped * a)  # (B, T)
    if kl_coef != 0:
        d = lp_ref - lp  # (B, T)
        per_token = per_token + kl_coef * (torch.expm1(d) - d)  # k3 >= 0
    per_token = torch.where(m, per_token, 0.0)  # (B, T)
    per_seq = per_token.sum(dim=1) / m.sum(dim=1)  # (B,), mean over real tokens
    return per_seq.mean()  # ()
    ### END SOLUTION
