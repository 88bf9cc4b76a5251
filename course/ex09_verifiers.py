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
    # YOUR CODE HERE
    raise NotImplementedError()


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
    # YOUR CODE HERE
    raise NotImplementedError()


def format_reward(completion: str | None) -> float:
    """1.0 iff the completion is ``<think>...</think><answer>...</answer>``, up to whitespace.

    Args:
        completion: model output (``None`` is allowed).

    Returns:
        1.0 or 0.0; never raises.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


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
    # YOUR CODE HERE
    raise NotImplementedError()
