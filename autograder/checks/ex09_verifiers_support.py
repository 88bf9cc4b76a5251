"""Helpers of ex09's checks: the hand-written tables of completions and answers, messy-text
strategies and the shared expectations of the reward functions.

Only what the public checks use ships to students (``autograder/build/release.py``).
"""

from __future__ import annotations

import time

from hypothesis import strategies as st

from autograder.checks._support import expect_float, show

GSM8K_GOLD = (
    "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
    "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n"
    "#### 72"
)

THINK = (
    "<think>\nApril: 48 clips.\nMay: half of that, 24.\nTotal 48 + 24 = 70... no, 72.\n</think>\n"
)

# (completion, gold, expected math_reward, what the case is about), in four groups
MathCase = tuple[str | None, str, float, str]

MATH_WHERE: list[MathCase] = [
    ("So she sold 72 clips.\n#### 72", "72", 1.0, "GSM8K answer line"),
    ("#### 72", GSM8K_GOLD, 1.0, "gold is a whole GSM8K solution"),
    ("First try: #### 12\nNo wait, recount.\n#### 72", "72", 1.0, "the last #### counts"),
    ("First try: #### 12\nNo wait, recount.\n#### 72", "12", 0.0, "the first #### does not count"),
    ("Total: 48 + 24 = 72.\n#### 72\nI hope this helps!", "72", 1.0, "text after the #### line"),
    ("\\boxed{72}", "72", 1.0, "a boxed answer"),
    ("The answer is $\\boxed{72}$.", "72", 1.0, "a boxed answer inside $...$"),
    ("Maybe \\boxed{70}. Checking again: \\boxed{72}", "72", 1.0, "the last \\boxed counts"),
    ("Maybe \\boxed{70}. Checking again: \\boxed{72}", "70", 0.0, "the first \\boxed does not"),
    ("\\boxed{72} or \\boxed{73}", "72", 0.0, "two different boxed answers: the last one"),
    ("\\boxed{\\frac{1}{2}}", "1/2", 1.0, "nested braces in \\boxed"),
    ("\\boxed{\\frac{3}{4}}", "0.75", 1.0, "\\frac{a}{b} equals a decimal"),
    ("so the probability is \\boxed{\\frac{3}{4}}.", "\\frac{3}{4}", 1.0, "\\frac on both sides"),
    ("\\boxed{-\\frac{1}{2}}", "-0.5", 1.0, "a negative \\frac"),
    ("\\boxed{1,000}", "1000", 1.0, "thousands separator in \\boxed"),
    (THINK + "<answer>\\boxed{72}</answer>", "72", 1.0, "multi-line <think> then boxed"),
    (
        "<think>\\boxed{70}</think>\n<answer>\\boxed{72}</answer>",
        "72",
        1.0,
        "a boxed guess in <think>",
    ),
    (THINK + "<answer>\n#### 72\n</answer>", "72", 1.0, "#### inside a multi-line <answer>"),
]

MATH_ANSWER_TAG: list[MathCase] = [
    ("<think>48+24=72</think><answer>72</answer>", "72", 1.0, "a bare number in <answer>"),
    (THINK + "<answer>\n 72 \n</answer>", "72", 1.0, "a multi-line <answer>"),
    ("<think>so \\boxed{72}? no.</think><answer>70</answer>", "72", 0.0, "a retracted \\boxed"),
    ("<think>so \\boxed{72}? no.</think><answer>70</answer>", "70", 1.0, "<answer> beats \\boxed"),
    ("<think>#### 72</think>\n<answer>70</answer>", "72", 0.0, "<answer> beats ####"),
    ("<answer>70</answer>\n#### 72", "70", 1.0, "<answer> beats a later ####"),
    ("<answer>70</answer> then <answer>72</answer>", "72", 1.0, "the last <answer> counts"),
    ("<answer>70</answer> then <answer>72</answer>", "70", 0.0, "the first <answer> does not"),
    ("<answer>$1,000.</answer>", "1000", 1.0, "normalised inside <answer>"),
    ("<answer>The answer is 72</answer>", "72", 0.0, "words in <answer> are not a number"),
    ("<answer>72 \n#### 70", "70", 1.0, "an unclosed <answer> is no block"),
]

MATH_NORMALISATION: list[MathCase] = [
    ("#### 1,000", "1000", 1.0, "thousands separator"),
    ("#### 1,234,567", "1234567", 1.0, "two thousands separators"),
    ("#### $72", "72", 1.0, "a dollar sign"),
    ("#### \\$72", "72", 1.0, "an escaped dollar sign"),
    ("#### 72.", "72", 1.0, "a trailing period"),
    ("#### $1,234.", "1234", 1.0, "dollar, separator and period together"),
    ("####72", "72", 1.0, "no space after ####"),
    ("#### 72  \n", "72", 1.0, "trailing whitespace"),
    ("#### 72", "$72", 1.0, "a dollar sign in the gold"),
    ("#### 1000", "1,000", 1.0, "a separator in the gold"),
]

MATH_NUMBERS: list[MathCase] = [
    ("#### -3", "-3", 1.0, "a negative answer"),
    ("#### -3", "3", 0.0, "the sign matters (-3 vs 3)"),
    ("#### 3", "-3", 0.0, "the sign matters (3 vs -3)"),
    ("#### 72.0", "72", 1.0, "72.0 equals 72"),
    ("#### 72", "72.00", 1.0, "72 equals 72.00"),
    ("#### 72.9", "72", 0.0, "72.9 is not 72"),
    ("#### 0.5", "0.50", 1.0, "0.5 equals 0.50"),
    ("#### 3/4", "0.75", 1.0, "a/b equals a decimal"),
    ("#### 2/4", "1/2", 1.0, "equal fractions"),
    ("#### 3/4", "\\frac{3}{4}", 1.0, "a/b equals \\frac{a}{b}"),
    ("#### 1/3", "0.33", 0.0, "1/3 is not 0.33"),
    ("#### 0", "0", 1.0, "zero is an answer"),
    ("#### 12", "123", 0.0, "12 is not 123 (no substring match)"),
    ("#### 123", "12", 0.0, "123 is not 12 (no substring match)"),
    ("#### 7", "72", 0.0, "7 is not 72"),
    ("#### 72", "720", 0.0, "72 is not 720"),
]

MATH_NO_ANSWER: list[MathCase] = [
    ("The answer is 72.", "72", 0.0, "no #### and no \\boxed: no answer"),
    (None, "72", 0.0, "None"),
    ("", "72", 0.0, "empty completion"),
    ("####", "72", 0.0, "an empty #### answer"),
    ("\\boxed{}", "72", 0.0, "an empty \\boxed"),
    ("#### 72", "", 0.0, "an empty gold"),
    ("#### 1/0", "1", 0.0, "division by zero does not crash"),
]

MATH_CASES = MATH_WHERE + MATH_ANSWER_TAG + MATH_NORMALISATION + MATH_NUMBERS + MATH_NO_ANSWER

EXTRACT_CASES: list[tuple[str | None, str | None]] = [
    ("The answer is\n#### 72", "72"),
    ("#### 12\n#### 72", "72"),
    ("#### 72\nDone.", "72"),
    ("\\boxed{72}", "72"),
    ("\\boxed{3} then \\boxed{5}", "5"),
    ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
    ("$\\boxed{\\frac{\\sqrt{2}}{2}}$.", "\\frac{\\sqrt{2}}{2}"),
    ("\\boxed{\\{1, 2\\}}", "\\{1, 2\\}"),
    ("\\boxed{7} #### 9", "9"),
    ("<think>48+24=72</think><answer>72</answer>", "72"),
    ("<answer> 1 </answer><answer>\n2\n</answer>", "2"),
    ("<think>\\boxed{5}</think><answer>7</answer>", "7"),
    ("<think>#### 5</think><answer>7</answer>", "7"),
    ("<answer>7</answer>\n#### 9", "7"),
    ("<answer>\\boxed{\\frac{1}{2}}</answer>", "\\frac{1}{2}"),
    ("<answer>\n#### 72\n</answer>", "72"),
    ("<answer>x = 3</answer>", "x = 3"),
    ("<answer>7 and #### 9", "9"),
    ("no marker here: 72", None),
    ("", None),
    (None, None),
]

FORMAT_CASES: list[tuple[str | None, float, str]] = [
    ("<think>add them</think><answer>72</answer>", 1.0, "the minimal form"),
    (THINK + "<answer>\n72\n</answer>", 1.0, "multi-line reasoning and answer"),
    ("<think>a</think>\n\n<answer>72</answer>\n", 1.0, "whitespace between and after"),
    ("<think>a</think><answer>72</answer>   \n\n", 1.0, "trailing whitespace"),
    ("<think>a</think><answer>72</answer> Hope this helps!", 0.0, "text after </answer>"),
    ("<think>a</think><answer>72</answer>\nextra", 0.0, "text on a new line after </answer>"),
    ("<think>a</think><answer>72</answer><answer>73</answer>", 0.0, "two answers"),
    ("<think>a</think><think>b</think><answer>72</answer>", 0.0, "two think blocks"),
    ("Sure! <think>a</think><answer>72</answer>", 0.0, "text before <think>"),
    ("<answer>72</answer><think>a</think>", 0.0, "tags in the wrong order"),
    ("<think>a</think>", 0.0, "no answer"),
    ("<answer>72</answer>", 0.0, "no think"),
    ("<think>a<answer>72</answer></think>", 0.0, "answer inside think"),
    ("<think>a</think><answer>72", 0.0, "unclosed answer"),
    ("", 0.0, "empty"),
    (None, 0.0, "None"),
]

ADD = "a, b = map(int, input().split())\nprint(a + b)\n"

ADD_TESTS = [("1 2\n", "3\n"), ("10 20\n", "30"), ("-5 5\n", "0\n")]

CODE_TIMEOUT = 20.0  # CPU seconds per remote call (several subprocesses per call)


def codes(impl):
    return impl.using(timeout=CODE_TIMEOUT)


def expect_reward(out: object, expected: float, call: str) -> None:
    assert type(out) is float, f"{call}: expected a Python float {expected}, got {show(out)}"
    assert out == expected, f"{call}: expected {expected}, got {out}"


def rewards_work(impl) -> None:
    """A right answer scores 1.0 (the checks of 0.0 and of 'never raises' score with it)."""
    for completion, gold in (("#### 72", "72"), ("<think>a</think><answer>72</answer>", "72")):
        expect_reward(
            impl.math_reward(completion, gold), 1.0, f"math_reward({completion!r}, {gold!r})"
        )
    good = "<think>a</think><answer>72</answer>"
    expect_reward(impl.format_reward(good), 1.0, f"format_reward({good!r})")


def code_works(c) -> None:
    call = f"code_reward({ADD!r}, {ADD_TESTS!r})"
    expect_float(c.code_reward(ADD, ADD_TESTS), 1.0, call, rtol=0, atol=0)


def math_table(impl, rows) -> None:
    wrong = []
    for completion, gold, expected, why in rows:
        out = impl.math_reward(completion, gold)
        if type(out) is not float or out != expected:
            wrong.append(
                f"  math_reward({completion!r}, {gold!r}) [{why}]: "
                f"expected {expected}, got {show(out)}"
            )
    assert not wrong, f"{len(wrong)} of {len(rows)} cases wrong:\n" + "\n".join(wrong[:12])


MARKERS = [
    "####",
    "#### ",
    "\\boxed{",
    "\\boxed",
    "{",
    "}",
    "\\frac{",
    "$",
    ",",
    ".",
    "-",
    "/",
    "\n",
    " ",
    "<think>",
    "</think>",
    "<answer>",
    "</answer>",
    "1/0",
    "\\",
]

messy_text = st.lists(
    st.one_of(st.sampled_from(MARKERS), st.text(max_size=6), st.integers(-(10**6), 10**6).map(str)),
    max_size=20,
).map("".join)


def startup_seconds(c, tests) -> float:
    """Wall seconds your ``code_reward`` takes for a program that answers at once.

    The timing checks allow this twice over (plus 3 s) beyond ``timeout``: on a busy machine
    starting and cleaning up a process takes longer, and that must cost no point.
    """
    start = time.monotonic()
    c.code_reward("print(3)\n", tests, timeout=30.0)
    return time.monotonic() - start
