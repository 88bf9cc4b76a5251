"""The import rules of ``docs/architecture.md``, checked on the source (fast, no grading)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "autograder"
STUDENT_MODULE = re.compile(r"^(?:ex\d\d_\w+|questions)(?:\.|$)")


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    """Dotted name -> file of every module under ``root`` (a package named like the folder)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(name: str, path: Path) -> list[tuple[str, list[str]]]:
    """``(module, [imported names])`` for every import statement, at any depth."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, [a.name for a in node.names]))
    return found


def violations(root: Path = PACKAGE) -> list[str]:
    """Every broken import rule of the package at ``root``."""
    mods = modules(root)
    top = root.name
    bad = []
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        for target, names in imports(name, path):
            full = [f"{target}.{n}" for n in names] or [target]
            area = name.split(".")[1] if "." in name else ""
            if area == "checks" and (
                STUDENT_MODULE.match(target) or target.split(".")[0] == "solutions"
            ):
                bad.append(f"{name} imports {target} (checks reach student code through impl)")
            if name.startswith(f"{top}.seam.worker"):
                if target.split(".")[0] in (top, "solutions"):
                    bad.append(f"{name} imports {target} (the worker imports no grader code)")
            elif area == "seam" and any(
                t.startswith(
                    (
                        f"{top}.checks",
                        f"{top}.grading",
                        f"{top}.build",
                        f"{top}.commands",
                        "solutions",
                    )
                )
                for t in [target, *full]
            ):
                bad.append(f"{name} imports {target} (the seam knows no checks, rubric or policy)")
            if area == "ingest" and any(
                t.startswith((f"{top}.seam", f"{top}.checks", f"{top}.commands"))
                or (t.startswith(f"{top}.grading") and not t.startswith(f"{top}.grading.rubric"))
                for t in [target]
            ):
                bad.append(f"{name} imports {target} (ingestion only needs the rubric)")
            if target.startswith(top):
                for n in names:
                    if n.startswith("_") and not n.startswith("__"):
                        bad.append(f"{name} imports the private name {target}.{n}")
                for t in full:
                    while t and t not in mods:
                        t = t.rpartition(".")[0]
                    if t and t != name and not name.startswith(t + "."):
                        graph[name].add(t)
    bad += [f"import cycle: {' -> '.join(c)}" for c in cycles(graph)]
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_package_keeps_its_import_rules():
    assert violations() == []


def plant(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "autograder"
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in [pkg, *[p for p in pkg.rglob("*") if p.is_dir()]]:
        (folder / "__init__.py").touch()
    return pkg


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"checks/ex02_returns.py": "import ex02_returns\n"}, "checks reach student code"),
        ({"checks/ex02_returns.py": "from solutions import ex02_returns\n"}, "checks reach"),
        ({"seam/proxy.py": "from autograder.grading import rubric\n"}, "the seam knows no"),
        ({"seam/values.py": "from autograder.checks._support import show\n"}, "the seam"),
        ({"seam/worker/main.py": "import autograder.grading.rubric\n"}, "the worker imports"),
        ({"ingest/notebook.py": "from autograder.seam import proxy\n"}, "ingestion only"),
        ({"grading/a.py": "from autograder.grading.b import _helper\n"}, "private name"),
        (
            {
                "grading/a.py": "from autograder.grading import b\n",
                "grading/b.py": "import autograder.grading.a\n",
            },
            "import cycle",
        ),
        ({"grading/a.py": "from . import b\n", "grading/b.py": "from .a import x\n"}, "cycle"),
    ],
)
def test_each_rule_catches_a_planted_violation(tmp_path, files, expected):
    pkg = plant(tmp_path, files)
    found = violations(pkg)
    assert any(expected in v for v in found), found
