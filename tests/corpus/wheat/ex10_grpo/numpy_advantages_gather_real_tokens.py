"""Alternative: advantages computed in numpy float64 per group with early validation, and a loss that gathers each row's real tokens by index before any arithmetic."""

from __future__ import annotations

import numpy as np
import torch


def group_advantages(rewards, group_size, eps=1e-4, scale=True):
    if type(group_size) is not int or group_size < 1:
        raise ValueError("group_size: a positive int")
    if eps < 0:
        raise ValueError("eps < 0")
    if isinstance(rewards, torch.Tensor):
        r = rewards.detach().cpu().numpy().astype(np.float32).astype(np.float64).ravel()
    else:
        r = np.asarray(rewards, dtype=np.float32).astype(np.float64).ravel()
    if len(r) % group_size:
        raise ValueError("cannot split these rewards into whole groups")
    out = np.zeros_like(r)
    for start in range(0, len(r), group_size):
        g = r[start : start + group_size]
        if np.all(g == g[0]):
            continue  # no signal: zeros (also group_size == 1)
        a = g - g.mean()
        if scale:
            a = a / (g.std(ddof=1) + eps)
        out[start : start + group_size] = a
    return torch.from_numpy(out.astype(np.float32))


def grpo_loss(logp, logp_old, ref_logp, adv, mask, clip_eps=0.2, kl_coef=0.0):
    if logp.dim() != 2 or any(t.shape != logp.shape for t in (logp_old, ref_logp, mask)):
        raise ValueError("logp, logp_old, ref_logp and mask must share one (B, T) shape")
    if tuple(adv.shape) != (logp.shape[0],):
        raise ValueError("adv must hold one value per row")
    if clip_eps < 0 or kl_coef < 0:
        raise ValueError("clip_eps and kl_coef must be >= 0")
    if mask.dtype != torch.bool and not torch.all((mask == 0) | (mask == 1)):
        raise ValueError("mask: only 0 and 1")
    rows = []
    for b in range(logp.shape[0]):
        idx = torch.nonzero(mask[b].bool(), as_tuple=True)[0]
        if idx.numel() == 0:
            raise ValueError(f"row {b} has no real token")
        lp = logp[b].index_select(0, idx)
        old = logp_old[b].detach().index_select(0, idx)
        ref = ref_logp[b].detach().index_select(0, idx)
        a = adv[b].detach()
        ratio = torch.exp(lp - old)
        surrogate = torch.minimum(ratio * a, ratio.clamp(1 - clip_eps, 1 + clip_eps) * a)
        loss = -surrogate
        if kl_coef:
            d = ref - lp
            loss = loss + kl_coef * (torch.expm1(d) - d)
        rows.append(loss.mean())
    return torch.stack(rows).mean()
