"""Alternative: held out (written from the stubs alone by someone who never saw the checks); expm1(d) - d, the last real token found by argmax over positions, the score scattered into a zero tensor."""

from __future__ import annotations

import torch


def kl_k1(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k1 estimate ``logp - ref_logp``.

    Args:
        logp: ``(...)`` log-probs of the sampled tokens under the policy.
        ref_logp: ``(...)`` log-probs of the same tokens under the reference.

    Returns:
        ``(...)`` tensor of the inputs' dtype (keeps the graph to ``logp``).

    Raises:
        ValueError: the shapes differ.
    """
    _same_shape(logp, ref_logp)
    return torch.sub(logp, ref_logp)


def kl_k3(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate ``exp(d) - d - 1`` with ``d = ref_logp - logp``; never negative.

    Args:
        logp: ``(...)`` log-probs of the sampled tokens under the policy.
        ref_logp: ``(...)`` log-probs of the same tokens under the reference.

    Returns:
        ``(...)`` tensor ``>= 0`` of the inputs' dtype (keeps the graph to both inputs).

    Raises:
        ValueError: the shapes differ.
    """
    _same_shape(logp, ref_logp)
    log_r = ref_logp - logp
    # expm1(d) >= d holds after rounding too, so the difference cannot dip below 0
    return torch.expm1(log_r) - log_r


def kl_penalized_rewards(
    logp: torch.Tensor,
    ref_logp: torch.Tensor,
    mask: torch.Tensor,
    score: torch.Tensor,
    kl_coef: float,
) -> torch.Tensor:
    """Per-token RLHF rewards: ``-kl_coef * k1`` plus the score at each row's last real token.

    Args:
        logp: ``(B, T)`` policy log-probs of the response tokens.
        ref_logp: ``(B, T)`` reference log-probs of the same tokens.
        mask: ``(B, T)`` 0/1 or bool, 1 = real token (right or left padding).
        score: ``(B,)`` reward-model score of each response.
        kl_coef: the penalty weight beta (>= 0).

    Returns:
        ``(B, T)`` float32 rewards without grad; exactly 0 at padded positions.

    Raises:
        ValueError: mismatched shapes, a mask that is not 0/1, ``kl_coef < 0``,
            or a row without any real token.
    """
    if not isinstance(logp, torch.Tensor) or logp.dim() != 2:
        raise ValueError("logp must be a (B, T) tensor")
    _same_shape(logp, ref_logp)
    m = torch.as_tensor(mask, device=logp.device)
    if m.shape != logp.shape:
        raise ValueError(f"mask must have shape {tuple(logp.shape)}, got {tuple(m.shape)}")
    if m.dtype != torch.bool and not bool(((m == 0) | (m == 1)).all()):
        raise ValueError("mask must hold only 0 and 1 (or be bool)")
    s = torch.as_tensor(score, device=logp.device)
    if s.shape != (logp.shape[0],):
        raise ValueError(f"score must have shape ({logp.shape[0]},), got {tuple(s.shape)}")
    if isinstance(kl_coef, bool) or not float(kl_coef) >= 0.0:
        raise ValueError(f"kl_coef must be >= 0, got {kl_coef!r}")
    real = m.bool()
    if not bool(real.any(dim=1).all()):
        raise ValueError("every row needs at least one real token (mask == 1)")
    with torch.no_grad():
        B, T = real.shape
        zero = torch.zeros((), dtype=torch.float32, device=logp.device)
        k1 = torch.where(real, logp.detach().float() - ref_logp.detach().float(), zero)
        rewards = torch.where(real, -float(kl_coef) * k1, zero)
        # last real token per row: the largest position index among the real ones
        positions = torch.arange(1, T + 1, device=logp.device).expand(B, T)
        last = torch.where(real, positions, torch.zeros_like(positions)).argmax(dim=1)
        bonus = torch.zeros_like(rewards)
        bonus[torch.arange(B, device=logp.device), last] = s.detach().float()
        return rewards + bonus


def _same_shape(a, b) -> None:
    a_shape = tuple(a.shape) if hasattr(a, "shape") else None
    b_shape = tuple(b.shape) if hasattr(b, "shape") else None
    if a_shape is None or a_shape != b_shape:
        raise ValueError(f"logp and ref_logp must be tensors of one shape, got {a_shape} and {b_shape}")
