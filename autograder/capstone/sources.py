"""The normalised source of the functions a capstone run uses, wherever they were written.

A record (:mod:`autograder.capstone.record`) is tied to the code that made it by a hash.
Hashing the module *files* would tie it to one layout: a notebook submission becomes modules
that each hold the whole notebook (:mod:`autograder.ingest.notebook`), so the same functions
written as ``course/*.py`` files and as notebook cells would hash differently. Instead the
hash covers what the run executes:

* the functions the run calls (``student.RLHF_NEEDS``), each resolved in its module as
  Python would at import time (the **last** top-level statement that binds the name);
* then, transitively, every top-level name those definitions read as a global (helpers,
  constants, classes; found with :mod:`symtable`, so parameters and locals do not count);
  a name bound by ``from ex02_returns import x`` is followed into that module's file,
  because in a notebook the same name is simply defined at the top;
* each definition as ``ast.unparse`` of its node with docstrings removed: comments,
  formatting and docstrings do not change the hash, code does. Imports of other packages
  (``torch``, ``math``) and builtins are not hashed.

Pure apart from reading the module files; never imports or runs them.
"""

from __future__ import annotations

import ast
import hashlib
import symtable
from pathlib import Path

from autograder.ingest.notebook import MODULE_RE

BINDERS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)


class SourceError(Exception):
    """A module cannot be read or parsed, or a function the run uses is not defined."""


def _bound(node: ast.stmt) -> set[str]:
    """The top-level names a statement binds."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {a.asname or a.name.split(".")[0] for a in node.names}
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)}


def _strip_docstrings(node: ast.AST) -> ast.AST:
    """``node`` (a copy) without the docstrings of its functions and classes."""
    node = ast.parse(ast.unparse(node)).body[0]
    for n in ast.walk(node):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.body:
            first = n.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str):
                    n.body = n.body[1:] or [ast.Pass()]
    return node


def global_reads(code: str) -> set[str]:
    """The global names one top-level statement's code reads (at any depth). Pure."""

    def walk(table: symtable.SymbolTable, top: bool) -> set[str]:
        found = set()
        for sym in table.get_symbols():
            if not sym.is_referenced():
                continue
            if (top and not sym.is_imported()) or (not top and sym.is_global()):
                found.add(sym.get_name())
        for child in table.get_children():
            found |= walk(child, False)
        return found

    return walk(symtable.symtable(code, "<capstone>", "exec"), True)


class _Modules:
    """The parsed top-level statements of a folder's modules, read once each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.parsed: dict[str, list[ast.stmt]] = {}

    def body(self, module: str) -> list[ast.stmt]:
        if module not in self.parsed:
            path = self.folder / f"{module}.py"
            try:
                self.parsed[module] = ast.parse(path.read_text(encoding="utf-8")).body
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError) as exc:
                raise SourceError(f"cannot read {path.name}: {type(exc).__name__}") from None
        return self.parsed[module]

    def binding(self, module: str, name: str) -> ast.stmt | None:
        """The last top-level statement of ``module`` that binds ``name`` (None: none)."""
        found = None
        for node in self.body(module):
            if isinstance(node, (*BINDERS, ast.Import, ast.ImportFrom)) and name in _bound(node):
                found = node
        return found


def used_definitions(folder: str | Path, needs: dict[str, tuple[str, ...]]) -> list[str]:
    """``name\\n<normalised source>`` of every definition the named functions use, sorted.

    Args:
        folder: a folder laid out like ``course/`` (files, or a notebook's extracted modules).
        needs: module -> the functions the run calls from it (``student.RLHF_NEEDS``).

    Raises:
        SourceError: a module is unreadable or a needed function is not defined.
    """
    mods = _Modules(Path(folder))
    todo = [(module, name, True) for module, names in needs.items() for name in names]
    seen: set[tuple[str, str]] = set()
    out: set[str] = set()
    while todo:
        module, name, required = todo.pop()
        if (module, name) in seen:
            continue
        seen.add((module, name))
        node = mods.binding(module, name)
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if MODULE_RE.match(node.module):  # another course module: follow the name there
                alias = next(a for a in node.names if (a.asname or a.name) == name)
                todo.append((node.module, alias.name, required))
            continue
        if not isinstance(node, BINDERS):
            if required:
                raise SourceError(f"{module}.py defines no {name}")
            continue  # an import of another package, a builtin, or not defined here
        code = ast.unparse(_strip_docstrings(node))
        out.add(f"{name}\n{code}")
        todo += [(module, read, False) for read in sorted(global_reads(code))]
    return sorted(out)


def sources_digest(folder: str | Path, needs: dict[str, tuple[str, ...]]) -> str:
    """sha256 over :func:`used_definitions` (the same for files and notebook cells).

    Raises:
        SourceError: see :func:`used_definitions`.
    """
    h = hashlib.sha256()
    for item in used_definitions(folder, needs):
        h.update(item.encode())
        h.update(b"\0")
    return h.hexdigest()
