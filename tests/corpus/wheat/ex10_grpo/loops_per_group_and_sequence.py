"""Alternative: Python loops over groups (hand-computed unbiased variance) and over sequences (masked_select per row)."""

from __future__ import annotations

import math

import torch


def group_advantages(rewards, group_size, eps=1e-4, scale=True):
    if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
        raise ValueError(f"group_size must be a positive int, got {group_size!r}")
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    values = [float(x) for x in torch.as_tensor(rewards).reshape(-1).tolist()]
    if len(values) % group_size:
        raise ValueError(f"{len(values)} rewards cannot be split into groups of group_size={group_size}")
    out = []
    for start in range(0, len(values), group_size):
        group = values[start : start + group_size]
        if all(v == group[0] for v in group):
            out += [0.0] * group_size
            continue
        mean = sum(group) / group_size
        if scale:
            var = sum((v - mean) ** 2 for v in group) / (group_size - 1)
            denom = math.sqrt(var) + eps
        else:
            denom = 1.0
        out += [(v - mean) / denom for v in group]
    return torch.tensor(out, dtype=torch.float32)


def grpo_loss(logp, logp_old, ref_logp, adv, mask, clip_eps=0.2, kl_coef=0.0):
    if logp.dim() != 2:
        raise ValueError(f"logp must be 2-d (B, T), got shape {tuple(logp.shape)}")
    B, T = logp.shape
    for name, x in (("logp_old", logp_old), ("ref_logp", ref_logp), ("mask", mask)):
        if tuple(x.shape) != (B, T):
            raise ValueError(f"{name} must have shape {(B, T)}, got {tuple(x.shape)}")
    if tuple(adv.shape) != (B,):
        raise ValueError(f"adv must have shape ({B},), got {tuple(adv.shape)}")
    if clip_eps < 0 or kl_coef < 0:
        raise ValueError("clip_eps and kl_coef must be >= 0")
    keep = mask.bool()
    seq_losses = []
    for i in range(B):
        row = keep[i]
        if not row.any():
            raise ValueError(f"mask row {i} has no real token")
        lp = logp[i].masked_select(row)
        old = logp_old[i].detach().masked_select(row)
        ref = ref_logp[i].detach().masked_select(row)
        a = adv[i].detach()
        ratio = torch.exp(lp - old)
        surrogate = torch.minimum(ratio * a, ratio.clamp(1 - clip_eps, 1 + clip_eps) * a)
        loss = -surrogate
        if kl_coef:
            x = ref - lp
            loss = loss + kl_coef * (torch.exp(x) - x - 1)
        seq_losses.append(loss.mean())
    return torch.stack(seq_losses).mean()
