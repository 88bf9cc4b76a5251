"""Bug: transition() from the goal moves on like any other cell (-0.01, may leave the goal) instead of (goal, 0.0, True)."""

from __future__ import annotations

import numbers

import torch


class SimpleGridWorld:
    UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3
    MOVES = {0: (-1, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1)}

    def __init__(self, size: int = 4) -> None:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 2:
            raise ValueError(f"size must be an int >= 2, got {size!r}")
        self.size = int(size)
        self.goal = (self.size - 1, self.size - 1)
        self.reset()

    def reset(self):
        self.pos = (0, 0)
        self.done = False
        return self.pos

    def _action(self, action) -> int:
        if isinstance(action, torch.Tensor) and action.ndim == 0 and not action.is_floating_point():
            action = action.item()
        if isinstance(action, bool) or not isinstance(action, numbers.Integral) or action not in self.MOVES:
            raise ValueError(f"action must be an integer in 0..3, got {action!r}")
        return int(action)

    def _state(self, state):
        r, c = state
        if not (0 <= r < self.size and 0 <= c < self.size):
            raise ValueError(f"state {state} is outside the {self.size}x{self.size} grid")
        return int(r), int(c)

    def transition(self, state, action):
        a = self._action(action)
        r, c = self._state(state)
        dr, dc = self.MOVES[a]
        nr = min(max(r + dr, 0), self.size - 1)
        nc = min(max(c + dc, 0), self.size - 1)
        done = (nr, nc) == self.goal
        return (nr, nc), (1.0 if done else -0.01), done

    def step(self, action):
        if self.done:
            raise RuntimeError("the episode is over; call reset() first")
        self.pos, reward, self.done = self.transition(self.pos, action)
        return self.pos, reward, self.done
