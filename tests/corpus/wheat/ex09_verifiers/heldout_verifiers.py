"""Alternative: held out (written from the stubs alone by someone who never saw the checks); rfind and a backwards walk over boxed, Fractions from three regexes, code_reward with files for stdin and stdout and a killed process group."""

# Generated from solutions/ex09_verifiers.py by `python -m autograder build-course`.
# Edit this copy: it is yours. Replace each `raise NotImplementedError()`.
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
    if not isinstance(completion, str):
        return None
    close = completion.rfind("</answer>")
    if close != -1:
        open_ = completion.rfind("<answer>", 0, close)
        if open_ != -1:
            inner = completion[open_ + len("<answer>"):close]
            if "####" in inner or "\\boxed{" in inner:
                nested = _after_hashes(inner)
                if nested is None:
                    nested = _last_boxed(inner)
                if nested is not None:
                    return nested
            return inner.strip()
    found = _after_hashes(completion)
    if found is not None:
        return found
    return _last_boxed(completion)


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
    try:
        if not isinstance(gold, str):
            return 0.0
        answer = extract_answer(completion)
        if answer is None:
            return 0.0
        gold_answer = extract_answer(gold)
        if gold_answer is None:
            gold_answer = gold
        mine, theirs = _normalise(answer), _normalise(gold_answer)
        if not mine or not theirs:
            return 0.0
        a, b = _as_number(mine), _as_number(theirs)
        if a is None and b is None:
            return 1.0 if mine == theirs else 0.0
        if a is None or b is None:
            return 0.0
        return 1.0 if a == b else 0.0
    except Exception:
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
    for tag in ("<think>", "</think>", "<answer>", "</answer>"):
        if completion.count(tag) != 1:
            return 0.0
    return 1.0 if _FORMAT.fullmatch(completion) else 0.0


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
    if not isinstance(tests, (list, tuple)) or len(tests) == 0:
        raise ValueError("tests must be a non-empty list of (stdin, expected_stdout) pairs")
    for case in tests:
        if (
            not isinstance(case, (list, tuple))
            or len(case) != 2
            or not all(isinstance(part, str) for part in case)
        ):
            raise ValueError(f"each test must be a (stdin, expected_stdout) pair of strings, got {case!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < float("inf"):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if not isinstance(program, str) or not program.strip():
        return 0.0
    passed = 0
    for stdin_text, expected in tests:
        try:
            if _run_one(program, stdin_text, expected, float(timeout)):
                passed += 1
        except Exception:
            pass
    return passed / len(tests)


_FORMAT = re.compile(r"\s*<think>.*</think>\s*<answer>.*</answer>\s*", re.DOTALL)
_INT_OR_DEC = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
_SLASH = re.compile(r"(-?\d+)/(-?\d+)")
_FRAC = re.compile(r"(-?)\\frac\{(-?\d+)\}\{(-?\d+)\}")
_THOUSANDS = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


def _after_hashes(text: str) -> str | None:
    """Text after the last ``####`` up to the end of its line, or None without one."""
    at = text.rfind("####")
    if at == -1:
        return None
    rest = text[at + 4:]
    return rest.split("\n", 1)[0].strip()


def _last_boxed(text: str) -> str | None:
    """Content of the last ``\boxed{...}`` whose braces close, or None."""
    start = len(text)
    while True:
        start = text.rfind("\\boxed{", 0, start)
        if start == -1:
            return None
        depth = 0
        body_start = start + len("\\boxed{")
        for i in range(body_start - 1, len(text)):
            ch = text[i]
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    return text[body_start:i].strip()
        # unclosed: look further left


def _normalise(s: str) -> str:
    s = "".join(s.split())
    s = s.replace("\\$", "").replace("$", "")
    if s.endswith("."):
        s = s[:-1]
    if _THOUSANDS.fullmatch(s):
        s = s.replace(",", "")
    return s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")


def _as_number(s: str) -> Fraction | None:
    if _INT_OR_DEC.fullmatch(s):
        return Fraction(s)
    m = _SLASH.fullmatch(s)
    if m:
        return Fraction(int(m.group(1)), int(m.group(2)))  # x/0 raises: no reward
    m = _FRAC.fullmatch(s)
    if m:
        value = Fraction(int(m.group(2)), int(m.group(3)))
        return -value if m.group(1) else value
    return None


def _normalise_output(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()).rstrip()


def _run_one(program: str, stdin_text: str, expected: str, timeout: float) -> bool:
    """Run ``program`` once in a fresh ``python -I``; stdout goes to a file, so a child that
    keeps the descriptor open cannot make us wait; the whole process group dies afterwards."""
    with tempfile.TemporaryDirectory(prefix="code_reward_") as workdir:
        script = os.path.join(workdir, "program.py")
        in_path = os.path.join(workdir, "stdin.txt")
        out_path = os.path.join(workdir, "stdout.txt")
        with open(script, "w", encoding="utf-8") as fh:
            fh.write(program)
        with open(in_path, "w", encoding="utf-8") as fh:
            fh.write(stdin_text)
        with open(in_path, "rb") as fin, open(out_path, "wb") as fout:
            proc = subprocess.Popen(
                [sys.executable, "-I", script],
                stdin=fin,
                stdout=fout,
                stderr=subprocess.DEVNULL,
                cwd=workdir,
                start_new_session=True,
            )
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                code = None
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError, OSError):
                    pass
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
        if code != 0:
            return False
        with open(out_path, "rb") as fh:
            produced = fh.read().decode("utf-8", errors="replace")
    return _normalise_output(produced) == _normalise_output(expected)
