"""What the lesson's experiments run, and how a learning curve becomes a number."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from autograder import REPO_ROOT

EVAL_EVERY = 10  # episodes between evaluations: resolves differences of ~10 episodes
THRESHOLD = 0.9  # "reach 90 %"
FAST_EPISODES = 300  # budget at lr 3e-3 (the reference crosses 90 % after ~70-100 episodes)
SLOW_EPISODES = 4000  # budget at lr 1e-4 (the reference crosses after ~1,900-2,700 episodes)
METRICS = ("prob", "greedy")  # "prob" first: the graded one
GRADED_METRIC = "prob"
DEFAULT_SEEDS = 5
BAND_SEEDS = tuple(range(100, 120))  # reference seeds for the bands (not 0-4, students' default)
# The reference's answer ranges: an instructor's record of the lesson's numbers (the questions
# grade each student's own runs, not these ranges), kept out of the package, the release and
# the Gradescope zip.
BANDS_PATH = REPO_ROOT / "benchmarks" / "question_bands.json"
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
