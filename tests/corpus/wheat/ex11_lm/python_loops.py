"""Alternative: plain Python loops over rows and positions, one torch.logsumexp per position."""

from __future__ import annotations

import math

import torch


def _check_temperature(temperature):
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise ValueError("temperature must be a number")
    if math.isnan(temperature) or math.isinf(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be finite and positive, got {temperature}")


def token_logprobs(logits, tokens, temperature=1.0):
    if not torch.is_tensor(logits) or logits.dim() != 3 or not torch.is_floating_point(logits):
        raise ValueError("logits must be (B, T, V) floats")
    if not torch.is_tensor(tokens) or tuple(tokens.shape) != tuple(logits.shape[:2]):
        raise ValueError("tokens must be (B, T)")
    if torch.is_floating_point(tokens) or tokens.dtype == torch.bool:
        raise ValueError("tokens must be integers")
    _check_temperature(temperature)
    B, T, V = logits.shape
    rows = []
    for b in range(B):
        row = []
        for t in range(T - 1):
            nxt = int(tokens[b, t + 1])
            if not 0 <= nxt < V:
                raise ValueError(f"token id {nxt} outside [0, {V})")
            z = logits[b, t] / temperature
            row.append(z[nxt] - torch.logsumexp(z, dim=0))
        rows.append(torch.stack(row) if row else logits.new_zeros(0))
    for b in range(B):
        if T > 0 and not 0 <= int(tokens[b, 0]) < V:
            raise ValueError("token id outside the vocabulary")
    return torch.stack(rows) if rows else logits.new_zeros(0, max(T - 1, 0))


def completion_mask(tokens, prompt_len, eos_id):
    if not torch.is_tensor(tokens) or tokens.dim() != 2 or torch.is_floating_point(tokens):
        raise ValueError("tokens must be a (B, T) integer tensor")
    if tokens.dtype == torch.bool:
        raise ValueError("tokens must be integers")
    B, T = tokens.shape
    if type(prompt_len) is not int or not 1 <= prompt_len <= T:
        raise ValueError(f"prompt_len must be an int in [1, {T}]")
    out = torch.zeros(B, T - 1, dtype=torch.bool)
    for b in range(B):
        for i in range(prompt_len, T):
            out[b, i - 1] = True
            if int(tokens[b, i]) == eos_id:
                break
    return out


def sequence_logprob(token_logp, mask):
    if not torch.is_tensor(token_logp) or token_logp.dim() != 2:
        raise ValueError("token_logp must be (B, T)")
    if not torch.is_floating_point(token_logp):
        raise ValueError("token_logp must be floats")
    if not torch.is_tensor(mask) or mask.shape != token_logp.shape:
        raise ValueError("mask must match token_logp")
    for v in mask.flatten().tolist():
        if v not in (0, 1, True, False):
            raise ValueError("mask must be 0/1")
    totals = []
    for b in range(token_logp.shape[0]):
        s = token_logp.new_zeros(())
        for t in range(token_logp.shape[1]):
            if bool(mask[b, t]):
                s = s + token_logp[b, t]
        totals.append(s)
    return torch.stack(totals)
