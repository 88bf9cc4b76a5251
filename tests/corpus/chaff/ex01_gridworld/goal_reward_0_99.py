"""Bug: the step cost is always charged, so entering the goal pays -0.01 + 1.0 = 0.99 instead of exactly 1.0."""

from __future__ import annotations

import numbers

import torch

STEP_COST = -0.01
GOAL_BONUS = 1.0


class SimpleGridWorld:
    UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3

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

    def _check_action(self, action) -> int:
        if isinstance(action, torch.Tensor) and action.ndim == 0 and not action.is_floating_point():
            action = action.item()
        if isinstance(action, bool) or not isinstance(action, numbers.Integral) or not 0 <= action <= 3:
            raise ValueError(f"action must be an integer in 0..3, got {action!r}")
        return int(action)

    def transition(self, state, action):
        a = self._check_action(action)
        r, c = state
        if not (0 <= r < self.size and 0 <= c < self.size):
            raise ValueError(f"state {state} is outside the grid")
        if (r, c) == self.goal:
            return self.goal, 0.0, True
        dr, dc = [(-1, 0), (0, 1), (1, 0), (0, -1)][a]
        nr = min(max(r + dr, 0), self.size - 1)
        nc = min(max(c + dc, 0), self.size - 1)
        done = (nr, nc) == self.goal
        reward = STEP_COST
        if done:
            reward += GOAL_BONUS
        return (nr, nc), reward, done

    def step(self, action):
        if self.done:
            raise RuntimeError("episode is over, call reset()")
        self.pos, reward, self.done = self.transition(self.pos, action)
        return self.pos, reward, self.done
