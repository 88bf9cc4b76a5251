"""Alternative: log-probs as minus F.cross_entropy, the first end token found with argmax, masked_fill for the sum."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def token_logprobs(logits, tokens, temperature=1.0):
    if not isinstance(logits, torch.Tensor) or logits.ndim != 3 or not logits.dtype.is_floating_point:
        raise ValueError("logits must be a float (B, T, V) tensor")
    if not isinstance(tokens, torch.Tensor) or tokens.shape != logits.shape[:2]:
        raise ValueError("tokens must have shape (B, T)")
    if tokens.dtype not in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8):
        raise ValueError("tokens must be integer ids")
    V = logits.shape[-1]
    if tokens.numel() and not bool(((tokens >= 0) & (tokens < V)).all()):
        raise ValueError("token ids out of range")
    try:
        tau = float(temperature)
    except (TypeError, ValueError):
        raise ValueError("temperature must be a number") from None
    if isinstance(temperature, bool) or not math.isfinite(tau) or tau <= 0:
        raise ValueError("temperature must be finite and > 0")
    scaled = logits[:, :-1] / tau  # (B, T-1, V)
    return -F.cross_entropy(scaled.transpose(1, 2), tokens[:, 1:].long(), reduction="none")


def completion_mask(tokens, prompt_len, eos_id):
    if not isinstance(tokens, torch.Tensor) or tokens.ndim != 2:
        raise ValueError("tokens must be (B, T)")
    if tokens.dtype.is_floating_point or tokens.dtype == torch.bool:
        raise ValueError("tokens must be integer ids")
    B, T = tokens.shape
    if not isinstance(prompt_len, int) or isinstance(prompt_len, bool):
        raise ValueError("prompt_len must be an int")
    if prompt_len < 1 or prompt_len > T:
        raise ValueError("prompt_len out of range")
    gen = tokens[:, prompt_len:]  # (B, T - prompt_len): the generated tokens
    if gen.shape[1] == 0:  # nothing generated
        return torch.zeros(B, T - 1, dtype=torch.bool)
    hit = gen == eos_id
    first = torch.where(hit.any(dim=1), hit.int().argmax(dim=1), gen.shape[1] - 1)  # (B,)
    idx = torch.arange(gen.shape[1]).unsqueeze(0)
    in_completion = idx <= first.unsqueeze(1)  # (B, T - prompt_len)
    prompt_part = torch.zeros(B, prompt_len - 1, dtype=torch.bool)
    return torch.cat([prompt_part, in_completion], dim=1)


def sequence_logprob(token_logp, mask):
    if not isinstance(token_logp, torch.Tensor) or token_logp.ndim != 2:
        raise ValueError("token_logp must be 2-d")
    if not token_logp.dtype.is_floating_point:
        raise ValueError("token_logp must be float")
    if not isinstance(mask, torch.Tensor) or mask.shape != token_logp.shape:
        raise ValueError("mask shape")
    if mask.dtype != torch.bool and bool(((mask != 0) & (mask != 1)).any()):
        raise ValueError("mask must be 0/1")
    return token_logp.masked_fill(~mask.bool(), 0.0).sum(-1)
