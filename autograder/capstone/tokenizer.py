"""A character tokenizer whose special tokens are single ids.

Ids: ``PAD = 0``, ``EOS = 1``, then ``<think>``, ``</think>``, ``<answer>``,
``</answer>``, then one id per character of :data:`CHARS`. ``"<think>"`` in a text is
always the one tag token, never seven characters.
"""

from __future__ import annotations

import re

import torch

PAD, EOS = "<pad>", "<eos>"
TAGS = ("<think>", "</think>", "<answer>", "</answer>")
CHARS = "0123456789+= !"
VOCAB: tuple[str, ...] = (PAD, EOS, *TAGS, *CHARS)
PAD_ID, EOS_ID = 0, 1
_ID = {tok: i for i, tok in enumerate(VOCAB)}
_SPLIT = re.compile("(" + "|".join(re.escape(t) for t in (*TAGS, EOS)) + ")")


def vocab_size() -> int:
    return len(VOCAB)


def encode(text: str) -> list[int]:
    """Text -> ids; tags and ``<eos>`` become single ids.

    Raises:
        ValueError: a character outside the vocabulary.
    """
    ids: list[int] = []
    for piece in _SPLIT.split(text):
        if piece in _ID and len(piece) > 1:
            ids.append(_ID[piece])
            continue
        for ch in piece:
            if ch not in _ID:
                raise ValueError(f"character {ch!r} is not in the vocabulary")
            ids.append(_ID[ch])
    return ids


def decode(ids: list[int] | torch.Tensor, stop_at_eos: bool = True) -> str:
    """Ids -> text; stops at the first EOS (not included) and drops PAD."""
    out = []
    for i in ids.tolist() if isinstance(ids, torch.Tensor) else ids:
        if i == EOS_ID and stop_at_eos:
            break
        if i != PAD_ID:
            out.append(VOCAB[i])
    return "".join(out)


def encode_batch(texts: list[str], length: int | None = None) -> torch.Tensor:
    """Left-pads (``PAD``) a batch of texts to one length: ``(B, T)`` int64."""
    rows = [encode(t) for t in texts]
    n = length if length is not None else max(len(r) for r in rows)
    if any(len(r) > n for r in rows):
        raise ValueError(f"a text is longer than length={n}")
    return torch.tensor([[PAD_ID] * (n - len(r)) + r for r in rows], dtype=torch.long)
