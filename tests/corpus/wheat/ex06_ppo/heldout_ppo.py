"""Alternative: held out (written from the stubs alone by someone who never saw the checks); no min or clamp: the surrogate case by case with torch.where, ppo_stats in float64 with expm1, GAE as a loop over Python floats."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def ppo_clip_loss(
    logp_new: torch.Tensor,
    logp_old: torch.Tensor,
    adv: torch.Tensor,
    clip_eps: float = 0.2,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """PPO clipped surrogate loss (to minimise).

    Args:
        logp_new: ``(...)`` log-probs under the current policy (with grad).
        logp_old: ``(...)`` log-probs under the rollout policy (constant).
        adv: ``(...)`` advantages (constant).
        clip_eps: clip range ``eps >= 0``.
        mask: optional ``(...)`` 0/1 or bool; 1 = real entry.

    Returns:
        0-d float32 loss (for float32 inputs) ``-mean(min(ratio * A, clamp(ratio, 1-eps, 1+eps) * A))`` over all
        entries, or over the ``mask == 1`` entries.

    Raises:
        ValueError: mismatched shapes, ``clip_eps < 0``, no entry to average over.
    """
    new, old, advantage, keep = _prepare(logp_new, logp_old, adv, clip_eps, mask)
    ratio = torch.exp(new - old)
    eps = float(clip_eps)
    # min(ratio*A, clamp(ratio)*A) case by case: a good action (A >= 0) gains nothing past
    # 1 + eps, a bad one nothing below 1 - eps; the other side is never clipped.
    upper_capped = torch.where(ratio > 1.0 + eps, torch.full_like(ratio, 1.0 + eps), ratio)
    lower_capped = torch.where(ratio < 1.0 - eps, torch.full_like(ratio, 1.0 - eps), ratio)
    surrogate = torch.where(advantage >= 0, upper_capped * advantage, lower_capped * advantage)
    surrogate = torch.where(keep, surrogate, torch.zeros_like(surrogate))
    return -(surrogate.sum() / keep.sum())


def ppo_stats(
    logp_new: torch.Tensor,
    logp_old: torch.Tensor,
    adv: torch.Tensor,
    clip_eps: float = 0.2,
    mask: torch.Tensor | None = None,
) -> dict[str, float]:
    """Trust-region diagnostics of one PPO batch.

    Args:
        logp_new: ``(...)`` log-probs under the current policy.
        logp_old: ``(...)`` log-probs under the rollout policy.
        adv: ``(...)`` advantages (only checked for shape).
        clip_eps: clip range ``eps >= 0``.
        mask: optional ``(...)`` 0/1 or bool; 1 = real entry.

    Returns:
        ``{"clip_fraction": mean(|ratio - 1| > eps), "approx_kl": mean((ratio - 1) - log ratio)}``
        as Python floats, averaged like the loss.

    Raises:
        ValueError: as for ``ppo_clip_loss``.
    """
    new, old, _, keep = _prepare(logp_new, logp_old, adv, clip_eps, mask)
    with torch.no_grad():
        log_ratio = (new - old).double()
        outside = ((log_ratio.exp() - 1.0).abs() > float(clip_eps)) & keep
        k3 = torch.where(keep, torch.expm1(log_ratio) - log_ratio, torch.zeros_like(log_ratio))
        n = keep.sum().item()
        return {
            "clip_fraction": float(outside.sum().item() / n),
            "approx_kl": float(k3.sum().item() / n),
        }


def gae(
    rewards: Sequence[float] | torch.Tensor,
    values: Sequence[float] | torch.Tensor,
    dones: Sequence[bool] | torch.Tensor,
    gamma: float = 0.99,
    lam: float = 0.95,
    last_value: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimates for one trajectory of T steps.

    Args:
        rewards: ``(T,)`` rewards ``r_t``.
        values: ``(T,)`` value estimates ``V(s_t)``.
        dones: ``(T,)`` bool or 0/1; ``done_t`` means the episode ended after step t.
        gamma: discount factor in [0, 1].
        lam: GAE lambda in [0, 1].
        last_value: ``V(s_T)`` for bootstrapping after the last step (0 if it ended).

    Returns:
        ``(advantages, returns)``: two ``(T,)`` float32 tensors without grad;
        ``returns = advantages + values``.

    Raises:
        ValueError: lengths differ, inputs are not 1-D, ``gamma`` or ``lam`` outside [0, 1].
    """
    for name, value in (("gamma", gamma), ("lam", lam)):
        if isinstance(value, bool) or not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    r = _as_1d("rewards", rewards)
    v = _as_1d("values", values)
    d = _as_1d("dones", dones)
    if not (len(r) == len(v) == len(d)):
        raise ValueError(f"rewards, values and dones must have the same length, got {len(r)}, {len(v)}, {len(d)}")
    g, lmb = float(gamma), float(lam)
    bootstrap = float(last_value.item() if isinstance(last_value, torch.Tensor) else last_value)
    advantages = [0.0] * len(r)
    next_value, next_adv = bootstrap, 0.0
    for t in reversed(range(len(r))):
        alive = 0.0 if d[t] else 1.0
        delta = r[t] + g * next_value * alive - v[t]
        next_adv = delta + g * lmb * alive * next_adv
        advantages[t] = next_adv
        next_value = v[t]
    adv_t = torch.tensor(advantages, dtype=torch.float64)
    ret_t = adv_t + torch.tensor(v, dtype=torch.float64)
    return adv_t.to(torch.float32), ret_t.to(torch.float32)


def _prepare(logp_new, logp_old, adv, clip_eps, mask):
    """Validate, detach the constants and blank out ignored entries (so inf there is harmless)."""
    new = torch.as_tensor(logp_new)
    old = torch.as_tensor(logp_old).detach()
    advantage = torch.as_tensor(adv).detach()
    if old.shape != new.shape or advantage.shape != new.shape:
        raise ValueError(
            f"logp_new, logp_old and adv must have the same shape, got "
            f"{tuple(new.shape)}, {tuple(old.shape)}, {tuple(advantage.shape)}"
        )
    if isinstance(clip_eps, bool) or not float(clip_eps) >= 0.0:
        raise ValueError(f"clip_eps must be >= 0, got {clip_eps!r}")
    if mask is None:
        keep = torch.ones(new.shape, dtype=torch.bool, device=new.device)
    else:
        m = torch.as_tensor(mask, device=new.device)
        if m.shape != new.shape:
            raise ValueError(f"mask must have shape {tuple(new.shape)}, got {tuple(m.shape)}")
        if m.dtype != torch.bool:
            if not bool(((m == 0) | (m == 1)).all()):
                raise ValueError("mask must hold only 0 and 1")
        keep = m != 0
    if int(keep.sum()) == 0:
        raise ValueError("no entry to average over (empty input or an all-zero mask)")
    zeros = torch.zeros_like(new)
    new = torch.where(keep, new, zeros)
    old = torch.where(keep, old.to(new.dtype), zeros.detach())
    advantage = torch.where(keep, advantage.to(new.dtype), zeros.detach())
    return new, old, advantage, keep


def _as_1d(name, x) -> list[float]:
    if isinstance(x, torch.Tensor):
        t = x.detach()
    else:
        try:
            t = torch.as_tensor(x)
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"{name} must be a 1-D sequence of numbers") from None
    if t.dim() != 1:
        raise ValueError(f"{name} must be 1-D, got shape {tuple(t.shape)}")
    return [float(e) for e in t.double().tolist()]
