"""Bug: k1 = ref_logp - logp, so a policy more confident than the reference earns a bonus instead of a penalty."""

from __future__ import annotations

import torch


def kl_k1(logp, ref_logp):
    if logp.shape != ref_logp.shape:
        raise ValueError(f"ref_logp must have shape {tuple(logp.shape)}, got {tuple(ref_logp.shape)}")
    return ref_logp - logp


def kl_k3(logp, ref_logp):
    if logp.shape != ref_logp.shape:
        raise ValueError(f"ref_logp must have shape {tuple(logp.shape)}, got {tuple(ref_logp.shape)}")
    d = ref_logp - logp
    return torch.expm1(d) - d


def kl_penalized_rewards(logp, ref_logp, mask, score, kl_coef):
    if logp.ndim != 2:
        raise ValueError(f"logp must have shape (B, T), got {tuple(logp.shape)}")
    B, T = logp.shape
    for name, t in (("ref_logp", ref_logp), ("mask", mask)):
        if t.shape != logp.shape:
            raise ValueError(f"{name} must have shape {(B, T)}, got {tuple(t.shape)}")
    score = torch.as_tensor(score)
    if score.shape != (B,):
        raise ValueError(f"score must have shape {(B,)}, got {tuple(score.shape)}")
    with torch.no_grad():
        m = mask.bool()
        if not m.any(dim=1).all():
            raise ValueError("mask has a row without any real token")
        k1 = torch.where(m, ref_logp - logp, 0.0)
        rewards = torch.where(m, -kl_coef * k1, 0.0)
        positions = torch.arange(T).expand(B, T)
        last = torch.where(m, positions, -1).max(dim=1).values
        rewards[torch.arange(B), last] += score.to(rewards.dtype)
    return rewards
