"""Bug: the lesson's if/elif chain - an unknown action (-1, 4, 1.5, "1", None) is a silent no-op step instead of ValueError."""

from __future__ import annotations


class SimpleGridWorld:
    UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3

    def __init__(self, size: int = 4) -> None:
        if not isinstance(size, int) or size < 2:
            raise ValueError(f"size must be an int >= 2, got {size!r}")
        self.size = size
        self.goal = (size - 1, size - 1)
        self.reset()

    def reset(self):
        self.pos = (0, 0)
        self.done = False
        return self.pos

    def transition(self, state, action):
        r, c = state
        if not (0 <= r < self.size and 0 <= c < self.size):
            raise ValueError(f"state {state} is outside the grid")
        if (r, c) == self.goal:
            return self.goal, 0.0, True
        if action == 0:
            r = max(r - 1, 0)  # up
        elif action == 1:
            c = min(c + 1, self.size - 1)  # right
        elif action == 2:
            r = min(r + 1, self.size - 1)  # down
        elif action == 3:
            c = max(c - 1, 0)  # left
        done = (r, c) == self.goal
        reward = 1.0 if done else -0.01
        return (int(r), int(c)), reward, done

    def step(self, action):
        if self.done:
            raise RuntimeError("episode is over, call reset()")
        self.pos, reward, self.done = self.transition(self.pos, action)
        return self.pos, reward, self.done
