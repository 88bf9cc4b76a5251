"""The lesson's REINFORCE experiments, run with *your* ``train_bandit``.

The lesson ends its runnable REINFORCE example with three questions. Each one is
an experiment that compares two settings of ``train_bandit`` over several seeds:

========================  =============================  =================================
experiment                settings                       question (``course/questions.py``)
========================  =============================  =================================
``target``                target action 2 vs 0           Q1: does it learn equally fast?
``lr``                    learning rate 3e-3 vs 1e-4     Q2: episodes to 90 % at 1e-4
``wrong_reward``          wrong-action reward -0.1 vs 0  Q3: what happens, and why?
========================  =============================  =================================

Every run records two learning curves, evaluated every :data:`EVAL_EVERY` episodes:

* ``metric="prob"`` - the mean probability of the target action on a fixed set of
  evaluation states. The graded numbers use this one: it resolves the differences
  the questions ask about;
* ``metric="greedy"`` - the lesson's "action-2 rate" (argmax on 100 fresh random
  states). At lr 3e-3 it reaches 90 % within about 50 episodes in every setting,
  so it cannot tell the settings apart.

*Episodes to 90 %* of one run is the number of episodes at the first evaluation
whose value is at least 0.9 (``None`` if no evaluation within the budget is).
For a setting it is the mean over seeds, rounded to the nearest integer (``None``
if any seed never gets there).

From the command line (a progress bar, one PNG per experiment, a summary)::

    python -m autograder experiments                 # your course/ folder, seeds 0-4
    python -m autograder experiments --seeds 3 --only target --out my_plots

From a notebook or a script::

    from autograder.experiments import run_experiments, plot_experiment, summary
    results = run_experiments(train_bandit, seeds=5)   # your own function
    print(summary(results))
    for r in results:
        plot_experiment(r, f"{r.experiment.name}.png")

Instructors: ``python -m autograder experiments --write-bands`` re-derives the
accepted ranges of the numeric answers from the reference solution (see
:func:`compute_bands`) and stores them in ``autograder/data/question_bands.json``.
"""

from __future__ import annotations

import contextlib
import json
import math
import queue
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from autograder import PACKAGE_DIR, REPO_ROOT

EVAL_EVERY = 10  # episodes between evaluations: resolves differences of ~10 episodes
THRESHOLD = 0.9  # "reach 90 %"
FAST_EPISODES = 300  # budget at lr 3e-3 (the reference crosses 90 % after ~70-100 episodes)
SLOW_EPISODES = 4000  # budget at lr 1e-4 (the reference crosses after ~1,900-2,700 episodes)
METRICS = ("prob", "greedy")  # "prob" first: the graded one
GRADED_METRIC = "prob"
DEFAULT_SEEDS = 5
BAND_SEEDS = tuple(range(100, 120))  # reference seeds for the bands (not 0-4, students' default)
BANDS_PATH = PACKAGE_DIR / "data" / "question_bands.json"
CALL_TIMEOUT = 600.0  # seconds for one train_bandit call in a worker


class ExperimentError(RuntimeError):
    """``train_bandit`` failed or returned something that is not a learning curve."""


# -- what is run ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    """One configuration of ``train_bandit`` (everything but the seed and the metric)."""

    label: str
    target_action: int = 2
    lr: float = 3e-3
    wrong_reward: float = -0.1
    episodes: int = FAST_EPISODES

    @property
    def key(self) -> tuple:
        """What identifies a run (the label does not): equal keys give equal curves."""
        return (self.target_action, self.lr, self.wrong_reward, self.episodes)

    def kwargs(self, seed: int, metric: str = GRADED_METRIC) -> dict:
        """The keyword arguments of ``train_bandit`` for one run."""
        return {
            "target_action": self.target_action,
            "lr": self.lr,
            "wrong_reward": self.wrong_reward,
            "episodes": self.episodes,
            "eval_every": EVAL_EVERY,
            "seed": int(seed),
            "metric": metric,
        }

    def call(self, seed: int, metric: str = GRADED_METRIC) -> str:
        """The call as text, for messages."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs(seed, metric).items())
        return f"train_bandit({args})"


@dataclass(frozen=True)
class Experiment:
    name: str
    question: str
    title: str
    settings: tuple[Setting, Setting]
    log_x: bool = False


TARGET_2 = Setting("target 2")
TARGET_0 = Setting("target 0", target_action=0)
LR_FAST = Setting("lr 3e-3")
LR_SLOW = Setting("lr 1e-4", lr=1e-4, episodes=SLOW_EPISODES)
WRONG_MINUS = Setting("wrong reward -0.1")
WRONG_ZERO = Setting("wrong reward 0.0", wrong_reward=0.0)

EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment("target", "Q1", "Target action 2 vs 0", (TARGET_2, TARGET_0)),
    Experiment("lr", "Q2", "Learning rate 3e-3 vs 1e-4", (LR_FAST, LR_SLOW), log_x=True),
    Experiment(
        "wrong_reward", "Q3", "Reward for wrong actions -0.1 vs 0.0", (WRONG_MINUS, WRONG_ZERO)
    ),
)

# The numeric answers of course/questions.py: variable -> (setting, the variable holding its seeds).
QUESTION_RUNS: dict[str, tuple[Setting, str]] = {
    "Q1_episodes_target2": (TARGET_2, "Q1_seeds"),
    "Q1_episodes_target0": (TARGET_0, "Q1_seeds"),
    "Q2_episodes_lr_1e4": (LR_SLOW, "Q2_seeds"),
}


def experiment(name: str) -> Experiment:
    for e in EXPERIMENTS:
        if e.name == name:
            return e
    raise ValueError(
        f"unknown experiment {name!r} (known: {', '.join(e.name for e in EXPERIMENTS)})"
    )


# -- from curves to numbers -----------------------------------------------------------------------
def episodes_to_90(
    curve: Sequence[float], eval_every: int = EVAL_EVERY, threshold: float = THRESHOLD
) -> int | None:
    """Episodes at the first evaluation that is at least ``threshold`` (None: never)."""
    for i, value in enumerate(curve):
        if value >= threshold:
            return (i + 1) * eval_every
    return None


def round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def mean_episodes(per_seed: Sequence[int | None]) -> int | None:
    """A setting's episodes to 90 %: mean over seeds, rounded; None if a seed never got there."""
    if not per_seed or any(v is None for v in per_seed):
        return None
    return round_half_up(statistics.fmean(per_seed))


def answer_tolerance(value: int | None) -> float:
    """How far a reported number may be from the grader's re-run of the same seeds.

    Half an evaluation interval (so ``int()`` instead of ``round()`` is fine), or 2 % of
    the value, whichever is larger (a different CPU can change one seed's run a little).
    """
    return max(EVAL_EVERY / 2, 0.02 * (value or 0))


@dataclass(frozen=True)
class Stats:
    """Episodes to 90 % of one setting over seeds."""

    per_seed: tuple[int | None, ...]

    @property
    def reached(self) -> list[int]:
        return [v for v in self.per_seed if v is not None]

    @property
    def missing(self) -> int:
        return len(self.per_seed) - len(self.reached)

    @property
    def answer(self) -> int | None:
        return mean_episodes(self.per_seed)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.reached) if self.reached else None

    @property
    def std(self) -> float | None:
        return statistics.pstdev(self.reached) if self.reached else None

    def describe(self) -> str:
        if not self.reached:
            return "never"
        text = f"{self.mean:7.1f} ± {self.std:5.1f}  [{min(self.reached)}-{max(self.reached)}]"
        return text + (f"  ({self.missing} never)" if self.missing else "")


# -- results --------------------------------------------------------------------------------------
@dataclass
class SettingResult:
    setting: Setting
    curves: dict[str, dict[int, list[float]]] = field(
        default_factory=dict
    )  # metric -> seed -> curve

    def stats(self, metric: str = GRADED_METRIC) -> Stats:
        runs = self.curves.get(metric, {})
        return Stats(tuple(episodes_to_90(runs[s]) for s in sorted(runs)))


@dataclass
class ExperimentResult:
    experiment: Experiment
    seeds: list[int]
    settings: list[SettingResult]

    def setting(self, label: str) -> SettingResult:
        for s in self.settings:
            if s.setting.label == label:
                return s
        raise KeyError(label)


# -- running --------------------------------------------------------------------------------------
Runner = Callable[[dict], list[float]]


def check_curve(out: object, kwargs: dict) -> list[float]:
    """The curve ``train_bandit`` returned, or ExperimentError saying what is wrong with it."""
    n = kwargs["episodes"] // kwargs["eval_every"]
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    if not isinstance(out, list) or len(out) != n:
        raise ExperimentError(
            f"train_bandit({args}): expected a list of {n} floats, got {_short(out)}"
        )
    if not all(
        type(v) in (float, int) and not isinstance(v, bool) and 0.0 <= v <= 1.0 for v in out
    ):
        raise ExperimentError(f"train_bandit({args}): expected floats in [0, 1], got {_short(out)}")
    return [float(v) for v in out]


def _short(x: object, limit: int = 160) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@contextlib.contextmanager
def _one_thread():
    """Run torch single-threaded, as the grader does (same numbers, no oversubscription)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def function_runner(train_bandit: Callable[..., list[float]]) -> Runner:
    """Call ``train_bandit`` in this process (a notebook's own function)."""

    def run(kwargs: dict) -> list[float]:
        with _one_thread():
            try:
                out = train_bandit(**kwargs)
            except TypeError as exc:
                if "metric" in str(exc):
                    raise ExperimentError(
                        f"train_bandit does not take metric=...: {exc} "
                        "(see its docstring in ex04_reinforce)"
                    ) from None
                raise
        return check_curve(out, kwargs)

    return run


class WorkerRunner:
    """Call ``train_bandit`` of a course folder in worker processes (as the grader does).

    Args:
        impl_dir: a folder laid out like ``course/`` (``ex04_reinforce.py`` and what it imports).
        jobs: how many workers run at once.
    """

    def __init__(self, impl_dir: Path, jobs: int = 1) -> None:
        from autograder.seam.proxy import Impl

        self.impl_dir = Path(impl_dir)
        self.jobs = max(1, int(jobs))
        self.pool: queue.Queue = queue.Queue()
        self.all = [
            Impl(self.impl_dir, "ex04_reinforce").using(timeout=CALL_TIMEOUT)
            for _ in range(self.jobs)
        ]
        for impl in self.all:
            self.pool.put(impl)

    def __call__(self, kwargs: dict) -> list[float]:
        from autograder.seam.errors import Problem

        impl = self.pool.get()
        try:
            out = impl.train_bandit(**kwargs)
        except BaseException as exc:  # a StudentProblem is a BaseException
            if isinstance(exc, Problem):
                raise ExperimentError(
                    f"{self.impl_dir / 'ex04_reinforce.py'}: {exc.render()}"
                ) from None
            raise
        finally:
            self.pool.put(impl)
        return check_curve(out, kwargs)

    def close(self) -> None:
        for impl in self.all:
            impl.shutdown()


def _progress(total: int, enabled: bool, desc: str):
    if not enabled:
        return contextlib.nullcontext(None)
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="run", file=sys.stderr, dynamic_ncols=True)


def run_many(
    runner: Runner,
    tasks: Sequence[tuple[Setting, int, str]],
    jobs: int = 1,
    progress: bool = True,
    desc: str = "train_bandit runs",
) -> dict[tuple, list[float]]:
    """Run each (setting, seed, metric) once; returns ``{(setting.key, seed, metric): curve}``.

    The longest runs start first so that ``jobs`` workers finish together.
    """
    unique: dict[tuple, tuple[Setting, int, str]] = {}
    for setting, seed, metric in tasks:
        unique.setdefault((setting.key, seed, metric), (setting, seed, metric))
    order = sorted(unique.items(), key=lambda kv: -kv[1][0].episodes)
    out: dict[tuple, list[float]] = {}
    with _progress(len(order), progress, desc) as bar:
        if jobs <= 1:
            for key, (setting, seed, metric) in order:
                if bar is not None:
                    bar.set_postfix_str(f"{setting.label}, seed {seed}, {metric}")
                out[key] = runner(setting.kwargs(seed, metric))
                if bar is not None:
                    bar.update()
        else:
            with ThreadPoolExecutor(max_workers=jobs) as ex:
                futures = {ex.submit(runner, s.kwargs(seed, m)): key for key, (s, seed, m) in order}
                try:
                    for fut in as_completed(futures):
                        out[futures[fut]] = fut.result()
                        if bar is not None:
                            bar.update()
                except BaseException:
                    for fut in futures:
                        fut.cancel()
                    raise
    return out


def seed_list(seeds: int | Iterable[int]) -> list[int]:
    """``5`` -> ``[0, 1, 2, 3, 4]``; a list of seeds stays as it is."""
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds must be at least 1, got {seeds}")
        return list(range(seeds))
    out = [int(s) for s in seeds]
    if not out:
        raise ValueError("seeds must not be empty")
    return out


def run_experiments(
    train_bandit: Callable[..., list[float]] | None = None,
    *,
    impl_dir: str | Path | None = None,
    names: Sequence[str] | None = None,
    seeds: int | Iterable[int] = DEFAULT_SEEDS,
    metrics: Sequence[str] = METRICS,
    jobs: int = 1,
    progress: bool = True,
) -> list[ExperimentResult]:
    """Run the lesson's experiments with your ``train_bandit``.

    Args:
        train_bandit: your function (in a notebook); or leave it out and give ``impl_dir``.
        impl_dir: a folder laid out like ``course/``; its ``train_bandit`` runs in worker
            processes, exactly as the grader runs it.
        names: which experiments (``"target"``, ``"lr"``, ``"wrong_reward"``); default all.
        seeds: a number of seeds (``5`` means seeds 0-4) or the seeds themselves.
        metrics: which curves to record (``"prob"`` is the graded one).
        jobs: worker processes at once (``impl_dir`` only).
        progress: show a progress bar.

    Returns:
        One :class:`ExperimentResult` per experiment, in the order asked.
    """
    exps = [experiment(n) for n in names] if names else list(EXPERIMENTS)
    seeds = seed_list(seeds)
    for m in metrics:
        if m not in METRICS:
            raise ValueError(f"unknown metric {m!r} (known: {', '.join(METRICS)})")
    tasks = [(s, seed, m) for e in exps for s in e.settings for seed in seeds for m in metrics]
    if train_bandit is not None:
        curves = run_many(function_runner(train_bandit), tasks, jobs=1, progress=progress)
    elif impl_dir is not None:
        runner = WorkerRunner(Path(impl_dir), jobs)
        try:
            curves = run_many(runner, tasks, jobs=runner.jobs, progress=progress)
        finally:
            runner.close()
    else:
        raise ValueError("give train_bandit (a function) or impl_dir (a folder like course/)")
    results = []
    for e in exps:
        settings = []
        for s in e.settings:
            sr = SettingResult(s)
            for m in metrics:
                sr.curves[m] = {seed: curves[(s.key, seed, m)] for seed in seeds}
            settings.append(sr)
        results.append(ExperimentResult(e, seeds, settings))
    return results


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


# -- bands of the numeric answers (instructors) ---------------------------------------------------
BAND_RULE = (
    "band = [min - margin, max + margin] of the per-seed episodes-to-90 % of the reference "
    "train_bandit over the reference seeds, margin = max(2 * eval_every, 10 % of the median). "
    "A student's answer is a mean over their own 3-5 seeds, which lies inside [min, max] of "
    "per-seed values drawn from the same distribution; the margin covers seeds outside the "
    "reference sample and correct implementations that draw their random numbers differently."
)


def band_from(per_seed: Sequence[int | None]) -> dict:
    """The accepted range for one numeric answer, from the reference's per-seed values."""
    if any(v is None for v in per_seed):
        raise ValueError(
            f"the reference did not reach 90 % within the budget on every seed: {list(per_seed)}"
        )
    values = [int(v) for v in per_seed]
    margin = max(2 * EVAL_EVERY, 0.1 * statistics.median(values))
    return {
        "per_seed": values,
        "mean": round(statistics.fmean(values), 2),
        "std": round(statistics.pstdev(values), 2),
        "min": min(values),
        "max": max(values),
        "margin": round(margin, 2),
        "band": [math.floor(min(values) - margin), math.ceil(max(values) + margin)],
    }


def compute_bands(
    runner: Runner, seeds: Sequence[int] = BAND_SEEDS, jobs: int = 1, progress: bool = True
) -> dict:
    """Run the reference over ``seeds`` for every numeric answer and derive its band."""
    tasks = [(setting, s, GRADED_METRIC) for setting, _ in QUESTION_RUNS.values() for s in seeds]
    curves = run_many(runner, tasks, jobs=jobs, progress=progress, desc="reference runs")
    import torch

    answers = {}
    for var, (setting, _) in QUESTION_RUNS.items():
        per_seed = [episodes_to_90(curves[(setting.key, s, GRADED_METRIC)]) for s in seeds]
        kwargs = setting.kwargs(0)
        kwargs.pop("seed")
        answers[var] = {"train_bandit": kwargs, **band_from(per_seed)}
    return {
        "about": "Accepted ranges of the numeric answers of course/questions.py. "
        "Generated; do not edit.",
        "generated_by": "python -m autograder experiments --write-bands",
        "rule": BAND_RULE,
        "metric": GRADED_METRIC,
        "eval_every": EVAL_EVERY,
        "threshold": THRESHOLD,
        "seeds": list(seeds),
        "torch": torch.__version__,
        "answers": answers,
    }


def write_bands(
    path: Path = BANDS_PATH, jobs: int = 1, progress: bool = True, seeds: Sequence[int] = BAND_SEEDS
) -> dict:
    """Derive the bands from the reference solution (``solutions/``) and write them to ``path``."""
    solutions = REPO_ROOT / "solutions"
    if not (solutions / "ex04_reinforce.py").is_file():
        raise ExperimentError(
            f"the reference solution {solutions / 'ex04_reinforce.py'} is not available"
        )
    runner = WorkerRunner(solutions, jobs)
    try:
        data = compute_bands(runner, seeds, jobs=runner.jobs, progress=progress)
    finally:
        runner.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return data


def load_bands(path: Path = BANDS_PATH) -> dict:
    """The stored bands; checks that they were made for the current settings."""
    data = json.loads(Path(path).read_text())
    for var, (setting, _) in QUESTION_RUNS.items():
        want = setting.kwargs(0)
        want.pop("seed")
        got = data.get("answers", {}).get(var, {}).get("train_bandit")
        if (
            got != want
            or data.get("eval_every") != EVAL_EVERY
            or data.get("threshold") != THRESHOLD
        ):
            raise ExperimentError(
                f"{path} was made for other settings ({var}: {got}, expected {want}); "
                "regenerate it: python -m autograder experiments --write-bands"
            )
    return data


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
