"""Exercise 09 - verifiable rewards (RLVR): checking answers instead of learning a judge.

The idea
--------
For maths and code the reward does not need a learned model: a program can check
the answer. That makes the reward cheap and hard to fool - *if* the checker is
strict. Every loophole is a way for the policy to earn reward without solving
the task (reward hacking), and RL finds loopholes fast.

* ``extract_answer``: the final answer is, in this order of precedence, the content
  of the **last** ``<answer>...</answer>`` block (DeepSeek-R1-Zero's template, so
  that ``format_reward`` and ``math_reward`` read the same answer; a ``\\boxed{}``
  or ``####`` guess inside ``<think>`` then no longer counts), else the text after
  the **last** ``####`` (GSM8K style, up to the end of that line), else the content
  of the **last** ``\\boxed{...}``, found by counting braces so that
  ``\\boxed{\\frac{1}{2}}`` gives ``\\frac{1}{2}`` (a regex like ``\\boxed{(.*?)}``
  stops at the first ``}``). When the ``<answer>`` content itself holds a ``####``
  or a ``\\boxed{}``, the answer is read from inside it by the same rules
  (``<answer>\\boxed{72}</answer>`` gives ``72``). No marker means no answer:
  ``None``.
* ``math_reward``: normalise both sides (drop all whitespace, ``$`` and ``\\$``,
  thousands separators as in ``1,000``, one trailing ``.``; read ``\\dfrac`` and
  ``\\tfrac`` as ``\\frac``) and compare **as numbers**: integers, decimals,
  negatives, ``a/b`` and ``\\frac{a}{b}`` become exact fractions, so
  ``72.0 == 72`` and ``3/4 == 0.75`` but ``12 != 123`` (never ``gold in text``).
  Two non-numeric answers must be equal strings after normalisation, and a
  number never equals a non-number. The gold may be a whole GSM8K solution ending in ``#### 72``.
* ``format_reward``: 1.0 iff the completion is ``<think>...</think>`` followed by
  ``<answer>...</answer>`` and nothing else but whitespace, each tag exactly once;
  the reasoning may span many lines. (DeepSeek-R1-Zero is trained with just two
  rule-based rewards, an accuracy reward and this format reward, and no learned
  reward model.)
* ``code_reward``: run the program on each test's stdin in a **fresh**
  ``python -I`` process with a wall-clock timeout and compare its stdout with the
  expected output (trailing whitespace ignored per line and at the end). A test
  passes only when the process exits with 0 **and** the output matches: a crash
  after printing the right answer is a fail. The program runs in its own process
  group, which is killed after every test, so a ``while True: pass`` or a stray
  child process cannot outlive the call. This is not a sandbox: untrusted code
  still needs one around it.

A reward function is called millions of times on arbitrary model output, so
``None``, empty strings and garbage give 0.0, never an exception.

How this is checked
-------------------
A table of completions for each function (last ``<answer>`` before ``####`` before
``\\boxed``, a guess inside ``<think>``, last ``####``, nested and multiple
``\\boxed``, ``1,000``, ``$72``, ``72.``, ``-3``, ``3/4``, ``\\frac{3}{4}``, ``72.0``
vs ``72``, ``12`` vs ``123``, ``None``, ``""``, tags out of order, text after
``</answer>``); ``math_reward`` never raises on random strings; ``code_reward``
on correct, wrong, crashing, slow (``while True: pass`` returns within the timeout
plus a small margin) and child-spawning programs, stdin handling, partial credit,
and ``ValueError`` for an empty test list.
"""

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
       ``<answer>\\boxed{72}</answer>`` and ``<answer>#### 72</answer>`` both give ``"72"``;
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
    ### BEGIN SOLUTION
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
    ### END SOLUTION


def math_reward(completion: str | None, gold: str) -> float:
    """1.0 if the completion's final answer equals the gold answer as a number, else 0.0.

    The final answer is ``extract_answer(completion)``; the gold is
    ``extract_answer(gold)`` when that finds one, else ``gold`` itself. Both are
    normalised the same way: all whitespace, ``$`` and ``\\$`` removed, the thousands
    separators of ``1,000`` or ``1,234,567`` removed (``1,5`` is not a number), one
    trailing ``.`` dropped, and ``\\dfrac``/``\\tfrac`` read as ``\\frac``. Then they are
    compared as exact numbers when both are integers, decimals (``72.0 == 72``,
    ``72.9 != 72``), ``a/b`` or ``\\frac{a}{b}``, optionally negative; never as
    substrings (``12 != 123``). Two non-numeric answers must be equal strings after
    normalisation; a number never equals a non-number. No answer, an empty answer,
    an empty gold, or any error gives 0.0.

    Args:
        completion: model output (``None`` is allowed).
        gold: the reference answer, bare (``"72"``) or a GSM8K solution ending in ``#### 72``.

    Returns:
        1.0 or 0.0; never raises.
    """
    ### BEGIN SOLUTION
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
    ### END SOLUTION


def format_reward(completion: str | None) -> float:
    """1.0 iff the completion is ``<think>...</think><answer>...</answer>``, up to whitespace.

    Args:
        completion: model output (``None`` is allowed).

    Returns:
        1.0 or 0.0; never raises.
    """
    ### BEGIN SOLUTION
    if not isinstance(completion, str):
        return 0.0
    tags = ("<think>", "</think>", "<answer>", "</answer>")
    if any(completion.count(tag) != 1 for tag in tags):
        return 0.0
    pattern = r"\s*<think>.*</think>\s*<answer>.*</answer>\s*"
    return 1.0 if re.fullmatch(pattern, completion, flags=re.DOTALL) else 0.0
    ### END SOLUTION


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
    ### BEGIN SOLUTION
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
    ### END SOLUTION
