"""Bug: approx_kl is the k1 estimate mean(logp_old - logp_new), which can be negative, instead of mean((ratio - 1) - log ratio)."""

from __future__ import annotations

import torch


def _check(logp_new, logp_old, adv, clip_eps, mask):
    if not clip_eps >= 0:
        raise ValueError(f"clip_eps must be >= 0, got {clip_eps}")
    for name, t in (("logp_old", logp_old), ("adv", adv), ("mask", mask)):
        if t is not None and t.shape != logp_new.shape:
            raise ValueError(f"{name} must have shape {tuple(logp_new.shape)}, got {tuple(t.shape)}")
    m = torch.ones_like(logp_new, dtype=torch.bool) if mask is None else mask.bool()
    if not m.any():
        raise ValueError("mask has no real entry")
    return m


def ppo_clip_loss(logp_new, logp_old, adv, clip_eps=0.2, mask=None):
    m = _check(logp_new, logp_old, adv, clip_eps, mask)
    lp_new = torch.where(m, logp_new, 0.0)
    lp_old = torch.where(m, logp_old.detach(), 0.0)
    a = torch.where(m, adv.detach(), 0.0)
    ratio = torch.exp(lp_new - lp_old)
    surr = torch.min(ratio * a, torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * a)
    return -torch.where(m, surr, 0.0).sum() / m.sum()


def ppo_stats(logp_new, logp_old, adv, clip_eps=0.2, mask=None):
    m = _check(logp_new, logp_old, adv, clip_eps, mask)
    with torch.no_grad():
        log_ratio = torch.where(m, logp_new - logp_old, 0.0)
        ratio = torch.exp(log_ratio)
        clipped = ((ratio - 1.0).abs() > clip_eps) & m
        kl = torch.where(m, -log_ratio, 0.0)
        n = m.sum()
        return {"clip_fraction": float(clipped.sum() / n), "approx_kl": float(kl.sum() / n)}


def gae(rewards, values, dones, gamma=0.99, lam=0.95, last_value=0.0):
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam}")
    r = torch.as_tensor(rewards).detach().double()
    v = torch.as_tensor(values).detach().double()
    d = torch.as_tensor(dones).detach().double()
    if r.ndim != 1 or v.shape != r.shape or d.shape != r.shape:
        raise ValueError("rewards, values and dones must be 1-D of the same length")
    T = len(r)
    adv = torch.zeros(T, dtype=torch.float64)
    next_value, next_adv = float(last_value), 0.0
    for t in range(T - 1, -1, -1):
        nonterminal = 1.0 - float(d[t])
        delta = float(r[t]) + gamma * next_value * nonterminal - float(v[t])
        next_adv = delta + gamma * lam * nonterminal * next_adv
        adv[t] = next_adv
        next_value = float(v[t])
    return adv.float(), (adv + v).float()
