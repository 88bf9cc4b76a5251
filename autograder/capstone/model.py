"""A small causal transformer in plain torch (nanoGPT-style, pre-LayerNorm).

``TinyGPT(cfg)(tokens)`` maps ``(B, T)`` token ids to ``(B, T, V)`` logits, where
position ``t`` predicts token ``t + 1``. Prompts are left-padded with ``PAD``; the
padding is masked out of attention and positions count from the first real token,
so a left-padded prompt gives the same logits as the unpadded one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from autograder.capstone.tokenizer import EOS_ID, PAD_ID, vocab_size


@dataclass(frozen=True)
class Config:
    vocab: int = vocab_size()
    block: int = 48  # longest sequence (prompt + completion)
    n_layer: int = 2
    n_head: int = 4
    d_model: int = 64

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class Block(nn.Module):
    """LayerNorm -> causal self-attention -> residual; LayerNorm -> MLP -> residual."""

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.n_head = cfg.n_head
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.d_model, 4 * cfg.d_model),
            nn.GELU(),
            nn.Linear(4 * cfg.d_model, cfg.d_model),
        )

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)  # (B, T, D) each
        q, k, v = (z.view(B, T, self.n_head, D // self.n_head).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)  # (B, H, T, D/H)
        x = x + self.proj(y.transpose(1, 2).reshape(B, T, D))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    """Token + position embeddings, ``n_layer`` blocks, a tied output layer."""

    def __init__(self, cfg: Config = Config()) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab, cfg.d_model)
        self.pos = nn.Embedding(cfg.block, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def hidden(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(B, T)`` ids -> ``(B, T, D)`` final hidden states (after the last LayerNorm)."""
        B, T = tokens.shape
        if T > self.cfg.block:
            raise ValueError(f"sequence of {T} tokens is longer than block={self.cfg.block}")
        real = tokens != PAD_ID  # (B, T); left padding only
        pos = (real.long().cumsum(dim=1) - 1).clamp(min=0)  # (B, T), 0 at the first real token
        x = self.tok(tokens) + self.pos(pos)
        causal = torch.ones(T, T, dtype=torch.bool, device=tokens.device).tril()
        # A query may attend to real keys at or before it; keep the diagonal so a padding
        # query is never left with no key at all (its output is ignored anyway).
        mask = (causal & real[:, None, :]) | torch.eye(T, dtype=torch.bool, device=tokens.device)
        for blk in self.blocks:
            x = blk(x, mask[:, None])  # (B, 1, T, T) broadcast over heads
        return self.ln_f(x)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(B, T)`` ids -> ``(B, T, V)`` logits; position t predicts token t + 1."""
        return self.hidden(tokens) @ self.tok.weight.T

    @torch.no_grad()
    def generate(
        self,
        prompts: torch.Tensor,
        max_new: int,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Samples completions; after a row's first EOS it is filled with PAD.

        Args:
            prompts: ``(B, P)`` left-padded prompt ids.
            max_new: tokens to generate at most.
            temperature: softmax temperature (> 0); ``0`` means greedy (argmax).
            generator: the random stream (for reproducible samples).

        Returns:
            ``(B, P + max_new)`` ids: the prompt then the completion.
        """
        seq = prompts
        done = torch.zeros(prompts.shape[0], dtype=torch.bool)
        for _ in range(max_new):
            logits = self(seq)[:, -1]  # (B, V)
            if temperature == 0:
                nxt = logits.argmax(dim=-1)
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                nxt = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            nxt = torch.where(done, PAD_ID, nxt)  # (B,)
            seq = torch.cat([seq, nxt[:, None]], dim=1)
            done |= nxt == EOS_ID
            if done.all():
                break
        pad = prompts.shape[1] + max_new - seq.shape[1]
        return F.pad(seq, (0, pad), value=PAD_ID)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
