"""Alternative: held out (written from the stubs alone by someone who never saw the checks); itertools.accumulate over a reversed Python list in float64, a hand-written population std with an explicit all-equal guard."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate

import numpy as np
import torch


def discounted_returns(
    rewards: Sequence[float] | np.ndarray | torch.Tensor, gamma: float
) -> torch.Tensor:
    """Reward-to-go ``G_t = r_t + gamma * G_{t+1}`` for every step of one episode.

    Args:
        rewards: ``(T,)`` rewards as a list, numpy array or tensor (ints or floats).
        gamma: discount factor in [0, 1].

    Returns:
        ``(T,)`` float32 tensor of returns (empty input gives an empty tensor).

    Raises:
        ValueError: if ``gamma`` is not in [0, 1].
    """
    if isinstance(gamma, torch.Tensor):
        gamma = gamma.item()
    try:
        g = float(gamma)
    except (TypeError, ValueError):
        raise ValueError(f"gamma must be a number in [0, 1], got {gamma!r}") from None
    if not (0.0 <= g <= 1.0):  # also rejects NaN
        raise ValueError(f"gamma must be in [0, 1], got {gamma!r}")
    if isinstance(rewards, torch.Tensor):
        flat = rewards.detach().cpu().reshape(-1).tolist()
    else:
        flat = np.asarray(rewards, dtype=np.float64).reshape(-1).tolist()
    # One backward pass (a running fold from the end) over Python floats: O(T).
    backwards = list(accumulate(reversed(flat), lambda later, r: r + g * later))
    backwards.reverse()
    return torch.from_numpy(np.asarray(backwards, dtype=np.float32).reshape(len(flat)))


def normalize(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Standardise ``x`` to mean 0 and (population) std 1.

    Args:
        x: ``(T,)`` float tensor.
        eps: added to the std so that a constant input gives zeros, not NaN.

    Returns:
        ``(x - mean) / (std + eps)`` with the population std, same shape as ``x``.
        One element, all-equal or empty input gives zeros (or an empty tensor).
    """
    x = torch.as_tensor(x)
    if not x.is_floating_point():
        x = x.to(torch.float32)
    if x.numel() == 0:
        return x.clone()
    if x.numel() == 1 or bool((x == x.reshape(-1)[0]).all()):
        # constant input: exactly zero (the mean of equal floats may round away from them)
        return torch.zeros_like(x)
    centred = x - x.mean()
    pop_std = centred.pow(2).mean().sqrt()
    return centred / (pop_std + eps)
