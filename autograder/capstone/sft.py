"""Supervised fine-tuning on imperfect demonstrations, and the shipped checkpoint.

``python -m autograder capstone-sft`` (or ``capstone --regenerate-sft``) trains
:class:`~autograder.capstone.model.TinyGPT` from scratch on demonstrations of which
about 35 % forget the carry and ``SLIP`` miscount the tens (:func:`~autograder.capstone.task.demonstration`) and
writes ``autograder/data/capstone/sft.pt``. The run is seeded and single-threaded, so
on one machine the same command writes the same weights (:func:`weights_digest`);
across machines (another BLAS) it may differ in the last bits, which is why the tests
compare metrics with a tolerance, not bytes.

The point of the flawed demonstrations: SFT imitates them, so sampling at temperature 1
it drops the carry about as often as its teachers did, and held-out accuracy sits
clearly below the ceiling - room for RL with a verifiable reward to improve on.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from autograder.capstone import task
from autograder.capstone.model import Config, TinyGPT
from autograder.capstone.tokenizer import EOS_ID, PAD_ID, decode, encode, encode_batch

CHECKPOINT = Path(__file__).resolve().parent.parent / "data" / "capstone" / "sft.pt"
DROP_CARRY, SLIP = (0.2, 0.8), 0.15  # calm / enthusiastic teachers
STEPS, BATCH, LR, SEED = 1500, 64, 3e-3, 0
MAX_NEW = 32  # tokens a completion may take (a demonstration takes at most 27)
PROMPT_LEN = 6  # "47+85=" - every prompt has exactly this many tokens


def batch_tensors(prompts: list[str], completions: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(tokens, loss_mask)``, both ``(B, T)``: prompt + completion + EOS, right-padded.

    ``loss_mask[:, t]`` is True where position t predicts a completion token or the EOS.
    """
    rows = [encode(p) + encode(c) + [EOS_ID] for p, c in zip(prompts, completions, strict=True)]
    n = max(len(r) for r in rows)
    tokens = torch.tensor([r + [PAD_ID] * (n - len(r)) for r in rows], dtype=torch.long)
    target_pos = torch.arange(1, n)[None, :]  # position t predicts token t + 1
    lens = torch.tensor([len(r) for r in rows])[:, None]
    plen = torch.tensor([len(encode(p)) for p in prompts])[:, None]
    return tokens, (target_pos >= plen) & (target_pos < lens)


def sft_loss(model: TinyGPT, tokens: torch.Tensor, loss_mask: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy over the completion tokens."""
    logits = model(tokens)[:, :-1]  # (B, T-1, V)
    ce = F.cross_entropy(logits.transpose(1, 2), tokens[:, 1:], reduction="none")  # (B, T-1)
    return (ce * loss_mask).sum() / loss_mask.sum()


def train_sft(
    steps: int = STEPS,
    seed: int = SEED,
    drop_carry: tuple[float, float] = DROP_CARRY,
    slip: float = SLIP,
    progress: Callable[[int, float], None] | None = None,
) -> TinyGPT:
    """Trains a fresh model on flawed demonstrations; deterministic for a given seed."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    train, _ = task.split()
    model = TinyGPT(Config())
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=max(steps, 1))
    for step in range(steps):
        probs = [rng.choice(train) for _ in range(BATCH)]
        demos = [task.demonstration(p, rng, drop_carry, slip) for p in probs]
        tokens, mask = batch_tensors([p.prompt for p in probs], demos)
        loss = sft_loss(model, tokens, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if progress is not None:
            progress(step, float(loss.detach()))
    return model


def sample_texts(
    model: TinyGPT, probs: list[task.Problem], temperature: float, seed: int = 0
) -> list[str]:
    """One completion per problem (decoded, up to the first EOS)."""
    gen = torch.Generator().manual_seed(seed)
    out: list[str] = []
    model.eval()
    for i in range(0, len(probs), 512):
        chunk = probs[i : i + 512]
        prompts = encode_batch([p.prompt for p in chunk])
        seq = model.generate(prompts, MAX_NEW, temperature=temperature, generator=gen)
        out += [decode(row[prompts.shape[1] :]) for row in seq]
    return out


def accuracy(model: TinyGPT, probs: list[task.Problem], temperature: float, seed: int = 0) -> float:
    """Fraction of problems whose sampled completion the exact checker accepts."""
    texts = sample_texts(model, probs, temperature, seed)
    return sum(task.is_correct(t, p) for t, p in zip(texts, probs, strict=True)) / len(probs)


def weights_digest(model: TinyGPT) -> str:
    """sha256 of every parameter's bytes, in state-dict order."""
    h = hashlib.sha256()
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().contiguous().numpy().tobytes())
    return h.hexdigest()


def save(model: TinyGPT, path: Path, meta: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    torch.save({"config": model.cfg.to_dict(), "state_dict": state, "meta": meta}, path)


def load(path: Path = CHECKPOINT) -> tuple[TinyGPT, dict]:
    """The model and its metadata (steps, seed, metrics) from a checkpoint."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model = TinyGPT(Config(**ckpt["config"]))
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return model, ckpt["meta"]


def regenerate(path: Path = CHECKPOINT, steps: int = STEPS, seed: int = SEED) -> dict:
    """Trains the SFT model (one thread, seeded), measures it on held-out prompts, saves it.

    Returns:
        The metadata written with the checkpoint (also printed by the command).
    """
    from tqdm import tqdm

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same bits on every run on this machine
    try:
        t0 = time.perf_counter()
        bar = tqdm(total=steps, desc="SFT", unit="step")

        def progress(step: int, loss: float) -> None:
            bar.update(1)
            if step % 50 == 0:
                bar.set_postfix(loss=f"{loss:.3f}")

        model = train_sft(steps, seed, DROP_CARRY, SLIP, progress)
        bar.close()
        seconds = time.perf_counter() - t0
        _, held_out = task.split()
        meta = {
            "steps": steps,
            "seed": seed,
            "drop_carry": list(DROP_CARRY),
            "slip": SLIP,
            "train_seconds": round(seconds, 1),
            "held_out_sampled_accuracy": accuracy(model, held_out, 1.0, seed=0),
            "held_out_greedy_accuracy": accuracy(model, held_out, 0.0),
            "digest": weights_digest(model),
        }
        save(model, path, meta)
        return meta
    finally:
        torch.set_num_threads(threads)
