"""The capstone questions for a notebook student: the a4 notebook, its record, every grading path.

A real capstone run takes minutes, so records are built with ``record.py``'s own functions
from made-up figures (``test_questions.fake_runs``), for the modules that the capstone's
``--notebook`` option extracts (:func:`autograder.capstone.cli.notebook_folder`). The
notebook is the generated a4 source notebook, which holds the reference functions and the
reference answers.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from test_capstone_questions import CAP, RECORD_CHECKS
from test_questions import SOLUTIONS, fake_runs, grade_questions

from autograder.capstone import answers, cli, record, sources
from autograder.capstone.student import RLHF_NEEDS
from autograder.course import assignment_of
from autograder.grading import nbgrader_regrade
from autograder.grading.reference import reference
from autograder.ingest import companions
from autograder.ingest.submission import prepare

REPO = Path(__file__).resolve().parents[1]
A4 = REPO / "nbgrader" / "source" / "a4_capstone" / "a4_capstone.ipynb"


def reference_summary() -> dict:
    """Runs whose figures are the reference answers of CAP1 and CAP2."""
    ref = reference("questions")
    return {
        0.0: fake_runs(ref.CAP1_rm_score_gain, ref.CAP1_accuracy_change, ref.CAP1_final_kl),
        ref.CAP2_kl_coef: fake_runs(
            ref.CAP2_rm_score_gain, ref.CAP2_accuracy_change, ref.CAP2_final_kl
        ),
    }


def notebook_record(notebook: Path, tmp: Path) -> dict:
    """The record a run on ``notebook``'s functions writes next to it (made-up figures)."""
    modules = tmp / "extracted"
    modules.mkdir()
    cli.notebook_folder(notebook, modules)
    rec = record.build(modules, RLHF_NEEDS, [0, 1, 2], reference_summary())
    record.write(notebook.parent, rec)
    return rec


def student_notebook(folder: Path, edit: tuple[str, str] | None = None) -> Path:
    """The a4 notebook (reference functions and answers) in ``folder``; ``edit``: a
    (old, new) replacement in its cells' text."""
    folder.mkdir(parents=True)
    path = folder / "a4_capstone.ipynb"
    text = A4.read_text()
    if edit is not None:
        old, new = (json.dumps(s)[1:-1] for s in edit)
        assert old in text, edit
        text = text.replace(old, new, 1)
    path.write_text(text)
    return path


# -- the notebook carries the capstone's functions ----------------------------------------------
def test_the_a4_notebook_carries_every_function_the_capstones_runs_call():
    a4 = assignment_of("a4_capstone")
    carried = {m: set(names) for m, names in a4.carried} | {e: None for e in a4.exercises}
    for module, names in RLHF_NEEDS.items():
        assert module in carried, module
        assert carried[module] is None or set(names) <= carried[module], (module, names)
    assert "capstone" in a4.questions


# -- one hash for files and notebook cells -------------------------------------------------------
def test_the_same_functions_as_files_and_as_notebook_cells_give_the_same_source_hash(tmp_path):
    modules = tmp_path / "from_notebook"
    modules.mkdir()
    cli.notebook_folder(A4, modules)
    assert sources.used_definitions(modules, RLHF_NEEDS) == sources.used_definitions(
        SOLUTIONS, RLHF_NEEDS
    )
    assert sources.sources_digest(modules, RLHF_NEEDS) == sources.sources_digest(
        SOLUTIONS, RLHF_NEEDS
    )
    # the files hold one module each; the notebook's modules are the whole notebook each
    assert (modules / "ex06_ppo.py").read_text() == (modules / "ex11_lm.py").read_text()


def test_the_hash_follows_helpers_and_imports_between_modules_and_ignores_comments(tmp_path):
    """``from ex07_kl import helper`` in a file and the same helper defined in the notebook
    hash alike; a change to a helper changes the hash; comments and docstrings do not."""
    files, cells = tmp_path / "files", tmp_path / "cells"
    files.mkdir()
    cells.mkdir()
    helper = 'SCALE = 2.0\n\n\ndef helper(x):\n    """Doubles."""\n    return SCALE * x\n'
    user = "def loss(x):\n    y = helper(x)  # a local named like nothing global\n    return y\n"
    (files / "ex07_kl.py").write_text("import math\n\n" + helper)
    (files / "ex08_reward_model.py").write_text("from ex07_kl import helper\n\n" + user)
    whole = (
        "import math\n# a comment only the notebook has\n"
        + helper.replace('"""Doubles."""', '"""Other words."""')
        + user
    )
    for name in ("ex07_kl", "ex08_reward_model"):
        (cells / f"{name}.py").write_text(whole)
    needs = {"ex08_reward_model": ("loss",)}
    names = [d.split("\n")[0] for d in sources.used_definitions(files, needs)]
    assert names == ["SCALE", "helper", "loss"], names
    assert sources.sources_digest(files, needs) == sources.sources_digest(cells, needs)
    (files / "ex07_kl.py").write_text(helper.replace("SCALE = 2.0", "SCALE = 3.0"))
    assert sources.sources_digest(files, needs) != sources.sources_digest(cells, needs)
    with pytest.raises(sources.SourceError, match="defines no loss"):
        sources.sources_digest(files, {"ex07_kl": ("loss",)})


def test_a_record_made_for_other_functions_fails_with_what_to_run(tmp_path):
    nb = student_notebook(tmp_path / "student")
    rec = notebook_record(nb, tmp_path)
    (tmp_path / "work").mkdir()
    graded = prepare(nb.parent, tmp_path / "work").path
    assert record.problem(rec, graded, RLHF_NEEDS) is None
    assert answers.load(graded) == rec
    changed = student_notebook(
        tmp_path / "changed",
        ("return -F.logsigmoid(margin).mean()", "return F.logsigmoid(margin).mean()"),
    )
    shutil.copy(nb.parent / record.RECORD_NAME, changed.parent)
    (tmp_path / "work2").mkdir()
    graded = prepare(changed.parent, tmp_path / "work2").path
    with pytest.raises(answers.RecordError, match="changed since this run.*--notebook"):
        answers.load(graded)


# -- every grading path carries the record ------------------------------------------------------
def test_ingest_copies_the_record_beside_the_notebook_from_a_folder_or_a_zip(tmp_path):
    nb = student_notebook(tmp_path / "student")
    notebook_record(nb, tmp_path)
    (tmp_path / "w1").mkdir()
    got = prepare(nb.parent, tmp_path / "w1")
    assert got.kind == "folder" and (got.path / record.RECORD_NAME).is_file(), got.notes
    assert any("copied capstone_record.json" in n for n in got.notes), got.notes
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in nb.parent.iterdir():
            zf.write(p, f"hw/{p.name}")
    (tmp_path / "w2").mkdir()
    got = prepare(archive, tmp_path / "w2")
    assert (got.path / record.RECORD_NAME).read_bytes() == (
        nb.parent / record.RECORD_NAME
    ).read_bytes()
    (tmp_path / "w3").mkdir()
    got = prepare(nb, tmp_path / "w3")  # a bare .ipynb entry: its folder is the batch's
    assert not (got.path / record.RECORD_NAME).exists()


def test_a_record_that_is_a_link_or_too_big_is_not_copied(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    (tmp_path / "real.json").write_text("{}")
    (src / record.RECORD_NAME).symlink_to(tmp_path / "real.json")
    notes = companions.copy_companions([src], out)
    assert not (out / record.RECORD_NAME).exists() and "not a regular file" in notes[0]
    (src / record.RECORD_NAME).unlink()
    (src / record.RECORD_NAME).write_text(" " * (record.MAX_BYTES + 1))
    companions.copy_companions([src], out)
    assert not (out / record.RECORD_NAME).exists()


def test_nbgrader_regrade_and_the_kernel_grade_the_record_of_the_notebooks_folder(
    tmp_path, monkeypatch
):
    import autograder.notebook as nbmod

    nb = student_notebook(tmp_path / "submitted" / "s1" / "a4_capstone")
    notebook_record(nb, tmp_path)
    seen = []

    def fake_grader(submission, exercises, **kw):
        seen.append(sorted(p.name for p in Path(submission).iterdir()))
        return {"exercises": {}}

    monkeypatch.setattr(nbgrader_regrade, "run_grader", fake_grader)
    results, problem = nbgrader_regrade._grade_notebook(nb, ["questions"], 1, "off")
    assert problem == "" and record.RECORD_NAME in seen[-1], (problem, seen)
    monkeypatch.setattr(nbmod, "run_grader", fake_grader)
    monkeypatch.chdir(nb.parent)  # Jupyter and nbgrader autograde run in the notebook's folder
    nbmod.grade_code("x = 1\n", "questions")
    assert record.RECORD_NAME in seen[-1] and "questions.py" in seen[-1], seen
    monkeypatch.chdir(tmp_path)
    nbmod.grade_code("x = 1\n", "questions")
    assert record.RECORD_NAME not in seen[-1], seen


# -- end to end: the notebook gets full CAP marks through the notebook ingest path ------------
def grade_notebook_cap(folder: Path, work: Path) -> dict[str, dict]:
    work.mkdir()
    got = grade_questions(prepare(folder, work).path, ["-k", "cap"])
    return {k: got["checks"][v] for k, v in CAP.items()}


@pytest.mark.slow
def test_the_a4_notebook_with_its_record_gets_full_cap_marks_and_without_it_what_to_run(tmp_path):
    nb = student_notebook(tmp_path / "student")
    notebook_record(nb, tmp_path)
    got = grade_notebook_cap(nb.parent, tmp_path / "w1")
    # CAP3_why is a markdown cell that nbgrader's graders read: no variable, no automatic check
    failing = {k: v["output"][:300] for k, v in got.items() if k != "cap3_why" and not v["passed"]}
    assert not failing, failing
    assert set(got) - {"cap3_why"} == set(RECORD_CHECKS) | {"cap3_choice"}, sorted(got)
    (nb.parent / record.RECORD_NAME).unlink()
    got = grade_notebook_cap(nb.parent, tmp_path / "w2")
    for key in RECORD_CHECKS:
        v = got[key]
        assert v["verdict"] == "failed", (key, v)
        assert "capstone_record.json is missing" in v["output"], (key, v)
        assert "--notebook a4_capstone.ipynb" in v["output"], (key, v)
        assert "Traceback" not in v["output"], (key, v)


def test_capstone_notebook_says_what_is_wrong_with_a_missing_or_empty_notebook(tmp_path, capsys):
    import argparse

    args = argparse.Namespace(
        regenerate_sft=False,
        notebook=str(tmp_path / "a4_capstone.ipynb"),
        course="course",
        out=str(tmp_path / "out"),
        only="rlhf",
        seeds=1,
        steps=1,
        no_progress=True,
    )
    assert cli.run(args) == 2
    assert "no such notebook" in capsys.readouterr().err
    empty = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "a4_capstone.ipynb").write_text(json.dumps(empty))
    assert cli.run(args) == 2
    assert "no code for any exercise" in capsys.readouterr().err
    assert not (tmp_path / record.RECORD_NAME).exists()
