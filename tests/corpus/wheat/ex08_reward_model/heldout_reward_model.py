"""Alternative: held out (written from the stubs alone by someone who never saw the checks); softplus of the reward difference, accuracy by count_nonzero."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def preference_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """Bradley-Terry loss ``mean(-logsigmoid(r_chosen - r_rejected))``.

    Args:
        r_chosen: ``(B,)`` rewards of the preferred responses (with grad).
        r_rejected: ``(B,)`` rewards of the other responses (with grad).

    Returns:
        0-d float32 loss tensor (for float32 inputs), finite for any finite inputs.

    Raises:
        ValueError: the shapes differ or the batch is empty.
    """
    chosen, rejected = _pair(r_chosen, r_rejected)
    # -log sigmoid(c - r) == softplus(r - c), computed without forming the tiny probability
    return F.softplus(rejected - chosen).mean()


def preference_accuracy(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> float:
    """Fraction of pairs ranked correctly, ``r_chosen > r_rejected``.

    Args:
        r_chosen: ``(B,)`` rewards of the preferred responses.
        r_rejected: ``(B,)`` rewards of the other responses.

    Returns:
        A Python float in [0, 1]; ties count as wrong.

    Raises:
        ValueError: the shapes differ or the batch is empty.
    """
    chosen, rejected = _pair(r_chosen, r_rejected)
    wins = int(torch.count_nonzero(chosen.detach() > rejected.detach()))
    return wins / chosen.numel()


def _pair(r_chosen, r_rejected):
    chosen = torch.as_tensor(r_chosen)
    rejected = torch.as_tensor(r_rejected)
    if chosen.shape != rejected.shape:
        raise ValueError(
            f"r_chosen and r_rejected must have the same shape, got {tuple(chosen.shape)} and {tuple(rejected.shape)}"
        )
    if chosen.numel() == 0:
        raise ValueError("the batch is empty")
    return chosen, rejected
