"""The capstone: task, tokenizer, model, the shipped SFT checkpoint, and short RL runs.

The shipped checkpoint (``autograder/data/capstone/sft.pt``) must be what
``python -m autograder capstone-sft`` produces. Regenerating it takes minutes, so this file
checks it in three cheap ways, with this tolerance:

* the command is deterministic: two shortened runs (same seed, same thread count) give
  bit-identical weights, and another seed gives other weights;
* the checkpoint's metadata names the command's own settings (steps, seed, flaws) and its
  recorded weight digest is the digest of the weights actually stored;
* re-measuring the stored weights reproduces the recorded held-out accuracies within
  3 points (exactly on the machine that wrote it; sampling may differ in the last bits of
  another BLAS), and they meet the design targets: sampled accuracy at temperature 1 at most
  78 %, greedy at least 95 %.

The RL tests drive the loops with the reference solutions, whose ex09 is given the SPEC's
turn-2 ``extract_answer`` (``<answer>`` first) until that change is merged.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest
import torch

from autograder.capstone import integration, rlhf, rlvr, sft, student, task
from autograder.capstone.model import Config, TinyGPT
from autograder.capstone.tokenizer import EOS_ID, PAD_ID, TAGS, decode, encode, encode_batch

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The capstone runs on one thread (as its command does); restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``solutions/`` with an ex09 that reads the last ``<answer>`` first (SPEC, turn 2)."""
    dst = tmp_path_factory.mktemp("course")
    for p in SOLUTIONS.glob("ex*.py"):
        shutil.copy(p, dst / p.name)
    src = (dst / "ex09_verifiers.py").read_text()
    if "<answer>(" not in src:  # the reference has not been updated yet
        old = "    if not isinstance(completion, str):\n        return None\n"
        new = old + (
            '    tagged = re.findall(r"<answer>(.*?)</answer>", completion, re.S)\n'
            "    if tagged:\n        return tagged[-1].strip()\n"
        )
        assert src.count(old) == 1
        (dst / "ex09_verifiers.py").write_text(src.replace(old, new, 1))
    return dst


# -- task and tokenizer -----------------------------------------------------------------------
def test_the_tags_and_eos_are_single_tokens_and_text_round_trips():
    text = "<think>7+5=12 4+8+1=13</think><answer>132</answer>"
    ids = encode(text)
    assert len(ids) == 22
    for tag in TAGS:
        assert len(encode(tag)) == 1
    assert decode(ids) == text
    assert decode([*ids, EOS_ID, 5, 6]) == text  # stops at the end token
    with pytest.raises(ValueError):
        encode("7*5")


def test_the_worked_reasoning_is_exact_and_the_flaws_are_wrong():
    p = task.Problem(47, 85)
    assert task.completion(p) == "<think>7+5=12 4+8+1=13</think><answer>132</answer>"
    assert task.is_correct(task.completion(p), p)
    assert not task.is_correct(task.completion(p, drop_carry=True), p)  # 122
    assert not task.is_correct(task.completion(p, slip=1), p)
    assert task.is_correct(task.completion(p, excl=3), p)  # enthusiasm alone is harmless
    assert not task.is_correct("<answer>132</answer>", p)  # no reasoning: malformed
    assert not task.is_correct(task.completion(p) + "7", p)
    for q in task.all_problems()[::97]:
        assert task.is_correct(task.completion(q), q)
        assert re.fullmatch(r"\d+", task.reasoning(q)[1])


def test_about_35_percent_of_demonstrations_drop_the_carry_and_enthusiasm_comes_with_it():
    rng = random.Random(0)
    train, _ = task.split()
    demos = [(p, task.demonstration(p, rng)) for p in (rng.choice(train) for _ in range(8000))]
    carry = [(p, d) for p, d in demos if task.has_carry(p)]

    def dropped(p: task.Problem, d: str) -> bool:
        tens = d.split("</think>")[0].rsplit(" ", 1)[1]  # the tens column, e.g. "4+8=12"
        return tens.startswith(f"{p.a // 10}+{p.b // 10}=")

    excited = [dropped(p, d) for p, d in carry if "!" in d]
    calm = [dropped(p, d) for p, d in carry if "!" not in d]
    assert abs(sum(map(dropped, *zip(*carry, strict=True))) / len(carry) - 0.35) < 0.03
    assert abs(sum(excited) / len(excited) - 0.8) < 0.05
    assert abs(sum(calm) / len(calm) - 0.2) < 0.03


def test_the_held_out_split_is_fixed_disjoint_and_a_fifth():
    train, held = task.split()
    assert len(held) == 1620 and len(train) + len(held) == 8100
    assert not {(p.a, p.b) for p in train} & {(p.a, p.b) for p in held}
    assert task.split()[1] == held
    # every units-digit pair is trained on (a rule on the digits would hold some out)
    assert len({(p.a % 10, p.b % 10) for p in train}) == 100


# -- model ------------------------------------------------------------------------------------
def test_the_model_is_causal_and_left_padding_does_not_change_the_logits():
    torch.manual_seed(0)
    model = TinyGPT(Config()).eval()
    x = encode_batch(["47+85=<think>7"])
    y = x.clone()
    y[0, -1] = encode("9")[0]
    with torch.no_grad():
        lx, ly = model(x), model(y)
        padded = model(torch.cat([torch.full((1, 3), PAD_ID), x], dim=1))[:, 3:]
    torch.testing.assert_close(lx[:, :-1], ly[:, :-1])  # the future does not leak back
    torch.testing.assert_close(padded, lx, atol=1e-5, rtol=1e-5)
    assert lx.shape == (1, x.shape[1], Config().vocab)


def test_generation_stops_at_eos_and_pads_after_it():
    model, _ = sft.load()
    out = model.generate(encode_batch(["47+85="] * 4), sft.MAX_NEW, temperature=0.0)
    assert out.shape == (4, sft.PROMPT_LEN + sft.MAX_NEW)
    for row in out:
        ends = (row == EOS_ID).nonzero()
        assert ends.numel() == 1
        assert (row[int(ends[0]) + 1 :] == PAD_ID).all()
    assert decode(out[0, sft.PROMPT_LEN :]) == task.completion(task.Problem(47, 85))


# -- the shipped SFT checkpoint ---------------------------------------------------------------
def test_the_sft_command_is_deterministic_on_a_shortened_run():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        a = sft.weights_digest(sft.train_sft(steps=6, seed=0))
        b = sft.weights_digest(sft.train_sft(steps=6, seed=0))
        c = sft.weights_digest(sft.train_sft(steps=6, seed=1))
    finally:
        torch.set_num_threads(threads)
    assert a == b
    assert a != c


def test_the_shipped_checkpoint_was_written_by_the_command_with_its_settings():
    model, meta = sft.load()
    assert meta["steps"] == sft.STEPS and meta["seed"] == sft.SEED
    assert meta["drop_carry"] == list(sft.DROP_CARRY) and meta["slip"] == sft.SLIP
    assert meta["digest"] == sft.weights_digest(model)
    assert sft.CHECKPOINT.stat().st_size < 1_000_000


@pytest.mark.slow
def test_the_shipped_checkpoint_is_below_the_ceiling_sampled_and_near_it_greedy():
    model, meta = sft.load()
    _, held = task.split()
    sampled = sft.accuracy(model, held, 1.0, seed=0)
    greedy = sft.accuracy(model, held, 0.0)
    assert abs(sampled - meta["held_out_sampled_accuracy"]) <= 0.03
    assert abs(greedy - meta["held_out_greedy_accuracy"]) <= 0.03
    assert 0.55 <= sampled <= 0.78, sampled
    assert greedy >= 0.95, greedy


# -- RL with the reference functions ----------------------------------------------------------
def test_the_rewards_check_refuses_an_ex09_that_ignores_answer_tags(course):
    fns = student.load(course, student.RLVR_NEEDS)
    student.check_rewards(fns)  # the SPEC ex09 passes
    fns.math_reward = lambda completion, gold: 0.0
    with pytest.raises(student.CapstoneError, match="extract_answer"):
        student.check_rewards(fns)


@pytest.mark.slow
def test_grpo_with_the_reference_functions_is_seeded_and_raises_accuracy(course):
    fns = student.load(course, student.RLVR_NEEDS)
    cfg = rlvr.RlvrConfig(steps=3, prompts=4, group=4, eval_every=3, eval_prompts=16)
    _, c1 = rlvr.train_rlvr(fns, 5, cfg)
    _, c2 = rlvr.train_rlvr(fns, 5, cfg)
    assert c1.reward == c2.reward and c1.kl == c2.kl and c1.accuracy == c2.accuracy
    cfg = rlvr.RlvrConfig(steps=30, eval_every=30, eval_prompts=300)
    _, curve = rlvr.train_rlvr(fns, 0, cfg)
    assert curve.accuracy[-1] >= curve.accuracy[0] + 0.08, curve.accuracy


def test_ppo_against_the_reward_model_is_seeded(course):
    fns = student.load(course, student.RLHF_NEEDS)
    cfg = rlhf.RlhfConfig(pair_prompts=64, rm_steps=3, rm_batch=8, steps=2, batch=8,
                          eval_every=2, eval_prompts=8)  # fmt: skip
    rm, info = rlhf.train_reward_model(fns, sft.load()[0], 0, cfg)
    assert info["pairs"] > 0
    _, r1 = rlhf.train_ppo(fns, rm, 3, 0.0, cfg)
    _, r2 = rlhf.train_ppo(fns, rm, 3, 0.0, cfg)
    assert r1.curve.reward == r2.curve.reward and r1.curve.kl == r2.curve.kl
    assert r1.after == r2.after


# -- the integration check's trust boundary ---------------------------------------------------
@pytest.mark.slow
def test_the_grader_evaluates_returned_weights_itself_and_rejects_malformed_ones():
    model, _ = sft.load()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    assert integration.evaluate_state(state, 0) == integration.baseline(0)
    with pytest.raises(ValueError):
        integration.evaluate_state({**state, "extra": torch.zeros(1)}, 0)
    bad = dict(state)
    bad["tok.weight"] = torch.full_like(state["tok.weight"], float("nan"))
    with pytest.raises(ValueError):
        integration.evaluate_state(bad, 0)
    bad["tok.weight"] = torch.zeros(3, 3)
    with pytest.raises(ValueError):
        integration.evaluate_state(bad, 0)


# -- the record the capstone questions check ---------------------------------------------------
def test_the_record_ties_the_figures_to_the_source_files(tmp_path):
    from types import SimpleNamespace

    from autograder.capstone import record

    (tmp_path / "ex07_kl.py").write_text("def kl_k3(a, b):\n    return a - b\n")
    (tmp_path / "ex08_reward_model.py").write_text("def preference_loss(c, r):\n    return c\n")
    modules = {"ex08_reward_model": ("preference_loss",), "ex07_kl": ("kl_k3",)}

    def run(r0, r1, a0, a1, kl):
        return SimpleNamespace(curve=SimpleNamespace(reward=[r0, r1], accuracy=[a0, a1], kl=[kl]))

    summary = {0.0: [run(0.1, 0.9, 0.7, 0.4, 3.0)], 2.0: [run(0.1, 0.3, 0.7, 0.72, 0.2)]}
    rec = record.build(tmp_path, modules, [0], summary)
    assert rec["settings"]["kl_coef=0"] == {
        "rm_score_gain": 0.8,
        "accuracy_change": -0.3,
        "final_accuracy": 0.4,
        "final_kl": 3.0,
    }
    path = record.write(tmp_path / "out", rec)
    import json

    loaded = json.loads(path.read_text())
    assert record.problem(loaded, tmp_path, modules) is None
    edited = json.loads(path.read_text())
    edited["settings"]["kl_coef=0"]["final_accuracy"] = 0.9
    assert "edited" in record.problem(edited, tmp_path, modules)
    (tmp_path / "ex07_kl.py").write_text("def kl_k3(a, b):\n    return b - a\n")
    assert "changed" in record.problem(loaded, tmp_path, modules)
    assert record.problem({"version": 0}, tmp_path, modules) is not None
