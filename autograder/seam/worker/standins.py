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
    """A grid world's model read from a transition table: ``size``, ``goal``, ``transition``.

    Lets the Bellman checks (ex05) run without depending on the student's ex01. The table
    comes from the grader as data (the worker knows no rule of the grid world):
    ``next_state[s][a]`` is the index ``row * size + col`` reached from state ``s`` with
    action ``a``, ``reward[s][a]`` and ``done[s][a]`` what that move returns.
    ``transition((row, col), action)`` returns ``((row, col), reward, done)``, raises
    ``ValueError`` for a state or action outside the table, and counts its calls.
    """

    def __init__(self, size: int, next_state: list, reward: list, done: list) -> None:
        self.size = int(size)
        self.goal = (self.size - 1, self.size - 1)
        self.calls = 0
        self._next = [[int(s) for s in row] for row in next_state]
        self._reward = [[float(r) for r in row] for row in reward]
        self._done = [[bool(d) for d in row] for row in done]
        if not (len(self._next) == len(self._reward) == len(self._done) == self.size**2):
            raise ValueError("the transition table must have one row per state")

    def transition(self, state, action):
        self.calls += 1
        r, c = int(state[0]), int(state[1])
        if not (0 <= r < self.size and 0 <= c < self.size) or int(action) not in (0, 1, 2, 3):
            raise ValueError(f"bad state {state!r} or action {action!r}")
        s, a = r * self.size + c, int(action)
        s2 = self._next[s][a]
        return (s2 // self.size, s2 % self.size), self._reward[s][a], self._done[s][a]

    def reset(self):
        self.pos = (0, 0)
        return self.pos


def grid_model(size: int, next_state: list, reward: list, done: list) -> GridModel:
    """A :class:`GridModel` of a ``size x size`` grid, from its transition table."""
    return GridModel(size, next_state, reward, done)


def corridor(length: int) -> Corridor:
    """A :class:`Corridor` environment."""
    return Corridor(length)


def recorded_actions(env: Corridor) -> list:
    """The actions a corridor received, as ints (or their type names if not ints)."""
    return [a if type(a) is int else type(a).__name__ for a in env.actions]
