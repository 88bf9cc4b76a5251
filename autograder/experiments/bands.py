"""The accepted ranges (bands) of the numeric answers, derived from the reference (instructors)."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path

from autograder import REPO_ROOT
from autograder.experiments.design import (
    BAND_SEEDS,
    BANDS_PATH,
    EVAL_EVERY,
    GRADED_METRIC,
    QUESTION_RUNS,
    THRESHOLD,
    ExperimentError,
    episodes_to_90,
)
from autograder.experiments.runner import Runner, WorkerRunner, run_many

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
