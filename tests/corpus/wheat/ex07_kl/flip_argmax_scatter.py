"""Alternative: last real index as T - 1 - argmax of the flipped mask, score added with scatter_add, result detached instead of no_grad."""

from __future__ import annotations

import torch


def kl_k1(logp, ref_logp):
    if logp.shape != ref_logp.shape:
        raise ValueError("logp and ref_logp must have the same shape")
    return torch.sub(logp, ref_logp)


def kl_k3(logp, ref_logp):
    if logp.shape != ref_logp.shape:
        raise ValueError("logp and ref_logp must have the same shape")
    log_r = ref_logp - logp
    return torch.special.expm1(log_r) - log_r


def kl_penalized_rewards(logp, ref_logp, mask, score, kl_coef):
    if logp.dim() != 2 or ref_logp.shape != logp.shape or mask.shape != logp.shape:
        raise ValueError(f"logp, ref_logp, mask must share one (B, T) shape, got {tuple(logp.shape)}, {tuple(ref_logp.shape)}, {tuple(mask.shape)}")
    B, T = logp.shape
    real = mask.to(torch.bool)
    if (real.sum(dim=1) == 0).any():
        raise ValueError("every row of mask needs at least one real token")
    safe_logp = logp.detach().masked_fill(~real, 0.0)
    safe_ref = ref_logp.detach().masked_fill(~real, 0.0)
    rewards = -kl_coef * kl_k1(safe_logp, safe_ref)
    rewards = rewards.masked_fill(~real, 0.0)
    last = (T - 1) - real.flip(dims=[1]).to(torch.int64).argmax(dim=1)  # (B,)
    s = torch.as_tensor(score).detach().to(rewards.dtype).unsqueeze(1)
    return rewards.scatter_add(1, last.unsqueeze(1), s).detach()
