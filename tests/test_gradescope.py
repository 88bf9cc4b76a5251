"""The Gradescope autograder zip, run against a fake ``/autograder`` tree.

The zip is built with ``python -m autograder gradescope-zip`` (restricted to two
exercises to keep the runs short), extracted like Gradescope does into
``<root>/source``, and its ``run_autograder`` is executed with
``AUTOGRADER_ROOT=<root>``. ``setup.sh`` needs root, apt and the network, so its
Python part is replaced by a stand-in interpreter that puts the zip's package
first on ``sys.path`` (what ``pip install -e /autograder/source/package`` does).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # grades real submissions end to end

REPO = Path(__file__).resolve().parents[1]
ONLY = ("ex01_gridworld", "ex02_returns")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gs") / "autograder.zip"
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "gradescope-zip", str(out), "--only", *ONLY],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def fake_root(tmp_path: Path, bundle: Path) -> tuple[Path, dict]:
    """``<tmp>/autograder`` with the zip in ``source/`` and an empty ``submission/``."""
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
        for info in zf.infolist():  # zipfile drops the permission bits; Gradescope keeps them
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(root / "source" / info.filename, mode)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    stand_in = tmp_path / "python"
    package = root / "source" / "package"
    stand_in.write_text(
        "#!/bin/sh\n"
        "# stands in for /autograder/venv/bin/python: the zip's package first on sys.path\n"
        "shift 3  # -I -m autograder.build.gradescope\n"
        f'exec "{sys.executable}" -I -c "import runpy, sys; sys.path.insert(0, \'{package}\'); '
        "sys.argv = ['gradescope'] + sys.argv[1:]; "
        "runpy.run_module('autograder.build.gradescope', run_name='__main__')\" \"$@\"\n"
    )
    stand_in.chmod(0o755)
    return root, {"AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": str(stand_in)}


def run_autograder(root: Path, env: dict) -> dict:
    proc = subprocess.run(
        [str(root / "run_autograder")],
        cwd=root,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = root / "results" / "results.json"
    assert results.is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(results.read_text())
    data["_log"] = proc.stdout + proc.stderr
    return data


def points(data: dict) -> tuple[float, float]:
    tests = [t for t in data["tests"] if "max_score" in t]
    return sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)


def test_the_zip_has_gradescopes_layout_and_everything_to_grade_offline(bundle):
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        setup = zf.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder"} <= names
    assert modes["setup.sh"] & stat.S_IXUSR and modes["run_autograder"] & stat.S_IXUSR
    for needed in (
        "package/pyproject.toml",
        "package/autograder/grading/run.py",
        "package/autograder/rubric.toml",
        "package/autograder/checks/ex02_returns.py",
        "package/solutions/ex02_returns.py",
        "package/gradescope.json",
    ):
        assert needed in names, needed
    assert not any("__pycache__" in n for n in names)
    assert (
        "bubblewrap" in setup
        and "torch==2.13.0" in setup
        and "pip install -e /autograder/source/package" in setup
    )
    check = subprocess.run(["bash", "-n", "-c", setup], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_the_reference_modules_score_full_marks(bundle, tmp_path):
    root, env = fake_root(tmp_path, bundle)
    for name in ONLY:
        shutil.copy(REPO / "solutions" / f"{name}.py", root / "submission" / f"{name}.py")
    data = run_autograder(root, env)
    got, most = points(data)
    assert most > 0 and got == most, json.dumps(data, indent=1)[:3000]
    assert data["score"] == got
    assert {t["name"].split(":")[0] for t in data["tests"]} == set(ONLY)


def test_a_zip_of_stubs_scores_0_and_says_not_implemented(bundle, tmp_path):
    root, env = fake_root(tmp_path, bundle)
    with zipfile.ZipFile(root / "submission" / "course.zip", "w") as zf:
        for name in ONLY:
            zf.write(REPO / "course" / f"{name}.py", f"course/{name}.py")
    data = run_autograder(root, env)
    got, most = points(data)
    assert got == 0 and most > 0
    assert any("not implemented" in t.get("output", "") for t in data["tests"])


def test_a_notebook_submission_is_read_without_running_it(bundle, tmp_path):
    pytest.importorskip("nbformat")
    root, env = fake_root(tmp_path, bundle)
    shutil.copy(
        REPO / "nbgrader" / "source" / "a1_policy_gradients" / "a1_policy_gradients.ipynb",
        root / "submission" / "a1_policy_gradients.ipynb",
    )
    data = run_autograder(root, env)
    got, most = points(data)
    assert most > 0 and got == most, json.dumps(data, indent=1)[:3000]
    notes = data["extra_data"]["submission_notes"]
    assert any("a1_policy_gradients.ipynb" in n for n in notes), notes


def test_results_json_is_written_even_when_nothing_can_be_graded(bundle, tmp_path):
    root, env = fake_root(tmp_path, bundle)
    (root / "submission" / "notes.txt").write_text("I did not do the work")
    data = run_autograder(root, env)
    assert data["score"] == 0 and "could not grade" in data["output"], data
    env["AUTOGRADER_PYTHON"] = str(tmp_path / "no-such-python")
    (root / "results" / "results.json").unlink()
    data = run_autograder(root, env)
    assert data["score"] == 0.0 and data["tests"] == []


def test_only_the_reference_holds_answers_and_only_root_may_read_it(bundle, tmp_path):
    from autograder.build import leaks as leakscan

    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(tmp_path / "zip")
        setup = zf.read("setup.sh").decode()
    package = tmp_path / "zip" / "package"
    assert leakscan.leaks(package, skip=("solutions",)) == []
    # the detector is not blind here: the reference itself is found
    assert leakscan.leaks(package / "solutions")
    assert "chmod -R go-rwx /autograder/source/package/solutions" in setup
    stray = [p.name for p in package.rglob("*") if p.suffix in (".orig", ".ipynb", ".json")]
    assert stray == ["gradescope.json"], stray  # the exercises of this assignment, nothing else
