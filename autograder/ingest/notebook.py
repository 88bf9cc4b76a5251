"""The one way a notebook becomes exercise modules (never executed; no kernel).

Every entry point uses these rules: ``grade-batch`` and Gradescope (a saved ``.ipynb``,
through :func:`notebook_modules`), ``nbgrader-regrade`` (:func:`notebook_code`) and the
grade cells in a live kernel (:func:`build_module` on the kernel's history,
:mod:`autograder.notebook`).

* Only code cells count. **Grade cells** are left out: a cell with a line starting with
  :data:`GRADER_MARK`, or nbgrader metadata ``grade`` without ``solution``.
* **Magics** (one rule, :func:`autograder.ingest.magics.strip_magics`): ``%line`` magics and ``!shell`` lines
  become ``pass`` line for line; a cell magic (``%%time``...) drops the whole cell.
* **Statements** (:func:`cell_statements`): top-level expression statements (demos such as
  ``train_bandit(...)``, ``print(...)``) and imports of other course modules or of
  ``autograder`` are left out; ``from __future__`` imports go first; a cell saved with an
  error keeps only its imports, functions and classes.
* **Which modules** (:func:`notebook_modules`), the first rule that applies:

  1. *marker cells*: a code cell whose metadata has ``{"rl4llm": {"module": "ex02_returns"}}``,
     whose first line is ``%%writefile ex02_returns.py``, or whose first line is a comment
     ``# module: ex02_returns`` (``# exercise: ...`` works too) starts that module; the
     following unmarked cells belong to it until the next marker, and cells before the first
     marker go at the top of every marked module. These modules are the cells as written,
     magics stripped, nothing else changed.
  2. the module **the notebook is named after** (``ex02_returns.ipynb``);
  3. else every exercise **whose grade cells the notebook carries** (nbgrader ``grade_id``
     ``<exercise>-...``) or **for which it defines a public function, class or variable** of
     the ``course/`` stub (``discounted_returns`` -> ``ex02_returns.py``; ``Q1_seeds`` ->
     ``questions.py``). A module that is not written is reported as missing.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from autograder import REPO_ROOT
from autograder.ingest.errors import SubmissionError
from autograder.ingest.magics import is_cell_magic, strip_magics

GRADER_MARK = "# rl4llm: grader cell"
"""First line of every cell that belongs to the grader (never part of the student's code)."""
MODULE_RE = re.compile(r"^(?:ex\d\d_[A-Za-z0-9_]+|questions)$")  # the course's module names
MAX_NOTEBOOK_BYTES = 20 * 1024**2
_MARKER_RE = re.compile(r"^\s*#\s*(?:module|exercise)\s*:\s*([A-Za-z0-9_]+?)(?:\.py)?\s*$")
_WRITEFILE_RE = re.compile(r"^\s*%%writefile(?:\s+-a)?\s+(?:\S*/)?([A-Za-z0-9_]+)\.py\s*$")
_FUTURE_RE = re.compile(r"^from[ \t]+__future__[ \t]+import[ \t]+[\w \t,]+$", re.MULTILINE)


def is_grader_cell(source: str, metadata: dict | None = None) -> bool:
    """Whether a cell belongs to the grader (grade cells, the set-up cell).

    nbgrader metadata ``grade`` without ``solution`` marks one; so does a line starting
    with :data:`GRADER_MARK` (the first line as generated, but nbgrader puts a comment above
    it when it re-inserts a deleted grade cell).
    """
    nb = (metadata or {}).get("nbgrader")
    if isinstance(nb, dict) and nb.get("grade") and not nb.get("solution"):
        return True
    return any(line.lstrip().startswith(GRADER_MARK) for line in source.splitlines())


def _grade_cell_exercise(cell: dict) -> str:
    nb = cell["metadata"].get("nbgrader")
    gid = nb.get("grade_id", "") if isinstance(nb, dict) else ""
    return str(gid).partition("-")[0] if is_grader_cell(cell["source"], cell["metadata"]) else ""


# -- cells into one module ----------------------------------------------------------------------
def _is_course_import(node: ast.stmt) -> bool:
    """``from ex02_returns import ...`` (everything is one module) or an import of the grader's
    own package (``autograder`` is not importable next to student code in the sandbox)."""
    if isinstance(node, ast.ImportFrom):
        module = node.module or ""
        return node.level == 0 and bool(MODULE_RE.match(module) or _is_grader_module(module))
    if isinstance(node, ast.Import):
        return all(_is_grader_module(a.name) for a in node.names)
    return False


def _is_grader_module(name: str) -> bool:
    return name == "autograder" or name.startswith("autograder.")


def _is_future(node: ast.stmt) -> bool:
    return isinstance(node, ast.ImportFrom) and node.module == "__future__"


DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass
class Extracted:
    """The module text built from some cells, and what was left out (for reports)."""

    code: str
    futures: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def _bound_names(node: ast.Import | ast.ImportFrom) -> set[str]:
    """The names an import statement binds (``import a.b as c`` -> c, ``import a.b`` -> a)."""
    return {a.asname or a.name.split(".")[0] for a in node.names}


def _uses(node: ast.stmt, names: set[str]) -> bool:
    return bool(names) and any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def cell_statements(
    source: str, succeeded: bool | None = True, grader_names: set[str] | None = None
) -> tuple[str, list[str], str]:
    """The part of one cell that goes into the module.

    Kept: every top-level statement except expression statements (``print(...)``,
    ``train_bandit()`` shown as the cell's value, ``display(...)``): those only
    show something and would re-run at every import. Imports of other course
    modules (``from ex02_returns import ...``) are dropped because everything is
    one module, and imports of ``autograder`` because the grader is not part of
    the student's code; so is a top-level statement that uses a name such an import bound
    (``_nb.check = ...`` after ``import autograder.notebook as _nb``: the grader's objects
    are not the student's to change). For a cell that failed when it ran, only its imports,
    functions and classes are kept (what the kernel had defined before the error).

    Args:
        source: the cell's text.
        succeeded: whether the cell ran without an error (``None``: not known).
        grader_names: names bound by dropped grader imports so far (updated in place, so
            a later cell's use is dropped too).

    Returns:
        ``(code, future_imports, note)``; ``note`` says why something was dropped.
    """
    if is_grader_cell(source):
        return "", [], ""
    if is_cell_magic(source):
        return "", [], "cell magic"
    text = strip_magics(source)
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        return "", [], f"SyntaxError line {exc.lineno}: {exc.msg}"
    lines = text.splitlines()
    keep: list[str] = []
    futures: list[str] = []
    dropped = 0
    grader_names = set() if grader_names is None else grader_names
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        segment = "\n".join(lines[start - 1 : node.end_lineno])
        if _is_future(node):
            futures.append(segment.strip())
            continue
        if _is_course_import(node):
            if not isinstance(node, ast.ImportFrom) or _is_grader_module(node.module or ""):
                grader_names |= _bound_names(node)
            continue
        if not isinstance(node, DEFINITIONS) and _uses(node, grader_names):
            dropped += 1
            continue
        if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
            dropped += 1
            continue
        if succeeded is False and not isinstance(node, DEFINITIONS):
            dropped += 1
            continue
        if succeeded is False and isinstance(node, (ast.Import, ast.ImportFrom)):
            # the error may have been this import: keep it only if it works
            segment = f"try:\n{textwrap.indent(segment, '    ')}\nexcept ImportError:\n    pass"
        keep.append(segment)
    note = f"{dropped} top-level statement(s) left out" if dropped else ""
    return "\n".join(keep), futures, note


def build_module(cells: list[tuple[str, bool | None]]) -> Extracted:
    """One module from ``(source, succeeded)`` pairs in execution order."""
    parts: list[str] = []
    futures: list[str] = []
    dropped: list[str] = []
    grader_names: set[str] = set()
    for i, (source, ok) in enumerate(cells, start=1):
        code, fut, note = cell_statements(source, ok, grader_names)
        futures += [f for f in fut if f not in futures]
        if note:
            dropped.append(f"cell {i}: {note}")
        if code.strip():
            parts.append(f"# -- cell {i} --\n{code}\n")
    head = "\n".join(futures) + "\n\n" if futures else ""
    return Extracted(head + "\n".join(parts), futures, dropped)


def notebook_code(nb) -> Extracted:
    """The student's code in a saved notebook (an ``nbformat`` node), in cell order.

    Grade cells are left out (:func:`is_grader_cell`). A cell saved with an error output
    (an exception, or the ``KeyboardInterrupt`` of a loop the student stopped) counts as
    failed, as in the kernel: only its imports, functions and classes are kept.
    """
    cells = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        if is_grader_cell(source, cell.get("metadata", {})):
            continue
        failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        cells.append((source, not failed))
    return build_module(cells)


# -- saved notebooks into modules ---------------------------------------------------------------
def read_cells(path: Path) -> list[dict]:
    """The cells of a saved notebook as ``{"cell_type", "source", "metadata", "failed"}`` dicts.

    Read as JSON (with :mod:`nbformat` when installed), never executed.

    Raises:
        SubmissionError: the file is too big, unreadable or not a notebook.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SubmissionError(f"cannot read {path.name}: {exc.strerror}") from None
    if size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES // 1024**2} MB")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubmissionError(f"corrupt notebook {path.name}: {exc}") from None
    try:
        import nbformat
    except ImportError:
        nbformat = None
    try:
        if nbformat is not None:
            try:
                nb = nbformat.reads(text, as_version=4, capture_validation_error={})
            except TypeError:  # nbformat < 5.5
                nb = nbformat.reads(text, as_version=4)
            raw_cells = nb.cells
        else:
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
                raise ValueError("no list of cells (nbformat 4 is required)")
            raw_cells = data["cells"]
        cells = []
        for c in raw_cells:
            source = c.get("source", "")
            if isinstance(source, list):
                source = "".join(str(s) for s in source)
            meta = c.get("metadata", {})
            outputs = c.get("outputs", [])
            failed = isinstance(outputs, list) and any(
                isinstance(o, dict) and o.get("output_type") == "error" for o in outputs
            )
            cells.append(
                {
                    "cell_type": str(c.get("cell_type", "")),
                    "source": str(source),
                    "metadata": meta if isinstance(meta, dict) else {},
                    "failed": failed,
                }
            )
        return cells
    except Exception as exc:  # noqa: BLE001 - any parse failure is a corrupt notebook
        msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise SubmissionError(
            f"corrupt notebook {path.name}: {type(exc).__name__}: {msg}"
        ) from None


def _marker(cell: dict) -> tuple[str | None, str]:
    """The module a cell starts (if any) and its source without a ``%%writefile`` line."""
    meta = cell["metadata"].get("rl4llm")
    if isinstance(meta, dict) and isinstance(meta.get("module"), str):
        name = meta["module"].removesuffix(".py")
        if MODULE_RE.match(name):
            return name, cell["source"]
    lines = cell["source"].splitlines()
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is not None:
        m = _WRITEFILE_RE.match(lines[first])
        if m and MODULE_RE.match(m.group(1)):
            return m.group(1), "\n".join(lines[first + 1 :]) + "\n"
        m = _MARKER_RE.match(lines[first])
        if m and MODULE_RE.match(m.group(1)):
            return m.group(1), cell["source"]
    return None, cell["source"]


@functools.lru_cache(maxsize=1)
def exercise_names() -> dict[str, frozenset[str]]:
    """Each rubric module's public top-level names (functions, classes, variables), from
    the ``course/`` stubs (or ``solutions/``)."""
    from autograder.grading.rubric import Rubric

    found = {}
    for name in Rubric.load().exercises:
        for folder in (REPO_ROOT / "course", REPO_ROOT / "solutions"):
            try:
                tree = ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))
            except (OSError, SyntaxError, ValueError):
                continue
            found[name] = frozenset(_defined(tree))
            break
    return found


def _defined(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


def notebook_modules(paths: list[Path]) -> dict[str, str]:
    """Module name -> source, from one or more notebooks (rules in the module docstring)."""
    out: dict[str, str] = {}
    for path in paths:
        for name, code in _one_notebook(path).items():
            header = f"# ---- from {path.name} (extracted by the grader) ----\n"
            out[name] = out.get(name, "") + header + code + "\n"
    for name, code in out.items():
        futures = dict.fromkeys(m.group(0).strip() for m in _FUTURE_RE.finditer(code))
        if (
            futures
        ):  # `from __future__` is legal in any notebook cell, but only at the top of a file
            code = _FUTURE_RE.sub("# (from __future__ import moved to the top)", code)
            out[name] = "\n".join(futures) + "\n" + code
    if not out:
        names = ", ".join(p.name for p in paths)
        raise SubmissionError(
            f"{names}: no code for any exercise (no marker cell, not named after an exercise,"
            " and no function, class or variable of an exercise is defined)"
        )
    return out


def _one_notebook(path: Path) -> dict[str, str]:
    cells_with_grade_cells = [c for c in read_cells(path) if c["cell_type"] == "code"]
    cells = [c for c in cells_with_grade_cells if not is_grader_cell(c["source"], c["metadata"])]
    prelude: list[dict] = []
    marked: dict[str, list[dict]] = {}
    current = None
    for cell in cells:
        name, source = _marker(cell)
        if name is not None:
            current = name
            cell = dict(cell, source=source)
        (prelude if current is None else marked.setdefault(current, [])).append(cell)
    if marked:  # files as written (like %%writefile): magics dropped, nothing else changed
        verbatim = lambda group: "\n".join(strip_magics(c["source"]) for c in group)  # noqa: E731
        return {name: verbatim(prelude + group) for name, group in marked.items()}
    code = build_module([(c["source"], not c["failed"]) for c in prelude]).code
    if MODULE_RE.match(path.stem):
        return {path.stem: code}
    try:
        defined = _defined(ast.parse(code))
    except (SyntaxError, ValueError):
        defined = None
    known = exercise_names()
    if defined is None:  # a syntax error: the grader reports it for every exercise
        return dict.fromkeys(known, code)
    carried = {_grade_cell_exercise(c) for c in cells_with_grade_cells} & set(known)
    return {name: code for name, public in known.items() if public & defined or name in carried}


def module_names() -> list[str]:
    """Every module name the course's checks import: the exercises of the rubric."""
    from autograder.grading.rubric import Rubric

    return list(Rubric.load().exercises)


def write_submission(code: str, folder: Path, names: list[str] | None = None) -> Path:
    """Write ``code`` as every exercise module into ``folder`` (created)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in names or module_names():
        (folder / f"{name}.py").write_text(code)
    return folder
