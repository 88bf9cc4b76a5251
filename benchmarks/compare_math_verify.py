"""Compare the reference ``math_reward`` (ex09) with Hugging Face's math-verify.

Usage: python benchmarks/compare_math_verify.py [--all]

Needs ``pip install 'math-verify[antlr4_13_2]'`` (in the ``dev`` extra) and ``solutions/``.
Runs three verifiers on the graded table ``MATH_CASES`` from
``autograder/checks/ex09_verifiers_support.py`` and on a few extra probes of where the two
philosophies part (units, percentages, equations, scientific notation, rounding, bare
numbers without a marker):

* ``course``: the reference ``math_reward(completion, gold)``;
* ``mv``: math-verify's defaults, ``verify(parse(gold), parse(completion))``
  (LaTeX and plain-expression extraction, any match);
* ``mv-trl``: the configuration of TRL's ``accuracy_reward`` (LaTeX only, no bare
  numbers, ``boxed`` first, first match).

Prints every case where a math-verify configuration disagrees with the course, the
per-call time of each verifier, and a count. ``--all`` prints the agreeing cases too.
The findings are written up in ``docs/math_verify_comparison.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.checks.ex09_verifiers_support import MATH_CASES  # noqa: E402
from autograder.grading.reference import reference  # noqa: E402

# (completion, gold, what it probes): outside the graded table, where the two disagree by design
EXTRA_PROBES: list[tuple[str, str, str]] = [
    ("The answer is 72.", "72", "bare number, no #### / \\boxed"),
    ("It is 5 or maybe 7. Final answer: 7", "7", "bare numbers, the last one"),
    ("#### 72 apples", "72", "a unit word after the number"),
    ("\\boxed{5 \\text{ cm}}", "5", "a LaTeX unit"),
    ("\\boxed{10\\%}", "0.1", "a percentage"),
    ("\\boxed{x = 2}", "2", "an equation"),
    ("\\boxed{\\sqrt{4}}", "2", "an expression that evaluates to the gold"),
    ("#### 0.1 + 0.2", "0.3", "arithmetic left in the answer"),
    ("\\boxed{\\frac{1}{3}}", "0.333333", "rounding to 6 digits"),
    ("\\boxed{\\frac{1}{3}}", "0.33", "rounding to 2 digits"),
    ("#### 1e3", "1000", "scientific notation"),
    ("#### 1e3", "1", "scientific notation read as its mantissa"),
    ("\\boxed{\\frac12}", "0.5", "\\frac12 without braces"),
    ("\\boxed{\\dfrac{1}{2}}", "0.5", "\\dfrac"),
    ("#### 1,5", "15", "a comma that is not a thousands separator"),
    ("\\boxed{72} and again \\boxed{72}", "72", "the same boxed answer twice"),
    (
        "\\boxed{\\{1, 2\\}}",
        "$\\{2, 1\\}$",
        "a set (gold in $...$: math-verify needs LaTeX delimiters)",
    ),
    ("#### -0", "0", "negative zero"),
]


def trl_config():
    from latex2sympy2_extended import NormalizationConfig
    from math_verify import LatexExtractionConfig

    norm = NormalizationConfig(
        nits=False, malformed_operators=False, basic_latex=True, boxed="all", units=True
    )
    return [
        LatexExtractionConfig(
            normalization_config=norm, boxed_match_priority=0, try_extract_without_anchor=False
        )
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="also print the cases that agree")
    args = parser.parse_args()
    try:
        from math_verify import parse, verify
    except ImportError:
        print("math-verify is not installed: pip install 'math-verify[antlr4_13_2]'")
        return 2
    course = reference("ex09_verifiers").math_reward
    trl = trl_config()
    timings = {"course": 0.0, "mv": 0.0, "mv-trl": 0.0}

    def mv(completion, gold) -> float:
        start = time.perf_counter()
        g, p = parse(gold), parse(completion)
        out = float(verify(g, p)) if g and p else 0.0
        timings["mv"] += time.perf_counter() - start
        return out

    def mv_trl(completion, gold) -> float:
        start = time.perf_counter()
        g = parse(gold)
        p = parse(completion, extraction_config=trl, extraction_mode="first_match")
        out = float(verify(g, p)) if g and p else 0.0
        timings["mv-trl"] += time.perf_counter() - start
        return out

    def ours(completion, gold) -> float:
        start = time.perf_counter()
        out = course(completion, gold)
        timings["course"] += time.perf_counter() - start
        return out

    verify(parse("1/2"), parse("\\boxed{0.5}"))  # warm-up: the ANTLR parser loads on first use
    rows = [(c, g, why, exp) for c, g, exp, why in MATH_CASES]
    rows += [(c, g, why, None) for c, g, why in EXTRA_PROBES]
    n_diff = {"mv": 0, "mv-trl": 0}
    print(f"{'course':>6} {'mv':>3} {'trl':>3}  case")
    for i, (completion, gold, why, expected) in enumerate(rows):
        if i == len(MATH_CASES):
            print("-- extra probes (not graded) --")
        a = ours(completion, gold)
        if expected is not None:
            assert a == expected, f"the reference disagrees with the graded table on {completion!r}"
        b = mv(completion or "", gold)
        c = mv_trl(completion or "", gold)
        n_diff["mv"] += b != a
        n_diff["mv-trl"] += c != a
        if args.all or b != a or c != a:
            mark = "".join(("*" if b != a else " ", "*" if c != a else " "))
            text = f"math_reward({completion!r}, {gold[:30]!r})"
            print(f"{a:>6.0f} {b:>3.0f} {c:>3.0f} {mark} {text}  [{why}]")
    n = len(rows)
    print()
    print(
        f"{n} cases ({len(MATH_CASES)} graded + {len(EXTRA_PROBES)} probes): math-verify defaults "
        f"disagree on {n_diff['mv']}, the TRL accuracy_reward configuration on {n_diff['mv-trl']}"
    )
    for name, total in timings.items():
        print(f"  {name:>7}: {total / n * 1e6:9.1f} us per call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
