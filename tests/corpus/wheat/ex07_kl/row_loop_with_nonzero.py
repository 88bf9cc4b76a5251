"""Alternative: loops over the rows, finds the last real token with nonzero()[-1], and computes k3 in float64 before casting back."""

from __future__ import annotations

import torch


def _same_shape(logp, ref_logp):
    if tuple(logp.shape) != tuple(ref_logp.shape):
        raise ValueError(f"logp {tuple(logp.shape)} and ref_logp {tuple(ref_logp.shape)} differ in shape")


def kl_k1(logp, ref_logp):
    _same_shape(logp, ref_logp)
    return logp - ref_logp


def kl_k3(logp, ref_logp):
    _same_shape(logp, ref_logp)
    d = (ref_logp - logp).double()
    return (torch.expm1(d) - d).clamp_min(0.0).to(logp.dtype)


def kl_penalized_rewards(logp, ref_logp, mask, score, kl_coef):
    _same_shape(logp, ref_logp)
    if mask.shape != logp.shape or logp.dim() != 2:
        raise ValueError(f"mask {tuple(mask.shape)} must match logp {tuple(logp.shape)} and be (B, T)")
    if len(score) != logp.shape[0]:
        raise ValueError("score must have one entry per row")
    if kl_coef < 0:
        raise ValueError("kl_coef must be >= 0")
    logp, ref_logp = logp.detach(), ref_logp.detach()
    rewards = torch.zeros(logp.shape, dtype=logp.dtype)
    for b in range(logp.shape[0]):
        real = torch.nonzero(mask[b] != 0).flatten()
        if len(real) == 0:
            raise ValueError(f"row {b} of the mask has no real token")
        for t in real.tolist():
            rewards[b, t] = -kl_coef * (logp[b, t] - ref_logp[b, t])
        rewards[b, int(real[-1])] += float(score[b])
    return rewards
