"""Bug: log(softmax(z)) instead of log_softmax: -inf at a logit gap of about 104 (float32), imprecise from about 88."""

from __future__ import annotations

import math

import torch


def token_logprobs(
    logits: torch.Tensor, tokens: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """Log-prob of each token ``t + 1`` under the model's prediction at position ``t``.

    Args:
        logits: ``(B, T, V)`` float, the model's output on ``tokens``.
        tokens: ``(B, T)`` integer ids in ``[0, V)``.
        temperature: the sampler's temperature, finite and ``> 0``.

    Returns:
        ``(B, T - 1)``: ``log_softmax(logits[:, t] / temperature)[tokens[:, t + 1]]``,
        in the dtype of ``logits`` and attached to its graph.

    Raises:
        ValueError: ``logits`` not a float 3-d tensor, ``tokens`` not an integer
            ``(B, T)`` tensor matching it, an id outside ``[0, V)``, or a temperature
            that is not a finite number ``> 0``.
    """
    if not isinstance(logits, torch.Tensor) or logits.ndim != 3 or not logits.is_floating_point():
        raise ValueError("logits must be a float tensor of shape (B, T, V)")
    B, T, V = logits.shape
    if (
        not isinstance(tokens, torch.Tensor)
        or tokens.shape != (B, T)
        or tokens.is_floating_point()
        or tokens.dtype == torch.bool
    ):
        raise ValueError(f"tokens must be an integer tensor of shape {(B, T)}")
    if tokens.numel() and (tokens.min() < 0 or tokens.max() >= V):
        raise ValueError(f"tokens must hold ids in [0, {V})")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise ValueError(f"temperature must be a number > 0, got {temperature!r}")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be finite and > 0, got {temperature}")
    logp = torch.log(torch.softmax(logits[:, :-1] / temperature, dim=-1))  # (B, T-1, V)
    nxt = tokens[:, 1:].long().unsqueeze(-1)  # (B, T-1, 1): the token each position predicts
    return logp.gather(-1, nxt).squeeze(-1)  # (B, T-1)


def completion_mask(tokens: torch.Tensor, prompt_len: int, eos_id: int) -> torch.Tensor:
    """Which columns of ``token_logprobs`` are generated tokens, up to the first end token.

    Args:
        tokens: ``(B, T)`` integer ids: ``prompt_len`` prompt tokens, then the completion.
        prompt_len: the (left-padded) prompt length, an int in ``[1, T]``.
        eos_id: the end-of-sequence id; ``eos_id`` in the prompt is ignored.

    Returns:
        ``(B, T - 1)`` ``torch.bool``: column ``t`` is True iff token ``t + 1`` was
        generated (``t + 1 >= prompt_len``) and is at or before the row's first
        generated ``eos_id``.

    Raises:
        ValueError: ``tokens`` not an integer 2-d tensor, or ``prompt_len`` not an int
            in ``[1, T]``.
    """
    if (
        not isinstance(tokens, torch.Tensor)
        or tokens.ndim != 2
        or tokens.is_floating_point()
        or tokens.dtype == torch.bool
    ):
        raise ValueError("tokens must be an integer tensor of shape (B, T)")
    T = tokens.shape[1]
    if isinstance(prompt_len, bool) or not isinstance(prompt_len, int):
        raise ValueError(f"prompt_len must be an int, got {prompt_len!r}")
    if not 1 <= prompt_len <= T:
        raise ValueError(f"prompt_len must be in [1, {T}], got {prompt_len}")
    nxt = tokens[:, 1:]  # (B, T-1): column t is token t + 1
    generated = torch.arange(1, T, device=tokens.device) >= prompt_len  # (T-1,)
    is_eos = (nxt == eos_id) & generated  # (B, T-1), end tokens of the completion only
    # eos strictly before column t: an inclusive cumsum minus the column itself
    eos_before = (is_eos.long().cumsum(dim=1) - is_eos.long()) > 0  # (B, T-1)
    return generated & ~eos_before  # (B, T-1) bool


def sequence_logprob(token_logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``log pi(completion | prompt)``: each row's sum of log-probs over its masked tokens.

    Args:
        token_logp: ``(B, T)`` float per-token log-probs (padding may hold anything).
        mask: ``(B, T)`` 0/1 or bool, 1 = a token of the completion.

    Returns:
        ``(B,)``, attached to the graph of ``token_logp``; padding reaches neither the
        value nor the gradient; a row without real tokens gives 0.

    Raises:
        ValueError: ``token_logp`` not a float 2-d tensor, ``mask`` of another shape or
            holding values other than 0 and 1.
    """
    if (
        not isinstance(token_logp, torch.Tensor)
        or token_logp.ndim != 2
        or not token_logp.is_floating_point()
    ):
        raise ValueError("token_logp must be a float tensor of shape (B, T)")
    if not isinstance(mask, torch.Tensor) or mask.shape != token_logp.shape:
        raise ValueError(f"mask must have shape {tuple(token_logp.shape)}")
    if mask.dtype != torch.bool and not ((mask == 0) | (mask == 1)).all():
        raise ValueError("mask must hold only 0 and 1")
    m = mask.bool()  # (B, T)
    return torch.where(m, token_logp, 0.0).sum(dim=1)  # (B,)
