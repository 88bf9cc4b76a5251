"""Checks for exercise 01: the grid world."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.checks._support import expect_raises, guarded, show
from autograder.seam.values import Handle

EXERCISE = "ex01_gridworld"
UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3


def expect_step(out, state, reward, done, call: str) -> None:
    """``out`` must be ``((row, col), reward, done)`` with exactly these plain types and values."""
    assert type(out) is tuple and len(out) == 3, (
        f"{call}: expected a (state, reward, done) tuple, got {show(out)}"
    )
    s, r, d = out
    assert type(s) is tuple and len(s) == 2 and all(type(v) is int for v in s), (
        f"{call}: expected the state as a tuple of two Python ints, got {show(s)}"
    )
    assert s == state, f"{call}: expected state {state}, got {s}"
    assert type(r) is float, f"{call}: expected the reward as a Python float, got {show(r)}"
    assert abs(r - reward) <= 1e-12, f"{call}: expected reward {reward}, got {r}"
    assert type(d) is bool and d == done, f"{call}: expected done={done}, got {show(d)}"


def new_env(impl, size: int = 4) -> Handle:
    env = impl.SimpleGridWorld(size)
    assert isinstance(env, Handle), (
        f"SimpleGridWorld({size}): expected an environment object, got {show(env)}"
    )
    return env


# -- hand-worked moves -----------------------------------------------------------------------
@pytest.mark.title("moving right then down from the start costs -0.01 each")
def test_moving_right_then_down_from_the_start_costs_0_01_each(impl):
    env = new_env(impl)
    expect_step(
        env.step(RIGHT), (0, 1), -0.01, False, "SimpleGridWorld(4): step(RIGHT) from (0, 0)"
    )
    expect_step(env.step(DOWN), (1, 1), -0.01, False, "step(DOWN) from (0, 1)")
    expect_step(env.step(LEFT), (1, 0), -0.01, False, "step(LEFT) from (1, 1)")
    expect_step(env.step(UP), (0, 0), -0.01, False, "step(UP) from (1, 0)")


def test_bumping_a_wall_costs_a_step_and_stays_put(impl):
    env = new_env(impl)
    expect_step(env.step(UP), (0, 0), -0.01, False, "step(UP) from (0, 0)")
    expect_step(env.step(LEFT), (0, 0), -0.01, False, "step(LEFT) from (0, 0)")
    for _ in range(3):
        env.step(RIGHT)
    expect_step(env.step(RIGHT), (0, 3), -0.01, False, "step(RIGHT) from (0, 3) on a 4x4 grid")


@pytest.mark.title("the shortest path takes 6 steps and returns 0.95")
def test_the_shortest_path_takes_6_steps_and_returns_0_95(impl):
    env = new_env(impl)
    total, path = 0.0, []
    for i, a in enumerate([RIGHT, RIGHT, RIGHT, DOWN, DOWN, DOWN]):
        state, reward, done = env.step(a)
        total += reward
        path.append(state)
        assert done == (i == 5), (
            f"step {i + 1} of R,R,R,D,D,D: expected done={i == 5}, got {done} at {state}"
        )
    assert path[-1] == (3, 3), f"R,R,R,D,D,D from (0, 0): expected to end at (3, 3), got {path}"
    assert abs(total - 0.95) < 1e-9, f"R,R,R,D,D,D: expected a return of 0.95, got {total:.6g}"


@pytest.mark.title("entering the goal gives exactly 1.0 and done")
def test_entering_the_goal_gives_exactly_1_0_and_done(impl):
    env = new_env(impl, 2)
    env.step(RIGHT)
    expect_step(env.step(DOWN), (1, 1), 1.0, True, "SimpleGridWorld(2): step(DOWN) from (0, 1)")


def test_reset_returns_the_start_and_clears_done(impl):
    env = new_env(impl, 2)
    env.step(DOWN)
    env.step(RIGHT)
    start = env.reset()
    assert start == (0, 0) and type(start) is tuple, (
        f"reset() after reaching the goal: expected (0, 0), got {show(start)}"
    )
    expect_step(env.step(RIGHT), (0, 1), -0.01, False, "step(RIGHT) after reset()")


# -- contracts ------------------------------------------------------------------------------------
@pytest.mark.title("an action that is not 0, 1, 2 or 3 raises ValueError")
def test_an_action_that_is_not_0_1_2_or_3_raises_value_error(impl):
    env = new_env(impl)
    for bad in (-1, 4, 1.5, "1", None, True, np.True_):
        expect_raises("ValueError", lambda a=bad: env.step(a), f"step({bad!r})")
        expect_raises(
            "ValueError", lambda a=bad: env.transition((1, 1), a), f"transition((1, 1), {bad!r})"
        )
    expect_step(
        env.step(RIGHT),
        (0, 1),
        -0.01,
        False,
        "step(RIGHT) after the rejected actions (they must not move the agent)",
    )


def test_numpy_integers_and_0_d_integer_tensors_are_valid_actions(impl):
    env = new_env(impl)
    expect_step(env.step(np.int64(RIGHT)), (0, 1), -0.01, False, "step(np.int64(1))")
    expect_step(env.step(torch.tensor(DOWN)), (1, 1), -0.01, False, "step(torch.tensor(2))")


def test_stepping_after_done_raises_runtime_error_until_reset(impl):
    env = new_env(impl, 2)
    env.step(RIGHT)
    env.step(DOWN)
    expect_raises("RuntimeError", lambda: env.step(LEFT), "step(LEFT) after the episode ended")
    env.reset()
    expect_step(env.step(RIGHT), (0, 1), -0.01, False, "step(RIGHT) after reset()")


def test_transition_is_pure_and_does_not_move_the_agent(impl):
    env = new_env(impl)
    expect_step(env.transition((2, 3), DOWN), (3, 3), 1.0, True, "transition((2, 3), DOWN)")
    expect_step(env.transition((1, 2), LEFT), (1, 1), -0.01, False, "transition((1, 2), LEFT)")
    expect_step(
        env.step(RIGHT),
        (0, 1),
        -0.01,
        False,
        "step(RIGHT) after two transition() calls (the agent must still be at (0, 0))",
    )


def test_transition_from_the_goal_is_absorbing_with_reward_0(impl):
    env = new_env(impl)
    for a in (UP, RIGHT, DOWN, LEFT):
        expect_step(
            env.transition((3, 3), a), (3, 3), 0.0, True, f"transition((3, 3), {a}) from the goal"
        )


def test_a_state_outside_the_grid_raises_value_error(impl):
    env = new_env(impl)
    for bad in ((4, 0), (0, -1), (-1, 2), (1, 4)):
        expect_raises(
            "ValueError",
            lambda s=bad: env.transition(s, RIGHT),
            f"transition({bad}, RIGHT) on a 4x4 grid",
        )


def _size_2_works(impl) -> None:
    env = new_env(impl, 2)
    expect_step(env.step(RIGHT), (0, 1), -0.01, False, "SimpleGridWorld(2): step(RIGHT)")
    expect_step(env.step(DOWN), (1, 1), 1.0, True, "SimpleGridWorld(2): step(DOWN) from (0, 1)")


def test_a_size_below_2_raises_value_error(impl):
    guarded(lambda: _size_2_works(impl), "SimpleGridWorld(2) (size 2 is allowed)")
    for bad in (1, 0, -3):
        expect_raises(
            "ValueError", lambda s=bad: impl.SimpleGridWorld(s), f"SimpleGridWorld({bad})"
        )


# -- properties and the reference ---------------------------------------------------------------------
@pytest.mark.hidden
@given(size=st.integers(2, 7), actions=st.lists(st.integers(0, 3), min_size=1, max_size=60))
def test_random_walks_agree_with_the_reference_step_by_step(impl, ref, size, actions):
    env, mine = new_env(impl, size), ref.SimpleGridWorld(size)
    for i, a in enumerate(actions):
        exp = mine.step(a)
        expect_step(
            env.step(a), *exp, f"SimpleGridWorld({size}), step {i + 1} of actions {actions}"
        )
        if exp[2]:
            mine.reset()
            env.reset()
