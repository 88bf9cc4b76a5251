"""The student release: ``python -m autograder release OUT_DIR``.

Writes a directory you could push as the students' template repository (GitHub
Classroom) or hand out as a zip:

* ``course/``: the stubs and ``conftest.py`` (as ``build-course`` writes them);
* ``notebooks/``: the assignment notebooks in release form (what ``nbgrader
  generate_assignment`` hands out: solutions replaced by the stub, hidden checks
  removed, locked cells marked, checksums computed);
* ``autograder/``: the grader with only the public checks. Removed: checks marked
  ``@pytest.mark.hidden``, checks that need the reference solution (the ``ref``
  fixture: ``solutions/`` is not in the release), their ``rubric.toml`` entries,
  top-level helpers only they used, the build tools and the nbgrader tools (the
  multiple-choice keys are in ``solutions/questions.py``, which is not copied);
* ``README.md`` for students, ``pyproject.toml``, ``.gitignore`` and
  ``.github/workflows/classroom.yml`` (GitHub Classroom: prints ``Points X/Y``).

There is no ``solutions/``, no hidden check, no solution marker and no answer
key in the output; :func:`leaks` greps for them (the tests call it).
"""

from __future__ import annotations

import ast
import re
import shutil
import tomllib
from pathlib import Path

from autograder import PACKAGE_DIR, REPO_ROOT
from autograder.build.notebooks import ASSIGNMENTS, SOURCE_DIR, checks_of
from autograder.grading.rubric import Rubric

# What of the autograder package never goes to students.
EXCLUDE = (
    "build",  # generators: need solutions/
    "grading/nbgrader_regrade.py",  # instructor tool
    "data/nbgrader_config.py",  # instructor tool
    "__pycache__",
)
# Multiple-choice keys live only in solutions/questions.py; any data file named like a key
# is left out as well. (data/question_bands.json, the accepted ranges of the numeric
# answers, is public: the question checks need it and the students' docstrings cite it.)
ANSWER_KEY_HINTS = ("answer_key", "answer-key", "answers.json", "mc_key", "choices_key")


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
        gone = {c.id for c in checks_of(ex, rubric) if c.release_hidden}
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
def _ignore(directory: str, names: list[str]) -> list[str]:
    rel = Path(directory).resolve().relative_to(PACKAGE_DIR)
    skip = [n for n in names if n.endswith((".pyc", ".pyo")) or n == "__pycache__"]
    skip += [n for n in names if (rel / n).as_posix() in EXCLUDE]
    skip += [n for n in names if any(h in n.lower() for h in ANSWER_KEY_HINTS)]
    return skip


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

    shutil.copytree(PACKAGE_DIR, out / "autograder", ignore=_ignore)
    for ex, ids in gone.items():
        path = out / "autograder" / "checks" / f"{ex}.py"
        path.write_text(strip_checks(path.read_text(), ids, f"autograder/checks/{ex}.py"))
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
    """Every file of the release that holds a solution marker, a hidden check's name, an
    answer key, or anything from ``solutions/`` (empty list: clean)."""
    rubric = rubric or Rubric.load()
    needles = ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"]
    needles += sorted({c for ids in removed_checks(rubric).values() for c in ids})
    problems = []
    if (out / "solutions").exists():
        problems.append("solutions/ is present")
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out)
        if any(h in path.name.lower() for h in ANSWER_KEY_HINTS):
            problems.append(f"{rel}: answer-key file")
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for needle in needles:
            if needle in text:
                problems.append(f"{rel}: contains {needle!r}")
    return problems


# -- the files written -------------------------------------------------------------------------
def release_pyproject() -> str:
    """The release's pyproject: the main one's dependencies, pytest plugin and package data."""
    main = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    deps = main["project"]["dependencies"]
    dep_lines = "".join(f'    "{d}",\n' for d in deps)
    return f"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "rl4llm-course-student"
version = "{main["project"]["version"]}"
description = "Reinforcement learning foundations for LLMs: exercises and their public checks"
requires-python = "{main["project"]["requires-python"]}"
dependencies = [
{dep_lines}]

[project.optional-dependencies]
notebooks = ["jupyterlab>=4"]

[project.scripts]
rl4llm-grade = "autograder.commands:main"

[project.entry-points.pytest11]
rl4llm = "autograder.grading.plugin"

[tool.setuptools.packages.find]
include = ["autograder*"]

[tool.setuptools.package-data]
autograder = ["rubric.toml", "course.toml", "checks/pytest.ini", "data/*.json", "data/capstone/*.pt"]

[tool.pytest.ini_options]
addopts = "-p no:cacheprovider"
"""


CLASSROOM_WORKFLOW = """# GitHub Classroom autograding: grades course/ on every push and reports "Points X/Y".
name: Autograding
on:
  push:
  workflow_dispatch:
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  grade:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install
        run: |
          python -m pip install --upgrade pip
          pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
          pip install -e .
      - name: Grade
        run: |
          python -m autograder grade course --format table | tee grade.txt
          line=$(grep -E '^Points [0-9.]+/[0-9.]+$' grade.txt | tail -n 1)
          total=${line#Points }
          echo "::notice title=Autograding complete::$line"
          echo "::notice title=Autograding report::{\\"totalPoints\\":${total%/*},\\"maxPoints\\":${total#*/}}"
"""


def student_readme(full: Rubric, public: Rubric) -> str:
    rows = []
    for name, ex in public.exercises.items():
        total = full.exercises[name].max_points if name in full.exercises else ex.max_points
        rows.append(f"| `{name}` | {ex.title} | {ex.max_points:g} | {total:g} |")
    table = "\n".join(rows)
    assignments = "\n".join(
        f"* `notebooks/{a.name}.ipynb` - {a.title.split(' - ', 1)[-1]} ({', '.join(a.exercises)})"
        for a in ASSIGNMENTS
    )
    return f"""# Reinforcement learning foundations for LLMs - exercises

You implement the pieces of RL that RLHF and RLVR are built from: an environment,
returns, a policy, REINFORCE, values and PPO, the KL penalty, a reward model,
verifier rewards and GRPO. Each exercise is one module in `course/` with a
docstring that teaches the idea, and a set of checks that tell you, point by point,
what already works.

## Start

Python 3.11 or newer:

```bash
python -m venv .venv && source .venv/bin/activate      # Windows: .venv\\Scripts\\activate
pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
pip install -e .
pytest course/
```

At first every check says `TODO` (not implemented) and you have 0 points. Open
`course/ex01_gridworld.py`, read the docstring, replace each
`raise NotImplementedError()` with your code, and run `pytest course/` again.
`pytest course/ex02_returns.py` runs the checks of one exercise only.

Prefer notebooks? The same exercises, grouped into three assignments, are in
`notebooks/` (`pip install -e ".[notebooks]"`, then `jupyter lab`):

{assignments}

Each notebook has the lesson text, a cell per function to write, and a grade cell
per check that runs the same checks as `pytest course/`. Work either in `course/`
or in the notebooks - whichever your course asks you to submit.

## How points work

Every check is worth the points in the table it prints; a check passes or fails as
a whole. A stub that still raises `NotImplementedError` scores 0 ("TODO"), so does
a check that errors, is skipped or times out. Some checks run only when your work
is graded: *hidden checks*, and checks that compare your functions with the
reference solution on random inputs (the reference is not in this repository).
`pytest course/` shows how many points those are worth; they test the same
behaviour the docstrings describe, so if the public checks pass and you followed
the docstring, they usually pass too.

| module | exercise | points here | points when graded |
|---|---|---:|---:|
{table}

`python -m autograder grade course` grades the folder the way the course grader
does (all checks of this repository, no hidden ones) and ends with `Points X/Y`.

## How to submit

* **GitHub Classroom**: commit and push. The *Actions* tab runs the autograder
  (`.github/workflows/classroom.yml`) and reports `Points X/Y`; your instructor's
  grade also counts the hidden checks.
* **Gradescope**: upload your `course/exNN_*.py` files (or a zip of `course/`, or
  your notebooks). The results appear after a minute or two.
* **nbgrader / JupyterHub**: submit the assignment notebooks from the Assignments tab.

Do not edit `course/conftest.py`, `autograder/` or the grade cells of the
notebooks: the grader uses its own copies, so changes there only break your local
feedback.
"""
