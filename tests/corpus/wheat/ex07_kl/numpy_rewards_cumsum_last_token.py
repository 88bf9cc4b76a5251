"""Alternative: rewards built in numpy float64 (cumulative-sum trick for the last real token) and converted back; k1 and k3 without any extra validation helper."""

from __future__ import annotations

import numpy as np
import torch


def kl_k1(logp, ref_logp):
    if tuple(logp.shape) != tuple(ref_logp.shape):
        raise ValueError("logp and ref_logp differ in shape")
    return logp - ref_logp


def kl_k3(logp, ref_logp):
    if tuple(logp.shape) != tuple(ref_logp.shape):
        raise ValueError("logp and ref_logp differ in shape")
    log_ratio = ref_logp - logp
    return torch.expm1(log_ratio) - log_ratio


def kl_penalized_rewards(logp, ref_logp, mask, score, kl_coef):
    if logp.dim() != 2 or ref_logp.shape != logp.shape or mask.shape != logp.shape:
        raise ValueError("logp, ref_logp and mask must all be (B, T)")
    s = np.asarray(torch.as_tensor(score).detach().cpu().numpy(), dtype=np.float64)
    if s.shape != (logp.shape[0],):
        raise ValueError("score must be (B,)")
    if kl_coef < 0:
        raise ValueError("kl_coef must be >= 0")
    m = mask.detach().cpu().numpy()
    if m.dtype != np.bool_ and not np.isin(m, (0, 1)).all():
        raise ValueError("mask must be 0/1")
    m = m.astype(bool)
    if not m.any(axis=1).all():
        raise ValueError("a row has no real token")
    lp = logp.detach().cpu().numpy().astype(np.float64)
    rf = ref_logp.detach().cpu().numpy().astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(m, lp - rf, 0.0)
    out = np.where(m, -kl_coef * diff, 0.0)
    # the last real token: the real position where the count of real tokens reaches its total
    counts = np.cumsum(m, axis=1)
    last = m & (counts == counts[:, -1:])
    out[last] += s
    out[~m] = 0.0
    return torch.from_numpy(out.astype(np.float32))
