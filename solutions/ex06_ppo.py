r"""Exercise 06 - PPO's clipped objective and generalised advantage estimation.

The idea
--------
REINFORCE uses each batch of samples for one gradient step. PPO reuses the same
samples for several steps, which is only safe while the new policy stays close
to the one that generated them. Per sample (or per token) compare the two with
the probability ratio, computed from log-probabilities:

.. math::

    \mathrm{ratio} = \exp\big(\log \pi_\text{new}(a \mid s) - \log \pi_\text{old}(a \mid s)\big)

and maximise the *clipped surrogate* of PPO (Schulman et al., 2017); as a loss
to minimise:

.. math::

    \mathcal{L} = -\operatorname{mean}\Big(\min\big(\mathrm{ratio}\cdot A,\;
    \operatorname{clamp}(\mathrm{ratio}, 1-\epsilon, 1+\epsilon)\cdot A\big)\Big)

The ``min`` makes the objective pessimistic (a lower bound on the unclipped
surrogate): once the ratio has moved past ``1 + eps`` for a good action (A > 0)
or below ``1 - eps`` for a bad one (A < 0) there is nothing more to gain, and the
gradient there is zero. Moves in the
*harmful* direction are never clipped. ``logp_old`` and ``A`` come from the
rollout and are constants. With a ``mask`` (1 = real token) the mean runs over
the real entries only. Two diagnostics tell whether updates stay in the trust
region: the fraction of ratios outside ``[1 - eps, 1 + eps]`` and the estimate
``approx_kl = mean((ratio - 1) - log ratio)``: Schulman's k3 estimate of
``KL(pi_old || pi_new)``, unbiased because the samples come from ``pi_old``, and
never negative (exercise 07).

The advantages come from **GAE** (Schulman et al., 2015): an exponentially
weighted sum of one-step TD errors, discounted by ``gamma * lam`` and cut at
episode ends:

.. math::

    \begin{aligned}
    \delta_t &= r_t + \gamma\, V_{t+1}\,(1 - \mathrm{done}_t) - V_t, \qquad V_T = \texttt{last\_value}\\
    A_t &= \delta_t + \gamma \lambda\, (1 - \mathrm{done}_t)\, A_{t+1}
    \end{aligned}

computed backwards in O(T); the value targets are ``A + V`` (the TD(lambda)
returns). ``lam = 0`` gives the one-step TD error (low variance, biased by errors
in ``V``), ``lam = 1`` the Monte-Carlo ``G_t - V_t`` (high variance, and unbiased
whatever ``V`` is when the episode is complete; where the rollout stops before a
``done``, ``G`` is bootstrapped from ``last_value``).

Example, eps = 0.2: (ratio 1.5, A = +1) -> -1.2 (clipped); (0.5, +1) -> -0.5;
(1.5, -1) -> +1.5; (0.5, -1) -> +0.8 (clipped); ratio 1 -> -A.

How this is checked
-------------------
The four ratio/sign cases and ratio 1 by hand; the gradient is zero exactly where
the clip binds, and none flows into ``logp_old`` or ``adv``; the masked mean
ignores padding; ``ppo_stats`` on hand examples; ``gae`` against a hand-worked
episode, the TD(0) and Monte-Carlo limits, resets at ``done``, ``last_value``
bootstrapping; ``ValueError`` for mismatched shapes, ``clip_eps < 0``, an empty
mask, ``gamma``/``lam`` outside [0, 1]; and the reference on random inputs.
"""

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
    ### BEGIN SOLUTION
    if not clip_eps >= 0:
        raise ValueError(f"clip_eps must be >= 0, got {clip_eps}")
    for name, t in (("logp_old", logp_old), ("adv", adv), ("mask", mask)):
        if t is not None and t.shape != logp_new.shape:
            raise ValueError(
                f"{name} must have shape {tuple(logp_new.shape)}, got {tuple(t.shape)}"
            )
    if mask is None:
        m = torch.ones_like(logp_new, dtype=torch.bool)  # (...)
    else:
        if mask.dtype != torch.bool and not ((mask == 0) | (mask == 1)).all():
            raise ValueError("mask must hold only 0 and 1")
        m = mask.bool()  # (...)
    if not m.any():
        raise ValueError("mask has no real entry (or the input is empty)")
    # Padding may hold anything: replace it before exp() so it cannot reach the
    # value or the gradient (inf * 0 is NaN, even in the backward pass).
    lp_new = torch.where(m, logp_new, 0.0)  # (...)
    lp_old = torch.where(m, logp_old.detach(), 0.0)  # (...)
    a = torch.where(m, adv.detach(), 0.0)  # (...)
    ratio = torch.exp(lp_new - lp_old)  # (...)
    surr = torch.min(ratio * a, torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * a)  # (...)
    return -torch.where(m, surr, 0.0).sum() / m.sum()  # ()
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    if not clip_eps >= 0:
        raise ValueError(f"clip_eps must be >= 0, got {clip_eps}")
    for name, t in (("logp_old", logp_old), ("adv", adv), ("mask", mask)):
        if t is not None and t.shape != logp_new.shape:
            raise ValueError(
                f"{name} must have shape {tuple(logp_new.shape)}, got {tuple(t.shape)}"
            )
    with torch.no_grad():
        if mask is None:
            m = torch.ones_like(logp_new, dtype=torch.bool)  # (...)
        else:
            if mask.dtype != torch.bool and not ((mask == 0) | (mask == 1)).all():
                raise ValueError("mask must hold only 0 and 1")
            m = mask.bool()  # (...)
        if not m.any():
            raise ValueError("mask has no real entry (or the input is empty)")
        log_ratio = torch.where(m, logp_new - logp_old, 0.0)  # (...)
        ratio = torch.exp(log_ratio)  # (...)
        clipped = ((ratio - 1.0).abs() > clip_eps) & m  # (...)
        kl = torch.expm1(log_ratio) - log_ratio  # (...), k3 >= 0, written with expm1
        n = m.sum()
        return {
            "clip_fraction": float(clipped.sum() / n),
            "approx_kl": float(torch.where(m, kl, 0.0).sum() / n),
        }
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam}")
    r = torch.as_tensor(rewards).detach().double()  # (T,)
    v = torch.as_tensor(values).detach().double()  # (T,)
    d = torch.as_tensor(dones).detach().double()  # (T,)
    if r.ndim != 1:
        raise ValueError(f"rewards must be 1-D, got shape {tuple(r.shape)}")
    for name, t in (("values", v), ("dones", d)):
        if t.shape != r.shape:
            raise ValueError(f"{name} must have shape {tuple(r.shape)}, got {tuple(t.shape)}")
    r_, v_, d_ = r.tolist(), v.tolist(), d.tolist()  # Python floats: a fast O(T) loop
    T = len(r_)
    adv = [0.0] * T
    next_value, next_adv = float(last_value), 0.0
    for t in range(T - 1, -1, -1):
        nonterminal = 1.0 - d_[t]
        delta = r_[t] + gamma * next_value * nonterminal - v_[t]
        next_adv = delta + gamma * lam * nonterminal * next_adv
        adv[t] = next_adv
        next_value = v_[t]
    A = torch.tensor(adv, dtype=torch.float64)  # (T,)
    return A.float(), (A + v).float()  # (T,), (T,)
    ### END SOLUTION
