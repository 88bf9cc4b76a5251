"""Alternative: held out (written from the stubs alone by someone who never saw the checks); gather minus logsumexp, a cumsum over earlier end tokens for the mask, masked_fill for the sum."""

# Generated from solutions/ex11_lm.py by `python -m autograder build-course`.
# Edit this copy: it is yours. Replace each `raise NotImplementedError()`.
from __future__ import annotations

import math
import numbers

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
    if not isinstance(logits, torch.Tensor) or logits.dim() != 3 or not logits.is_floating_point():
        raise ValueError("logits must be a float (B, T, V) tensor")
    B, T, V = logits.shape
    if (
        not isinstance(tokens, torch.Tensor)
        or tokens.dtype == torch.bool
        or tokens.is_floating_point()
        or tokens.is_complex()
        or tuple(tokens.shape) != (B, T)
    ):
        raise ValueError(f"tokens must be an integer ({B}, {T}) tensor")
    if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= V):
        raise ValueError(f"token ids must lie in [0, {V})")
    if isinstance(temperature, torch.Tensor) and temperature.dim() == 0 and temperature.is_floating_point():
        temperature = temperature.item()
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    temperature = float(temperature)
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    scaled = logits[:, :-1, :] / temperature          # position t predicts token t + 1
    targets = tokens[:, 1:].long().unsqueeze(-1)
    picked = scaled.gather(-1, targets).squeeze(-1)
    return picked - torch.logsumexp(scaled, dim=-1)


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
        or tokens.dim() != 2
        or tokens.dtype == torch.bool
        or tokens.is_floating_point()
        or tokens.is_complex()
    ):
        raise ValueError("tokens must be an integer (B, T) tensor")
    T = tokens.shape[1]
    if isinstance(prompt_len, bool) or not isinstance(prompt_len, numbers.Integral):
        raise ValueError(f"prompt_len must be an int in [1, {T}], got {prompt_len!r}")
    P = int(prompt_len)
    if not 1 <= P <= T:
        raise ValueError(f"prompt_len must be in [1, {T}], got {P}")
    index = torch.arange(T, device=tokens.device)
    generated = (index >= P).unsqueeze(0).expand_as(tokens)
    end_here = (tokens == eos_id) & generated
    # number of generated end tokens strictly before each position
    ends_before = torch.cumsum(end_here.long(), dim=1) - end_here.long()
    keep = generated & (ends_before == 0)
    return keep[:, 1:].clone()


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
    if not isinstance(token_logp, torch.Tensor) or token_logp.dim() != 2 or not token_logp.is_floating_point():
        raise ValueError("token_logp must be a float (B, T) tensor")
    m = torch.as_tensor(mask, device=token_logp.device)
    if tuple(m.shape) != tuple(token_logp.shape):
        raise ValueError(f"mask must have shape {tuple(token_logp.shape)}, got {tuple(m.shape)}")
    if m.dtype != torch.bool and not bool(((m == 0) | (m == 1)).all()):
        raise ValueError("mask must hold only 0 and 1 (or be bool)")
    selected = token_logp.masked_fill(~m.bool(), 0.0)
    return selected.sum(dim=-1)
