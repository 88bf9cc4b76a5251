"""What ``python -m autograder capstone`` and ``capstone-sft`` do (declared in ``commands/capstone.py``).

``capstone`` loads your ``ex06``-``ex11`` from ``--course`` (default ``course/``), or from
a saved notebook with ``--notebook a4_capstone.ipynb`` (its cells become modules by the one
ingest path, :mod:`autograder.ingest.notebook`, in a temporary folder, and the record is
written next to the notebook), then runs RLVR (GRPO) and RLHF (a reward model from a flawed labeller, PPO with and without
the KL penalty) for each seed, writes one PNG per run under ``--out`` and prints a
summary. ``capstone-sft`` (or ``capstone --regenerate-sft``) regenerates the shipped SFT
checkpoint deterministically.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from autograder.capstone import sft, student


def run_sft(args: argparse.Namespace) -> int:
    """Regenerates the SFT checkpoint and prints its metadata."""
    out = Path(getattr(args, "out", None) or sft.CHECKPOINT)
    if out.suffix != ".pt":
        out = sft.CHECKPOINT
    meta = sft.regenerate(out, steps=getattr(args, "steps", None) or sft.STEPS)
    print(f"wrote {out}")
    for key, value in meta.items():
        print(f"  {key}: {value}")
    return 0


def _bar(desc: str, total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", disable=not enabled, leave=False)


def notebook_folder(notebook: Path, folder: Path) -> list[str]:
    """Writes the modules of a saved ``notebook`` into ``folder``; returns the notes.

    The same extraction as every grading path (:func:`autograder.ingest.notebook.notebook_modules`:
    grade cells, magics and top-level expression statements left out), so the functions the
    capstone runs are the ones the grader reads and hashes.

    Raises:
        student.CapstoneError: the notebook cannot be read or defines no exercise.
    """
    from autograder.ingest.errors import SubmissionError
    from autograder.ingest.notebook import notebook_modules
    from autograder.ingest.submission import write_modules

    if not notebook.is_file():
        raise student.CapstoneError(f"{notebook}: no such notebook")
    try:
        return write_modules(notebook_modules([notebook]), folder)
    except SubmissionError as exc:
        raise student.CapstoneError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    """Runs the capstone phases for each seed; returns the exit status."""
    if args.regenerate_sft:
        return run_sft(argparse.Namespace(out=sft.CHECKPOINT, steps=sft.STEPS))
    notebook = getattr(args, "notebook", None)
    if notebook:
        notebook = Path(notebook).resolve()
        with tempfile.TemporaryDirectory(prefix="rl4llm-capstone-") as tmp:
            try:
                notebook_folder(notebook, Path(tmp))
            except student.CapstoneError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            print(f"your functions: the cells of {notebook.name} (save it before running this)")
            return run_phases(
                argparse.Namespace(**{**vars(args), "course": tmp, "record_dir": notebook.parent})
            )
    return run_phases(args)


def run_phases(args: argparse.Namespace) -> int:
    """The phases of :func:`run` on the modules in ``args.course``; returns the exit status."""
    import torch

    torch.set_num_threads(1)  # small matrices: one thread is as fast and the curve reproducible
    out = Path(args.out)
    progress = not args.no_progress and sys.stderr.isatty()
    seeds = list(range(max(args.seeds, 1)))
    try:
        if args.only in (None, "rlvr"):
            _run_rlvr(args, seeds, out, progress)
        if args.only in (None, "rlhf"):
            _run_rlhf(args, seeds, out, progress)
    except student.CapstoneError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _run_rlvr(args: argparse.Namespace, seeds: list[int], out: Path, progress: bool) -> None:
    from autograder.capstone import rlvr
    from autograder.capstone.plots import plot_runs

    fns = student.load(args.course, student.RLVR_NEEDS)
    student.check_rewards(fns)
    cfg = rlvr.RlvrConfig() if args.steps is None else rlvr.RlvrConfig(steps=args.steps)
    print(f"RLVR: GRPO from the SFT checkpoint, {cfg.steps} steps x {cfg.prompts} prompts x "
          f"{cfg.group} samples, kl_coef={cfg.kl_coef}")  # fmt: skip
    finals, gains = [], []
    for seed in seeds:
        bar = _bar(f"RLVR seed {seed}", cfg.steps, progress)

        def tick(step: int, m: dict, bar=bar) -> None:
            bar.update(1)
            bar.set_postfix(reward=f"{m['reward']:.2f}", kl=f"{m['kl']:.3f}", acc=f"{m['acc']:.0%}")

        t0 = time.perf_counter()
        _, curve = rlvr.train_rlvr(fns, seed, cfg, tick)
        bar.close()
        png = plot_runs(
            {"GRPO": curve},
            f"RLVR (GRPO), seed {seed}",
            out / f"rlvr_seed{seed}.png",
            "mean reward (math + 0.1 format)",
        )
        start, end = curve.accuracy[0], curve.accuracy[-1]
        finals.append(end)
        gains.append(end - start)
        print(
            f"  seed {seed}: held-out sampled accuracy {start:.1%} -> {end:.1%} "
            f"({end - start:+.1%}), final KL {curve.kl[-1]:.4f}, "
            f"{time.perf_counter() - t0:.0f} s  [{png}]"
        )
    if len(seeds) > 1:
        print(f"  mean over {len(seeds)} seeds: final accuracy {statistics.mean(finals):.1%}, "
              f"gain {statistics.mean(gains):+.1%}")  # fmt: skip


def _run_rlhf(args: argparse.Namespace, seeds: list[int], out: Path, progress: bool) -> None:
    from autograder.capstone import rlhf

    rlhf.run_cli(args, seeds, out, progress)
