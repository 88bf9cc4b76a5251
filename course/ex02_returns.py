# Generated from solutions/ex02_returns.py by `python -m autograder build-course`.
# Edit this copy: it is yours. Replace each `raise NotImplementedError()`.
r"""Exercise 02 - discounted returns and normalisation.

The idea
--------
A reward tells how good one step was; the *return* tells how good everything
from that step on turned out. With a discount ``gamma`` in [0, 1]:

.. math::

    G_t = r_t + \gamma\, G_{t+1}, \qquad G_{T-1} = r_{T-1}

so ``G_t = sum_k gamma^k r_{t+k}``. One backward pass computes all of them in
O(T). The lesson's ``returns.insert(0, G)`` gives the right numbers but shifts
the whole list on every insert: O(T^2). At T = 300,000 (the size the timing
check uses) ``benchmarks/bench_returns.py`` measured it 140 to 900 times slower
than one backward pass over Python floats in CPU time, and a Python loop over
tensor elements (O(T), but one tensor operation per element) about 60 times
slower. The quadratic loop moves memory, so its ratio depends on the machine
and on what else runs; its growth does not: four times the length costs it
about sixteen times the time, and linear code about four. Per-token returns
over a batch of long LLM responses reach such lengths.

Before a REINFORCE update the returns are standardised: subtracting the mean
makes the better-than-average steps push their actions up and the worse ones
push theirs down (a crude baseline), and dividing by the std puts every episode
on the same scale, whatever the scale of its rewards:

.. math::

    \operatorname{normalize}(x) = \frac{x - \operatorname{mean}(x)}{\operatorname{std}(x) + \epsilon}

with the **population** standard deviation (divide by N, ``correction=0``).
``torch.std`` defaults to the unbiased estimate (divide by N-1), which is NaN
for a one-step episode - and a single ``optimizer.step()`` on a NaN loss turns
every weight of the policy into NaN for good.

Example: rewards ``[-0.01, -0.01, 1.0]`` with ``gamma = 0.9`` give returns
``[0.791, 0.89, 1.0]``; ``normalize([1, 0])`` is ``[1, -1]``.

How this is checked
-------------------
The lesson's examples by hand; float32 output of shape ``(T,)`` for lists, numpy
arrays and tensors of ints or floats; inputs never modified; ``ValueError`` for a
``gamma`` outside [0, 1]; properties (``gamma = 0`` returns the rewards,
``gamma = 1`` is a reversed cumulative sum, normalised output has mean 0 and
population std 1); the reference on random inputs; and a timing check at
T = 300,000 on CPU time (the grader reads your worker's CPU time, so a busy
machine does not count against you): at most 100 times the reference's time,
or, above that, a time that grows linearly (at most 8 times its time at
T = 75,000; linear code grows about 4 times) and stays under 400 times the
reference's. One backward pass passes easily, even as a loop over tensor
elements (about 60 times); the O(T^2) ``insert(0, G)`` loop fails (140 to 350
times, and about 16 times its time at T = 75,000).
"""

from __future__ import annotations

from collections.abc import Sequence

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
    # YOUR CODE HERE
    raise NotImplementedError()


def normalize(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Standardise ``x`` to mean 0 and (population) std 1.

    Args:
        x: ``(T,)`` float tensor.
        eps: added to the std so that a constant input gives zeros, not NaN.

    Returns:
        ``(x - mean) / (std + eps)`` with the population std, same shape as ``x``.
        One element, all-equal or empty input gives zeros (or an empty tensor).
    """
    # YOUR CODE HERE
    raise NotImplementedError()
