"""Alternative: selects the real entries with boolean indexing, writes the loss as mean(max(-r A, -clip(r) A)), and runs GAE as a float32 tensor loop."""

from __future__ import annotations

import torch


def _real(logp_new, logp_old, adv, clip_eps, mask):
    if clip_eps < 0:
        raise ValueError(f"clip_eps must be non-negative, got {clip_eps}")
    if logp_old.shape != logp_new.shape or adv.shape != logp_new.shape:
        raise ValueError(f"logp_old/adv shapes {tuple(logp_old.shape)}/{tuple(adv.shape)} differ from logp_new {tuple(logp_new.shape)}")
    if mask is None:
        sel = torch.ones(logp_new.shape, dtype=torch.bool)
    else:
        if mask.shape != logp_new.shape:
            raise ValueError(f"mask shape {tuple(mask.shape)} differs from logp_new {tuple(logp_new.shape)}")
        sel = mask != 0
    if int(sel.sum()) == 0:
        raise ValueError("mask selects no entries")
    return logp_new[sel], logp_old.detach()[sel], adv.detach()[sel]


def ppo_clip_loss(logp_new, logp_old, adv, clip_eps=0.2, mask=None):
    new, old, a = _real(logp_new, logp_old, adv, clip_eps, mask)  # (N,) real entries only
    ratio = (new - old).exp()
    pg1 = -a * ratio
    pg2 = -a * ratio.clamp(1 - clip_eps, 1 + clip_eps)
    return torch.max(pg1, pg2).mean()


def ppo_stats(logp_new, logp_old, adv, clip_eps=0.2, mask=None):
    with torch.no_grad():
        new, old, _ = _real(logp_new, logp_old, adv, clip_eps, mask)
        log_ratio = new - old
        ratio = log_ratio.exp()
        return {
            "clip_fraction": ((ratio - 1).abs() > clip_eps).float().mean().item(),
            "approx_kl": (torch.expm1(log_ratio) - log_ratio).mean().item(),
        }


def gae(rewards, values, dones, gamma=0.99, lam=0.95, last_value=0.0):
    if gamma < 0 or gamma > 1 or lam < 0 or lam > 1:
        raise ValueError(f"gamma and lam must lie in [0, 1], got gamma={gamma}, lam={lam}")
    r = torch.as_tensor(rewards, dtype=torch.float32)
    v = torch.as_tensor(values, dtype=torch.float32).detach()
    d = torch.as_tensor(dones, dtype=torch.float32)
    if r.dim() != 1 or len(v) != len(r) or len(d) != len(r):
        raise ValueError("rewards, values, dones must be 1-D with equal lengths")
    v_next = torch.cat([v[1:], torch.tensor([float(last_value)])])
    deltas = r + gamma * v_next * (1 - d) - v
    adv = torch.zeros_like(r)
    running = torch.tensor(0.0)
    for t in reversed(range(len(r))):
        running = deltas[t] + gamma * lam * (1 - d[t]) * running
        adv[t] = running
    return adv, adv + v
