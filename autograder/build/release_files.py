"""The files the student release writes besides the package: README, pyproject, workflow."""

from __future__ import annotations

import tomllib

from autograder import REPO_ROOT
from autograder.build.notebooks import ASSIGNMENTS
from autograder.grading.rubric import Rubric


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
autograder = ["rubric.toml", "course.toml", "checks/pytest.ini", "data/capstone/*.pt"]

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
    """The students' README: how to start, how points work, how to submit."""
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

Prefer notebooks? The same exercises, grouped into four assignments, are in
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
