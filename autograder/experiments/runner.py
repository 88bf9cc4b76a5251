"""Running ``train_bandit`` over settings and seeds: in this process or in sandboxed workers."""

from __future__ import annotations

import contextlib
import queue
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from autograder.experiments.design import (
    CALL_TIMEOUT,
    DEFAULT_SEEDS,
    EXPERIMENTS,
    METRICS,
    ExperimentError,
    ExperimentResult,
    Setting,
    SettingResult,
    experiment,
)

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
