"""The student release: ``python -m autograder release OUT_DIR``.

Writes a directory you could push as the students' template repository (GitHub
Classroom) or hand out as a zip:

* ``course/``: the stubs and ``conftest.py`` (as ``build-course`` writes them);
* ``notebooks/``: the assignment notebooks in release form (what ``nbgrader
  generate_assignment`` hands out: solutions replaced by the stub, hidden checks
  removed, locked cells marked, checksums computed);
* ``autograder/``: the files of :data:`ALLOW` (an allowlist), with only the public
  checks. Removed: checks marked ``@pytest.mark.hidden`` (every check that needs the
  reference solution is one), their ``rubric.toml`` entries, top-level helpers only
  they used (in the checks module and in its ``<exercise>_support.py``); never copied:
  the build tools, the nbgrader tools, ``data/`` (the multiple-choice keys are in
  ``solutions/questions.py``, which is not copied);
* ``README.md`` for students, ``pyproject.toml``, ``.gitignore`` and
  ``.github/workflows/classroom.yml`` (GitHub Classroom: prints ``Points X/Y``).

There is no ``solutions/``, no hidden check, no solution marker, no solution body and
no answer key in the output; :func:`leaks` looks for them and the build fails if it
finds one.
"""

from __future__ import annotations

import ast
import re
import shutil
import tomllib
from pathlib import Path

from autograder import PACKAGE_DIR
from autograder.build import leaks as leakscan
from autograder.build.notebooks import ASSIGNMENTS, SOURCE_DIR, checks_of
from autograder.build.release_files import CLASSROOM_WORKFLOW, release_pyproject, student_readme
from autograder.grading.rubric import Rubric

# What of the autograder package goes to students: an allowlist (globs relative to the
# package), so a new data file, a .orig file or an instructor tool stays out until someone
# decides it belongs. The checks are copied, then stripped of their hidden checks.
ALLOW = (
    "__init__.py",
    "__main__.py",
    "course.py",
    "course.toml",
    "notebook.py",
    "rubric.toml",
    "verdict.py",
    "checks/*.py",
    "checks/pytest.ini",
    "commands/*.py",
    "experiments/*.py",
    "grading/*.py",
    "ingest/*.py",
    "seam/*.py",
    "capstone/*.py",
    "data/capstone/*.pt",
    "seam/worker/*.py",
)
DENY = ("grading/nbgrader_regrade.py",)  # instructor tool (needs the gradebook)


def package_files() -> list[str]:
    """The package's files that the release carries (relative to the package, sorted)."""
    out = set()
    for pattern in ALLOW:
        out.update(p.relative_to(PACKAGE_DIR).as_posix() for p in PACKAGE_DIR.glob(pattern))
    return sorted(f for f in out if f not in DENY and "__pycache__" not in f)


class ReleaseError(RuntimeError):
    """The release cannot be built (one clear line)."""


# -- checks ---------------------------------------------------------------------------------------
def strip_checks(source: str, remove: set[str], filename: str = "<checks>") -> str:
    """Remove the top-level functions named in ``remove`` (decorators included), then the
    top-level private helpers and constants nothing left refers to."""
    tree = ast.parse(source, filename=filename)
    lines = source.splitlines(keepends=True)

    def span(node: ast.stmt) -> tuple[int, int]:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        while start > 1 and lines[start - 2].lstrip().startswith("#"):
            start -= 1  # the comment right above belongs to it
        return start, node.end_lineno

    drop = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in remove]
    missing = remove - {n.name for n in drop}
    if missing:
        raise ReleaseError(f"{filename}: no top-level check named {sorted(missing)}")
    kept = [n for n in tree.body if n not in drop]
    while True:  # drop helpers only the removed checks used, until nothing changes
        used = _names_used(kept)
        dead = [n for n in kept if _defines_private(n) and not (_defined_names(n) & used)]
        if not dead:
            break
        drop += dead
        kept = [n for n in kept if n not in dead]
    cut = sorted(span(n) for n in drop)
    out, pos = [], 0
    for start, end in cut:
        out.extend(lines[pos : start - 1])
        pos = end
    out.extend(lines[pos:])
    text = re.sub(r"\n{4,}", "\n\n\n", "".join(out))
    ast.parse(text, filename=filename)  # still valid Python
    return text


def strip_support(
    checks: str, support: str, module: str, filename: str = "<support>"
) -> tuple[str, str]:
    """A stripped checks module and its support module, both trimmed to what the checks use.

    ``checks`` (already through :func:`strip_checks`) imports helpers from ``module`` (the
    dotted name of ``support``, ``autograder.checks.<exercise>_support``). The names it no
    longer uses leave its import statement; then ``support`` keeps only the top-level helpers
    and constants those imports need, directly or through each other, so a helper that only
    hidden checks used is not shipped from the support module either.

    Args:
        checks: the source of the stripped checks module.
        support: the source of its support module.
        module: the support module's dotted name, as ``checks`` imports it.
        filename: the support module's path, for error messages.

    Returns:
        ``(checks, support)``: both sources, still valid Python.
    """
    tree = ast.parse(checks)
    lines = checks.splitlines(keepends=True)
    imports = [
        n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == module and not n.level
    ]
    used = _names_used([n for n in tree.body if n not in imports])
    keep: set[str] = set()
    for node in reversed(imports):  # bottom-up: line numbers above stay valid
        names = [a for a in node.names if (a.asname or a.name) in used]
        keep.update(a.name for a in names)
        text = ""
        if names:
            listed = "".join(f"    {ast.unparse(a)},\n" for a in names)
            text = f"from {module} import (\n{listed})\n"
        lines[node.lineno - 1 : node.end_lineno] = [text]
    checks_out = "".join(lines)
    ast.parse(checks_out)

    stree = ast.parse(support, filename=filename)
    slines = support.splitlines(keepends=True)
    kept, drop = list(stree.body), []
    while True:
        needed = _names_used(kept) | keep
        dead = [n for n in kept if _defines_private(n) and not (_defined_names(n) & needed)]
        if not dead:
            break
        drop += dead
        kept = [n for n in kept if n not in dead]
    out, pos = [], 0
    for node in sorted(drop, key=lambda n: n.lineno):
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        while start > 1 and slines[start - 2].lstrip().startswith("#"):
            start -= 1  # the comment right above belongs to it
        out.extend(slines[pos : start - 1])
        pos = node.end_lineno
    out.extend(slines[pos:])
    support_out = re.sub(r"\n{4,}", "\n\n\n", "".join(out))
    ast.parse(support_out, filename=filename)  # still valid Python
    return checks_out, support_out


def _defined_names(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return {node.target.id}
    return set()


def _defines_private(node: ast.stmt) -> bool:
    """A helper or constant that is not a check and not part of the file's contract."""
    names = _defined_names(node)
    return bool(names) and not any(
        n.startswith("test_") or n in ("EXERCISE", "pytestmark") for n in names
    )


def _names_used(nodes: list[ast.stmt]) -> set[str]:
    used: set[str] = set()
    for node in nodes:
        own = _defined_names(node) if isinstance(node, (ast.Assign, ast.AnnAssign)) else set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id not in own:
                used.add(sub.id)
            elif isinstance(sub, ast.Attribute):
                used.add(sub.attr)
    return used


def strip_rubric(text: str, remove: dict[str, set[str]]) -> str:
    """``rubric.toml`` without the points of the removed checks (comments kept)."""
    out, section = [], None
    for line in text.splitlines(keepends=True):
        m = re.match(r"^\s*\[([A-Za-z0-9_]+)(?:\.points)?\]", line)
        if m:
            section = m.group(1)
        key = re.match(r"^\s*(test_\w+)\s*=", line)
        if key and section in remove and key.group(1) in remove[section]:
            continue
        out.append(line)
    result = "".join(out)
    tomllib.loads(result)
    return result


def removed_checks(rubric: Rubric | None = None) -> dict[str, set[str]]:
    """Exercise -> the check ids that are not in the release (hidden or need ``ref``)."""
    rubric = rubric or Rubric.load()
    out = {}
    for ex in rubric.exercises:
        gone = {c.id for c in checks_of(ex, rubric) if c.hidden}
        if gone:
            out[ex] = gone
    return out


# -- notebooks ----------------------------------------------------------------------------------
def release_notebook(nb):
    """What ``nbgrader generate_assignment`` hands out, without a gradebook: the same
    preprocessors in the same order (SaveCells, which writes the database, left out)."""
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearMarkScheme,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )
    from traitlets.config import Config

    cfg = Config()
    cfg.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    cfg.ClearSolutions.text_stub = "YOUR ANSWER HERE"
    resources: dict = {}
    for cls in (
        LockCells,
        ClearSolutions,
        ClearOutput,
        CheckCellMetadata,
        ComputeChecksums,
        ClearHiddenTests,
        ClearMarkScheme,
        ComputeChecksums,
        CheckCellMetadata,
    ):
        nb, resources = cls(config=cfg).preprocess(nb, resources)
    return nb


# -- the whole release ------------------------------------------------------------------------
def build_release(out: Path, force: bool = False) -> list[str]:
    """Write the student release into ``out``; returns the relative paths written."""
    import nbformat

    from autograder.build.stubs import render_course

    out = Path(out)
    if out.exists():
        if not force and any(out.iterdir()):
            raise ReleaseError(f"{out} exists and is not empty (use --force to replace it)")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rubric = Rubric.load()
    gone = removed_checks(rubric)

    for rel in package_files():
        (out / "autograder" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE_DIR / rel, out / "autograder" / rel)
    for ex, ids in gone.items():
        path = out / "autograder" / "checks" / f"{ex}.py"
        text = strip_checks(path.read_text(), ids, f"autograder/checks/{ex}.py")
        support = path.with_name(f"{ex}_support.py")  # the checks' helpers, if they have one
        if support.is_file():
            text, rest = strip_support(
                text, support.read_text(), f"autograder.checks.{ex}_support", str(support.name)
            )
            support.write_text(rest)
        path.write_text(text)
    rub = out / "autograder" / "rubric.toml"
    rub.write_text(strip_rubric(rub.read_text(), gone))

    for name, text in render_course().items():
        (out / "course").mkdir(exist_ok=True)
        (out / "course" / name).write_text(text)

    (out / "notebooks").mkdir()
    for a in ASSIGNMENTS:
        src = SOURCE_DIR / a.name / f"{a.name}.ipynb"
        if not src.is_file():
            raise ReleaseError(f"{src} is missing: run python -m autograder build-notebooks")
        nb = release_notebook(nbformat.read(str(src), as_version=4))
        nbformat.write(nb, str(out / "notebooks" / f"{a.name}.ipynb"))

    public = Rubric.load(rub)
    (out / "README.md").write_text(student_readme(rubric, public))
    (out / "pyproject.toml").write_text(release_pyproject())
    (out / ".gitignore").write_text(
        "__pycache__/\n*.pyc\n*.egg-info/\n.venv/\n.hypothesis/\n.ipynb_checkpoints/\n"
    )
    wf = out / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "classroom.yml").write_text(CLASSROOM_WORKFLOW)
    problems = leaks(out)
    if problems:
        raise ReleaseError("the release leaks: " + "; ".join(problems[:10]))
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


def leaks(out: Path, rubric: Rubric | None = None) -> list[str]:
    """Every file of the release that holds an answer (:mod:`autograder.build.leaks`), a
    solution or hidden-tests marker, or a hidden check's name (empty list: clean)."""
    rubric = rubric or Rubric.load()
    hidden = sorted({c for ids in removed_checks(rubric).values() for c in ids})
    problems = ["solutions/ is present"] if (out / "solutions").exists() else []
    return problems + leakscan.leaks(out, needles=(*leakscan.MARKERS, *hidden))
