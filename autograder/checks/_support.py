"""Assertion helpers for checks: explicit type/shape/dtype/finite checks, then values.

Every failure message says what was expected, what came back and on which input.
Comparisons use ``np.testing.assert_allclose(strict=True)`` on arrays the grader
built itself; ``==``, ``np.allclose`` and ``torch.allclose`` are never used on
anything that came from student code.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from autograder.seam.errors import StudentError
from autograder.seam.values import Array, Handle


def show(x: object, limit: int = 200) -> str:
    """A short, readable rendering of an input or output for messages."""
    if isinstance(x, torch.Tensor):
        body = np.array2string(x.detach().numpy(), precision=4, threshold=12, separator=", ")
        text = f"tensor({body}, dtype={str(x.dtype).removeprefix('torch.')})"
    elif isinstance(x, np.ndarray):
        text = f"array({np.array2string(x, precision=4, threshold=12, separator=', ')}, dtype={x.dtype})"
    elif isinstance(x, Array):
        text = repr(x)
    elif isinstance(x, Handle):
        text = x.describe()
    elif isinstance(x, float):
        text = f"{x:.6g}"
    else:
        text = repr(x)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def values(x: np.ndarray, limit: int = 400) -> str:
    """The numbers of an array, without its dtype: ``[0.791, 0.89, 1.0]``."""
    text = np.array2string(
        np.asarray(x, dtype=np.float64),
        threshold=24,
        separator=", ",
        formatter={"float_kind": lambda v: f"{v:.6g}"},
    )
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(out: object) -> str:
    if isinstance(out, Array):
        return out.describe()
    if isinstance(out, Handle):
        return out.describe()
    return f"a {type(out).__name__}"


def expect_array(
    out: object,
    expected: np.ndarray | torch.Tensor | float | list,
    call: str,
    *,
    lib: str = "torch",
    dtype: str | None = "float32",
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> np.ndarray:
    """Assert ``out`` is an array of the right kind, dtype, shape and values.

    Args:
        out: what the student's code returned (as decoded by the grader).
        expected: the expected values (computed in the grader).
        call: the call that produced ``out``, for messages (e.g. ``"normalize(tensor([1., 0.]))"``).
        lib: ``"torch"`` or ``"numpy"``.
        dtype: required dtype name, or None to accept any floating dtype.

    Returns:
        The checked values as a numpy array.
    """
    exp = (
        expected.detach().numpy()
        if isinstance(expected, torch.Tensor)
        else np.asarray(expected, dtype=np.float64)
    )
    want = {"torch": "a torch.Tensor", "numpy": "an np.ndarray"}[lib]
    assert isinstance(out, Array) and out.lib == lib, (
        f"{call}: expected {want}, got {describe(out)}"
    )
    if dtype is not None:
        assert out.dtype == dtype, f"{call}: expected dtype {dtype}, got {out.dtype}"
    else:
        assert out.value.dtype.kind == "f", f"{call}: expected a floating dtype, got {out.dtype}"
    assert out.shape == exp.shape, f"{call}: expected shape {exp.shape}, got {out.shape}"
    got = out.value.astype(np.float64)
    finite = np.isfinite(exp)
    assert np.array_equal(np.isfinite(got), finite), (
        f"{call}: expected finite values where the reference is finite, got {show(out.value)}"
    )
    try:
        np.testing.assert_allclose(
            got[finite], exp.astype(np.float64)[finite], rtol=rtol, atol=atol, strict=True
        )
    except AssertionError:
        # Values only: the dtype was checked above, so printing "dtype=float64" next to
        # "dtype=float32" here would make a value error look like a dtype error.
        with np.errstate(invalid="ignore"):
            diff = np.where(finite, np.abs(got - exp.astype(np.float64)), 0.0)
        first = ""
        if diff.size > 1:
            where = np.unravel_index(int(np.argmax(diff)), diff.shape)
            first = (
                f"; largest difference at index {tuple(int(i) for i in where)}: expected "
                f"{float(exp[where])!r}, got {float(got[where])!r}"
            )
        raise AssertionError(
            f"{call}: expected {values(exp)}, got {values(out.value)}{first} "
            f"(tolerance: rel {rtol:g}, abs {atol:g})"
        ) from None
    return got


def expect_float(
    out: object, expected: float, call: str, *, rtol: float = 1e-5, atol: float = 1e-7
) -> float:
    """Assert ``out`` is a Python float (or int) close to ``expected``."""
    assert type(out) in (float, int) and not isinstance(out, bool), (
        f"{call}: expected a Python float, got {describe(out)}"
    )
    assert math.isfinite(out) or not math.isfinite(expected), (
        f"{call}: expected {expected:.6g}, got {out}"
    )
    if not math.isclose(out, expected, rel_tol=rtol, abs_tol=atol):
        want, got = f"{expected:.6g}", f"{out:.6g}"
        if want == got:  # never "expected 0.333333, got 0.333333"
            want, got = repr(float(expected)), repr(float(out))
        raise AssertionError(
            f"{call}: expected {want}, got {got} (tolerance: rel {rtol:g}, abs {atol:g})"
        )
    return float(out)


def expect_raises(exc_name: str, fn: Callable[[], object], call: str) -> StudentError:
    """Assert that calling ``fn`` makes the student's code raise ``exc_name``.

    Only the exception's *type* is graded, never its message: a docstring that says
    "raises ValueError" is honoured by any ValueError (or subclass), whatever it says.

    Args:
        exc_name: e.g. ``"ValueError"`` (a subclass is accepted).
        fn: a thunk that performs the remote call.
        call: the call, for messages.

    Returns:
        The student's error, for checks that go on to look at other behaviour.
    """
    try:
        out = fn()
    except StudentError as err:
        if not err.is_a(exc_name):
            if err.is_a("NotImplementedError"):
                raise
            raise AssertionError(f"{call}: expected {exc_name}, got {err.exc}: {err.msg}") from None
        return err
    raise AssertionError(f"{call}: expected {exc_name}, but it returned {show(out)}")


def unchanged(
    before: torch.Tensor | np.ndarray, after: torch.Tensor | np.ndarray, name: str, call: str
) -> None:
    """Assert an input the grader still holds was not modified (sanity: it is a copy)."""
    a = before.numpy() if isinstance(before, torch.Tensor) else before
    b = after.numpy() if isinstance(after, torch.Tensor) else after
    assert np.array_equal(a, b, equal_nan=True), f"{call}: {name} was modified in place"


def guarded(behaviour: Callable[[], object], what: str) -> None:
    """Run the behaviour check that a contract check scores together with.

    A contract (a shape, a dtype, no mutation, a ``ValueError`` on bad input, an edge
    case whose answer is 0) is easy to satisfy with a trivial body: a constant, the
    identity or an always-raise. So each contract check first runs ``behaviour``, a
    hand-worked value of the function it guards, and fails when that fails.

    Args:
        behaviour: a thunk that asserts a value on a hand example.
        what: what the behaviour is, for the message (e.g. ``"discounted_returns([1, 2, 3], 0.5)"``).
    """
    try:
        behaviour()
    except AssertionError as err:
        raise AssertionError(
            f"{err}\n(this check scores only together with a correct {what})"
        ) from None


def literal(x: object, max_elements: int = 64) -> str:
    """``x`` as Python source that rebuilds it exactly (small arrays in full), for messages.

    float32 values are written with the shortest repr that converts back to the same
    float32, so a pasted call reproduces the failing input bit for bit. An array with more
    than ``max_elements`` entries is not written out (``None`` is returned for the caller to
    describe it another way).
    """
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.numel() > max_elements:
            return f"<tensor of shape {tuple(x.shape)}>"
        dtype = str(x.dtype).removeprefix("torch.")
        body = _nested(x.numpy())
        return f"torch.tensor({body}, dtype=torch.{dtype})"
    if isinstance(x, np.ndarray):
        if x.size > max_elements:
            return f"<array of shape {x.shape}>"
        return f"np.array({_nested(x)}, dtype=np.{x.dtype})"
    if isinstance(x, float):
        return repr(x)
    return repr(x)


def _nested(a: np.ndarray) -> str:
    if a.dtype.kind == "f":
        # str(np.float32(v)) is the shortest text that converts back to the same float32
        as_text = str if a.dtype == np.float32 else repr
        flat = [
            as_text(a.dtype.type(v)) if a.dtype == np.float32 else repr(float(v))
            for v in a.reshape(-1)
        ]
        flat = [
            {"inf": "float('inf')", "-inf": "-float('inf')", "nan": "float('nan')"}.get(v, v)
            for v in flat
        ]
    elif a.dtype.kind == "b":
        flat = [repr(bool(v)) for v in a.reshape(-1)]
    else:
        flat = [repr(int(v)) for v in a.reshape(-1)]
    if a.ndim == 0:
        return flat[0]

    def build(shape: tuple[int, ...], items: list[str]) -> str:
        if len(shape) == 1:
            return "[" + ", ".join(items) + "]"
        step = len(items) // shape[0] if shape[0] else 0
        return (
            "["
            + ", ".join(build(shape[1:], items[i * step : (i + 1) * step]) for i in range(shape[0]))
            + "]"
        )

    return build(a.shape, flat)


def pasteable(fn: str, *args: object, **kwargs: object) -> str:
    """A call the student can paste to reproduce a failure: ``fn(name=value, ...)``.

    Args:
        fn: the function's name.
        args: positional arguments, given as ``(name, value)`` pairs.
        kwargs: keyword arguments.

    Returns:
        The call as source text; small arrays are written in full (see :func:`literal`).
    """
    parts = [f"{name}={literal(value)}" for name, value in args]
    parts += [f"{name}={literal(value)}" for name, value in kwargs.items()]
    return f"{fn}({', '.join(parts)})"


def reproducible_call(fn: str, case: dict, builder: Callable[[int], dict], seed: int) -> str:
    """How to rerun a failing call on a random input: in full if small, else seed + builder.

    Args:
        fn: the student's function name.
        case: the keyword arguments of the call (``builder(seed)`` returns the same dict).
        builder: a module-level function of a check module that draws the case from a seed.
        seed: the seed it was drawn from.

    Returns:
        A call the student can paste (small arrays in full), or a one-line recipe that
        rebuilds the arguments: ``fn(**random_case(123))`` plus the import to run first.
    """
    text = pasteable(fn, **case)
    if "<tensor of shape" not in text and "<array of shape" not in text and len(text) <= 1200:
        return text
    return (
        f"{fn}(**{builder.__name__}({seed}))  "
        f"[rebuild the arguments: from {builder.__module__} import {builder.__name__}]"
    )
