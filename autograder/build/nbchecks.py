"""The graded checks as the notebooks see them: ids, titles, hidden markers, grade ids."""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from autograder.build.nbcells import NotebookBuildError
from autograder.grading.plugin import CHECKS_DIR
from autograder.grading.results import check_title
from autograder.grading.rubric import Rubric
from autograder.ingest.notebook import GRADER_MARK


# -- checks --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckInfo:
    """One graded check as the notebooks see it."""

    exercise: str
    id: str
    points: float
    hidden: bool  # @pytest.mark.hidden: graded only by the authoritative grader
    uses_ref: bool  # needs the reference solution (such a check must be hidden)
    title_text: str = ""  # @pytest.mark.title("...")

    @property
    def grade_id(self) -> str:
        """``<exercise>-<check id>``; opaque (``<exercise>-hidden-<hash>``) for hidden
        checks, because grade ids are in the release notebooks and the feedback HTML."""
        if self.hidden:
            return grade_id(
                self.exercise, f"hidden-{hashlib.sha1(self.id.encode()).hexdigest()[:10]}"
            )
        return grade_id(self.exercise, self.id)

    @property
    def title(self) -> str:
        """The check's title, by the rule of every report (:func:`check_title`)."""
        return check_title(self.id, self.title_text)


def grade_id(exercise: str, name: str) -> str:
    """nbgrader grade ids allow only ``[A-Za-z0-9_-]``: ``<exercise>-<name>``."""
    gid = f"{exercise}-{name}"
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", gid):
        raise NotebookBuildError(f"{gid!r} is not a valid nbgrader grade id")
    return gid


def _is_hidden_marker(node: ast.expr) -> bool:
    """``pytest.mark.hidden`` or ``pytest.mark.hidden(...)`` (or ``mark.hidden``)."""
    if isinstance(node, ast.Call):
        node = node.func
    return isinstance(node, ast.Attribute) and node.attr == "hidden"


def _title_marker(fn: ast.FunctionDef) -> str:
    """The text of ``@pytest.mark.title("...")`` on ``fn`` ("" when it has none)."""
    for d in fn.decorator_list:
        if (
            isinstance(d, ast.Call)
            and isinstance(d.func, ast.Attribute)
            and d.func.attr == "title"
            and d.args
            and isinstance(d.args[0], ast.Constant)
        ):
            return str(d.args[0].value)
    return ""


def _module_marked_hidden(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            values = (
                node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
            )
            if any(_is_hidden_marker(v) for v in values):
                return True
    return False


def check_functions(path: Path) -> list[ast.FunctionDef]:
    """The top-level ``test_*`` functions of a check file, in file order."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]


def checks_of(
    exercise: str, rubric: Rubric | None = None, checks_dir: Path = CHECKS_DIR
) -> list[CheckInfo]:
    """The checks of ``exercise`` in file order (empty if it has no check file yet)."""
    rubric = rubric or Rubric.load()
    path = checks_dir / f"{exercise}.py"
    if not path.is_file():
        return []
    tree = ast.parse(path.read_text(), filename=str(path))
    module_hidden = _module_marked_hidden(tree)
    out = []
    for fn in check_functions(path):
        hidden = module_hidden or any(_is_hidden_marker(d) for d in fn.decorator_list)
        args = {a.arg for a in fn.args.args + fn.args.kwonlyargs}
        try:
            points = rubric.points(exercise, fn.name)
        except Exception as exc:
            raise NotebookBuildError(str(exc)) from None
        if "ref" in args and not hidden:
            raise NotebookBuildError(
                f"{exercise}::{fn.name} compares with the reference solution: mark it"
                " @pytest.mark.hidden (the one notion of hidden: its output shows reference values)"
            )
        out.append(CheckInfo(exercise, fn.name, points, hidden, "ref" in args, _title_marker(fn)))
    return out


def grade_cell_source(c: CheckInfo) -> str:
    pts = f"{c.points:g} point{'s' if c.points != 1 else ''}"
    call = f'check("{c.exercise}", "{c.id}")'
    if c.hidden:
        why = "hidden check: compares with the reference solution" if c.uses_ref else "hidden check"
        return (
            f"{GRADER_MARK} - {c.exercise}, {pts} ({why}: runs when your work is graded)\n"
            "from autograder.notebook import check\n\n"
            f"### BEGIN HIDDEN TESTS\n{call}\n### END HIDDEN TESTS"
        )
    return f"{GRADER_MARK} - {c.exercise}, {pts}\n# {c.title}\nfrom autograder.notebook import check\n\n{call}"
