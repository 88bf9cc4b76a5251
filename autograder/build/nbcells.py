"""Notebook cells: a solution module cut into chunks, and the builder that adds cells with nbgrader metadata."""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass, field

from autograder.build.markers import find_regions
from autograder.course import Assignment

FORBIDDEN_IN_TEXT = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


class NotebookBuildError(ValueError):
    """The solutions or checks cannot be turned into a valid notebook."""


# -- code cells ---------------------------------------------------------------------------------
@dataclass
class Chunk:
    """A run of source lines that becomes one code cell."""

    start: int  # 1-based, inclusive
    end: int
    names: list[str] = field(default_factory=list)
    solution: bool = False


def _is_course_import(node: ast.stmt) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and bool(re.fullmatch(r"ex\d\d_\w+|questions", node.module or ""))
    if isinstance(node, ast.Import):
        return any(re.fullmatch(r"ex\d\d_\w+|questions", a.name) for a in node.names)
    return False


def _node_name(node: ast.stmt) -> str | None:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name
    if (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    ):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def module_chunks(source: str, filename: str) -> tuple[str, list[tuple[str, Chunk]]]:
    """Split a reference module into its docstring and code cells.

    Returns:
        ``(docstring, [(cell_source, chunk), ...])``. Consecutive statements without
        solution markers form one "given" chunk; each statement holding a solution
        region (with everything a region spans) forms one solution chunk. Imports of
        other course modules and ``from __future__`` imports are dropped.
    """
    tree = ast.parse(source, filename=filename)
    doc = ast.get_docstring(tree, clean=True) or ""
    lines = source.splitlines()
    regions = find_regions(source, "SOLUTION", filename)
    body = list(tree.body)
    prev_end = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        prev_end = body.pop(0).end_lineno
    spans: list[Chunk] = []
    for node in body:
        if _is_course_import(node) or (
            isinstance(node, ast.ImportFrom) and node.module == "__future__"
        ):
            prev_end = node.end_lineno
            continue
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        # attach the comment lines right above a statement to it
        while start - 1 > prev_end and lines[start - 2].lstrip().startswith("#"):
            start -= 1
        end = node.end_lineno
        inside = [r for r in regions if start <= r.begin <= end]
        solution = bool(inside)
        end = max([end] + [r.end for r in inside])  # a trailing END marker is a comment
        name = _node_name(node)
        spans.append(Chunk(start, end, [name] if name else [], solution))
        prev_end = end
    for r in regions:
        if not any(c.solution and c.start <= r.begin and c.end >= r.end for c in spans):
            raise NotebookBuildError(
                f"{filename}:{r.begin}: a solution region must lie inside one top-level statement"
            )
    # merge consecutive given statements
    chunks: list[Chunk] = []
    for c in spans:
        if chunks and not c.solution and not chunks[-1].solution:
            chunks[-1].end = c.end
            chunks[-1].names += c.names
        else:
            chunks.append(c)
    cells = []
    for c in chunks:
        text = "\n".join(lines[c.start - 1 : c.end]).strip("\n")
        text = re.sub(r"\n{3,}", "\n\n\n", text)
        cells.append((text, c))
    return doc, cells


# -- notebook assembly ------------------------------------------------------------------------------
def cell_meta(
    gid: str, *, grade: bool = False, solution: bool = False, locked: bool = False, points=None
) -> dict:
    meta = {
        "grade": grade,
        "grade_id": gid,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
    }
    if grade:
        meta["points"] = int(points) if float(points).is_integer() else float(points)
    return {"nbgrader": meta}


class Builder:
    def __init__(self, assignment: Assignment) -> None:
        import nbformat.v4 as v4

        self.v4 = v4
        self.assignment = assignment
        self.cells: list = []
        self.n_md = 0

    def markdown(self, text: str, gid: str | None = None) -> None:
        for bad in FORBIDDEN_IN_TEXT:
            if bad in text:
                raise NotebookBuildError(
                    f"lesson text must not contain {bad!r} (nbgrader treats it as a marker)"
                )
        self.n_md += 1
        cell_id = gid or f"{self.assignment.name}-md{self.n_md:02d}"
        cell = self.v4.new_markdown_cell(text.strip("\n"), id=notebook_cell_id(cell_id))
        self.cells.append(cell)

    def code(self, text: str, metadata: dict, cell_id: str | None = None) -> None:
        gid = cell_id or metadata["nbgrader"]["grade_id"]
        self.cells.append(
            self.v4.new_code_cell(text.strip("\n"), id=notebook_cell_id(gid), metadata=metadata)
        )

    def manual(self, text: str, gid: str, points: float) -> None:
        cell = self.v4.new_markdown_cell(
            text.strip("\n"),
            id=notebook_cell_id(gid),
            metadata=cell_meta(gid, grade=True, solution=True, points=points),
        )
        self.cells.append(cell)

    def notebook(self):
        nb = self.v4.new_notebook(cells=self.cells)
        nb.metadata = {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        }
        return nb


def notebook_cell_id(gid: str) -> str:
    """A valid nbformat cell id (``[a-zA-Z0-9-_]{1,64}``) derived from a grade id."""
    if len(gid) <= 64:
        return gid
    return gid[:55] + "-" + hashlib.sha1(gid.encode()).hexdigest()[:8]
