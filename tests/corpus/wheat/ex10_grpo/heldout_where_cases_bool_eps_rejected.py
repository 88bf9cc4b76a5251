"""Alternative: held out (written from the stubs alone by someone who never saw the checks); torch.where case by case, and a bool eps rejected (it exposed a hidden check that passed scale positionally into eps)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch


def group_advantages(
    rewards: Sequence[float] | torch.Tensor,
    group_size: int,
    eps: float = 1e-4,
    scale: bool = True,
) -> torch.Tensor:
    """Group-relative advantages for contiguous groups of ``group_size`` completions.

    Args:
        rewards: ``(N,)`` one reward per completion, ``N = num_prompts * group_size``.
        group_size: completions per prompt ``G >= 1``.
        eps: added to the group std (>= 0).
        scale: divide by ``std + eps`` (GRPO); ``False`` only subtracts the mean (Dr. GRPO).

    Returns:
        ``(N,)`` float32 advantages without grad; zeros for all-equal groups and ``G = 1``.

    Raises:
        ValueError: ``group_size`` is not a positive int, ``N % group_size != 0``, or ``eps < 0``.
    """
    if (
        isinstance(group_size, bool)
        or not isinstance(group_size, numbers.Integral)
        or group_size < 1
    ):
        raise ValueError(f"group_size must be a positive int, got {group_size!r}")
    group_size = int(group_size)
    if isinstance(eps, bool) or not float(eps) >= 0.0:
        raise ValueError(f"eps must be >= 0, got {eps!r}")
    r = torch.as_tensor(rewards).detach().to(torch.float64)
    if r.dim() != 1:
        raise ValueError(f"rewards must be 1-D (N,), got shape {tuple(r.shape)}")
    if r.numel() % group_size != 0:
        raise ValueError(f"N = {r.numel()} is not a multiple of group_size = {group_size}")
    if group_size == 1 or r.numel() == 0:
        return torch.zeros(r.numel(), dtype=torch.float32)
    groups = r.reshape(-1, group_size)  # row i = the completions of prompt i
    centred = groups - groups.mean(dim=1, keepdim=True)
    flat_group = (groups == groups[:, :1]).all(dim=1, keepdim=True)
    if scale:
        spread = torch.sqrt(centred.pow(2).sum(dim=1, keepdim=True) / (group_size - 1))
        centred = centred / (spread + float(eps))
    centred = torch.where(flat_group, torch.zeros_like(centred), centred)
    return centred.reshape(-1).to(torch.float32)


def grpo_loss(
    logp: torch.Tensor,
    logp_old: torch.Tensor,
    ref_logp: torch.Tensor,
    adv: torch.Tensor,
    mask: torch.Tensor,
    clip_eps: float = 0.2,
    kl_coef: float = 0.0,
) -> torch.Tensor:
    """GRPO loss: clipped surrogate + k3 KL; mean over real tokens per sequence, then sequences.

    Args:
        logp: ``(B, T)`` log-probs of the sampled tokens under the current policy (with grad).
        logp_old: ``(B, T)`` log-probs under the sampling policy (constant).
        ref_logp: ``(B, T)`` log-probs under the reference model (constant).
        adv: ``(B,)`` one advantage per completion (constant).
        mask: ``(B, T)`` 0/1 or bool, 1 = real token.
        clip_eps: clip range ``eps >= 0``.
        kl_coef: weight of the k3 penalty (>= 0).

    Returns:
        0-d float32 loss tensor (for float32 inputs); padding affects neither its value nor its gradient.

    Raises:
        ValueError: mismatched shapes, a mask that is not 0/1, a row without a real
            token, ``clip_eps < 0`` or ``kl_coef < 0``.
    """
    if not isinstance(logp, torch.Tensor) or logp.dim() != 2:
        raise ValueError("logp must be a (B, T) tensor")
    B, T = logp.shape
    others = {"logp_old": logp_old, "ref_logp": ref_logp, "mask": mask}
    for name, value in others.items():
        if not hasattr(value, "shape") or tuple(value.shape) != (B, T):
            raise ValueError(
                f"{name} must have shape ({B}, {T}), got {getattr(value, 'shape', None)}"
            )
    if not hasattr(adv, "shape") or tuple(adv.shape) != (B,):
        raise ValueError(f"adv must have shape ({B},), got {getattr(adv, 'shape', None)}")
    if mask.dtype != torch.bool and not bool(((mask == 0) | (mask == 1)).all()):
        raise ValueError("mask must hold only 0 and 1 (or be bool)")
    real = mask.bool()
    if not bool(real.any(dim=1).all()):
        raise ValueError("every row needs at least one real token")
    if isinstance(clip_eps, bool) or not float(clip_eps) >= 0.0:
        raise ValueError(f"clip_eps must be >= 0, got {clip_eps!r}")
    if isinstance(kl_coef, bool) or not float(kl_coef) >= 0.0:
        raise ValueError(f"kl_coef must be >= 0, got {kl_coef!r}")

    # Replace padding by 0 before any arithmetic: inf/nan there must not reach value or grad.
    zero = torch.zeros((), dtype=logp.dtype, device=logp.device)
    cur = torch.where(real, logp, zero)
    old = torch.where(real, logp_old.detach().to(logp.dtype), zero)
    ref = torch.where(real, ref_logp.detach().to(logp.dtype), zero)
    a = adv.detach().to(logp.dtype).unsqueeze(1).expand(B, T)

    ratio = torch.exp(cur - old)
    lo, hi = 1.0 - float(clip_eps), 1.0 + float(clip_eps)
    surrogate = torch.where(
        a >= 0,
        torch.where(ratio > hi, hi * a, ratio * a),
        torch.where(ratio < lo, lo * a, ratio * a),
    )
    per_token = -surrogate
    if float(kl_coef) > 0.0:
        diff = ref - cur
        per_token = per_token + float(kl_coef) * (torch.expm1(diff) - diff)
    per_token = torch.where(real, per_token, zero)
    counts = real.sum(dim=1).to(logp.dtype)
    per_sequence = per_token.sum(dim=1) / counts
    return per_sequence.mean()
