"""Load the reference solutions into the grader process (never into a worker).

Reference modules import each other by plain name (``from ex02_returns import
...``), exactly as the student's modules do. They are loaded under private names
(``rl4llm_reference.ex02_returns``) with their dependencies bound to the
reference copies only while they execute, so a student's module that happens to
be importable in the grader process is never picked up by mistake.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
from pathlib import Path
from types import ModuleType

from autograder import REPO_ROOT

SOLUTIONS_DIR = REPO_ROOT / "solutions"
_DEP_RE = re.compile(r"^\s*(?:from|import)\s+(ex\d\d_\w+)", re.MULTILINE)
_cache: dict[tuple[Path, str], ModuleType] = {}
_lock = threading.RLock()


class ReferenceMissing(RuntimeError):
    """The reference solutions are not available (e.g. in the student release)."""


def available(solutions_dir: Path = SOLUTIONS_DIR) -> bool:
    return solutions_dir.is_dir() and any(solutions_dir.glob("ex[0-9][0-9]_*.py"))


def reference(name: str, solutions_dir: Path = SOLUTIONS_DIR) -> ModuleType:
    """The reference module ``name`` (e.g. ``"ex02_returns"``), loaded once."""
    key = (solutions_dir, name)
    with _lock:
        if key in _cache:
            return _cache[key]
        path = solutions_dir / f"{name}.py"
        if not path.is_file():
            raise ReferenceMissing(f"reference solution {path} is not available")
        deps = [d for d in dict.fromkeys(_DEP_RE.findall(path.read_text())) if d != name]
        dep_modules = {d: reference(d, solutions_dir) for d in deps}
        saved = {d: sys.modules.get(d) for d in deps}
        spec = importlib.util.spec_from_file_location(f"rl4llm_reference.{name}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            sys.modules.update(dep_modules)
            spec.loader.exec_module(module)
        finally:
            for d, old in saved.items():
                if old is None:
                    sys.modules.pop(d, None)
                else:
                    sys.modules[d] = old
        _cache[key] = module
        return module
