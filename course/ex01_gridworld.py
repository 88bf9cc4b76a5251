# Generated from solutions/ex01_gridworld.py by `python -m autograder build-course`.
# Edit this copy: it is yours. Replace each `raise NotImplementedError()`.
r"""Exercise 01 - a grid world, the smallest environment with an RL loop.

The idea
--------
An environment turns an action into a consequence. Here the agent stands on a
``size x size`` grid at ``(row, col)``, starts in the top-left corner ``(0, 0)``
and wants to reach the bottom-right corner ``(size-1, size-1)``. Each move is a
*transition* ``(s, a) -> (s', r, done)``:

.. math::

    \begin{aligned}
    s' &= \operatorname{clamp}\big(s + \operatorname{move}(a),\ 0,\ \mathrm{size}-1\big)
       && \text{walls keep you inside the grid}\\
    r &= \begin{cases} 1.0 & \text{if } s' = \mathrm{goal}\\ -0.01 & \text{otherwise} \end{cases}
       && \text{a small cost per step}\\
    \mathrm{done} &= [\, s' = \mathrm{goal} \,]
    \end{aligned}

The per-step cost is what makes "short" better than "long": the shortest episode
on a 4x4 grid takes 6 steps and earns ``5 * (-0.01) + 1.0 = 0.95``. In the LLM
picture one step is one generated token and ``done`` is the end of the response.

Two views of the same dynamics are asked for:

* ``transition(state, action)`` is the *model*: a pure function that never
  touches the environment's own position. Dynamic programming (exercise 05)
  uses it. From the goal it stays at the goal with reward 0.0 (absorbing).
* ``step(action)`` is the *interaction*: it moves ``self.pos`` using
  ``transition`` and refuses to move after the episode ended until ``reset()``.

Actions are ``UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3``; up is ``row - 1``, right is
``col + 1``. Anything that is not one of those four integers (``-1``, ``4``,
``1.5``, ``"1"``, ``None``, ``True``) raises ``ValueError``: ``MOVES[-1]``
silently meaning "left" is a classic bug. numpy integers and 0-d integer tensors
(what ``Categorical.sample()`` returns) are accepted.

How this is checked
-------------------
Hand-worked moves and wall bumps, the 6-step shortest path, the exact reward
values and ``done`` flags, ``ValueError`` for every kind of bad action and bad
state, ``RuntimeError`` on stepping after ``done``, ``transition`` leaving the
environment untouched, and a property test: random action sequences on random
grid sizes agree with the reference step by step.
"""

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
        # YOUR CODE HERE
        raise NotImplementedError()

    def reset(self) -> State:
        """Put the agent back on (0, 0) and start a new episode.

        Returns:
            The start state ``(0, 0)``.
        """
        # YOUR CODE HERE
        raise NotImplementedError()

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
        # YOUR CODE HERE
        raise NotImplementedError()

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
        # YOUR CODE HERE
        raise NotImplementedError()
