"""The capstone's graded integration check (ex11) against whole submissions, end to end.

A correct submission (the reference modules) passes; a submission whose ``grpo_loss`` has
its sign flipped or whose ``token_logprobs`` forgets the one-position shift fails. Each
case grades ``ex11_lm`` with ``grade`` (in the sandbox where bubblewrap works), so the run
happens in the worker and the accuracy is measured in this process. Minute-scale: slow.

Raw rewards used as advantages (no group normalisation) are REINFORCE without a baseline:
a valid, noisier policy gradient that raises accuracy as much in 12 steps (+11 points on
seed 0), so no accuracy threshold can fail it without failing correct variants. That bug
is ex10's, and ex10's own checks catch it: asserted here too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from corpus_support import CORPUS_DIR, CORPUS_LIMITS, build_submission, exercise_result

from autograder.grading.run import grade
from autograder.seam.sandbox import choose_launcher

pytestmark = pytest.mark.slow

CHECK = "test_your_functions_drive_a_short_grpo_run_that_raises_accuracy"
SEED = 20261130

# Appended to a reference module: the bug replaces one function after the correct one.
SIGN_FLIPPED_LOSS = '''

_correct_grpo_loss = grpo_loss


def grpo_loss(*args, **kwargs):
    """Bug: the loss is negated, so the optimizer lowers the reward."""
    return -_correct_grpo_loss(*args, **kwargs)
'''
RAW_ADVANTAGES = '''

def group_advantages(rewards, group_size, eps=1e-4, scale=True):
    """Bug: the raw rewards are used as advantages (no group mean, no scale)."""
    return torch.as_tensor(rewards, dtype=torch.float32).clone()
'''


def integration_result(submission: Path):
    launcher, _ = choose_launcher("auto")
    run = grade(
        submission, exercises=["ex11_lm"], launcher=launcher, limits=CORPUS_LIMITS, seed=SEED
    )
    checks = {c.check: c for c in exercise_result(run, "ex11_lm").checks}
    return checks[CHECK]


@pytest.mark.parametrize("bug", [None, "sign_flipped_grpo_loss", "ex11_no_shift"])
def test_the_integration_check_passes_the_reference_and_fails_each_bug(bug, tmp_path):
    dest = build_submission([], tmp_path / "sub")
    if bug == "sign_flipped_grpo_loss":
        with (dest / "ex10_grpo.py").open("a", encoding="utf-8") as f:
            f.write(SIGN_FLIPPED_LOSS)
    elif bug == "ex11_no_shift":
        shutil.copyfile(CORPUS_DIR / "chaff" / "ex11_lm" / "no_shift.py", dest / "ex11_lm.py")
    result = integration_result(dest)
    if bug is None:
        assert result.passed, f"the reference failed the integration check:\n{result.output}"
    else:
        assert not result.passed, f"{bug} passed the integration check"


def test_raw_rewards_as_advantages_lose_points_on_ex10(tmp_path):
    dest = build_submission([], tmp_path / "sub")
    with (dest / "ex10_grpo.py").open("a", encoding="utf-8") as f:
        f.write(RAW_ADVANTAGES)
    run = grade(dest, exercises=["ex10_grpo"], limits=CORPUS_LIMITS, seed=SEED)
    ex10 = exercise_result(run, "ex10_grpo")
    assert ex10.score < ex10.max_points, "raw rewards as advantages got full marks on ex10"
