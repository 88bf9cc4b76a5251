r"""Exercise 08 - a reward model trained from preferences.

The idea
--------
People find it easier to say which of two answers is better than to give either
a score. A reward model ``r(x, y)`` is trained on such pairs with the
**Bradley-Terry** model (Bradley & Terry, 1952; used for RL from human
preferences by Christiano et al., 2017, and in InstructGPT): the chance that the
chosen answer beats the rejected one depends only on the difference of their
rewards,

.. math::

    P(\text{chosen} \succ \text{rejected}) = \sigma(r_c - r_r)

and we maximise the log-likelihood of the recorded choices:

.. math::

    \mathcal{L} = \operatorname{mean}\big(-\log \sigma(r_c - r_r)\big)
    = \operatorname{mean}\big(\operatorname{softplus}(r_r - r_c)\big)

Only differences matter: adding the same constant to every reward changes
nothing. At equal rewards the loss is ``log 2`` (a coin flip). Computing
``-log(sigmoid(x))`` literally breaks for large margins: ``sigmoid(-1e4)`` is 0 in
float32 and its log is ``-inf``. ``logsigmoid`` / ``softplus`` evaluate the same
function without forming the tiny probability, so the loss stays finite (about
``1e4`` at a margin ``r_c - r_r`` of ``-1e4``, about 0 at ``+1e4``), and its
derivative with respect to each pair's margin, ``-sigmoid(r_r - r_c) / B``, is
``-1/B`` or 0 there instead of NaN.

The accuracy is the fraction of pairs the model already ranks correctly,
``r_c > r_r`` (a tie counts as wrong).

How this is checked
-------------------
``log 2`` at equal rewards and other hand values; finite loss and gradient at
margins of +-1e4; the gradient ``d loss / d r_c = -sigmoid(r_r - r_c) / B`` and its
mirror for ``r_r``; invariance to a shared shift; the accuracy as a Python float
with ties counted as wrong; ``ValueError`` for mismatched shapes or empty input;
and the reference on random batches.
"""

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
    ### BEGIN SOLUTION
    if r_chosen.shape != r_rejected.shape:
        raise ValueError(
            f"r_rejected must have shape {tuple(r_chosen.shape)}, got {tuple(r_rejected.shape)}"
        )
    if r_chosen.numel() == 0:
        raise ValueError("r_chosen is empty")
    margin = r_chosen - r_rejected  # (B,)
    return -F.logsigmoid(margin).mean()  # ()
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    if r_chosen.shape != r_rejected.shape:
        raise ValueError(
            f"r_rejected must have shape {tuple(r_chosen.shape)}, got {tuple(r_rejected.shape)}"
        )
    if r_chosen.numel() == 0:
        raise ValueError("r_chosen is empty")
    with torch.no_grad():
        correct = r_chosen > r_rejected  # (B,) bool
        return float(correct.float().mean())
    ### END SOLUTION
