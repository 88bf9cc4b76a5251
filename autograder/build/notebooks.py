"""Generate the nbgrader **source** notebooks from ``solutions/`` and ``autograder/checks/``.

``python -m autograder build-notebooks [--check]`` writes
``nbgrader/source/<assignment>/<assignment>.ipynb`` (committed, like ``course/``).
One notebook per assignment, exercises in lesson order, so a later exercise uses
the functions of an earlier one from the same namespace (imports between course
modules are dropped). For every exercise:

* the lesson text (the module docstring's "The idea") as markdown, equations in LaTeX;
* the given code (imports, constants, helpers) in locked read-only cells;
* one solution cell per top-level ``def``/``class`` that holds solution markers,
  markers intact (``nbgrader generate_assignment`` turns them into the stub);
* "How this is checked", then one locked grade cell per check of
  ``autograder/checks/<exercise>.py`` with the points of ``rubric.toml``. Hidden
  checks, and checks that need the reference solution (the ``ref`` fixture, absent
  from the student release), sit inside a hidden-tests block.

Graded questions (``solutions/questions.py``, if present) become their own
section. Only pure functions of the input files are used, so the output is
byte-for-byte reproducible (cell ids are derived from grade ids).
"""

from __future__ import annotations

from pathlib import Path

from autograder import REPO_ROOT
from autograder.build.nbcells import Builder, NotebookBuildError, cell_meta, module_chunks
from autograder.build.nbchecks import CheckInfo, checks_of, grade_cell_source, grade_id
from autograder.build.nbquestions import append_questions
from autograder.build.nbtext import rst_to_markdown, split_docstring
from autograder.course import ASSIGNMENTS, Assignment
from autograder.grading.rubric import Rubric
from autograder.ingest.notebook import GRADER_MARK

SOLUTIONS_DIR = REPO_ROOT / "solutions"
NBGRADER_DIR = REPO_ROOT / "nbgrader"
SOURCE_DIR = NBGRADER_DIR / "source"


def intro_markdown(a: Assignment, rubric: Rubric, points: float, manual: float) -> str:
    exercises = "\n".join(
        f"* **{ex}** - {rubric.exercises[ex].title if ex in rubric.exercises else ex}"
        for ex in a.exercises
    )
    manual = f", and {manual:g} more for answers graded by hand" if manual else ""
    return f"""# {a.title}

{a.intro}

{exercises}

**How to work.** Run the cells from the top. Write your code where a cell says
`# YOUR CODE HERE` and delete the `raise NotImplementedError()` below it. Keep the
function names and signatures: the checks call them. Later exercises use your own
functions from earlier ones, as in the course modules.

**How points work.** Each grey *grade cell* is one check, worth the points shown
in its first line ({points:g} points in this notebook, hidden checks included{manual}). A
grade cell that passes prints nothing; one that fails ends with `CheckFailed:` and
the reason. These are the same checks as `pytest course/`. Some grade cells are
*hidden checks*: they look empty here and run only when your work is graded. The
first grade cell of each exercise takes a few seconds (it runs all of that
exercise's checks in a separate process); the others answer at once.

**Before you submit**, use *Kernel -> Restart & Run All*: your notebook is graded
from top to bottom in a fresh kernel, and also by reading its code cells in order
without running it. Keep long experiments inside a function or under
`if __name__ == "__main__":` so they do not run again whenever your code is graded.
"""


SETUP_CELL = f"""{GRADER_MARK} - set-up, run it first
# Loads `check`, which the grade cells call. Your code never needs it.
import autograder.notebook  # noqa: F401"""


def exercise_cells(b: Builder, exercise: str, rubric: Rubric, solutions_dir: Path) -> set[str]:
    """Append one exercise's cells; returns the top-level names it defines."""
    path = solutions_dir / f"{exercise}.py"
    doc, chunks = module_chunks(path.read_text(), f"solutions/{path.name}")
    title, sections = split_docstring(doc)
    number, _, topic = title.partition(" - ")
    lesson = [f"## {number.strip()}: {topic.strip() or exercise}", "", f"*Module `{exercise}`*", ""]
    for name, text in sections.items():
        if name == "How this is checked":
            continue
        if name:
            lesson += [f"### {name}", ""]
        lesson.append(rst_to_markdown(text))
    b.markdown("\n".join(lesson), f"{exercise}-lesson")
    names: set[str] = set()
    n_given = 0
    for text, chunk in chunks:
        names.update(chunk.names)
        if chunk.solution:
            name = chunk.names[0] if chunk.names else f"solution{chunk.start}"
            b.code(text, cell_meta(grade_id(exercise, name), solution=True))
        else:
            n_given += 1
            header = "# Given code: run this cell (it is read-only).\n"
            b.code(header + text, cell_meta(grade_id(exercise, f"given{n_given}"), locked=True))
    checks = checks_of(exercise, rubric)
    how = sections.get("How this is checked", "")
    text = [f"### {number.strip()}: how this is checked", ""]
    if how:
        text.append(rst_to_markdown(how))
    if checks:
        total = sum(c.points for c in checks)
        hidden = sum(c.points for c in checks if c.hidden)
        text.append(
            f"{len(checks)} checks, {total:g} points"
            + (
                f" ({hidden:g} of them in hidden checks that run when your work is graded)"
                if hidden
                else ""
            )
            + "."
        )
    else:
        text.append("*The checks of this exercise are not available yet.*")
    b.markdown("\n".join(text), f"{exercise}-checked")
    for c in checks:
        b.code(
            grade_cell_source(c), cell_meta(c.grade_id, grade=True, locked=True, points=c.points)
        )
    return names


def carried_cells(b: Builder, a: Assignment, solutions_dir: Path) -> set[str]:
    """Append the cells of the functions ``a`` needs from earlier assignments.

    Each carried function is a solution cell (the release shows ``# YOUR CODE HERE``: the
    student pastes the version they wrote before), with the given code of its module (imports,
    constants) locked above it. No grade cells: those functions were graded where they were
    written. Returns the top-level names these cells define.
    """
    if not a.carried:
        return set()
    homes = {ex: other.name for other in ASSIGNMENTS for ex in other.exercises}
    listing = "\n".join(
        f"* from `{module}` ({homes.get(module, 'an earlier assignment')}): "
        + ", ".join(f"`{n}`" for n in names)
        for module, names in a.carried
    )
    b.markdown(
        "## Your functions from earlier assignments\n\n"
        "The capstone check trains a small language model with *your* functions, and this "
        "notebook is graded on its own, so paste your own versions of these functions (and "
        "any helper they call) into the cells below, replacing `raise NotImplementedError()`:"
        f"\n\n{listing}\n\nThey are not graded again here; the capstone check uses them.",
        f"{a.name}-carried",
    )
    names: set[str] = set()
    for module, wanted in a.carried:
        path = solutions_dir / f"{module}.py"
        _, chunks = module_chunks(path.read_text(), f"solutions/{path.name}")
        found = {n for _, c in chunks if c.solution for n in c.names}
        if missing := sorted(set(wanted) - found):
            raise NotebookBuildError(
                f"course.toml carries {missing} from {module}: not defined there"
            )
        n_given = 0
        for text, chunk in chunks:
            if chunk.solution and not set(chunk.names) & set(wanted):
                continue
            names.update(chunk.names)
            if chunk.solution:
                b.code(text, cell_meta(grade_id(module, chunk.names[0]), solution=True))
            else:
                n_given += 1
                header = f"# Given code of {module}: run this cell (it is read-only).\n"
                gid = grade_id(module, f"given{n_given}")
                b.code(header + text, cell_meta(gid, locked=True))
    return names


def build_notebook(
    a: Assignment, rubric: Rubric | None = None, solutions_dir: Path = SOLUTIONS_DIR
):
    """The nbgrader source notebook of one assignment (an ``nbformat`` node)."""
    rubric = rubric or Rubric.load()
    b = Builder(a)
    b.code(SETUP_CELL, cell_meta(f"{a.name}-setup", locked=True))
    seen: dict[str, str] = dict.fromkeys(
        carried_cells(b, a, solutions_dir), "an earlier assignment"
    )
    for exercise in a.exercises:
        for name in exercise_cells(b, exercise, rubric, solutions_dir):
            if name in seen and name not in ("np", "torch", "nn"):
                raise NotebookBuildError(
                    f"{exercise} and {seen[name]} both define {name!r}; in one notebook the later "
                    "definition would replace the earlier one"
                )
            seen.setdefault(name, exercise)
    append_questions(b, a, rubric, solutions_dir)
    graded = [
        c.metadata["nbgrader"] for c in b.cells if c.metadata.get("nbgrader", {}).get("grade")
    ]
    auto = sum(g["points"] for g in graded if not g["solution"])
    manual = sum(g["points"] for g in graded if g["solution"])
    b.markdown(intro_markdown(a, rubric, auto, manual), f"{a.name}-intro")
    b.cells.insert(0, b.cells.pop())
    return b.notebook()


def render_notebooks(solutions_dir: Path = SOLUTIONS_DIR) -> dict[str, str]:
    """Every generated file: path relative to ``nbgrader/source`` -> text."""
    import nbformat

    rubric = Rubric.load()
    out = {}
    for a in ASSIGNMENTS:
        nb = build_notebook(a, rubric, solutions_dir)
        nbformat.validate(nb)
        out[f"{a.name}/{a.name}.ipynb"] = nbformat.writes(nb) + "\n"
    return out


def write_notebooks(out_dir: Path = SOURCE_DIR, solutions_dir: Path = SOLUTIONS_DIR) -> list[str]:
    """Write the source notebooks; returns their relative paths."""
    files = render_notebooks(solutions_dir)
    for rel, text in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return sorted(files)


def stale_notebooks(out_dir: Path = SOURCE_DIR, solutions_dir: Path = SOLUTIONS_DIR) -> list[str]:
    """Relative paths under ``nbgrader/source`` that differ from the generator's output."""
    files = render_notebooks(solutions_dir)
    stale = [
        rel
        for rel, text in files.items()
        if not (out_dir / rel).is_file() or (out_dir / rel).read_text() != text
    ]
    extra = [
        str(p.relative_to(out_dir))
        for p in sorted(out_dir.glob("*/*.ipynb"))
        if str(p.relative_to(out_dir)) not in files
    ]
    return sorted(stale + extra)


def grade_cells(assignment: str | None = None) -> dict[str, CheckInfo]:
    """Every grade cell of the generated notebooks: grade id -> check."""
    rubric = Rubric.load()
    out = {}
    for a in ASSIGNMENTS:
        if assignment in (None, a.name):
            for ex in a.exercises:
                for c in checks_of(ex, rubric):
                    if c.id not in rubric.exercises[ex].manual:
                        out[c.grade_id] = c
    return out
