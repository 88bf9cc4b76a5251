"""Ingestion in isolation: the one notebook reader and the one submission preparer."""

from __future__ import annotations

import json
import zipfile

from autograder.ingest.notebook import (
    GRADER_MARK,
    build_module,
    cell_statements,
    is_grader_cell,
    notebook_modules,
    strip_magics,
)
from autograder.ingest.submission import prepare


def write_notebook(path, cells: list[tuple[str, dict]]):
    path.write_text(
        json.dumps(
            {
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {},
                "cells": [
                    {
                        "cell_type": "code",
                        "id": f"c{i}",
                        "source": src,
                        "metadata": meta,
                        "outputs": [],
                        "execution_count": None,
                    }
                    for i, (src, meta) in enumerate(cells)
                ],
            }
        )
    )
    return path


GRADE_META = {"nbgrader": {"grade": True, "solution": False, "grade_id": "ex02_returns-t1"}}


def test_a_grader_cell_is_known_by_its_mark_on_any_line_or_by_nbgrader_metadata():
    assert is_grader_cell(f"{GRADER_MARK} - ex02\ncheck('a', 'b')")
    assert is_grader_cell(f"# re-added by nbgrader\n\n{GRADER_MARK}\ncheck('a', 'b')")
    assert is_grader_cell("check('a', 'b')", GRADE_META)
    answer = {"nbgrader": {"grade": True, "solution": True, "grade_id": "questions-q1"}}
    assert not is_grader_cell("Q1 = 3", answer)
    assert not is_grader_cell("x = 1  # rl4llm: grader cell is mentioned here")


def test_one_magic_rule_for_every_path_line_for_line():
    src = "import os\nfiles = !ls\n%time y = 1\nz = 2\n"
    out = strip_magics(src)
    assert len(out.splitlines()) == len(src.splitlines())
    assert "ls" not in out and "z = 2" in out
    compile(out, "<cell>", "exec")
    code, _, note = cell_statements(src)  # the kernel/regrade path uses the same rule
    assert "z = 2" in code and "ls" not in code and not note
    assert cell_statements("%%bash\necho hi\n") == ("", [], "cell magic")


def test_a_notebook_goes_to_the_exercises_whose_grade_cells_it_carries(tmp_path):
    nb = write_notebook(
        tmp_path / "my_work.ipynb",
        [("def helper():\n    return 1\n", {}), ("check('ex02_returns', 't1')", GRADE_META)],
    )
    modules = notebook_modules([nb])
    assert list(modules) == ["ex02_returns"]
    assert "def helper" in modules["ex02_returns"] and "check(" not in modules["ex02_returns"]


def test_a_folder_holding_only_a_zip_is_that_zip(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    with zipfile.ZipFile(folder / "upload.zip", "w") as zf:
        zf.writestr("work/ex02_returns.py", "X = 1\n")
    work = tmp_path / "work"
    work.mkdir()
    prepared = prepare(folder, work)
    assert (prepared.path / "ex02_returns.py").read_text() == "X = 1\n"
    assert prepared.kind == "folder"


def test_statements_that_use_the_graders_objects_are_left_out_of_the_module():
    """A cell that replaces the grader's ``check`` in the kernel changes nothing when graded:
    the import of the grader and every top-level statement using the names it bound go."""
    built = build_module(
        [
            ("import autograder.notebook as _nb\n_nb.check = lambda *a, **k: None\nX = 1", True),
            ("_nb.other = 2\ndef f():\n    return X", True),
            ("from autograder.notebook import check\ncheck.__code__ = None", True),
        ]
    )
    assert "_nb" not in built.code and "check" not in built.code, built.code
    assert "X = 1" in built.code and "def f():" in built.code, built.code
    assert len(built.dropped) == 3, built.dropped
    namespace: dict = {}
    exec(built.code, namespace)  # the module imports: no NameError from a dropped alias
    assert namespace["f"]() == 1
