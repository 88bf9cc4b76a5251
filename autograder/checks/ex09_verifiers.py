"""Checks for exercise 09: verifier rewards for RLVR (answer extraction, math, format, code).

The tables of completions and answers are in ``ex09_verifiers_support.py``; its ``MATH_CASES``
is also read by ``benchmarks/compare_math_verify.py``, which compares the reference
``math_reward`` with Hugging Face's math-verify on the same table.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograder.checks._support import expect_float, expect_raises, guarded, show
from autograder.checks.ex09_verifiers_support import (
    ADD,
    ADD_TESTS,
    EXTRACT_CASES,
    FORMAT_CASES,
    MATH_ANSWER_TAG,
    MATH_NO_ANSWER,
    MATH_NORMALISATION,
    MATH_NUMBERS,
    MATH_WHERE,
    code_works,
    codes,
    expect_reward,
    math_table,
    messy_text,
    rewards_work,
    startup_seconds,
)

EXERCISE = "ex09_verifiers"


# -- extract_answer -----------------------------------------------------------------------------
def test_extract_answer_prefers_the_last_answer_tag_then_hashes_then_boxed(impl):
    for completion, expected in EXTRACT_CASES:
        out = impl.extract_answer(completion)
        call = f"extract_answer({completion!r})"
        assert out == expected and (out is None or type(out) is str), (
            f"{call}: expected {expected!r}, got {show(out)}"
        )


# -- math_reward: the table ---------------------------------------------------------------------


def test_math_reward_finds_the_last_answer_marker(impl):
    math_table(impl, MATH_WHERE)


def test_math_reward_reads_the_last_answer_block_before_any_other_marker(impl):
    math_table(impl, MATH_ANSWER_TAG)


def test_math_reward_normalises_dollars_commas_spaces_and_a_trailing_period(impl):
    math_table(impl, MATH_NORMALISATION)


def test_math_reward_compares_numbers_not_strings_or_substrings(impl):
    math_table(impl, MATH_NUMBERS)


def test_math_reward_is_0_without_an_answer_and_never_raises_on_bad_input(impl):
    guarded(lambda: rewards_work(impl), "math_reward")
    math_table(impl, MATH_NO_ANSWER)


# -- format_reward ---------------------------------------------------------------------------------
def test_format_reward_accepts_think_then_answer_spanning_lines_and_nothing_else(impl):
    wrong = []
    for completion, expected, why in FORMAT_CASES:
        out = impl.format_reward(completion)
        if type(out) is not float or out != expected:
            wrong.append(
                f"  format_reward({completion!r}) [{why}]: expected {expected}, got {show(out)}"
            )
    assert not wrong, f"{len(wrong)} of {len(FORMAT_CASES)} cases wrong:\n" + "\n".join(wrong)


# -- properties ------------------------------------------------------------------------------------


@given(completion=messy_text, gold=st.one_of(messy_text, st.integers(-999, 999).map(str)))
def test_the_rewards_are_python_floats_0_or_1_and_never_raise_on_any_text(impl, completion, gold):
    guarded(lambda: rewards_work(impl), "math_reward and format_reward")
    for name, out in (
        (f"math_reward({completion!r}, {gold!r})", impl.math_reward(completion, gold)),
        (f"format_reward({completion!r})", impl.format_reward(completion)),
    ):
        assert type(out) is float and out in (0.0, 1.0), (
            f"{name}: expected the Python float 0.0 or 1.0, got {show(out)}"
        )
    got = impl.extract_answer(completion)
    assert got is None or type(got) is str, (
        f"extract_answer({completion!r}): expected a str or None, got {show(got)}"
    )


@given(
    n=st.integers(-(10**7), 10**7),
    fmt=st.sampled_from(
        [
            "#### {n}",
            "#### {c}",
            "#### ${c}.",
            "\\boxed{{{n}}}",
            "\\boxed{{{c}}}",
            "#### {n}.0",
            "<answer>{n}</answer>",
            "<think>#### 7</think><answer> ${c} </answer>",
        ]
    ),
    gold=st.sampled_from(["{n}", "{n}.0", "{c}", "Work.\n#### {n}"]),
    prefix=st.text(alphabet="abc 123+=\n", max_size=30),
)
def test_an_integer_answer_matches_itself_in_any_format_and_no_other_number(
    impl, n, fmt, gold, prefix
):
    def fill(t: str, m: int) -> str:
        return t.format(n=m, c=f"{m:,}")

    completion = prefix + "\n" + fill(fmt, n)
    others = [(n, 1.0), (n + 1, 0.0), (10 * n + 1, 0.0)] + ([(-n, 0.0)] if n else [])
    for other, expected in others:
        g = fill(gold, other)
        expect_reward(
            impl.math_reward(completion, g), expected, f"math_reward({completion!r}, {g!r})"
        )


# -- code_reward -----------------------------------------------------------------------------------
def test_a_correct_program_scores_1_and_a_wrong_one_0(impl):
    c = codes(impl)
    call = f"code_reward({ADD!r}, {ADD_TESTS!r})"
    expect_float(c.code_reward(ADD, ADD_TESTS), 1.0, call, rtol=0, atol=0)
    wrong = ADD.replace("a + b", "a * b")
    call = f"code_reward({wrong!r}, {ADD_TESTS!r})"
    expect_float(c.code_reward(wrong, ADD_TESTS), 0.0, call, rtol=0, atol=0)


@pytest.mark.title("two of three tests passing gives 2/3")
def test_two_of_three_tests_passing_gives_2_3(impl):
    prog = "a, b = map(int, input().split())\nprint(a + b if a >= 0 else a - b)\n"
    call = f"code_reward({prog!r}, {ADD_TESTS!r})"
    expect_float(codes(impl).code_reward(prog, ADD_TESTS), 2 / 3, call, rtol=1e-12, atol=1e-12)


def test_the_program_reads_each_tests_stdin_and_trailing_whitespace_is_ignored(impl):
    prog = "import sys\nfor line in sys.stdin.read().split('\\n'):\n    print(line[::-1], '  ')\n"
    tests = [("abc\nxy", "cba\nyx\n\n"), ("hello", "olleh")]
    call = f"code_reward({prog!r}, {tests!r})"
    expect_float(codes(impl).code_reward(prog, tests), 1.0, call, rtol=0, atol=0)


def test_a_crash_or_an_exit_before_printing_fails_even_with_exit_code_0(impl):
    c = codes(impl)
    guarded(lambda: code_works(c), "code_reward")
    tests = [("1 2\n", "3")]
    for prog, why in (
        ("import sys\nsys.exit(0)\nprint(3)\n", "sys.exit(0) before printing"),
        ("import os\nos._exit(0)\n", "os._exit(0) without output"),
        ("pass\n", "prints nothing"),
        ("print(3)\nraise RuntimeError('boom')\n", "prints the answer, then crashes"),
        ("print(3)\nimport sys\nsys.exit(1)\n", "prints the answer, then exits 1"),
        ("print(3)\nassert 1 == 2\n", "prints the answer, then fails an assert"),
        ("print(3\n", "a syntax error"),
    ):
        call = f"code_reward({prog!r}, {tests!r}) [{why}]"
        expect_float(c.code_reward(prog, tests), 0.0, call, rtol=0, atol=0)


def test_output_must_equal_the_expected_not_a_prefix_or_an_extension(impl):
    c = codes(impl)
    guarded(lambda: code_works(c), "code_reward")
    tests = [("", "1\n2\n3")]
    for prog, why in (
        ("print(1)\nprint(2)\n", "a prefix of the expected lines"),
        ("print(1)\nprint(2)\nprint(3)\nprint(4)\n", "an extra line"),
        ("print('1\\n2\\n3x')\n", "a wrong last line"),
    ):
        call = f"code_reward({prog!r}, {tests!r}) [{why}]"
        expect_float(c.code_reward(prog, tests), 0.0, call, rtol=0, atol=0)


def test_the_program_runs_in_a_fresh_isolated_python_per_test(impl):
    prog = "import sys\nprint(sys.flags.isolated, sys.flags.optimize)\n"
    tests = [("", "1 0"), ("", "1 0")]
    call = f"code_reward({prog!r}, {tests!r}) (python -I, not -O)"
    expect_float(codes(impl).code_reward(prog, tests), 1.0, call, rtol=0, atol=0)


def test_missing_programs_score_0_and_an_empty_test_list_raises_value_error(impl):
    c = codes(impl)
    guarded(lambda: code_works(c), "code_reward")
    for prog in (None, "", "   \n"):
        expect_float(
            c.code_reward(prog, [("", "")]),
            0.0,
            f"code_reward({prog!r}, [('', '')])",
            rtol=0,
            atol=0,
        )
    expect_raises("ValueError", lambda: c.code_reward(ADD, []), f"code_reward({ADD!r}, [])")


def test_an_infinite_loop_fails_and_returns_within_the_timeout(impl):
    c = impl.using(timeout=15.0)  # a call that never returns is stopped well before 60 s
    guarded(lambda: code_works(codes(impl)), "code_reward")
    tests = [("1 2\n", "3")]
    margin = 3.0 + 2 * startup_seconds(c, tests)  # process start-up and clean-up
    for prog, why in (
        ("while True:\n    pass\n", "loops forever"),
        ("print(3, flush=True)\nwhile True:\n    pass\n", "prints the answer, then loops forever"),
        ("import time\nprint(3, flush=True)\ntime.sleep(60)\n", "prints the answer, then sleeps"),
    ):
        call = f"code_reward({prog!r}, {tests!r}, timeout=0.5) [{why}]"
        start = time.monotonic()
        out = c.code_reward(prog, tests, timeout=0.5)
        took = time.monotonic() - start
        expect_float(out, 0.0, call, rtol=0, atol=0)
        assert took <= 0.5 + margin, (
            f"{call}: expected to return within {0.5 + margin:.1f} s (the timeout, plus 3 s, "
            f"plus twice the time a program that answers at once takes), took {took:.2f} s"
        )


def test_child_processes_do_not_outlive_the_call(impl):
    """A program starts a sleeping child and exits; a second program checks it is gone.

    Both run through your ``code_reward``, so they see the same machine (and the same
    sandbox) as each other: the first writes its child's pid to a file the grader names.
    """
    c = impl.using(timeout=15.0)
    token = f"{time.time_ns()}-{np.random.default_rng().integers(1 << 30)}"
    pidfile = f"/tmp/rl4llm-child-{token}.pid"
    spawn = (
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(20)'])\n"
        f"open({pidfile!r}, 'w').write(str(child.pid))\n"
        "print('spawned')\n"
    )
    probe = (  # exits 0 and prints the status only when it is the one given on stdin
        "import sys, time\n"
        "try:\n"
        f"    pid = int(open({pidfile!r}).read())\n"
        "except (OSError, ValueError):\n"
        "    pid = None\n"
        "def alive():\n"
        "    try:\n"
        "        with open(f'/proc/{pid}/stat') as f:\n"
        "            return f.read().rsplit(')', 1)[1].split()[0] not in ('Z', 'X')\n"
        "    except OSError:\n"
        "        return False\n"
        "deadline = time.monotonic() + 1.0\n"
        "while pid and alive() and time.monotonic() < deadline:\n"
        "    time.sleep(0.02)\n"
        "status = 'no pid file' if pid is None else 'alive' if alive() else 'gone'\n"
        "print(status)\n"
        "raise SystemExit(0 if status == sys.stdin.read().strip() else 1)\n"
    )
    cleanup = f"import os\ntry:\n    os.remove({pidfile!r})\nexcept OSError:\n    pass\n"
    call = "code_reward(<program that starts a sleeping child and prints 'spawned'>, timeout=2)"
    margin = 3.0 + 2 * startup_seconds(c, [("", "3")])
    start = time.monotonic()
    out = c.code_reward(spawn, [("", "spawned")], timeout=2.0)
    took = time.monotonic() - start
    assert type(out) is float, f"{call}: expected a Python float, got {show(out)}"
    assert took <= 2.0 + margin, (
        f"{call}: expected to return within {2.0 + margin:.1f} s, took {took:.2f} s "
        "(a pipe held open by the child blocks the read: kill the process group)"
    )
    gone = c.code_reward(probe, [("gone", "gone")], timeout=5.0)
    if gone != 1.0:  # find out why, for the message
        alive = c.code_reward(probe, [("alive", "alive")], timeout=5.0)
        missing = c.code_reward(probe, [("no pid file", "no pid file")], timeout=5.0)
    c.code_reward(cleanup, [("", "")], timeout=5.0)
    if gone == 1.0:
        return
    assert alive != 1.0, (
        f"{call}: expected the child to be killed when the call returns, but it was still "
        "running afterwards (start the program in its own session and kill the whole process "
        "group, e.g. start_new_session=True and os.killpg)"
    )
    raise AssertionError(
        f"{call}: could not tell whether the child was killed: a second program that reads "
        f"the child's pid from {pidfile} and prints 'gone' scored {show(gone)}"
        + (
            " (the pid file was never written: did the first program run?)"
            if missing == 1.0
            else ""
        )
    )


# -- oracle ----------------------------------------------------------------------------------------
@pytest.mark.hidden
def test_matches_the_reference_on_fresh_random_completions(impl, ref, rng):
    def number() -> str:
        kind = int(rng.integers(5))
        n = int(rng.integers(-5000, 5000))
        if kind == 0:
            return str(n)
        if kind == 1:
            return f"{n:,}"
        if kind == 2:
            return f"{n / 4:.2f}"
        if kind == 3:
            return f"{n}/{int(rng.integers(1, 9))}"
        return f"\\frac{{{abs(n)}}}{{{int(rng.integers(1, 9))}}}"

    def completion() -> str:
        think = (
            "<think>\n"
            + "\n".join(
                str(
                    rng.choice(["step {}: {}", "step {}: #### {}", "step {}: \\boxed{{{}}}"])
                ).format(i, number())
                for i in range(int(rng.integers(0, 4)))
            )
            + "\n</think>\n"
        )
        answers = [number() for _ in range(int(rng.integers(1, 3)))]
        style = int(rng.integers(4))
        if style == 0:
            body = "\n" + "\n".join(f"#### {a}" for a in answers) + "\n"
        elif style == 1:
            body = " then ".join(f"\\boxed{{{a}}}" for a in answers)
        elif style == 2:
            body = f"The answer is {answers[-1]}"
        else:
            body = f" {answers[-1]} "
        tail = str(rng.choice(["", ".", "\n", " Done.", f"\n#### {number()}"]))
        return think + f"<answer>{body}</answer>" + tail

    for _ in range(150):
        text = completion()
        gold = number() if rng.random() < 0.5 else ""
        if not gold:
            found = ref.extract_answer(text)
            gold = found if found is not None else number()
        call = f"math_reward({text!r}, {gold!r})"
        expect_reward(impl.math_reward(text, gold), ref.math_reward(text, gold), call)
        expect_reward(impl.format_reward(text), ref.format_reward(text), f"format_reward({text!r})")
