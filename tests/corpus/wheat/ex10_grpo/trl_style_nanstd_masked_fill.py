"""Alternative: TRL-style advantages (mean/std per group with repeat_interleave, nan_to_num) and a masked_fill-based loss."""

from __future__ import annotations

import torch


def group_advantages(rewards, group_size, eps=1e-4, scale=True):
    if not isinstance(group_size, int) or isinstance(group_size, bool) or group_size <= 0:
        raise ValueError(f"group_size must be a positive integer, got {group_size!r}")
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    r = torch.as_tensor(rewards, dtype=torch.float32).detach().flatten()
    if r.numel() % group_size != 0:
        raise ValueError(f"len(rewards)={r.numel()} is not divisible by group_size={group_size}")
    grouped = r.view(-1, group_size)
    mean = grouped.mean(dim=1).repeat_interleave(group_size)
    adv = r - mean
    if scale:
        std = grouped.std(dim=1).repeat_interleave(group_size)  # nan for a group of one
        adv = adv / (std + eps)
    same = (grouped.max(dim=1).values == grouped.min(dim=1).values).repeat_interleave(group_size)
    adv = torch.nan_to_num(adv.masked_fill(same, 0.0), nan=0.0)
    return adv


def grpo_loss(logp, logp_old, ref_logp, adv, mask, clip_eps=0.2, kl_coef=0.0):
    if logp.ndim != 2 or logp_old.shape != logp.shape or ref_logp.shape != logp.shape:
        raise ValueError("logp, logp_old and ref_logp must all have shape (B, T)")
    if mask.shape != logp.shape:
        raise ValueError(f"mask must have shape {tuple(logp.shape)}, got {tuple(mask.shape)}")
    if adv.shape != logp.shape[:1]:
        raise ValueError(f"adv must have shape ({logp.shape[0]},), got {tuple(adv.shape)}")
    if clip_eps < 0 or kl_coef < 0:
        raise ValueError("clip_eps and kl_coef must be non-negative")
    pad = ~mask.bool()
    n_tokens = (~pad).sum(-1)
    if (n_tokens == 0).any():
        raise ValueError("every row of mask needs at least one real token")
    per_token_logps = logp.masked_fill(pad, 0.0)
    old = logp_old.detach().masked_fill(pad, 0.0)
    ref = ref_logp.detach().masked_fill(pad, 0.0)
    advantages = adv.detach().unsqueeze(1)
    coef_1 = torch.exp(per_token_logps - old)
    coef_2 = torch.clamp(coef_1, 1 - clip_eps, 1 + clip_eps)
    per_token_loss = -torch.min(coef_1 * advantages, coef_2 * advantages)
    if kl_coef != 0.0:
        per_token_kl = torch.exp(ref - per_token_logps) - (ref - per_token_logps) - 1
        per_token_loss = per_token_loss + kl_coef * per_token_kl
    per_token_loss = per_token_loss.masked_fill(pad, 0.0)
    return (per_token_loss.sum(-1) / n_tokens.clamp(min=1)).mean()
