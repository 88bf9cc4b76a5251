"""Alternative: held out (written from the stubs alone by someone who never saw the checks); moves in a module-level dict read after the action is checked, state checking attached to the class afterwards, done checked before the action in step."""

from __future__ import annotations

import numbers

import numpy as np
import torch

State = tuple[int, int]


class SimpleGridWorld:
    """A ``size x size`` grid: start at (0, 0), goal at (size-1, size-1).

    Args:
        size: side length of the grid, an ``int >= 2``.

    Attributes:
        size: the side length, a Python ``int`` (ex05's functions read ``env.size``
            and call ``env.transition``, so keep both).
        goal: ``(size - 1, size - 1)``.

    Raises:
        ValueError: if ``size`` is not an integer of at least 2.
    """

    UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3

    def __init__(self, size: int = 4) -> None:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise ValueError(f"size must be an int >= 2, got {size!r}")
        if int(size) < 2:
            raise ValueError(f"size must be an int >= 2, got {size!r}")
        self.size = int(size)
        self.goal = (self.size - 1, self.size - 1)
        self.pos = (0, 0)
        self.done = False
        self.reset()

    def reset(self) -> State:
        """Put the agent back on (0, 0) and start a new episode.

        Returns:
            The start state ``(0, 0)``.
        """
        self.done = False
        self.pos = (0, 0)
        return self.pos

    def transition(self, state: State, action: int) -> tuple[State, float, bool]:
        """The model: where ``action`` leads from ``state``, without moving the agent.

        Args:
            state: ``(row, col)`` inside the grid.
            action: one of ``UP, RIGHT, DOWN, LEFT`` (0..3).

        Returns:
            ``(next_state, reward, done)``: a tuple of two Python ``int``, a Python
            ``float`` and a ``bool``; from the goal ``(goal, 0.0, True)``.

        Raises:
            ValueError: bad action, or a state outside the grid.
        """
        row, col = self._checked_state(state)
        dr, dc = _DELTAS[_action_index(action)]
        if (row, col) == self.goal:
            return self.goal, 0.0, True
        last = self.size - 1
        nxt = (min(last, max(0, row + dr)), min(last, max(0, col + dc)))
        if nxt == self.goal:
            return nxt, 1.0, True
        return nxt, -0.01, False

    def step(self, action: int) -> tuple[State, float, bool]:
        """Move the agent one step.

        Args:
            action: one of ``UP, RIGHT, DOWN, LEFT`` (0..3).

        Returns:
            ``(next_state, reward, done)``: a tuple of two Python ``int``, a Python
            ``float`` and a ``bool``.

        Raises:
            ValueError: bad action.
            RuntimeError: the episode is over; call ``reset()`` first.
        """
        if self.done:
            raise RuntimeError("the episode is over: call reset() before step()")
        nxt, reward, done = self.transition(self.pos, action)
        self.pos = nxt
        self.done = bool(done)
        return nxt, reward, done


# (drow, dcol) for UP, RIGHT, DOWN, LEFT - indexed only after _action_index validated the action.
_DELTAS = {0: (-1, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1)}


def _action_index(action) -> int:
    """The action as a Python int in 0..3, or ValueError (bools, floats, strings, None, ...)."""
    if isinstance(action, torch.Tensor):
        if action.dim() != 0 or action.dtype == torch.bool or action.is_floating_point() or action.is_complex():
            raise ValueError(f"action must be an integer in 0..3, got {action!r}")
        action = action.item()
    elif isinstance(action, np.ndarray):
        if action.ndim != 0 or action.dtype.kind not in "iu":
            raise ValueError(f"action must be an integer in 0..3, got {action!r}")
        action = action.item()
    if isinstance(action, (bool, np.bool_)) or not isinstance(action, numbers.Integral):
        raise ValueError(f"action must be an integer in 0..3, got {action!r}")
    a = int(action)
    if a not in _DELTAS:
        raise ValueError(f"action must be an integer in 0..3, got {a}")
    return a


def _checked_state(self, state) -> State:
    """``state`` as ``(row, col)`` Python ints inside the grid, or ValueError."""
    try:
        row, col = state
    except (TypeError, ValueError):
        raise ValueError(f"state must be a (row, col) pair, got {state!r}") from None
    coords = []
    for v in (row, col):
        if isinstance(v, torch.Tensor) and v.dim() == 0 and not v.is_floating_point() and v.dtype != torch.bool:
            v = v.item()
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            raise ValueError(f"state must hold two integers, got {state!r}")
        if not 0 <= int(v) < self.size:
            raise ValueError(f"state {state!r} is outside the {self.size}x{self.size} grid")
        coords.append(int(v))
    return coords[0], coords[1]


SimpleGridWorld._checked_state = _checked_state
