"""Alternative: numpy vectors for position and moves (np.clip for walls), converted back to Python ints/floats at the boundary."""

from __future__ import annotations

import numpy as np
import torch

_MOVES = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]], dtype=np.int64)  # up, right, down, left


class SimpleGridWorld:
    UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3

    def __init__(self, size: int = 4) -> None:
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)) or size < 2:
            raise ValueError(f"size must be an int >= 2, got {size!r}")
        self.size = int(size)
        self.goal = (self.size - 1, self.size - 1)
        self._goal = np.array(self.goal)
        self.reset()

    def reset(self):
        self._pos = np.zeros(2, dtype=np.int64)
        self.done = False
        return self.pos

    @property
    def pos(self):
        return (int(self._pos[0]), int(self._pos[1]))

    def _check_action(self, action) -> int:
        if isinstance(action, torch.Tensor) and action.dim() == 0 and action.dtype in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8):
            action = int(action)
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
            raise ValueError(f"action must be an integer in 0..3, got {action!r}")
        if action < 0 or action >= len(_MOVES):
            raise ValueError(f"action must be an integer in 0..3, got {action!r}")
        return int(action)

    def _next(self, s: np.ndarray, a: int):
        if np.array_equal(s, self._goal):
            return self._goal.copy(), 0.0, True
        nxt = np.clip(s + _MOVES[a], 0, self.size - 1)
        done = bool(np.array_equal(nxt, self._goal))
        return nxt, (1.0 if done else -0.01), done

    def transition(self, state, action):
        a = self._check_action(action)
        try:
            s = np.asarray(state)
        except Exception:  # noqa: BLE001
            raise ValueError(f"state must be a (row, col) pair, got {state!r}") from None
        if s.shape != (2,) or s.dtype.kind not in "iu":
            raise ValueError(f"state must be a (row, col) pair of ints, got {state!r}")
        if np.any(s < 0) or np.any(s >= self.size):
            raise ValueError(f"state {state!r} is outside the grid")
        nxt, reward, done = self._next(s.astype(np.int64), a)
        return (int(nxt[0]), int(nxt[1])), float(reward), done

    def step(self, action):
        if self.done:
            raise RuntimeError("episode finished; call reset() before step()")
        nxt, reward, self.done = self.transition(self.pos, action)
        self._pos = np.array(nxt, dtype=np.int64)
        return self.pos, reward, self.done
