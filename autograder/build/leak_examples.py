"""Hand-example inputs of the exercises' functions, for the behavioural leak scan.

:mod:`autograder.build.leak_behaviour` calls every function a release ships on these inputs
and compares what it returns with what the reference solution returns: a released function
that reproduces a solution function on all of its examples is an answer, however it is
written. Each entry builds fresh inputs (a call may modify them) as ``(args, kwargs)`` pairs,
several per function and with different outputs, so that a constant cannot match by chance.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from autograder.grading.reference import reference

Call = tuple[tuple, dict]


def _t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def _grid(size: int = 4):
    """The reference grid world (the ex05 functions' ``env``)."""
    return reference("ex01_gridworld").SimpleGridWorld(size)


def _policy(n: int) -> np.ndarray:
    p = np.zeros((n, n, 4))
    p[..., 1], p[..., 2], p[..., 3] = 0.6, 0.3, 0.1
    return p


def _ex05(name: str) -> Callable[[], list[Call]]:
    def build() -> list[Call]:
        out = []
        for n, gamma in ((3, 0.9), (4, 0.5)):
            V = np.linspace(-1.0, 1.0, n * n).reshape(n, n)
            args = {
                "q_from_v": (_grid(n), V, gamma),
                "bellman_sweep": (_grid(n), V, _policy(n), gamma),
                "policy_evaluation": (_grid(n), _policy(n), gamma),
                "value_iteration": (_grid(n), gamma),
            }[name]
            out.append((args, {}))
        return out

    return build


def _ppo() -> list[Call]:
    old = _t([-1.0, -2.0, -0.3, -0.7, -1.1, -0.4])
    new = old + _t([0.4, -0.7, 0.4, -0.7, 0.0, 0.1])
    adv = _t([1.0, 1.0, -1.0, -1.0, 2.0, -3.0])
    mask = torch.tensor([True, True, False, True, True, False])
    return [((new, old, adv, 0.2), {}), ((new.clone(), old, adv, 0.1), {"mask": mask})]


def _gae() -> list[Call]:
    return [
        ((_t([1.0, 0.0, 2.0, -1.0]), _t([0.5, 0.4, 0.3, 0.2])), {}),
        ((_t([0.5, 1.0, -2.0]), _t([0.1, -0.2, 0.3])), {}),
    ]


def _gae_calls() -> list[Call]:
    (r1, v1), (r2, v2) = (c[0] for c in _gae())
    return [
        ((r1, v1, torch.tensor([False, True, False, False]), 0.9, 0.8, 0.7), {}),
        ((r2, v2, torch.tensor([False, False, True]), 0.5, 0.9, -1.0), {}),
    ]


def _kl() -> list[Call]:
    return [
        ((_t([-1.0, -0.5, -2.0]), _t([-1.2, -0.4, -1.0])), {}),
        ((_t([[-0.1, -3.0], [-0.7, -0.2]]), _t([[-0.3, -2.0], [-0.7, -1.0]])), {}),
    ]


def _kl_rewards() -> list[Call]:
    logp, ref = (
        _t([[-1.0, -0.5, -2.0], [-0.3, -0.2, -0.9]]),
        _t([[-1.2, -0.4, -1.0], [-0.1, -0.2, -1.5]]),
    )
    mask = torch.tensor([[True, True, False], [True, True, True]])
    return [
        ((logp, ref, mask, _t([1.0, -0.5]), 0.1), {}),
        ((logp, ref, mask, _t([0.0, 2.0]), 0.5), {}),
    ]


def _grpo() -> list[Call]:
    logp = _t([[-1.0, -0.5, -2.0], [-0.3, -0.2, -0.9]])
    old = _t([[-1.1, -0.6, -1.5], [-0.2, -0.2, -1.2]])
    ref = _t([[-1.2, -0.4, -1.0], [-0.1, -0.2, -1.5]])
    adv = _t([1.0, -1.0])
    mask = torch.tensor([[True, True, False], [True, True, True]])
    return [((logp, old, ref, adv, mask), {}), ((logp.clone(), old, ref, adv, mask, 0.1, 0.05), {})]


EXAMPLES: dict[str, Callable[[], list[Call]]] = {
    "ex02_returns.discounted_returns": lambda: [
        (([1.0, 0.0, -1.0, 2.0], 0.9), {}),
        (([0.5, 0.5, 3.0], 0.5), {}),
    ],
    "ex02_returns.normalize": lambda: [
        ((_t([1.0, 2.0, 4.0]),), {}),
        ((_t([0.0, 3.0, -1.0, 5.0]),), {}),
    ],
    "ex03_policy.log_prob": lambda: [
        ((_t([[0.1, 0.5, -0.3], [1.0, 0.0, 0.2]]), torch.tensor([2, 0])), {}),
        ((_t([[2.0, -1.0]]), torch.tensor([1])), {}),
    ],
    "ex03_policy.entropy": lambda: [
        ((_t([[0.1, 0.5, -0.3], [1.0, 0.0, 0.2]]),), {}),
        ((_t([[2.0, -1.0]]),), {}),
    ],
    "ex04_reinforce.reinforce_loss": lambda: [
        ((_t([-0.5, -1.0, -0.2]), _t([1.0, 0.5, -2.0])), {}),
        ((_t([-2.0, -0.1]), _t([0.3, 0.7])), {}),
    ],
    "ex05_values.q_from_v": _ex05("q_from_v"),
    "ex05_values.bellman_sweep": _ex05("bellman_sweep"),
    "ex05_values.policy_evaluation": _ex05("policy_evaluation"),
    "ex05_values.value_iteration": _ex05("value_iteration"),
    "ex06_ppo.ppo_clip_loss": _ppo,
    "ex06_ppo.ppo_stats": _ppo,
    "ex06_ppo.gae": _gae_calls,
    "ex07_kl.kl_k1": _kl,
    "ex07_kl.kl_k3": _kl,
    "ex07_kl.kl_penalized_rewards": _kl_rewards,
    "ex08_reward_model.preference_loss": lambda: [
        ((_t([1.0, 0.5, -0.2]), _t([0.0, 0.7, -1.0])), {}),
        ((_t([2.0, -3.0]), _t([1.5, 0.0])), {}),
    ],
    "ex09_verifiers.extract_answer": lambda: [
        (("so the total is <answer> 42 </answer>",), {}),
        (("first 3 then #### 17.5",), {}),
        (("<answer>x</answer> and <answer>7/2</answer>",), {}),
    ],
    "ex09_verifiers.math_reward": lambda: [
        (("<answer>0.5</answer>", "1/2"), {}),
        (("<answer>3</answer>", "4"), {}),
        (("#### $1,000", "1000"), {}),
    ],
    "ex09_verifiers.format_reward": lambda: [
        (("<think>2 + 2</think> <answer>4</answer>",), {}),
        (("<answer>4</answer><think>late</think>",), {}),
        (("  <think>a</think>\n<answer>b</answer>\n",), {}),
        (("<think>x</think><answer>1</answer><answer>2</answer>",), {}),
    ],
    "ex09_verifiers.code_reward": lambda: [
        (("print(sum(map(int, input().split())))", [("1 2\n", "3"), ("5 5\n", "10")]), {}),
        (("print(int(input()) * 2)", [("3\n", "6"), ("4\n", "9"), ("0\n", "0")]), {}),
        (("raise SystemExit(1)", [("", "")]), {}),
    ],
    "ex08_reward_model.preference_accuracy": lambda: [
        ((_t([1.0, 0.5, -0.2]), _t([0.0, 0.7, -1.0])), {}),
        ((_t([2.0, -3.0, 1.0, 1.0]), _t([1.5, 0.0, 1.0, 0.0])), {}),
    ],
    "ex11_lm.token_logprobs": lambda: [
        (
            (_t([[[0.1, 0.5, -0.3], [1.0, 0.0, 0.2], [0.3, 0.3, 0.9]]]), torch.tensor([[0, 2, 1]])),
            {},
        ),
        (
            (
                _t([[[2.0, -1.0], [0.5, 0.5]], [[0.0, 1.0], [-1.0, 3.0]]]),
                torch.tensor([[1, 0], [0, 1]]),
            ),
            {"temperature": 0.5},
        ),
    ],
    "ex10_grpo.group_advantages": lambda: [
        (([1.0, 0.0, 0.0, 1.0, 1.0, 1.0], 3), {}),
        (([0.5, 2.0, -1.0, 0.0], 2), {}),
    ],
    "ex10_grpo.grpo_loss": _grpo,
    "ex11_lm.completion_mask": lambda: [
        ((torch.tensor([[5, 6, 7, 2, 9], [5, 6, 8, 8, 2]]), 2, 2), {}),
        ((torch.tensor([[1, 3, 3, 3]]), 1, 3), {}),
    ],
    "ex11_lm.sequence_logprob": lambda: [
        ((_t([[-1.0, -0.5, -2.0], [-0.3, -0.2, -0.9]]), torch.tensor([[1, 1, 0], [0, 1, 1]])), {}),
        ((_t([[-0.1, -4.0]]), torch.tensor([[1, 1]])), {}),
    ],
}
"""Solution function (``module.name``) -> its hand-example calls."""

CLASS_EXAMPLES: dict[str, tuple[tuple, dict[str, list[Call]]]] = {
    "ex01_gridworld.SimpleGridWorld": (
        (4,),
        {
            "transition": [
                (((2, 3), 2), {}),
                (((0, 0), 0), {}),
                (((1, 2), 1), {}),
                (((3, 3), 1), {}),
                (((3, 0), 3), {}),
                (((3, 2), 1), {}),
            ],
        },
    ),
}
"""Solution class -> (constructor arguments, method -> its hand-example calls)."""
