"""Alternative: regex-based parsing with Decimal arithmetic for numbers, and code run with temporary files and start_new_session."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from decimal import Decimal, InvalidOperation

NUM = r"[+-]?(?:\d+\.?\d*|\.\d+)"


def extract_answer(completion):
    if not isinstance(completion, str):
        return None
    blocks = re.findall(r"<answer>((?:(?!<answer>).)*?)</answer>", completion, flags=re.DOTALL)
    tail = completion.rsplit("</answer>", 1)
    if blocks and "<answer>" in tail[0]:
        inner = tail[0][tail[0].rindex("<answer>") + len("<answer>") :]
        nested = extract_answer(inner) if re.search(r"####|\\boxed\s*\{", inner) else None
        return nested if nested is not None else inner.strip()
    lines = re.findall(r"####(.*)", completion)  # "." stops at the end of the line
    if lines:
        rest = completion[completion.rindex("####") + 4 :].lstrip()
        return rest.split("\n", 1)[0].strip() if rest else ""
    best = None
    for m in re.finditer(r"\\boxed\s*\{", completion):
        depth, i = 1, m.end()
        while i < len(completion) and depth:
            depth += {"{": 1, "}": -1}.get(completion[i], 0)
            i += 1
        if depth == 0:
            best = completion[m.end() : i - 1].strip()
    return best


def _value(s):
    """(numerator, denominator) as Decimals, or None when s is not a number."""
    if re.fullmatch(NUM, s):
        return Decimal(s), Decimal(1)
    m = re.fullmatch(rf"({NUM})/({NUM})", s) or re.fullmatch(
        rf"([+-]?)\\frac\{{({NUM})\}}\{{({NUM})\}}", s
    )
    if not m:
        return None
    if len(m.groups()) == 3:
        sign, top, bottom = m.groups()
        top = ("-" if sign == "-" else "") + top.lstrip("+")
    else:
        top, bottom = m.groups()
    if Decimal(bottom) == 0:
        return None
    return Decimal(top), Decimal(bottom)


def _clean(s):
    s = re.sub(r"\\[!,; ]", "", s).replace("\\$", "").replace("$", "")
    s = re.sub(r"\s+", "", s).replace("\\dfrac", "\\frac")
    s = s[:-1] if s.endswith(".") else s
    s = re.sub(r"^\{([^{}]*)\}$", r"\1", s)
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", s):
        s = s.replace(",", "")
    return s


def math_reward(completion, gold):
    try:
        pred = extract_answer(completion)
        if pred is None or not isinstance(gold, str):
            return 0.0
        gold_answer = extract_answer(gold)
        a = _clean(pred)
        b = _clean(gold if gold_answer is None else gold_answer)
        if a == "" or b == "" or max(len(a), len(b)) > 200:
            return 0.0
        x, y = _value(a), _value(b)
        if x is None or y is None:
            return 1.0 if x is None and y is None and a == b else 0.0
        return 1.0 if x[0] * y[1] == y[0] * x[1] else 0.0
    except (InvalidOperation, ValueError, ArithmeticError):
        return 0.0


def format_reward(completion):
    if not isinstance(completion, str):
        return 0.0
    pattern = (
        r"\s*<think>((?!</?think>|</?answer>).)*</think>"
        r"\s*<answer>((?!</?think>|</?answer>).)*</answer>\s*"
    )
    return 1.0 if re.fullmatch(pattern, completion, re.DOTALL) else 0.0


def code_reward(program, tests, timeout=2.0):
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout > 0:
        raise ValueError(f"timeout must be > 0, got {timeout!r}")
    tests = list(tests) if isinstance(tests, (list, tuple)) else None
    if not tests:
        raise ValueError("tests must be a non-empty list")
    if not all(
        isinstance(t, (list, tuple)) and len(t) == 2 and all(isinstance(x, str) for x in t)
        for t in tests
    ):
        raise ValueError("every test must be a (stdin, expected) pair of strings")
    if not isinstance(program, str) or program.strip() == "":
        return 0.0

    def same(out, expected):
        strip = lambda t: [line.rstrip() for line in t.rstrip().split("\n")]  # noqa: E731
        return strip(out) == strip(expected)

    score = 0
    for stdin_text, expected in tests:
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "solution.py")
            with open(src, "w", encoding="utf-8") as f:
                f.write(program)
            with tempfile.TemporaryFile() as fin, tempfile.TemporaryFile() as fout:
                fin.write(stdin_text.encode())
                fin.seek(0)
                try:
                    proc = subprocess.Popen(
                        [sys.executable, "-I", src],
                        stdin=fin,
                        stdout=fout,
                        stderr=subprocess.DEVNULL,
                        cwd=tmp,
                        start_new_session=True,
                    )
                except OSError:
                    continue
                try:
                    rc = proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    rc = None
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                proc.wait()
                fout.seek(0)
                if rc == 0 and same(fout.read().decode(errors="replace"), expected):
                    score += 1
    return score / len(tests)
