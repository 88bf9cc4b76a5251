"""``rubric.toml``: the single source of points (exercise -> check id -> points)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from autograder import PACKAGE_DIR

RUBRIC_PATH = PACKAGE_DIR / "rubric.toml"


class RubricError(ValueError):
    """The rubric is malformed, or disagrees with the checks."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: its module name, title and points per check id (in file order).

    ``manual`` names the checks whose points a person awards (free-text answers): they
    have points like any check but are left out of the automatic ``max_points``.
    ``trains``: its checks train with a torch optimizer in the worker (a speed hint: the
    zygote then imports what the first optimizer of a process needs, once).
    ``uses``: the other exercises whose functions its checks call (ex04's ``train_bandit``
    calls ex02's and ex03's): a grading that splits the exercises over processes keeps them
    in one, so a function that hung is not called again in another.
    """

    name: str
    title: str
    points: dict[str, float] = field(default_factory=dict)
    manual: frozenset[str] = frozenset()
    trains: bool = False
    uses: tuple[str, ...] = ()

    @property
    def max_points(self) -> float:
        """Points decided automatically (manual checks left out)."""
        return float(sum(v for k, v in self.points.items() if k not in self.manual))

    @property
    def manual_points(self) -> float:
        return float(sum(v for k, v in self.points.items() if k in self.manual))


@dataclass(frozen=True)
class Rubric:
    exercises: dict[str, Exercise]

    @classmethod
    def load(cls, path: Path = RUBRIC_PATH) -> Rubric:
        """Parse and validate ``rubric.toml``."""
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise RubricError(f"{path}: {exc}") from None
        exercises = {}
        for name, section in data.items():
            if not isinstance(section, dict) or not isinstance(section.get("points"), dict):
                raise RubricError(f"{path}: [{name}] needs a title and a [{name}.points] table")
            points = {}
            for check, value in section["points"].items():
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                    raise RubricError(
                        f"{path}: {name}.{check} must have positive points, got {value!r}"
                    )
                points[check] = float(value)
            manual = section.get("manual", [])
            if not isinstance(manual, list) or not all(
                isinstance(m, str) and m in points for m in manual
            ):
                raise RubricError(
                    f"{path}: {name}.manual must list check ids of [{name}.points], got {manual!r}"
                )
            trains = section.get("trains", False)
            if not isinstance(trains, bool):
                raise RubricError(f"{path}: {name}.trains must be true or false, got {trains!r}")
            uses = section.get("uses", [])
            if not isinstance(uses, list) or not all(u in data and u != name for u in uses):
                raise RubricError(
                    f"{path}: {name}.uses must list other exercises of the rubric, got {uses!r}"
                )
            exercises[name] = Exercise(
                name,
                str(section.get("title", name)),
                points,
                frozenset(manual),
                trains,
                tuple(uses),
            )
        return cls(exercises)

    @property
    def max_points(self) -> float:
        return sum(e.max_points for e in self.exercises.values())

    def points(self, exercise: str, check: str) -> float:
        try:
            return self.exercises[exercise].points[check]
        except KeyError:
            raise RubricError(f"check {exercise}::{check} has no points in rubric.toml") from None
