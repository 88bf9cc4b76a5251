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

import ast
import hashlib
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from autograder import REPO_ROOT
from autograder.build.markers import find_regions
from autograder.notebook import GRADER_MARK
from autograder.plugin import CHECKS_DIR
from autograder.rubric import Rubric

SOLUTIONS_DIR = REPO_ROOT / "solutions"
NBGRADER_DIR = REPO_ROOT / "nbgrader"
SOURCE_DIR = NBGRADER_DIR / "source"


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    exercises: tuple[str, ...]
    questions: tuple[str, ...] = ()  # question groups from solutions/questions.py
    intro: str = ""


ASSIGNMENTS: tuple[Assignment, ...] = (
    Assignment(
        "a1_policy_gradients",
        "Assignment 1 - From a grid world to REINFORCE",
        ("ex01_gridworld", "ex02_returns", "ex03_policy", "ex04_reinforce"),
        ("lesson",),
        "An environment, returns, a policy that outputs logits, and the REINFORCE update that ties "
        "them together; then three questions you answer by running your own `train_bandit`.",
    ),
    Assignment(
        "a2_values_ppo",
        "Assignment 2 - Values, Bellman and PPO",
        ("ex05_values", "ex06_ppo"),
        (),
        "State values and the Bellman equation on the grid world, then PPO's clipped objective "
        "and generalised advantage estimation.",
    ),
    Assignment(
        "a3_rlhf_rlvr",
        "Assignment 3 - RLHF and RL with verifiable rewards",
        ("ex07_kl", "ex08_reward_model", "ex09_verifiers", "ex10_grpo"),
        ("understanding",),
        "The KL penalty, a reward model trained from preferences, verifier rewards, and GRPO; "
        "then the lesson's check-your-understanding questions.",
    ),
    Assignment(
        "a4_capstone",
        "Assignment 4 - Capstone: your functions align a small language model",
        ("ex11_lm",),
        (),
        "The language-model plumbing every RLHF trainer needs: per-token log-probs (the "
        "one-position shift), the completion mask and the sequence log-prob. Then run "
        "`python -m autograder capstone` to watch your own GRPO raise a small model's accuracy "
        "and your PPO, without a KL penalty, hack a flawed reward model.",
    ),
)

# Grading an exercise runs all its checks at once (in the first of its grade cells), so grade
# cells get a generous per-cell timeout; training exercises more. Used by nbgrader_config.py.
GRADE_CELL_TIMEOUT = 300
SLOW_EXERCISES = {"ex04_reinforce": 600, "questions": 900}

FORBIDDEN_IN_TEXT = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")

# The docstrings write equations as indented plain text; here is each one in LaTeX. A block
# that is not listed stays a fenced code block (correct, only less pretty).
LATEX: dict[str, str] = {
    "s' = clamp(s + move(a), 0, size-1) # walls keep you inside the grid "
    "r = 1.0 if s' == goal else -0.01 # a small cost per step done = (s' == goal)": r"""
\begin{aligned}
s' &= \operatorname{clamp}\big(s + \operatorname{move}(a),\ 0,\ \mathrm{size}-1\big)
   && \text{walls keep you inside the grid}\\
r &= \begin{cases} 1.0 & \text{if } s' = \mathrm{goal}\\ -0.01 & \text{otherwise} \end{cases}
   && \text{a small cost per step}\\
\mathrm{done} &= [\, s' = \mathrm{goal} \,]
\end{aligned}""",
    "G_t = r_t + gamma * G_{t+1}, G_{T-1} = r_{T-1}": r"""
G_t = r_t + \gamma\, G_{t+1}, \qquad G_{T-1} = r_{T-1}""",
    "normalize(x) = (x - mean(x)) / (std(x) + eps)": r"""
\operatorname{normalize}(x) = \frac{x - \operatorname{mean}(x)}{\operatorname{std}(x) + \epsilon}""",
    "pi(a | s) = softmax(z)_a = exp(z_a) / sum_b exp(z_b) log pi(a | s) = z_a - logsumexp(z)": r"""
\pi(a \mid s) = \operatorname{softmax}(z)_a = \frac{e^{z_a}}{\sum_b e^{z_b}}, \qquad
\log \pi(a \mid s) = z_a - \operatorname{logsumexp}(z)""",
    "loss = - sum_t log pi(a_t | s_t) * G_t": r"""
\mathcal{L} = -\sum_t \log \pi(a_t \mid s_t)\; G_t""",
    "V(s) = sum_a pi(a|s) * [ r(s, a) + gamma * V(s') * (1 - done(s, a)) ]": r"""
V(s) = \sum_a \pi(a \mid s)\,\big[\, r(s, a) + \gamma\, V(s')\,\big(1 - \mathrm{done}(s, a)\big) \,\big]""",
    "ratio = exp(logp_new - logp_old)": r"""
\mathrm{ratio} = \exp\big(\log \pi_\text{new}(a \mid s) - \log \pi_\text{old}(a \mid s)\big)""",
    "loss = - mean( min( ratio * A, clamp(ratio, 1 - eps, 1 + eps) * A ) )": r"""
\mathcal{L} = -\operatorname{mean}\Big(\min\big(\mathrm{ratio}\cdot A,\;
\operatorname{clamp}(\mathrm{ratio}, 1-\epsilon, 1+\epsilon)\cdot A\big)\Big)""",
    "delta_t = r_t + gamma * V_{t+1} * (1 - done_t) - V_t, V_T = last_value "
    "A_t = delta_t + gamma * lam * (1 - done_t) * A_{t+1}": r"""
\begin{aligned}
\delta_t &= r_t + \gamma\, V_{t+1}\,(1 - \mathrm{done}_t) - V_t, \qquad V_T = \texttt{last\_value}\\
A_t &= \delta_t + \gamma \lambda\, (1 - \mathrm{done}_t)\, A_{t+1}
\end{aligned}""",
    "k1 = logp - ref_logp unbiased, but negative about half the time "
    "k3 = exp(log r) - 1 - log r unbiased as well, low variance, never negative": r"""
\begin{aligned}
k_1 &= \log \pi - \log \pi_\text{ref} && \text{unbiased, but negative about half the time}\\
k_3 &= e^{\log r} - 1 - \log r && \text{unbiased as well, low variance, never negative}
\end{aligned}""",
    "r_t = -beta * (logp_t - ref_logp_t) + [t == last real token] * score": r"""
r_t = -\beta\,\big(\log \pi_t - \log \pi_{\text{ref},t}\big) + [\,t = \text{last real token}\,]\cdot
\mathrm{score}""",
    "P(chosen > rejected) = sigmoid(r_c - r_r)": r"""
P(\text{chosen} \succ \text{rejected}) = \sigma(r_c - r_r)""",
    "loss = mean( -log sigmoid(r_c - r_r) ) = mean( softplus(r_r - r_c) )": r"""
\mathcal{L} = \operatorname{mean}\big(-\log \sigma(r_c - r_r)\big)
= \operatorname{mean}\big(\operatorname{softplus}(r_r - r_c)\big)""",
    "A_i = (r_i - mean(r_group)) / (std(r_group) + eps)": r"""
A_i = \frac{r_i - \operatorname{mean}(r_\text{group})}{\operatorname{std}(r_\text{group}) + \epsilon}""",
    "loss_t = -min(ratio_t * A_i, clamp(ratio_t, 1 - eps, 1 + eps) * A_i) "
    "+ kl_coef * (exp(ref_t - logp_t) - (ref_t - logp_t) - 1)": r"""
\ell_t = -\min\big(\mathrm{ratio}_t A_i,\; \operatorname{clamp}(\mathrm{ratio}_t, 1-\epsilon, 1+\epsilon) A_i\big)
+ \texttt{kl\_coef}\,\big(e^{\,\mathrm{ref}_t - \log \pi_t} - (\mathrm{ref}_t - \log \pi_t) - 1\big)""",
}


class NotebookBuildError(ValueError):
    """The solutions or checks cannot be turned into a valid notebook."""


# -- checks --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckInfo:
    """One graded check as the notebooks see it."""

    exercise: str
    id: str
    points: float
    hidden: bool  # @pytest.mark.hidden: graded only by the authoritative grader
    uses_ref: bool  # needs the reference solution (not in the student release)

    @property
    def release_hidden(self) -> bool:
        """Absent from the student release: hidden, or it needs ``solutions/``."""
        return self.hidden or self.uses_ref

    @property
    def grade_id(self) -> str:
        """``<exercise>-<check id>``; opaque (``<exercise>-hidden-<hash>``) for release-hidden
        checks, because grade ids are in the release notebooks and the feedback HTML."""
        if self.release_hidden:
            return grade_id(
                self.exercise, f"hidden-{hashlib.sha1(self.id.encode()).hexdigest()[:10]}"
            )
        return grade_id(self.exercise, self.id)

    @property
    def title(self) -> str:
        return self.id.removeprefix("test_").replace("_", " ")


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
        out.append(CheckInfo(exercise, fn.name, points, hidden, "ref" in args))
    return out


# -- lesson text ---------------------------------------------------------------------------------
def _norm(text: str) -> str:
    return " ".join(text.split())


def _inline(text: str) -> str:
    """RST inline markup to Markdown: ``code`` -> `code`."""
    return re.sub(r"``(.+?)``", r"`\1`", text, flags=re.S)


def rst_to_markdown(text: str, heading: str = "###") -> str:
    """Docstring prose (RST-ish) to Markdown: headings, inline code, equations, code blocks."""
    lines = textwrap.dedent(text).strip("\n").splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and re.fullmatch(r"-{3,}|={3,}", nxt.strip()):
            out += [f"{heading} {line.strip()}", ""]
            i += 2
            continue
        if (
            line.startswith("    ")
            and line.strip()
            and (not out or not out[-1].strip() or out[-1].endswith(":"))
        ):
            block = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                if not lines[i].strip() and not (
                    i + 1 < len(lines) and lines[i + 1].startswith("    ")
                ):
                    break
                block.append(lines[i][4:])
                i += 1
            latex = LATEX.get(_norm("\n".join(block)))
            if out and out[-1].strip():
                out.append("")
            if latex is not None:
                out += ["$$", latex.strip("\n"), "$$", ""]
            else:
                out += ["```text", *block, "```", ""]
            continue
        out.append(_inline(re.sub(r"::$", ":", line)))
        i += 1
    text = "\n".join(out).strip() + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)


def split_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """``(title, {section: text})`` of a module docstring with RST ``----`` headings."""
    lines = doc.strip("\n").splitlines()
    title = lines[0].strip().rstrip(".")
    sections: dict[str, str] = {"": ""}
    current = ""
    i = 1
    while i < len(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if lines[i].strip() and re.fullmatch(r"-{3,}", nxt.strip()):
            current = lines[i].strip()
            sections[current] = ""
            i += 2
            continue
        sections[current] += lines[i] + "\n"
        i += 1
    return title, {k: v.strip("\n") for k, v in sections.items() if v.strip()}


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
def _meta(
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


class _Builder:
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
        cell = self.v4.new_markdown_cell(text.strip("\n"), id=_cell_id(cell_id))
        self.cells.append(cell)

    def code(self, text: str, metadata: dict, cell_id: str | None = None) -> None:
        gid = cell_id or metadata["nbgrader"]["grade_id"]
        self.cells.append(
            self.v4.new_code_cell(text.strip("\n"), id=_cell_id(gid), metadata=metadata)
        )

    def manual(self, text: str, gid: str, points: float) -> None:
        cell = self.v4.new_markdown_cell(
            text.strip("\n"),
            id=_cell_id(gid),
            metadata=_meta(gid, grade=True, solution=True, points=points),
        )
        self.cells.append(cell)

    def notebook(self):
        nb = self.v4.new_notebook(cells=self.cells)
        nb.metadata = {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        }
        return nb


def _cell_id(gid: str) -> str:
    """A valid nbformat cell id (``[a-zA-Z0-9-_]{1,64}``) derived from a grade id."""
    if len(gid) <= 64:
        return gid
    return gid[:55] + "-" + hashlib.sha1(gid.encode()).hexdigest()[:8]


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


def grade_cell_source(c: CheckInfo) -> str:
    pts = f"{c.points:g} point{'s' if c.points != 1 else ''}"
    call = f'check("{c.exercise}", "{c.id}")'
    if c.release_hidden:
        why = "hidden check" if c.hidden else "compares with the reference solution"
        return (
            f"{GRADER_MARK} - {c.exercise}, {pts} ({why}: runs when your work is graded)\n"
            "from autograder.notebook import check\n\n"
            f"### BEGIN HIDDEN TESTS\n{call}\n### END HIDDEN TESTS"
        )
    return f"{GRADER_MARK} - {c.exercise}, {pts}\n# {c.title}\nfrom autograder.notebook import check\n\n{call}"


def exercise_cells(b: _Builder, exercise: str, rubric: Rubric, solutions_dir: Path) -> set[str]:
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
            b.code(text, _meta(grade_id(exercise, name), solution=True))
        else:
            n_given += 1
            header = "# Given code: run this cell (it is read-only).\n"
            b.code(header + text, _meta(grade_id(exercise, f"given{n_given}"), locked=True))
    checks = checks_of(exercise, rubric)
    how = sections.get("How this is checked", "")
    text = [f"### {number.strip()}: how this is checked", ""]
    if how:
        text.append(rst_to_markdown(how))
    if checks:
        total = sum(c.points for c in checks)
        hidden = sum(c.points for c in checks if c.release_hidden)
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
        b.code(grade_cell_source(c), _meta(c.grade_id, grade=True, locked=True, points=c.points))
    return names


def build_notebook(
    a: Assignment, rubric: Rubric | None = None, solutions_dir: Path = SOLUTIONS_DIR
):
    """The nbgrader source notebook of one assignment (an ``nbformat`` node)."""
    rubric = rubric or Rubric.load()
    b = _Builder(a)
    b.code(SETUP_CELL, _meta(f"{a.name}-setup", locked=True))
    seen: dict[str, str] = {}
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


QUESTION_GROUPS = {
    "lesson": "Graded questions: the REINFORCE experiments",
    "understanding": "Graded questions: check your understanding",
}
QUESTION_HEAD = re.compile(r"^#\s*((?:Q|CU)\d+)\.\s*(.*)$")
GROUP_HEAD = re.compile(r"^#\s*--\s*(\w+)\s*:")


@dataclass
class Variable:
    name: str
    declaration: str  # e.g. "Q1_seeds: list[int] | None = None"
    doc: str
    answer: str  # the reference assignment(s), from the solution region
    value: object = None  # the reference value (literal), for free-text model answers


@dataclass
class Question:
    key: str  # "Q1", "CU2"
    group: str
    text: list[str] = field(default_factory=list)  # the comment block, without "# "
    variables: list[Variable] = field(default_factory=list)


def parse_questions(
    source: str, filename: str = "solutions/questions.py"
) -> tuple[str, list[Question]]:
    """The module docstring and the questions of ``solutions/questions.py``.

    Layout: ``# -- <group>: ...`` comment lines open a group; ``# Q1. "..."`` comment
    blocks open a question; each answer variable is declared with its blank default
    (``Q1_seeds: list[int] | None = None``), documented by the string after it, and
    set inside a solution region.
    """
    tree = ast.parse(source, filename=filename)
    lines = source.splitlines()
    doc = ast.get_docstring(tree, clean=True) or ""
    regions = find_regions(source, "SOLUTION", filename)
    heads: list[tuple[int, str, str | None]] = []  # (line, kind, value)
    group = None
    for i, line in enumerate(lines, start=1):
        if m := GROUP_HEAD.match(line):
            group = m.group(1)
        elif m := QUESTION_HEAD.match(line):
            heads.append((i, m.group(1), group))
    questions: list[Question] = []
    for n, (line, key, grp) in enumerate(heads):
        q = Question(key, grp or "")
        j = line
        while j <= len(lines) and lines[j - 1].startswith("#"):
            q.text.append(re.sub(r"^#\s?", "", lines[j - 1]))
            j += 1
        q.text[0] = q.text[0].split(".", 1)[1].strip() if "." in q.text[0] else q.text[0]
        q.text = [t.strip() for t in q.text]
        end = heads[n + 1][0] if n + 1 < len(heads) else len(lines) + 1
        body = [node for node in tree.body if line < node.lineno < end]
        for k, node in enumerate(body):
            if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
                continue
            name = node.target.id
            nxt = body[k + 1] if k + 1 < len(body) else None
            vdoc = ""
            if (
                isinstance(nxt, ast.Expr)
                and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)
            ):
                vdoc = textwrap.dedent(nxt.value.value).strip()
            region = next(
                (
                    r
                    for r in regions
                    if r.begin > node.end_lineno
                    and line < r.begin < end
                    and any(
                        isinstance(b, ast.Assign)
                        and r.begin < b.lineno < r.end
                        and any(isinstance(t, ast.Name) and t.id == name for t in b.targets)
                        for b in body
                    )
                ),
                None,
            )
            if region is None:
                raise NotebookBuildError(
                    f"{filename}:{node.lineno}: no solution region sets {name}"
                )
            answer = "\n".join(lines[region.begin : region.end - 1])
            assign = next(
                b
                for b in body
                if isinstance(b, ast.Assign) and region.begin < b.lineno < region.end
            )
            try:
                value = ast.literal_eval(assign.value)
            except ValueError:
                value = None
            decl = "\n".join(lines[node.lineno - 1 : node.end_lineno])
            q.variables.append(Variable(name, decl, vdoc, textwrap.dedent(answer), value))
        questions.append(q)
    return doc, questions


def _check_variables(checks_dir: Path = CHECKS_DIR) -> dict[str, set[str]]:
    """Check id -> the answer variables its code names (string constants like "Q1_seeds")."""
    out = {}
    path = checks_dir / "questions.py"
    for fn in check_functions(path) if path.is_file() else []:
        out[fn.name] = {
            n.value
            for n in ast.walk(fn)
            if isinstance(n, ast.Constant)
            and isinstance(n.value, str)
            and re.fullmatch(r"(Q|CU)\d+_\w+", n.value)
        }
    return out


def append_questions(b: _Builder, a: Assignment, rubric: Rubric, solutions_dir: Path) -> None:
    """The graded questions of ``a`` (from ``solutions/questions.py``), if there are any.

    Per question: its text and the documented answer variables (markdown); one solution
    cell that declares them blank and sets them inside ``try:`` (nbgrader's stub,
    ``raise NotImplementedError()``, must not stop the notebook or the module); a manual
    markdown cell per free-text answer. Then one grade cell per automatic check, all after
    the answers, so that they share one grading run.
    """
    path = solutions_dir / "questions.py"
    if not a.questions or not path.is_file() or "questions" not in rubric.exercises:
        return
    doc, questions = parse_questions(path.read_text())
    mine = [q for q in questions if q.group in a.questions]
    if not mine:
        return
    ex = rubric.exercises["questions"]
    checks = checks_of("questions", rubric)
    uses = _check_variables()
    title, sections = split_docstring(doc)
    for group in a.questions:
        qs = [q for q in mine if q.group == group]
        if not qs:
            continue
        text = [f"## {QUESTION_GROUPS.get(group, group)}", "", "*Module `questions`*", ""]
        text.append(QUESTION_INTROS.get(group, ""))
        if group == "lesson" and "Which numbers" in sections:
            text += ["### Which numbers", "", rst_to_markdown(sections["Which numbers"])]
        if "How this is checked" in sections:
            text += [
                "### How this is checked",
                "",
                rst_to_markdown(sections["How this is checked"]),
            ]
        text.append(
            "Answer in each question's answer cell: replace `raise NotImplementedError()` with the "
            "assignments (keep the `try:`). Explanations go in the text cells marked *graded by hand*."
        )
        b.markdown("\n".join(text), f"questions-{group}-intro")
        if group == "lesson":
            b.code(EXPERIMENTS_CELL, {}, "questions-experiments")
        names = set()
        for q in qs:
            _question_cells(b, q, ex, uses)
            names |= {v.name for v in q.variables}
        graded = [c for c in checks if c.id not in ex.manual and uses.get(c.id, set()) & names]
        if graded:
            b.markdown(
                "### Checks of your answers\n\nThe grade cells below check every answer above at once "
                "(the first one re-runs your `train_bandit` where a question needs it).",
                f"questions-{group}-checks",
            )
        for c in graded:
            b.code(
                grade_cell_source(c), _meta(c.grade_id, grade=True, locked=True, points=c.points)
            )


QUESTION_INTROS = {
    "lesson": (
        "The lesson's runnable REINFORCE example ends with three questions. Q1 and Q2 are answered "
        "with numbers that **your own** `train_bandit` (exercise 04, above) produces over several "
        "seeds, Q3 with a letter and a short explanation. The next cell runs all three experiments "
        "(set `RUN_EXPERIMENTS = True`; about a minute on two cores): it prints a summary that ends "
        "with the values to copy and plots each experiment. From a terminal, "
        "`python -m autograder experiments` does the same for the modules in `course/`.\n"
    ),
    "understanding": (
        "The lesson's *check your understanding* questions. Each answer is one letter, e.g. "
        '`"B"`; CU2 also asks for a short explanation in your own words, graded by hand.\n'
    ),
}


def _doc_markdown(doc: str) -> str:
    """An answer variable's docstring as Markdown (choices ``A. ...`` become a list)."""
    doc = re.sub(r"\s*\(graded by hand\)\s*$", "", doc)
    lines = []
    for line in doc.splitlines():
        m = re.match(r"^([A-D])\.\s+(.*)$", line)
        lines.append(f"- **{m.group(1)}.** {m.group(2)}" if m else line)
    return _inline("\n".join(lines))


EXPERIMENTS_CELL = """# The experiments with *your* train_bandit (about a minute on two cores).
RUN_EXPERIMENTS = False  # set to True, run this cell, then copy the numbers it prints
if RUN_EXPERIMENTS and __name__ == "__main__":
    from autograder.experiments import plot_experiment, run_experiments, summary

    results = run_experiments(train_bandit, seeds=5)
    print(summary(results))
    for r in results:
        plot_experiment(r)"""


def _question_cells(b: _Builder, q: Question, ex, uses: dict[str, set[str]]) -> None:
    names = {v.name for v in q.variables}
    manual_ids = {cid for cid in ex.manual if uses.get(cid, set()) & names}
    manual_vars = [
        v for v in q.variables if any(v.name in uses.get(cid, set()) for cid in manual_ids)
    ]
    auto_vars = [v for v in q.variables if v not in manual_vars]
    quoted = " ".join(q.text[:1])
    text = [f"### {q.key}. {quoted}", ""] + [f"*{t}*" for t in q.text[1:] if t] + [""]
    for v in auto_vars:
        text += [f"**`{v.name}`**: {_doc_markdown(v.doc)}", ""]
    b.markdown("\n".join(text), f"questions-{q.key}-text")
    if auto_vars:
        body = [
            f"# {q.key}: your answers. Replace `raise NotImplementedError()` below with assignments",
            "# to the variables declared here (keep the `try:`).",
            *[v.declaration for v in auto_vars],
            "try:",
            "    ### BEGIN SOLUTION",
            *[textwrap.indent(v.answer, "    ") for v in auto_vars],
            "    ### END SOLUTION",
            "except NotImplementedError:",
            "    pass  # not answered yet",
        ]
        b.code("\n".join(body), _meta(grade_id("questions", q.key), solution=True))
    for v in manual_vars:
        cid = next(cid for cid in ex.manual if v.name in uses.get(cid, set()))
        pts = ex.points[cid]
        b.markdown(
            f"**`{v.name}`** ({pts:g} point{'s' if pts != 1 else ''}, graded by hand): {_doc_markdown(v.doc)}\n\n"
            "Write your answer in the next cell.",
            f"questions-{v.name}-prompt",
        )
        answer = v.value if isinstance(v.value, str) else v.answer
        b.manual(answer, grade_id("questions", v.name), pts)


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


def assignment_of(name: str) -> Assignment:
    for a in ASSIGNMENTS:
        if a.name == name:
            return a
    raise KeyError(name)
