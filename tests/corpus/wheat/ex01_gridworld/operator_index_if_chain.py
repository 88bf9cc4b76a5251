"""Alternative: separate row/col attributes, operator.index() for action validation and an explicit if/elif move table."""

from __future__ import annotations

import operator

import torch


class SimpleGridWorld:
    UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3

    def __init__(self, size: int = 4) -> None:
        if type(size) is bool:
            raise ValueError("size must be an int >= 2, got a bool")
        try:
            n = operator.index(size)
        except TypeError:
            raise ValueError(f"size must be an int >= 2, got {size!r}") from None
        if n < 2:
            raise ValueError(f"size must be an int >= 2, got {n}")
        self.size = n
        self.reset()

    @property
    def goal(self) -> tuple[int, int]:
        return (self.size - 1, self.size - 1)

    @property
    def pos(self) -> tuple[int, int]:
        return (self.row, self.col)

    def reset(self) -> tuple[int, int]:
        self.row, self.col = 0, 0
        self.done = False
        return self.pos

    @staticmethod
    def _as_action(action) -> int:
        if isinstance(action, torch.Tensor):
            if action.ndim != 0 or action.is_floating_point() or action.dtype == torch.bool:
                raise ValueError(f"action must be an integer in 0..3, got {action!r}")
            action = action.item()
        if isinstance(action, bool) or hasattr(action, "dtype") and action.dtype.kind == "b":
            raise ValueError(f"action must be an integer in 0..3, got {action!r}")
        try:
            a = operator.index(action)
        except TypeError:
            raise ValueError(f"action must be an integer in 0..3, got {action!r}") from None
        if a not in (0, 1, 2, 3):
            raise ValueError(f"action must be an integer in 0..3, got {action!r}")
        return a

    def transition(self, state, action):
        a = self._as_action(action)
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise ValueError(f"state must be a (row, col) pair, got {state!r}")
        try:
            r, c = operator.index(state[0]), operator.index(state[1])
        except TypeError:
            raise ValueError(f"state must hold two ints, got {state!r}") from None
        if not (0 <= r < self.size and 0 <= c < self.size):
            raise ValueError(f"state {state!r} is outside the {self.size}x{self.size} grid")
        if (r, c) == self.goal:
            return self.goal, 0.0, True
        last = self.size - 1
        if a == self.UP:
            r = r - 1 if r > 0 else r
        elif a == self.RIGHT:
            c = c + 1 if c < last else c
        elif a == self.DOWN:
            r = r + 1 if r < last else r
        else:
            c = c - 1 if c > 0 else c
        if (r, c) == self.goal:
            return (r, c), 1.0, True
        return (r, c), -0.01, False

    def step(self, action):
        if self.done:
            raise RuntimeError("step() called after the episode ended; call reset()")
        (self.row, self.col), reward, self.done = self.transition(self.pos, action)
        return self.pos, reward, self.done
