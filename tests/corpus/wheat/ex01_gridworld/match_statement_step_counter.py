"""Alternative: a match statement for the moves, validation in one helper, an episode step counter, and the position kept as two separate attributes."""

from __future__ import annotations

import numpy as np
import torch


def _as_action(action):
    if isinstance(action, torch.Tensor):
        if action.dim() != 0 or action.dtype.is_floating_point or action.dtype == torch.bool:
            raise ValueError(f"bad action {action!r}")
        action = int(action)
    if isinstance(action, (bool, np.bool_)):
        raise ValueError(f"bad action {action!r}")
    if isinstance(action, np.integer):
        action = int(action)
    if type(action) is not int or action not in (0, 1, 2, 3):
        raise ValueError(f"bad action {action!r}")
    return action


class SimpleGridWorld:
    UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3

    def __init__(self, size=4):
        if type(size) is not int or size < 2:
            if not (isinstance(size, np.integer) and size >= 2):
                raise ValueError(f"bad size {size!r}")
        self.size = int(size)
        self.goal = (self.size - 1, self.size - 1)
        self.reset()

    def reset(self):
        self.row = self.col = 0
        self.steps = 0
        self.done = False
        return (0, 0)

    @property
    def pos(self):
        return (self.row, self.col)

    def transition(self, state, action):
        a = _as_action(action)
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise ValueError(f"bad state {state!r}")
        r, c = state
        for v in (r, c):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                raise ValueError(f"bad state {state!r}")
            if not 0 <= v < self.size:
                raise ValueError(f"state {state!r} is off the grid")
        r, c = int(r), int(c)
        if (r, c) == self.goal:
            return self.goal, 0.0, True
        match a:
            case 0:
                r = max(r - 1, 0)
            case 1:
                c = min(c + 1, self.size - 1)
            case 2:
                r = min(r + 1, self.size - 1)
            case 3:
                c = max(c - 1, 0)
        if (r, c) == self.goal:
            return (r, c), 1.0, True
        return (r, c), -0.01, False

    def step(self, action):
        if self.done:
            raise RuntimeError("reset() first")
        (self.row, self.col), reward, self.done = self.transition(self.pos, action)
        self.steps += 1
        return self.pos, reward, self.done
