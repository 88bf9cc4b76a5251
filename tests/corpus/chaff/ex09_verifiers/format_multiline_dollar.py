"""Bug: open-r1's format regex with re.MULTILINE: $ matches at any line end, so junk after </answer> on a new line still scores 1.0."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from fractions import Fraction


def extract_answer(completion: str | None) -> str | None:
    """The final answer: the last ``<answer>``, else after the last ``####``, else the last ``\\boxed{}``.

    In order of precedence:

    1. the content of the **last** ``<answer>...</answer>`` block (the text between the
       last ``</answer>`` and the last ``<answer>`` before it); if that content holds a
       ``####`` or a ``\\boxed{`` the answer is read from inside it by rules 2 and 3, so
    2. else the text after the **last** ``####``, up to the end of that line;
    3. else the content of the **last** closed ``\\boxed{...}``, braces matched
       (``\\boxed{\\frac{1}{2}}`` gives ``"\\frac{1}{2}"``);
    4. else ``None`` (also for ``None`` or a non-string).

    Args:
        completion: model output (``None`` is allowed).

    Returns:
        The answer text with surrounding whitespace stripped, or ``None`` when there is
        no marker.
    """
    if not isinstance(completion, str):
        return None
    close = completion.rfind("</answer>")
    if close != -1:
        open_ = completion.rfind("<answer>", 0, close)
        if open_ != -1:
            inner = completion[open_ + len("<answer>") : close]
            if "####" in inner or re.search(r"\\boxed\s*\{", inner):
                found = extract_answer(inner)  # holds no "<answer>": rule 1 cannot recur
                if found is not None:
                    return found
            return inner.strip()
    if "####" in completion:
        tail = completion.rsplit("####", 1)[1].strip()
        return tail.split("\n", 1)[0].strip()  # the rest of the answer line
    starts = [m.end() for m in re.finditer(r"\\boxed\s*\{", completion)]  # just after each "{"
    if not starts:
        return None
    # One pass pairs every "{" with its "}" (a stack), so this stays O(n) even for
    # thousands of unclosed \boxed{ - rescanning from each of them would be O(n^2).
    closing, stack = {}, []
    for m in re.finditer(r"[{}]", completion):
        if m.group() == "{":
            stack.append(m.start())
        elif stack:
            closing[stack.pop()] = m.start()
    for start in reversed(starts):  # the last \boxed{...} that is closed
        end = closing.get(start - 1)
        if end is not None:
            return completion[start:end].strip()
    return None


def math_reward(completion: str | None, gold: str) -> float:
    """1.0 if the completion's final answer equals the gold answer as a number, else 0.0.

    Args:
        completion: model output (``None`` is allowed).
        gold: the reference answer, bare (``"72"``) or a GSM8K solution ending in ``#### 72``.

    Returns:
        1.0 or 0.0; never raises.
    """
    num = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"

    def normalize(s: str) -> str:
        for latex_space in ("\\!", "\\,", "\\;", "\\ "):
            s = s.replace(latex_space, "")
        s = s.replace("\\$", "").replace("$", "").replace("{,}", ",")
        s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
        s = re.sub(r"\s+", "", s)
        if s.endswith("."):
            s = s[:-1]
        inner = re.fullmatch(r"\{([^{}]*)\}", s)  # "{72}" -> "72"
        if inner:
            s = inner.group(1)
        if re.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?", s):
            s = s.replace(",", "")  # thousands separators only; "1,2" stays non-numeric
        return s

    def to_number(s: str) -> Fraction | None:
        if len(s) > 200:
            return None
        if re.fullmatch(num, s):
            return Fraction(s)
        m = re.fullmatch(rf"({num})/({num})", s)
        if m and Fraction(m.group(2)) != 0:
            return Fraction(m.group(1)) / Fraction(m.group(2))
        m = re.fullmatch(rf"([+-]?)\\frac\{{({num})\}}\{{({num})\}}", s)
        m = m or re.fullmatch(r"([+-]?)\\frac(\d)(\d)", s)  # \frac12
        if m and Fraction(m.group(3)) != 0:
            value = Fraction(m.group(2)) / Fraction(m.group(3))
            return -value if m.group(1) == "-" else value
        return None

    try:
        pred = extract_answer(completion)
        if pred is None or not isinstance(gold, str):
            return 0.0
        gold_answer = extract_answer(gold)
        if gold_answer is None:
            gold_answer = gold
        a, b = normalize(pred), normalize(gold_answer)
        if not a or not b:
            return 0.0
        x, y = to_number(a), to_number(b)
        if x is not None and y is not None:
            return 1.0 if x == y else 0.0
        if x is None and y is None:
            return 1.0 if a == b else 0.0
        return 0.0
    except Exception:  # a reward function must not crash the training loop
        return 0.0


def format_reward(completion: str | None) -> float:
    """1.0 iff the completion is ``<think>...</think><answer>...</answer>``, up to whitespace.

    Args:
        completion: model output (``None`` is allowed).

    Returns:
        1.0 or 0.0; never raises.
    """
    if not isinstance(completion, str):
        return 0.0
    pattern = r"^<think>.*?</think>\s*<answer>.*?</answer>\s*$"
    return 1.0 if re.match(pattern, completion, flags=re.DOTALL | re.MULTILINE) else 0.0


def code_reward(program: str | None, tests: list[tuple[str, str]], timeout: float = 2.0) -> float:
    """Fraction of ``(stdin, expected_stdout)`` tests the program passes.

    Args:
        program: Python source code (``None`` or empty counts as failing every test).
        tests: non-empty list of ``(stdin, expected_stdout)`` string pairs.
        timeout: wall-clock seconds allowed per test (> 0).

    Returns:
        ``passed / len(tests)`` in [0, 1].

    Raises:
        ValueError: ``tests`` is empty or malformed, or ``timeout`` is not positive.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    try:
        tests = list(tests)
    except TypeError:
        raise ValueError(
            f"tests must be a list of (stdin, expected) pairs, got {tests!r}"
        ) from None
    if not tests:
        raise ValueError("tests must not be empty")
    for test in tests:
        if not (
            isinstance(test, (tuple, list))
            and len(test) == 2
            and all(isinstance(x, str) for x in test)
        ):
            raise ValueError(f"each test must be a (stdin, expected) pair of str, got {test!r}")
    if not isinstance(program, str) or not program.strip():
        return 0.0

    def clean(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.split("\n")).rstrip()

    def passes(stdin_text: str, expected: str) -> bool:
        cap = max(1 << 20, 4 * len(expected.encode("utf-8")))  # bytes of output we read
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
            path = os.path.join(tmp, "program.py")
            with open(path, "w", encoding="utf-8") as f:
                f.write(program)
            # Files, not pipes: a pipe held open by a leftover child would block the read.
            with (
                open(os.path.join(tmp, "stdin.txt"), "w+b") as fin,
                open(os.path.join(tmp, "stdout.txt"), "w+b") as fout,
            ):
                fin.write(stdin_text.encode("utf-8"))
                fin.seek(0)
                proc = subprocess.Popen(
                    [sys.executable, "-I", "-X", "utf8", path],
                    stdin=fin,
                    stdout=fout,
                    stderr=subprocess.DEVNULL,
                    cwd=tmp,
                    start_new_session=True,  # its own process group, killed below
                )
                try:
                    code = proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    code = None
                finally:
                    try:
                        os.killpg(
                            proc.pid, signal.SIGKILL
                        )  # the program and every child it started
                    except (ProcessLookupError, PermissionError, AttributeError):
                        proc.kill()
                    proc.wait()
                if code != 0:
                    return False
                fout.seek(0)
                out = fout.read(cap + 1)
        if len(out) > cap:
            return False
        return clean(out.decode("utf-8", errors="replace")) == clean(expected)

    passed = 0
    for stdin_text, expected in tests:
        try:
            passed += passes(stdin_text, expected)
        except Exception:  # e.g. a program that cannot be written or started
            pass
    return passed / len(tests)
