"""Exercise stand-ins: small, known environments the checks use instead of the student's own.

A check of one exercise must not depend on the student's solution of another: the rollout
checks (ex04) use :class:`Corridor` instead of the student's grid world, the Bellman checks
(ex05) use :class:`GridModel`. They are reached through the probes ``corridor``,
``grid_model`` and ``recorded_actions`` (:mod:`probes`). Like every module of the worker,
nothing here knows an expected value.
"""

from __future__ import annotations


class Corridor:
    """A 1 x ``length`` corridor: action 1 moves right, others stay; the last cell ends it.

    A deterministic environment with the grid world's interface (``reset``,
    ``step``) and rewards (-0.01 per step, 1.0 on entering the end), used to test
    rollout code independently of the student's own environment.
    """

    def __init__(self, length: int) -> None:
        self.length = length
        self.actions: list = []
        self.reset()

    def reset(self) -> tuple[int, int]:
        self.pos = (0, 0)
        return self.pos

    def step(self, action):
        self.actions.append(action)
        col = self.pos[1] + (1 if int(action) == 1 else 0)
        self.pos = (0, min(col, self.length - 1))
        done = self.pos[1] == self.length - 1
        return self.pos, (1.0 if done else -0.01), done


class GridModel:
    """The grid world's dynamics (``docs/exercise-api.md``, ex01) as a model: ``size``, ``goal``, ``transition``.

    Lets the Bellman checks (ex05) run without depending on the student's ex01:
    ``transition((row, col), action)`` returns ``((row, col), reward, done)`` with
    walls clamping, -0.01 per step, 1.0 on entering the goal and an absorbing goal
    (``(goal, 0.0, True)``). It records how many times it was called.
    """

    UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3

    def __init__(self, size: int) -> None:
        self.size = int(size)
        self.goal = (self.size - 1, self.size - 1)
        self.calls = 0

    def transition(self, state, action):
        self.calls += 1
        r, c = int(state[0]), int(state[1])
        if not (0 <= r < self.size and 0 <= c < self.size) or int(action) not in (0, 1, 2, 3):
            raise ValueError(f"bad state {state!r} or action {action!r}")
        if (r, c) == self.goal:
            return self.goal, 0.0, True
        dr, dc = ((-1, 0), (0, 1), (1, 0), (0, -1))[int(action)]
        nr, nc = min(max(r + dr, 0), self.size - 1), min(max(c + dc, 0), self.size - 1)
        done = (nr, nc) == self.goal
        return (nr, nc), (1.0 if done else -0.01), done

    def reset(self):
        self.pos = (0, 0)
        return self.pos


def grid_model(size: int) -> GridModel:
    """A :class:`GridModel` of a ``size x size`` grid."""
    return GridModel(size)


def corridor(length: int) -> Corridor:
    """A :class:`Corridor` environment."""
    return Corridor(length)


def recorded_actions(env: Corridor) -> list:
    """The actions a corridor received, as ints (or their type names if not ints)."""
    return [a if type(a) is int else type(a).__name__ for a in env.actions]
