"""Alternative: logits minus logsumexp with take_along_dim, the mask from a cumulative product of not-yet-ended."""

from __future__ import annotations

import math
import numbers

import torch


def token_logprobs(logits: torch.Tensor, tokens: torch.Tensor, temperature: float = 1.0):
    if not (torch.is_tensor(logits) and logits.is_floating_point() and len(logits.shape) == 3):
        raise ValueError("bad logits")
    if not (torch.is_tensor(tokens) and list(tokens.shape) == list(logits.shape[:2])):
        raise ValueError("bad tokens shape")
    if tokens.is_floating_point() or tokens.is_complex() or tokens.dtype is torch.bool:
        raise ValueError("bad tokens dtype")
    if tokens.numel() > 0 and (int(tokens.min()) < 0 or int(tokens.max()) >= logits.shape[2]):
        raise ValueError("bad token id")
    if not isinstance(temperature, numbers.Real) or isinstance(temperature, bool):
        raise ValueError("bad temperature")
    if not (0 < temperature < math.inf):
        raise ValueError("bad temperature")
    z = logits[:, :-1] / temperature
    picked = torch.take_along_dim(z, tokens[:, 1:, None].long(), dim=2)[..., 0]
    return picked - torch.logsumexp(z, dim=2)


def completion_mask(tokens: torch.Tensor, prompt_len: int, eos_id: int) -> torch.Tensor:
    if not (torch.is_tensor(tokens) and tokens.dim() == 2):
        raise ValueError("bad tokens")
    if tokens.is_floating_point() or tokens.dtype is torch.bool:
        raise ValueError("bad tokens dtype")
    if isinstance(prompt_len, bool) or not isinstance(prompt_len, int):
        raise ValueError("bad prompt_len")
    if not 0 < prompt_len <= tokens.shape[1]:
        raise ValueError("bad prompt_len")
    nxt = tokens[:, 1:]
    col = torch.arange(nxt.shape[1])
    generated = (col + 1 >= prompt_len).expand_as(nxt)
    ended_here = (nxt == eos_id) & generated
    # alive[t] = no end token strictly before t: shift the running "not ended" product right by one
    not_ended = torch.cumprod((~ended_here).int(), dim=1)
    alive = torch.cat([torch.ones_like(not_ended[:, :1]), not_ended[:, :-1]], dim=1).bool()
    return generated & alive


def sequence_logprob(token_logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    if not (torch.is_tensor(token_logp) and token_logp.dim() == 2 and token_logp.is_floating_point()):
        raise ValueError("bad token_logp")
    if not (torch.is_tensor(mask) and mask.shape == token_logp.shape):
        raise ValueError("bad mask shape")
    if mask.dtype is not torch.bool and not torch.isin(mask, torch.tensor([0, 1], dtype=mask.dtype)).all():
        raise ValueError("bad mask values")
    keep = mask.bool()
    return torch.where(keep, token_logp, torch.zeros_like(token_logp)).sum(dim=1)
