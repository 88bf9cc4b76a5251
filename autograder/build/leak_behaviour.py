"""Answers by behaviour: released code that computes what a solution function computes.

A re-implementation of a solution (a loop where the reference vectorises, other names, a
class where the reference has a method) defeats any comparison of source text. This scan
imports every Python module of a release's ``autograder/checks/`` and
``autograder/seam/worker/`` (:data:`SCANNED`: the code that computes expected values and
the code that runs next to the student's; the command-line modules are not called, since
calling them with arbitrary arguments could start builds), calls each function and
each method of each class it defines on the hand-example inputs of
:mod:`autograder.build.leak_examples`, and flags the ones that reproduce the reference's
outputs on every example of some solution function: an answer key by behaviour.

A candidate is called when its signature accepts the example: positionally, by the
solution's parameter names (a helper that takes a subset of them), or with an environment
argument replaced by its ``size`` (a helper that builds the grid itself). An output matches
if it equals the reference's output or one element of a tuple the reference returns (a
helper that computes only the advantages of ``gae``). Calls are limited to a few seconds.

Calling arbitrary released code can change the calling process (signal handlers, ``sys.path``,
the working directory, reaping its children), so :func:`behaviour_leaks` runs the scan in a
child Python process (``python -m autograder.build.leak_behaviour``) and reads its findings
back as JSON. The worker's entry points (:data:`NOT_CALLED`: its serve loop and the zygote,
which fork, install signal handlers and take over the process) are never called.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import itertools
import json
import math
import signal
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import torch

from autograder.build.leak_examples import CLASS_EXAMPLES, EXAMPLES, Call
from autograder.grading.reference import reference

CALL_SECONDS = 3.0
SCANNED = (("autograder", "checks"), ("autograder", "seam", "worker"))
"""Folders (as path parts, anywhere under the scanned root) whose modules are called."""
NOT_CALLED = ("main.py", "zygote.py")
"""Modules of the worker that are process entry points: never imported or called here."""
SCAN_TIMEOUT = 900  # wall seconds for the whole scan in its child process
_counter = itertools.count()


class _Timeout(BaseException):
    """A candidate ran past :data:`CALL_SECONDS` (a BaseException: ``except Exception`` passes it)."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _plain(x: object) -> object:
    """``x`` with tensors and arrays as float64 numpy arrays, sequences as tuples."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().to(torch.float64).numpy()
    if isinstance(x, np.ndarray):
        return x.astype(np.float64) if x.dtype.kind in "biuf" else x
    if isinstance(x, (list, tuple)):
        return tuple(_plain(v) for v in x)
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, float, np.integer, np.floating)):
        return float(x)
    return x


def same(a: object, b: object) -> bool:
    """Do ``a`` and ``b`` hold the same values (to 1e-5), whatever container they come in?"""
    a, b = _plain(a), _plain(b)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        except (TypeError, ValueError):
            return False
        return x.shape == y.shape and bool(np.allclose(x, y, rtol=1e-5, atol=1e-6, equal_nan=True))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(u, v) for u, v in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6) or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


def _matches(got: object, want: object) -> bool:
    if same(got, want):
        return True
    return isinstance(want, tuple) and any(same(got, w) for w in want)


def _variants(fn: Callable, solution: Callable, call: Call) -> list[Call]:
    """The ways ``fn`` may take the solution's example ``call`` (see the module docstring)."""
    args, kwargs = call
    out = [(args, kwargs)]
    sized = tuple(a.size if hasattr(a, "transition") and hasattr(a, "size") else a for a in args)
    if sized != args:
        out.append((sized, kwargs))
    try:
        named = dict(inspect.signature(solution).bind(*args, **kwargs).arguments)
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return out
    wanted = {k: v for k, v in named.items() if k in params}
    if wanted and set(wanted) != set(named):
        out.append(((), wanted))
    return out


def _accepts(fn: Callable, call: Call) -> bool:
    try:
        inspect.signature(fn).bind(*call[0], **call[1])
    except (TypeError, ValueError):
        return False
    return True


def _run(fn: Callable, call: Call) -> tuple[bool, object]:
    try:
        with _time_limit(CALL_SECONDS):
            return True, fn(*call[0], **call[1])
    except (Exception, SystemExit, _Timeout):
        return False, None


def _reproduces(fn: Callable, solution: Callable, calls: Callable[[], list[Call]], wants) -> bool:
    """Does ``fn`` return ``wants`` (what ``solution`` returns) on every example, called in
    one of the ways :func:`_variants` lists?"""
    for k in range(len(_variants(fn, solution, calls()[0]))):
        ok = True
        for i, (want_ok, want) in enumerate(wants):
            variants = _variants(fn, solution, calls()[i])
            if not want_ok or k >= len(variants) or not _accepts(fn, variants[k]):
                ok = False
                break
            got_ok, got = _run(fn, variants[k])
            if not got_ok or not _matches(got, want):
                ok = False
                break
        if ok:
            return True
    return False


def _load(path: Path, root: Path) -> ModuleType | None:
    """``path`` imported under a private name (its folder on ``sys.path`` meanwhile), or None."""
    name = f"_leakscan_{next(_counter)}_{path.stem}"
    before = set(sys.modules)
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        with _time_limit(10 * CALL_SECONDS):
            spec.loader.exec_module(module)
        return module
    except (Exception, SystemExit, _Timeout):
        return None
    finally:
        sys.path.remove(str(path.parent))
        for added in set(sys.modules) - before:  # plain-name imports of released siblings
            file = getattr(sys.modules[added], "__file__", None) or ""
            if file.startswith(str(root)):
                del sys.modules[added]


def _candidates(module: ModuleType) -> Iterator[tuple[str, object]]:
    for name, obj in list(vars(module).items()):
        if name.startswith("test_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj) or inspect.isclass(obj):
            yield name, obj


def _solutions() -> Iterator[tuple[str, Callable, Callable[[], list[Call]], list]]:
    """Each solution function with its examples and its outputs on them."""
    for key, calls in EXAMPLES.items():
        mod, name = key.split(".")
        fn = getattr(reference(mod), name)
        yield key, fn, calls, [_run(fn, c) for c in calls()]


def _under(parts: tuple[str, ...], folder: tuple[str, ...]) -> bool:
    """Does the folder ``parts`` end with ``folder`` (e.g. ``.../autograder/checks``)?"""
    return parts[-len(folder) :] == folder


def behaviour_leaks(root: Path, skip: tuple[str, ...] = ()) -> list[str]:
    """Functions and methods of the :data:`SCANNED` modules that behave as a solution does.

    Args:
        root: a release folder or an unpacked Gradescope zip.
        skip: top-level entries of ``root`` not to scan (the zip's reference).

    Returns:
        One line per released function that reproduces a solution function on its examples.
    """
    with tempfile.TemporaryDirectory(prefix="rl4llm-leakscan-") as tmp:
        out = Path(tmp) / "found.json"
        proc = subprocess.run(
            [sys.executable, "-m", "autograder.build.leak_behaviour", str(out), str(root), *skip],
            capture_output=True,
            text=True,
            timeout=SCAN_TIMEOUT,
            cwd=tmp,
        )
        try:
            found = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            found = None
        if proc.returncode != 0 or not isinstance(found, list):
            tail = (proc.stderr or proc.stdout).strip()[-1500:]
            raise RuntimeError(f"the behavioural leak scan failed (exit {proc.returncode}): {tail}")
        return [str(line) for line in found]


def scan_here(root: Path, skip: tuple[str, ...] = ()) -> list[str]:
    """:func:`behaviour_leaks` in this process (what its child process runs)."""
    with warnings.catch_warnings():  # the candidates' own warnings (e.g. pytest marks) are noise
        warnings.simplefilter("ignore")
        return _scan(Path(root), skip)


def _scan(root: Path, skip: tuple[str, ...]) -> list[str]:
    problems = []
    solutions = list(_solutions())
    for path in sorted(Path(root).rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in skip or not any(_under(rel.parts[:-1], s) for s in SCANNED):
            continue
        if _under(rel.parts[:-1], SCANNED[1]) and rel.name in NOT_CALLED:
            continue
        module = _load(path, Path(root))
        if module is None:
            continue
        for name, obj in _candidates(module):
            if inspect.isclass(obj):
                problems += _class_leaks(rel, name, obj)
                continue
            for key, solution, calls, wants in solutions:
                if _reproduces(obj, solution, calls, wants):
                    problems.append(f"{rel}: {name} behaves as the reference {key}")
    return problems


def _class_leaks(rel: Path, name: str, cls: type) -> list[str]:
    out = []
    for key, (ctor, methods) in CLASS_EXAMPLES.items():
        mod, cls_name = key.split(".")
        ref_cls = getattr(reference(mod), cls_name)
        ok_c, obj = _run(cls, (ctor, {}))
        if not ok_c:
            continue
        for method, calls in methods.items():
            for own_name, own in inspect.getmembers(obj, callable):
                if own_name.startswith("__"):
                    continue
                wanted = [_run(getattr(ref_cls(*ctor), method), c) for c in calls]
                got = [_run(own, c) if _accepts(own, c) else (False, None) for c in calls]
                if all(
                    w[0] and g[0] and same(g[1], w[1]) for w, g in zip(wanted, got, strict=True)
                ):
                    out.append(f"{rel}: {name}.{own_name} behaves as the reference {key}.{method}")
    return out


if __name__ == "__main__":  # python -m autograder.build.leak_behaviour OUT.json ROOT [SKIP ...]
    found = scan_here(Path(sys.argv[2]), tuple(sys.argv[3:]))
    Path(sys.argv[1]).write_text(json.dumps(found), encoding="utf-8")
