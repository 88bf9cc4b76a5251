"""RLHF: a reward model from a flawed labeller, then PPO with and without the KL penalty.

1. **Preference pairs.** Two SFT samples per training prompt; the flawed labeller
   (:func:`~autograder.capstone.task.flawed_preference`) picks one. It mostly prefers the
   correct completion but also likes enthusiasm (``!``), which in the demonstrations came
   with carelessness.
2. **Reward model.** The SFT trunk with a scalar head, read at the last real token,
   trained with the student's ``preference_loss`` (Bradley-Terry).
3. **PPO.** One completion per prompt, scored by the reward model; per-token rewards from
   the student's ``kl_penalized_rewards`` (the score at the last token minus
   ``kl_coef * k1``), advantages from the student's ``gae`` per completion against a value
   head (its own trunk, initialised from SFT), updates with the student's ``ppo_clip_loss``,
   diagnostics from ``ppo_stats``, KL to SFT from ``kl_k3`` summed by ``sequence_logprob``.

With ``kl_coef = 0`` the policy chases the reward model's liking for ``!``, opens its
reasoning with ``!!!``, and inherits the carelessness that came with it: the reward-model
score rises while true (verifier) accuracy falls and the KL to SFT grows. With
``KL_COEF`` the penalty for leaving the SFT distribution outweighs what ``!!!`` earns, so
accuracy holds and the KL stays small; the price is that the reward-model score barely
moves either (the KL term costs all the "improvement" the flawed reward model offered).
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn

from autograder.capstone import sft, student, task
from autograder.capstone.model import TinyGPT
from autograder.capstone.rlvr import Curve
from autograder.capstone.tokenizer import EOS_ID, PAD_ID, decode, encode_batch

# The penalty that holds accuracy. The Bradley-Terry reward model scores on the labeller's
# scale times its sharpness (4), so the hack (``!!!``) is worth about +2 in score; the
# KL-regularised optimum pi ~ pi_ref * exp(r / kl_coef) multiplies the hacked branch by
# exp(2 / kl_coef): about 55 at 0.5, 7 at 1, e at 2. Measured on seed 0 (40 PPO steps; 60 at 0):
# accuracy 74 % -> 2 % at 0 (KL 46 nats), 65 % at 0.5, 68 % at 1.0, 73 % at 2.0 (KL 0.17).
KL_COEF = 2.0


@dataclass(frozen=True)
class RlhfConfig:
    pair_prompts: int = 768
    rm_steps: int = 100
    rm_batch: int = 64
    rm_lr: float = 3e-4
    steps: int = 40
    batch: int = 64
    ppo_epochs: int = 2
    clip_eps: float = 0.2
    lr: float = 3e-4
    value_lr: float = 1e-3
    gamma: float = 1.0
    lam: float = 0.95
    eval_every: int = 10
    eval_prompts: int = 300


class ScalarModel(nn.Module):
    """A trunk (a copy of the SFT model) with a scalar head: one number per position."""

    def __init__(self, trunk: TinyGPT) -> None:
        super().__init__()
        self.trunk = copy.deepcopy(trunk)
        self.head = nn.Linear(trunk.cfg.d_model, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(B, T)`` ids -> ``(B, T)`` scalars."""
        return self.head(self.trunk.hidden(tokens)).squeeze(-1)

    def score(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(B,)``: the scalar at each row's last real token (the EOS when there is one)."""
        last = (tokens != PAD_ID).sum(dim=1) - 1  # prompts are not padded here
        return self(tokens).gather(1, last[:, None]).squeeze(1)


def sample(
    model: TinyGPT, probs: list[task.Problem], gen: torch.Generator, temperature: float = 1.0
) -> tuple[torch.Tensor, list[str]]:
    """One completion per problem: ``(tokens (B, T), texts)``."""
    model.eval()
    tokens = model.generate(
        encode_batch([p.prompt for p in probs]), sft.MAX_NEW, temperature, generator=gen
    )
    return tokens, [decode(row[sft.PROMPT_LEN :]) for row in tokens]


def train_reward_model(
    fns: SimpleNamespace, base: TinyGPT, seed: int, cfg: RlhfConfig
) -> tuple[ScalarModel, dict]:
    """Pairs from SFT samples labelled by the flawed labeller; the student's preference_loss."""
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    train, _ = task.split()
    probs = [rng.choice(train) for _ in range(cfg.pair_prompts)]
    tok_a, txt_a = sample(base, probs, gen)
    tok_b, txt_b = sample(base, probs, gen)
    chosen, rejected = [], []
    for i, p in enumerate(probs):
        if txt_a[i] == txt_b[i]:
            continue
        a_wins = task.flawed_preference(txt_a[i], txt_b[i], p, rng)
        chosen.append(tok_a[i] if a_wins else tok_b[i])
        rejected.append(tok_b[i] if a_wins else tok_a[i])
    ch, rj = torch.stack(chosen), torch.stack(rejected)  # (N, T) each
    rm = ScalarModel(base)
    opt = torch.optim.Adam(rm.parameters(), lr=cfg.rm_lr)
    rm.train()
    for _ in range(cfg.rm_steps):
        idx = torch.randint(0, ch.shape[0], (cfg.rm_batch,))
        loss = fns.preference_loss(rm.score(ch[idx]), rm.score(rj[idx]))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    rm.eval()
    with torch.no_grad():
        agree = float((rm.score(ch) > rm.score(rj)).float().mean())
    return rm, {"pairs": int(ch.shape[0]), "rm_agrees_with_labeller": agree}


def ppo_step(
    fns: SimpleNamespace,
    policy: TinyGPT,
    ref: TinyGPT,
    value: ScalarModel,
    rm: ScalarModel,
    opts: tuple[torch.optim.Optimizer, torch.optim.Optimizer],
    probs: list[task.Problem],
    kl_coef: float,
    cfg: RlhfConfig,
    gen: torch.Generator,
) -> dict:
    """One PPO iteration with the student's functions; returns the step's metrics."""
    tokens, texts = sample(policy, probs, gen)
    with torch.no_grad():
        score = rm.score(tokens)  # (B,)
        mask = fns.completion_mask(tokens, sft.PROMPT_LEN, EOS_ID).bool()  # (B, T-1)
        logp_old = fns.token_logprobs(policy(tokens), tokens, 1.0)  # (B, T-1)
        ref_logp = fns.token_logprobs(ref(tokens), tokens, 1.0)  # (B, T-1)
        values = value(tokens)[:, :-1]  # (B, T-1): V(prefix up to t), before token t + 1
        rewards = fns.kl_penalized_rewards(logp_old, ref_logp, mask, score, kl_coef)
        adv = torch.zeros_like(logp_old)
        ret = torch.zeros_like(logp_old)
        for b in range(tokens.shape[0]):
            cols = mask[b].nonzero().squeeze(1)
            dones = torch.zeros(cols.numel(), dtype=torch.bool)
            dones[-1] = True
            a, r = fns.gae(rewards[b, cols], values[b, cols], dones, cfg.gamma, cfg.lam)
            adv[b, cols], ret[b, cols] = a, r
        real = adv[mask]
        adv = torch.where(mask, (adv - real.mean()) / (real.std() + 1e-8), 0.0)
    policy_opt, value_opt = opts
    policy.train()
    value.train()
    for _ in range(cfg.ppo_epochs):
        logp = fns.token_logprobs(policy(tokens), tokens, 1.0)
        loss = fns.ppo_clip_loss(logp, logp_old, adv, cfg.clip_eps, mask)
        policy_opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        policy_opt.step()
        v = value(tokens)[:, :-1]
        v_loss = torch.where(mask, (v - ret) ** 2, 0.0).sum() / mask.sum()
        value_opt.zero_grad(set_to_none=True)
        v_loss.backward()
        value_opt.step()
    stats = fns.ppo_stats(logp.detach(), logp_old, adv, cfg.clip_eps, mask)
    kl_seq = fns.sequence_logprob(fns.kl_k3(logp_old, ref_logp), mask)  # (B,), k3 summed
    return {
        "reward": float(score.mean()),
        "kl": float(kl_seq.mean()),  # per completion
        "excl": sum("!" in t for t in texts) / len(texts),
        "clip_fraction": float(stats["clip_fraction"]),
    }


@dataclass
class RlhfRun:
    kl_coef: float
    curve: Curve
    before: list[str]
    after: list[str]
    excl: list[float]


def train_ppo(
    fns: SimpleNamespace,
    rm: ScalarModel,
    seed: int,
    kl_coef: float,
    cfg: RlhfConfig = RlhfConfig(),
    progress: Callable[[int, dict], None] | None = None,
) -> tuple[TinyGPT, RlhfRun]:
    """PPO from SFT against the reward model; the same seed gives the same curve."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    policy = sft.load()[0]
    ref = copy.deepcopy(policy).eval()
    for p in [*ref.parameters(), *rm.parameters()]:
        p.requires_grad_(False)
    value = ScalarModel(policy)
    opts = (
        torch.optim.Adam(policy.parameters(), lr=cfg.lr),
        torch.optim.Adam(value.parameters(), lr=cfg.value_lr),
    )
    train, held_out = task.split()
    held_out = held_out[: cfg.eval_prompts]
    show = held_out[:4]
    before = sample(policy, show, torch.Generator().manual_seed(7))[1]
    curve, excl = Curve(), []
    t0 = time.perf_counter()
    for step in range(cfg.steps + 1):
        if step % cfg.eval_every == 0 or step == cfg.steps:
            curve.eval_steps.append(step)
            curve.accuracy.append(sft.accuracy(policy, held_out, 1.0, seed=1000 + seed))
        if step == cfg.steps:
            break
        probs = [rng.choice(train) for _ in range(cfg.batch)]
        m = ppo_step(fns, policy, ref, value, rm, opts, probs, kl_coef, cfg, gen)
        curve.steps.append(step)
        curve.reward.append(m["reward"])
        curve.kl.append(m["kl"])
        excl.append(m["excl"])
        if progress is not None:
            progress(step, {**m, "acc": curve.accuracy[-1]})
    curve.seconds = time.perf_counter() - t0
    after = sample(policy, show, torch.Generator().manual_seed(7))[1]
    policy.eval()
    return policy, RlhfRun(kl_coef, curve, before, after, excl)


def run_cli(args: argparse.Namespace, seeds: list[int], out: Path, progress: bool) -> None:
    """The RLHF phase of ``python -m autograder capstone``."""
    from tqdm import tqdm

    from autograder.capstone.plots import plot_runs

    fns = student.load(args.course, student.RLHF_NEEDS)
    cfg = RlhfConfig() if args.steps is None else RlhfConfig(steps=args.steps)
    print(f"RLHF: reward model from a flawed labeller, then PPO {cfg.steps} steps x "
          f"{cfg.batch} prompts, kl_coef = 0 and {KL_COEF}")  # fmt: skip
    summary: dict[float, list[RlhfRun]] = {0.0: [], KL_COEF: []}
    for seed in seeds:
        t0 = time.perf_counter()
        rm, rm_info = train_reward_model(fns, sft.load()[0], seed, cfg)
        print(f"  seed {seed}: reward model on {rm_info['pairs']} pairs, agrees with the "
              f"labeller on {rm_info['rm_agrees_with_labeller']:.0%}")  # fmt: skip
        runs = {}
        for kl_coef in (0.0, KL_COEF):
            bar = tqdm(total=cfg.steps, desc=f"PPO seed {seed} kl_coef={kl_coef}",
                       unit="step", disable=not progress, leave=False)  # fmt: skip

            def tick(step: int, m: dict, bar=bar) -> None:
                bar.update(1)
                bar.set_postfix(rm=f"{m['reward']:.2f}", kl=f"{m['kl']:.2f}", acc=f"{m['acc']:.0%}")

            _, run = train_ppo(fns, rm, seed, kl_coef, cfg, tick)
            bar.close()
            runs[f"kl_coef={kl_coef}"] = run.curve
            summary[kl_coef].append(run)
            c = run.curve
            print(f"    kl_coef={kl_coef}: RM score {c.reward[0]:+.2f} -> {c.reward[-1]:+.2f}, "
                  f"true accuracy {c.accuracy[0]:.1%} -> {c.accuracy[-1]:.1%}, "
                  f"KL {c.kl[-1]:.3f}, completions with '!' {run.excl[0]:.0%} -> "
                  f"{run.excl[-1]:.0%}")  # fmt: skip
            print(f"      before: {run.before[0]!r}\n      after:  {run.after[0]!r}")
        png = plot_runs(runs, f"RLHF (PPO vs a learned reward model), seed {seed}",
                        out / f"rlhf_seed{seed}.png", "reward-model score",
                        "KL to SFT (k3, summed per completion)")  # fmt: skip
        print(f"    {time.perf_counter() - t0:.0f} s  [{png}]")
    from autograder.capstone import record

    where = Path(getattr(args, "record_dir", None) or out)  # --notebook: next to the notebook
    path = record.write(where, record.build(args.course, student.RLHF_NEEDS, seeds, summary))
    beside = "your notebook" if getattr(args, "record_dir", None) else "questions.py"
    print(f"  record for the capstone questions: {path} (submit it next to {beside})")
    if len(seeds) > 1:
        for kl_coef, rs in summary.items():
            acc = statistics.mean(r.curve.accuracy[-1] - r.curve.accuracy[0] for r in rs)
            rmg = statistics.mean(r.curve.reward[-1] - r.curve.reward[0] for r in rs)
            print(f"  kl_coef={kl_coef}: mean over {len(rs)} seeds: RM score {rmg:+.2f}, "
                  f"accuracy {acc:+.1%}, final KL {statistics.mean(r.curve.kl[-1] for r in rs):.3f}")  # fmt: skip
