"""The question cells of the notebooks, parsed from ``solutions/questions.py``."""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from autograder.build.markers import find_regions
from autograder.build.nbcells import Builder, NotebookBuildError, cell_meta
from autograder.build.nbchecks import check_functions, checks_of, grade_cell_source, grade_id
from autograder.build.nbtext import inline, rst_to_markdown, split_docstring
from autograder.course import Assignment
from autograder.grading.plugin import CHECKS_DIR
from autograder.grading.rubric import Rubric

QUESTION_GROUPS = {
    "lesson": "Graded questions: the REINFORCE experiments",
    "understanding": "Graded questions: check your understanding",
    "capstone": "Graded questions: reward hacking in your capstone run",
}
QUESTION_HEAD = re.compile(r"^#\s*((?:Q|CU|CAP)\d+)\.\s*(.*)$")
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
            and re.fullmatch(r"(Q|CU|CAP)\d+_\w+", n.value)
        }
    return out


def append_questions(b: Builder, a: Assignment, rubric: Rubric, solutions_dir: Path) -> None:
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
                "### Checks of your answers\n\nThe grade cells below check every answer above at "
                f"once{CHECKS_NOTE.get(group, '')}.",
                f"questions-{group}-checks",
            )
        for c in graded:
            b.code(
                grade_cell_source(c),
                cell_meta(c.grade_id, grade=True, locked=True, points=c.points),
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
    "capstone": (
        "Three questions on what **your** RLHF run did. Save this notebook, then from a "
        "terminal in its folder run `python -m autograder capstone --notebook a4_capstone.ipynb "
        "--only rlhf --seeds 3` (a few minutes per seed; the functions are read from the saved "
        "cells above, by the same rules as the grader's). It trains PPO against a flawed reward "
        "model with `kl_coef = 0` and with `kl_coef = 2`, plots both, prints the figures and "
        "writes `capstone_record.json` **next to this notebook**. Copy the figures here and "
        "submit the record with the notebook: nbgrader collects the whole assignment folder; "
        "on Gradescope, upload both files. The numbers are checked against the record, which "
        "is accepted only for the functions it was made from (your ex06, ex07, ex08, ex09 and "
        "ex11 code above: re-run after changing them). Without the record these checks fail "
        "and say what to run. (Working with `course/` files instead? Run the same command with "
        "`--course course` in place of `--notebook ...` and put the record next to "
        "`questions.py`.)\n"
    ),
}
CHECKS_NOTE = {
    "lesson": " (the first one re-runs your `train_bandit` where a question needs it)",
    "capstone": " (against your `capstone_record.json`)",
}


def _doc_markdown(doc: str) -> str:
    """An answer variable's docstring as Markdown (choices ``A. ...`` become a list)."""
    doc = re.sub(r"\s*\(graded by hand\)\s*$", "", doc)
    lines = []
    for line in doc.splitlines():
        m = re.match(r"^([A-D])\.\s+(.*)$", line)
        lines.append(f"- **{m.group(1)}.** {m.group(2)}" if m else line)
    return inline("\n".join(lines))


EXPERIMENTS_CELL = """# The experiments with *your* train_bandit (about a minute on two cores).
RUN_EXPERIMENTS = False  # set to True, run this cell, then copy the numbers it prints
if RUN_EXPERIMENTS and __name__ == "__main__":
    from autograder.experiments import plot_experiment, run_experiments, summary

    results = run_experiments(train_bandit, seeds=5)
    print(summary(results))
    for r in results:
        plot_experiment(r)"""


def _question_cells(b: Builder, q: Question, ex, uses: dict[str, set[str]]) -> None:
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
        b.code("\n".join(body), cell_meta(grade_id("questions", q.key), solution=True))
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
