"""Alternative: picks the unclipped or the clipped term per entry with torch.where on the sign of A, masks with float weights, and computes GAE in numpy."""

from __future__ import annotations

import numpy as np
import torch


def _weights(logp_new, logp_old, adv, clip_eps, mask):
    if clip_eps < 0:
        raise ValueError(f"clip_eps={clip_eps} must be >= 0")
    for name, t in (("logp_old", logp_old), ("adv", adv)):
        if t.shape != logp_new.shape:
            raise ValueError(f"{name} has shape {tuple(t.shape)}, logp_new has {tuple(logp_new.shape)}")
    if mask is None:
        return torch.ones_like(logp_new, dtype=torch.float32)
    if mask.shape != logp_new.shape:
        raise ValueError(f"mask has shape {tuple(mask.shape)}, logp_new has {tuple(logp_new.shape)}")
    w = mask.to(torch.float32)
    if w.sum() == 0:
        raise ValueError("the mask has no real token")
    return w


def ppo_clip_loss(logp_new, logp_old, adv, clip_eps=0.2, mask=None):
    w = _weights(logp_new, logp_old, adv, clip_eps, mask)
    real = w > 0
    log_ratio = torch.where(real, logp_new - logp_old.detach(), torch.zeros_like(logp_new))
    ratio = torch.exp(log_ratio)
    a = torch.where(real, adv.detach(), torch.zeros_like(adv))
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    # A >= 0: min(r, clip(r)) * A; A < 0: max(r, clip(r)) * A
    surr = torch.where(a >= 0, torch.minimum(ratio, clipped) * a, torch.maximum(ratio, clipped) * a)
    return -(torch.where(real, surr, torch.zeros_like(surr)) * w).sum() / w.sum()


def ppo_stats(logp_new, logp_old, adv, clip_eps=0.2, mask=None):
    w = _weights(logp_new, logp_old, adv, clip_eps, mask).numpy().astype(bool)
    lr = (logp_new.detach() - logp_old.detach()).double().numpy()[w]
    ratio = np.exp(lr)
    return {"clip_fraction": float(np.mean(np.abs(ratio - 1) > clip_eps)), "approx_kl": float(np.mean(np.expm1(lr) - lr))}


def gae(rewards, values, dones, gamma=0.99, lam=0.95, last_value=0.0):
    if not (0 <= gamma <= 1):
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    if not (0 <= lam <= 1):
        raise ValueError(f"lam must be in [0, 1], got {lam}")
    to_np = lambda x: (x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)).astype(np.float64)  # noqa: E731
    r, v, d = to_np(rewards), to_np(values), to_np(dones)
    if r.ndim != 1 or v.shape != r.shape or d.shape != r.shape:
        raise ValueError(f"shapes differ: rewards {r.shape}, values {v.shape}, dones {d.shape}")
    adv = np.zeros_like(r)
    last = 0.0
    for t in range(len(r) - 1, -1, -1):
        nv = last_value if t == len(r) - 1 else v[t + 1]
        delta = r[t] + gamma * nv * (1 - d[t]) - v[t]
        last = delta + gamma * lam * (1 - d[t]) * last
        adv[t] = last
    return torch.from_numpy(adv).float(), torch.from_numpy(adv + v).float()
