"""Does an artifact give an answer away? The one leak detector for every output students see.

An *answer* is either

* the body of a function of ``solutions/`` that differs from its stub in ``course/`` (the
  code a student must write), normalised through :mod:`ast` (whitespace, comments and
  docstrings do not count) and, for bodies of some size, also up to a renaming of every local
  name and argument (:func:`alpha_body`: a copy with other variable names is the same
  answer), or the code of a solution region (``### BEGIN SOLUTION``) with
  every blank removed, for files that are not Python (notebooks, feedback HTML);
* a multiple-choice key of ``solutions/questions.py`` (the ``Q3_choice = ...`` line inside
  a solution region);

* a released function or method that *behaves* as a solution function on that exercise's
  hand examples, however it is written (:mod:`autograder.build.leak_behaviour`: a loop
  re-implementation of a vectorised reference, a grid model with ex01's rule);

and, for the student release, a solution marker, a hidden-tests marker or the name of a hidden
check. :func:`leaks` scans a folder (the student release, an unpacked Gradescope zip minus the
reference it carries, a folder of feedback files) and names every file that holds one.
"""

from __future__ import annotations

import ast
import copy
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

from autograder import REPO_ROOT
from autograder.build.markers import find_regions, strip_solutions

SOLUTIONS_DIR = REPO_ROOT / "solutions"
MIN_FINGERPRINT = 30  # blank-free characters: shorter solution regions are too generic to match
MIN_ALPHA_NODES = 40  # AST nodes: smaller bodies are too generic to compare up to renaming
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
ANSWER_KEY_HINTS = ("answer_key", "answer-key", "answers.json", "mc_key", "choices_key")
"""File names that are never shipped, whatever they hold."""


@dataclass(frozen=True)
class Answers:
    """What must not appear in a student-facing artifact."""

    bodies: dict[str, str]  # "ex02_returns.discounted_returns" -> normalised body
    fingerprints: dict[str, str]  # blank-free code of a solution region -> where it is from
    keys: list[str]  # normalised multiple-choice key assignments (``Q3_choice = ...``)
    alpha: dict[str, str] = None  # alpha-renamed body (:func:`alpha_body`) -> "module.function"


def _functions(tree: ast.AST, prefix: str = "") -> dict[str, ast.FunctionDef]:
    out: dict[str, ast.FunctionDef] = {}
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[prefix + node.name] = node
            out.update(_functions(node, f"{prefix}{node.name}."))
        elif isinstance(node, ast.ClassDef):
            out.update(_functions(node, f"{prefix}{node.name}."))
    return out


def normalised_body(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The function's body as :func:`ast.unparse` writes it, without its docstring.

    Args:
        fn: a parsed function.

    Returns:
        One string, identical for two bodies that differ only in layout or comments.
    """
    body = list(fn.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return "\n".join(ast.unparse(stmt) for stmt in body)


class _Rename(ast.NodeTransformer):
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(self.names.get(node.id, node.id), node.ctx)

    def visit_arg(self, node: ast.arg) -> ast.arg:
        return ast.arg(self.names.get(node.arg, node.arg), None)


def alpha_body(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The body as :func:`normalised_body` writes it, every argument and local name renamed
    ``v0, v1, ...`` in order of first appearance (None for a body under ``MIN_ALPHA_NODES``).

    Args:
        fn: a parsed function.

    Returns:
        One string, identical for two bodies that differ only in the names of their
        arguments and local variables (and in layout, comments, docstring, annotations).
    """
    if sum(1 for _ in ast.walk(fn)) < MIN_ALPHA_NODES:
        return None
    local: dict[str, str] = {}
    for node in ast.walk(fn):
        name = None
        if isinstance(node, ast.arg):
            name = node.arg
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            name = node.id
        if name is not None and name not in local:
            local[name] = f"v{len(local)}"
    clone = _Rename(local).visit(copy.deepcopy(fn))
    for node in ast.walk(clone):
        if isinstance(node, ast.AnnAssign):
            node.annotation = ast.Constant(None)
    return normalised_body(clone)


def _blank_free(text: str) -> str:
    """``text`` without comments (``#`` to the end of a line) and without any blank."""
    return re.sub(r"\s+", "", re.sub(r"#[^\n]*", "", text))


def answers(solutions: Path = SOLUTIONS_DIR) -> Answers:
    """Every answer of ``solutions/`` (see the module docstring).

    Args:
        solutions: the folder of reference modules (``solutions/``).

    Returns:
        The normalised bodies, region fingerprints and multiple-choice keys.
    """
    bodies: dict[str, str] = {}
    alpha: dict[str, str] = {}
    prints: dict[str, str] = {}
    keys: list[str] = []
    for path in sorted(solutions.glob("*.py")):
        text = path.read_text()
        stub = _functions(ast.parse(strip_solutions(text, str(path))))
        for name, fn in _functions(ast.parse(text, str(path))).items():
            body = normalised_body(fn)
            if name not in stub or normalised_body(stub[name]) != body:
                bodies[f"{path.stem}.{name}"] = body
                renamed = alpha_body(fn)
                if renamed is not None:
                    alpha[renamed] = f"{path.stem}.{name}"
        lines = text.splitlines()
        for region in find_regions(text, "SOLUTION", str(path)):
            code = lines[region.begin : region.end - 1]
            fp = _blank_free("\n".join(code))
            if len(fp) >= MIN_FINGERPRINT:
                prints[fp] = f"{path.name}:{region.begin + 1}"
            for ln in code:
                ln = ln.split("#")[0]
                if re.match(r"^\s*\w+_(choice|same_speed)\s*(:[^=]+)?=", ln):
                    keys.append(ast.unparse(ast.parse(ln.strip())))
    return Answers(bodies, prints, keys, alpha)


def _readable_text(path: Path, text: str) -> str:
    """What a reader of ``path`` sees: notebook sources and outputs, HTML without tags."""
    if path.suffix == ".ipynb":
        try:
            nb = json.loads(text)
        except json.JSONDecodeError:
            return text
        parts = []
        for cell in nb.get("cells", []):
            src = cell.get("source", "")
            parts.append("".join(src) if isinstance(src, list) else src)
            for out in cell.get("outputs", []):
                parts.append(json.dumps(out))
        return "\n".join(parts)
    if path.suffix in (".html", ".htm"):
        return html.unescape(re.sub(r"<[^>]+>", "", text))
    return text


def file_leaks(path: Path, text: str, found: Answers, needles: tuple[str, ...] = ()) -> list[str]:
    """The answers ``text`` (the content of ``path``) holds, one line each (empty: clean)."""
    problems = []
    if path.suffix == ".py":
        try:
            tree = ast.parse(text)
        except SyntaxError:
            tree = None
        if tree is not None:
            given = set(found.bodies.values())
            for name, fn in _functions(tree).items():
                body = normalised_body(fn)
                if body in given and body.strip():
                    problems.append(f"{path}: {name} holds a reference solution body")
                elif (renamed := alpha_body(fn)) in (found.alpha or {}):
                    problems.append(
                        f"{path}: {name} holds the body of {found.alpha[renamed]} with names changed"
                    )
            for node in ast.walk(tree):
                if (
                    isinstance(node, (ast.Assign, ast.AnnAssign))
                    and ast.unparse(node) in found.keys
                ):
                    problems.append(f"{path}: holds the answer key {ast.unparse(node)!r}")
    readable = _readable_text(path, text)
    flat = _blank_free(readable)
    for fp, where in found.fingerprints.items():
        if fp in flat:
            problems.append(f"{path}: holds the reference code of {where}")
    for key in found.keys:
        if _blank_free(key) in flat or _blank_free(key.replace("'", '"')) in flat:
            problems.append(f"{path}: holds the answer key {key!r}")
    for needle in needles:
        if needle in readable:
            problems.append(f"{path}: contains {needle!r}")
    return sorted(set(problems))


def leaks(
    root: Path,
    needles: tuple[str, ...] = (),
    skip: tuple[str, ...] = (),
    behaviour: bool = True,
) -> list[str]:
    """Every file under ``root`` that holds an answer (empty list: clean).

    Args:
        root: the folder to scan (a release, an unpacked zip, feedback files).
        needles: more strings that must not appear (markers, hidden checks' names).
        skip: top-level entries of ``root`` not to scan (the Gradescope zip's reference).
        behaviour: also run the behavioural scan of the Python files under an
            ``autograder/`` folder (:func:`~autograder.build.leak_behaviour.behaviour_leaks`).

    Returns:
        One line per problem, naming the file relative to ``root``.
    """
    found = answers()
    problems = []
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        rel = path.relative_to(root)
        if rel.parts[0] in skip or "__pycache__" in rel.parts:
            continue
        if any(h in path.name.lower() for h in ANSWER_KEY_HINTS):
            problems.append(f"{rel}: answer-key file")
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        problems += file_leaks(rel, text, found, needles)
    if behaviour:
        from autograder.build.leak_behaviour import behaviour_leaks  # imports torch: only here

        problems += behaviour_leaks(Path(root), skip=skip)
    return problems
