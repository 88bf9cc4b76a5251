"""Alternative: rfind/str scanning instead of regexes, Decimal/Fraction parsing, and code run with pipes, communicate() and a process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from fractions import Fraction

DIGITS = set("0123456789")


def extract_answer(completion):
    if not isinstance(completion, str):
        return None
    close = completion.rfind("</answer>")
    start = completion.rfind("<answer>", 0, max(close, 0))
    if close >= 0 and start >= 0:
        inner = completion[start + len("<answer>") : close]
        if "####" in inner or "\\boxed" in inner:
            found = extract_answer(inner)
            if found is not None:
                return found
        return inner.strip()
    i = completion.rfind("####")
    if i >= 0:
        return completion[i + 4 :].strip().split("\n")[0].strip()
    end = len(completion)
    while True:
        i = completion.rfind("\\boxed", 0, end)
        if i < 0:
            return None
        j = i + len("\\boxed")
        while j < len(completion) and completion[j].isspace():
            j += 1
        if j < len(completion) and completion[j] == "{":
            depth = 0
            for k in range(j, len(completion)):
                if completion[k] == "{":
                    depth += 1
                elif completion[k] == "}":
                    depth -= 1
                    if depth == 0:
                        return completion[j + 1 : k].strip()
        end = i


def _plain_number(s):
    body = s[1:] if s[:1] in "+-" else s
    if not body or body == ".":
        return None
    whole, _, frac = body.partition(".")
    if not set(whole) <= DIGITS or not set(frac) <= DIGITS:
        return None
    return Fraction(s)


def _number(s):
    n = _plain_number(s)
    if n is not None:
        return n
    sign = -1 if s.startswith("-") else 1
    t = s.lstrip("+-") if s[:1] in "+-" else s
    if t.startswith("\\frac{") and t.endswith("}") and "}{" in t:
        top, _, bottom = t[len("\\frac{") : -1].partition("}{")
        a, b = _plain_number(top), _plain_number(bottom)
        if a is not None and b:
            return sign * a / b
        return None
    if s.count("/") == 1:
        top, bottom = s.split("/")
        a, b = _plain_number(top), _plain_number(bottom)
        if a is not None and b:
            return a / b
    return None


def _normalise(s):
    for junk in ("\\!", "\\,", "\\;", "\\ ", "\\$", "$"):
        s = s.replace(junk, "")
    s = "".join(s.split()).replace("\\dfrac", "\\frac")
    if s.endswith("."):
        s = s[:-1]
    if s.startswith("{") and s.endswith("}") and "{" not in s[1:-1] and "}" not in s[1:-1]:
        s = s[1:-1]
    if "," in s:
        head, *groups = s.split(",")
        digits = head.lstrip("+-")
        if (
            1 <= len(digits) <= 3
            and set(digits) <= DIGITS
            and all(len(g.split(".")[0]) == 3 and _plain_number(g) is not None for g in groups)
            and all("." not in g for g in groups[:-1])
        ):
            s = s.replace(",", "")
    return s


def math_reward(completion, gold):
    try:
        pred = extract_answer(completion)
        if pred is None or not isinstance(gold, str):
            return 0.0
        g = extract_answer(gold)
        a, b = _normalise(pred), _normalise(gold if g is None else g)
        if not a or not b or len(a) > 200 or len(b) > 200:
            return 0.0
        x, y = _number(a), _number(b)
        if x is None and y is None:
            return float(a == b)
        return float(x is not None and x == y)
    except Exception:
        return 0.0


def format_reward(completion):
    if not isinstance(completion, str):
        return 0.0
    tags = ("<think>", "</think>", "<answer>", "</answer>")
    if any(completion.count(t) != 1 for t in tags):
        return 0.0
    s = completion.strip()
    if not (s.startswith("<think>") and s.endswith("</answer>")):
        return 0.0
    between = s[s.index("</think>") + len("</think>") : s.index("<answer>")]
    return 1.0 if between.strip() == "" else 0.0


def code_reward(program, tests, timeout=2.0):
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    if not isinstance(tests, (list, tuple)) or len(tests) == 0:
        raise ValueError("tests must be a non-empty list of (stdin, expected) pairs")
    for t in tests:
        if not (
            isinstance(t, (list, tuple)) and len(t) == 2 and all(isinstance(x, str) for x in t)
        ):
            raise ValueError(f"each test must be a (stdin, expected) pair, got {t!r}")
    if not isinstance(program, str) or not program.strip():
        return 0.0

    def tidy(text):
        return "\n".join(line.rstrip() for line in text.splitlines()).rstrip()

    passed = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "main.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(program)
        for stdin_text, expected in tests:
            proc = subprocess.Popen(
                [sys.executable, "-I", path],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd=tmp,
                process_group=0,
            )
            try:
                out, _ = proc.communicate(stdin_text.encode(), timeout=timeout)
                ok = proc.returncode == 0 and tidy(out.decode(errors="replace")) == tidy(expected)
            except subprocess.TimeoutExpired:
                ok = False
            except OSError:
                ok = False
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.communicate()
            passed += ok
    return passed / len(tests)
