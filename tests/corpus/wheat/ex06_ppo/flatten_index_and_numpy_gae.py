"""Alternative: flatten, keep the real entries by index (torch.nonzero) before any arithmetic, max-form clipping, ppo_stats via the loss's helper, and gae as a numpy float64 scan over reversed arrays."""

from __future__ import annotations

import numpy as np
import torch


def _real(logp_new, logp_old, adv, clip_eps, mask):
    if clip_eps < 0:
        raise ValueError("clip_eps < 0")
    shape = tuple(logp_new.shape)
    if tuple(logp_old.shape) != shape or tuple(adv.shape) != shape:
        raise ValueError("logp_new, logp_old and adv must have one shape")
    if mask is None:
        idx = torch.arange(logp_new.numel())
    else:
        if tuple(mask.shape) != shape:
            raise ValueError("mask has the wrong shape")
        flat = mask.reshape(-1)
        if flat.dtype != torch.bool and not ((flat == 0) | (flat == 1)).all():
            raise ValueError("mask must be 0/1")
        idx = torch.nonzero(flat.bool()).reshape(-1)
    if idx.numel() == 0:
        raise ValueError("nothing to average over")
    pick = lambda t: t.reshape(-1)[idx]  # noqa: E731
    return pick(logp_new), pick(logp_old).detach(), pick(adv).detach()


def ppo_clip_loss(logp_new, logp_old, adv, clip_eps=0.2, mask=None):
    new, old, a = _real(logp_new, logp_old, adv, clip_eps, mask)
    ratio = (new - old).exp()
    # -min(x, y) == max(-x, -y)
    return torch.maximum(-ratio * a, -ratio.clamp(1 - clip_eps, 1 + clip_eps) * a).mean()


def ppo_stats(logp_new, logp_old, adv, clip_eps=0.2, mask=None):
    with torch.no_grad():
        new, old, _ = _real(logp_new, logp_old, adv, clip_eps, mask)
        log_ratio = (new - old).double()
        ratio = log_ratio.exp()
        return {
            "clip_fraction": ((ratio - 1).abs() > clip_eps).double().mean().item(),
            "approx_kl": (torch.expm1(log_ratio) - log_ratio).mean().item(),
        }


def gae(rewards, values, dones, gamma=0.99, lam=0.95, last_value=0.0):
    for name, x in (("gamma", gamma), ("lam", lam)):
        if not 0 <= x <= 1:
            raise ValueError(f"{name} must be in [0, 1]")

    def arr(x):
        if isinstance(x, torch.Tensor):
            x = x.detach().cpu().numpy()
        return np.asarray(x, dtype=np.float64)

    r, v, d = arr(rewards), arr(values), arr(dones)
    if r.ndim != 1 or v.shape != r.shape or d.shape != r.shape:
        raise ValueError("rewards, values and dones must be 1-D of one length")
    next_v = np.append(v[1:], float(last_value))
    live = 1.0 - d
    delta = r + gamma * next_v * live - v
    adv = np.zeros_like(r)
    running = 0.0
    for t in reversed(range(len(r))):
        running = delta[t] + gamma * lam * live[t] * running
        adv[t] = running
    return torch.from_numpy(adv).float(), torch.from_numpy(adv + v).float()
