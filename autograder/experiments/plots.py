"""Reporting experiment results: the summary, the answer lines, the plots, the command."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from autograder.experiments.design import (
    DEFAULT_SEEDS,
    EVAL_EVERY,
    GRADED_METRIC,
    METRICS,
    QUESTION_RUNS,
    THRESHOLD,
    ExperimentError,
    ExperimentResult,
)
from autograder.experiments.runner import run_experiments


# -- reporting ------------------------------------------------------------------------------------
def summary(results: Sequence[ExperimentResult]) -> str:
    """Episodes to 90 % per setting and metric (mean ± std [min-max] over seeds); the answers."""
    if not results:
        return "no experiments"
    seeds = results[0].seeds
    lines = [
        f"Episodes to 90 % (first evaluation >= {THRESHOLD:g}; evaluated every {EVAL_EVERY} "
        f"episodes; seeds {seeds})",
        "  prob   = mean probability of the target action on fixed evaluation states (graded)",
        "  greedy = the lesson's action-2 rate (argmax on 100 fresh random states)",
        "",
        f"{'experiment':<19}{'setting':<20}{'budget':>7}  {'metric':<7}"
        f"{'mean ± std  [min-max]':<32}per seed",
    ]
    for r in results:
        for sr in r.settings:
            for i, metric in enumerate(sorted(sr.curves, key=METRICS.index)):
                st = sr.stats(metric)
                head = (
                    f"{r.experiment.name + ' (' + r.experiment.question + ')':<19}"
                    if i == 0
                    else " " * 19
                )
                label = f"{sr.setting.label:<20}{sr.setting.episodes:>7}" if i == 0 else " " * 27
                per_seed = ", ".join("never" if v is None else str(v) for v in st.per_seed)
                lines.append(f"{head}{label}  {metric:<7}{st.describe():<32}[{per_seed}]")
    answers = answer_lines(results)
    if answers:
        lines += [
            "",
            "For course/questions.py (metric 'prob', mean over the seeds, rounded):",
            *answers,
        ]
    return "\n".join(lines)


def answer_lines(results: Sequence[ExperimentResult]) -> list[str]:
    """``Q1_episodes_target2 = 80``-style lines for the numeric answers these results cover."""
    found: dict[str, int | None] = {}
    seeds_of: dict[str, list[int]] = {}
    for var, (setting, seeds_var) in QUESTION_RUNS.items():
        for r in results:
            for sr in r.settings:
                if (
                    sr.setting.key == setting.key
                    and GRADED_METRIC in sr.curves
                    and var not in found
                ):
                    found[var] = sr.stats(GRADED_METRIC).answer
                    seeds_of[seeds_var] = r.seeds
    lines = []
    done: set[str] = set()
    for var, (_, seeds_var) in QUESTION_RUNS.items():
        if var not in found:
            continue
        if seeds_var not in done:
            lines.append(f"  {seeds_var} = {seeds_of[seeds_var]}")
            done.add(seeds_var)
        lines.append(f"  {var} = {found[var]}")
    return lines


def plot_experiment(result: ExperimentResult, path: str | Path | None = None):
    """Learning curves of one experiment: mean over seeds (line) and min-max (band), 90 % line.

    One panel per metric. Saves a PNG when ``path`` is given; returns the matplotlib Figure.
    """
    import numpy as np
    from matplotlib.figure import Figure

    metrics = [m for m in METRICS if any(m in sr.curves for sr in result.settings)]
    fig = Figure(figsize=(5.2 * len(metrics), 4.0), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    colors = ("tab:blue", "tab:orange")
    titles = {
        "prob": "mean P(target) on fixed eval states (graded)",
        "greedy": "greedy target rate (lesson's action-2 rate)",
    }
    for ax, metric in zip(axes, metrics, strict=True):
        for color, sr in zip(colors, result.settings, strict=False):
            runs = sr.curves.get(metric)
            if not runs:
                continue
            ys = np.array([runs[s] for s in sorted(runs)], dtype=float)  # (seeds, evals)
            xs = EVAL_EVERY * np.arange(1, ys.shape[1] + 1)
            st = sr.stats(metric)
            if st.reached:
                label = f"{sr.setting.label}: 90 % after {st.mean:.0f} ± {st.std:.0f} episodes"
            else:
                label = f"{sr.setting.label}: never 90 %"
            if st.missing and st.reached:
                label += f" ({st.missing} seed{'s' if st.missing != 1 else ''} never)"
            ax.plot(xs, ys.mean(axis=0), color=color, label=label)
            ax.fill_between(xs, ys.min(axis=0), ys.max(axis=0), color=color, alpha=0.2, linewidth=0)
            if st.answer is not None:
                ax.axvline(st.answer, color=color, linestyle=":", linewidth=1)
        ax.axhline(THRESHOLD, color="black", linestyle="--", linewidth=1, label="90 %")
        if result.experiment.log_x:
            ax.set_xscale("log")
        ax.set_ylim(0.0, 1.02)
        ax.set_xlabel("episodes")
        ax.set_ylabel(metric)
        ax.set_title(titles[metric], fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    n = len(result.seeds)
    fig.suptitle(
        f"{result.experiment.question}: {result.experiment.title} "
        f"(mean and min-max over {n} seed{'s' if n != 1 else ''})"
    )
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    return fig


# -- the command ----------------------------------------------------------------------------------
def main(
    impl_dir: Path,
    out_dir: Path,
    seeds: int | Iterable[int] = DEFAULT_SEEDS,
    names: Sequence[str] | None = None,
    jobs: int = 1,
    plots: bool = True,
    progress: bool = True,
) -> list[ExperimentResult]:
    """``python -m autograder experiments``: run, plot, print the summary and the time taken."""
    impl_dir = Path(impl_dir)
    if not (impl_dir / "ex04_reinforce.py").is_file():
        raise ExperimentError(
            f"{impl_dir / 'ex04_reinforce.py'} not found "
            "(use --impl-dir to point at your course folder)"
        )
    start = time.perf_counter()
    results = run_experiments(
        impl_dir=impl_dir, names=names, seeds=seeds, jobs=jobs, progress=progress
    )
    took = time.perf_counter() - start
    print(summary(results))
    if plots:
        print()
        for r in results:
            path = Path(out_dir) / f"{r.experiment.name}.png"
            plot_experiment(r, path)
            print(f"wrote {path}")
    runs = len(
        {
            (sr.setting.key, seed, m)
            for r in results
            for sr in r.settings
            for seed in r.seeds
            for m in sr.curves
        }
    )
    print(
        f"\n{runs} train_bandit runs in {took:.1f} s "
        f"({jobs} worker process{'es' if jobs != 1 else ''})"
    )
    return results
