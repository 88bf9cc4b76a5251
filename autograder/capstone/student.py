"""Loads the student's own functions for the capstone from a folder laid out like ``course/``.

The capstone runs the student's code in this process, on purpose: it is a learning
tool, not grading (the graded integration check runs in the sandboxed worker). Each
module is imported from its file under a private name, with the folder on
``sys.path`` while it loads so that ``from ex02_returns import ...`` inside a module
finds the student's own file.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

RLVR_NEEDS = {
    "ex07_kl": ("kl_k3",),
    "ex09_verifiers": ("math_reward", "format_reward"),
    "ex10_grpo": ("group_advantages", "grpo_loss"),
    "ex11_lm": ("token_logprobs", "completion_mask", "sequence_logprob"),
}
RLHF_NEEDS = {
    "ex06_ppo": ("ppo_clip_loss", "ppo_stats", "gae"),
    "ex07_kl": ("kl_k3", "kl_penalized_rewards"),
    "ex08_reward_model": ("preference_loss",),
    "ex09_verifiers": ("math_reward",),
    "ex11_lm": ("token_logprobs", "completion_mask", "sequence_logprob"),
}


class CapstoneError(Exception):
    """The student's folder cannot drive the capstone (missing file or function)."""


def _import(folder: Path, name: str) -> ModuleType:
    path = folder / f"{name}.py"
    if not path.is_file():
        raise CapstoneError(f"{path} not found (the capstone needs your {name}.py)")
    spec = importlib.util.spec_from_file_location(f"_capstone_student_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(folder))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
    return module


def load(folder: str | Path, needs: dict[str, tuple[str, ...]]) -> SimpleNamespace:
    """The functions ``needs`` names, from the student's modules in ``folder``.

    Returns:
        A namespace with one attribute per function (e.g. ``fns.grpo_loss``).

    Raises:
        CapstoneError: a module or a function is missing.
    """
    folder = Path(folder).resolve()
    fns = {}
    for module_name, names in needs.items():
        module = _import(folder, module_name)
        for name in names:
            fn = getattr(module, name, None)
            if not callable(fn):
                raise CapstoneError(f"{module_name}.py has no function {name}")
            fns[name] = fn
    return SimpleNamespace(**fns)


def check_rewards(fns: SimpleNamespace) -> None:
    """Fails early if the student's ex09 cannot read an R1-style answer.

    Raises:
        CapstoneError: ``math_reward`` gives 0 to a correct ``<answer>`` (every reward
            would be 0 and nothing would learn).
    """
    good = "<think>7+5=12 4+8+1=13</think><answer>132</answer>"
    if fns.math_reward(good, "132") != 1.0:
        raise CapstoneError(
            f"your math_reward({good!r}, '132') is not 1.0: extract_answer must read the "
            "last <answer>...</answer> first (ex09)"
        )
