"""Bug: only `action > 3` is rejected, so MOVES[-1] silently means LEFT (and 1.5 / "1" / None raise TypeError, not ValueError)."""

from __future__ import annotations

MOVES = [(-1, 0), (0, 1), (1, 0), (0, -1)]  # up, right, down, left


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
        if action > 3:
            raise ValueError(f"invalid action {action}")
        r, c = state
        if not (0 <= r < self.size and 0 <= c < self.size):
            raise ValueError(f"state {state} is outside the grid")
        if (r, c) == self.goal:
            return self.goal, 0.0, True
        dr, dc = MOVES[int(action)]
        r = min(max(r + dr, 0), self.size - 1)
        c = min(max(c + dc, 0), self.size - 1)
        done = (r, c) == self.goal
        return (r, c), (1.0 if done else -0.01), done

    def step(self, action):
        if self.done:
            raise RuntimeError("episode is over, call reset()")
        self.pos, reward, self.done = self.transition(self.pos, action)
        return self.pos, reward, self.done
