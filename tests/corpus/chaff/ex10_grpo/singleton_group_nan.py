"""Bug: the plain formula (r - mean) / (r.std() + eps) with no special case: a group of one has an unbiased std of nan, so its advantage is nan."""

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
    if scale:
        std = groups.std(dim=1, keepdim=True, correction=1)  # (num_prompts, 1), unbiased
        centred = centred / (std + eps)
    # No signal in a group whose rewards are all equal (also G == 1): exactly 0,
    # not the rounding error of the mean divided by eps.
    return centred.reshape(-1)  # (N,)


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
        0-d loss tensor; padding affects neither its value nor its gradient.

    Raises:
        ValueError: mismatched shapes, a mask that is not 0/1, a row without a real
            token, ``clip_eps < 0`` or ``kl_coef < 0``.
    """
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
