"""``python -m autograder grade-batch``: preparing submissions, isolation, the CSV, resuming.

The end-to-end test grades one small batch (honest folders, a zip, a notebook and
a set of pathological submissions) with ``--only ex01_gridworld ex02_returns`` and
a short per-submission budget, then checks every row, compares the honest ones
with a standalone ``grade`` run, reruns the command to check that it resumes, and
checks that no sandboxed process of the batch is left running.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from autograder import REPO_ROOT
from autograder.grading.ledger import discover, last_error, needs_retry, problem_notes
from autograder.ingest.errors import SubmissionError
from autograder.ingest.magics import strip_magics
from autograder.ingest.notebook import notebook_modules
from autograder.ingest.submission import MAX_FILES, extract_zip, find_root, prepare
from autograder.seam.cputime import backstop
from autograder.seam.sandbox import SANDBOX_USER, bwrap_works

SOLUTIONS = REPO_ROOT / "solutions"
COURSE = REPO_ROOT / "course"
ONLY = ["ex01_gridworld", "ex02_returns"]
SEED = 20240611
BUDGET = 60  # seconds per submission in the end-to-end batch
IN_SANDBOX = 'import os as _os\nif _os.path.isdir("/rt") and _os.path.isdir("/submission"):\n'


def honest(dst: Path, stub: tuple[str, ...] = ()) -> Path:
    """ex01 and ex02 from solutions/ (the ``stub`` ones from the course/ stubs)."""
    dst.mkdir(parents=True)
    for name in ONLY:
        shutil.copy((COURSE if name in stub else SOLUTIONS) / f"{name}.py", dst / f"{name}.py")
    return dst


def spoiled(dst: Path, tail: str) -> Path:
    """An honest submission whose ex02_returns.py ends with ``tail``."""
    honest(dst)
    with open(dst / "ex02_returns.py", "a") as fh:
        fh.write("\n" + tail)
    return dst


def notebook(path: Path, cells: list) -> Path:
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    for cell in cells:
        if isinstance(cell, tuple):
            kind, source = cell
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(cell))
    nbformat.write(nb, str(path))
    return path


def solution_body(name: str) -> str:
    return (SOLUTIONS / f"{name}.py").read_text()


QUIET = {"cwd": REPO_ROOT, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
    )


# -- preparing submissions (no grading) ------------------------------------------------------


def test_a_folder_is_copied_without_symlinks(tmp_path):
    src = honest(tmp_path / "alice")
    (src / "link.py").symlink_to("/etc/passwd")
    (src / "notes.txt").write_text("hi")
    work = tmp_path / "work"
    work.mkdir()
    prepared = prepare(src, work)
    assert sorted(p.name for p in prepared.path.iterdir()) == [
        *(f"{n}.py" for n in ONLY),
        "notes.txt",
    ]
    assert not any(p.is_symlink() for p in prepared.path.rglob("*"))


def test_exercise_modules_nested_two_folders_down_in_a_zip_are_found(tmp_path):
    archive = tmp_path / "bob.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("student/README.md", "hello")
        zf.writestr("__MACOSX/student/course/._ex02_returns.py", "junk")
        for name in ONLY:
            zf.writestr(f"student/course/{name}.py", solution_body(name))
    work = tmp_path / "work"
    work.mkdir()
    prepared = prepare(archive, work)
    assert prepared.path.name == "course"
    assert sorted(p.name for p in prepared.path.glob("ex*.py")) == [f"{n}.py" for n in ONLY]


@pytest.mark.parametrize(
    ("member", "why"),
    [("../evil.py", "'..'"), ("/etc/evil.py", "absolute"), ("a/../../evil.py", "'..'")],
)
def test_a_zip_with_an_escaping_path_is_rejected(tmp_path, member, why):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ex02_returns.py", "x = 1\n")
        zf.writestr(member, "x = 1\n")
    with pytest.raises(SubmissionError, match=why):
        extract_zip(archive, tmp_path / "out")
    assert not (tmp_path / "evil.py").exists()


def test_a_zip_with_a_symlink_is_rejected(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("ex02_returns.py")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(SubmissionError, match="symlink"):
        extract_zip(archive, tmp_path / "out")


def test_a_zip_bomb_is_stopped_by_the_size_cap(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ex02_returns.py", b"\0" * (60 * 1024**2))
    assert archive.stat().st_size < 1024**2
    with pytest.raises(SubmissionError, match="MB"):
        extract_zip(archive, tmp_path / "out")


def test_a_zip_with_too_many_files_is_rejected(tmp_path):
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(MAX_FILES + 1):
            zf.writestr(f"f{i}.txt", "")
    with pytest.raises(SubmissionError, match="entries"):
        extract_zip(archive, tmp_path / "out")


def test_a_corrupt_zip_and_a_corrupt_notebook_give_clear_errors(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 this is not a zip")
    (tmp_path / "bad.ipynb").write_text('{"cells": [')
    for name, match in (("bad.zip", "not a valid zip"), ("bad.ipynb", "corrupt notebook")):
        work = tmp_path / f"work-{name}"
        work.mkdir()
        with pytest.raises(SubmissionError, match=match):
            prepare(tmp_path / name, work)


def test_magics_and_shell_lines_are_dropped_but_valid_cells_are_kept():
    src = "%matplotlib inline\nimport math\n!pip install foo\nif True:\n    %time x = 1\n"
    out = strip_magics(src)
    compile(out, "<cell>", "exec")
    assert "import math" in out and "pip install" not in out
    assert strip_magics("%%time\nx = 1\n").strip().startswith("#")
    valid = 's = """\n% not a magic\n"""\n'
    assert strip_magics(valid) == valid


def test_a_notebook_goes_to_the_modules_whose_functions_it_defines(tmp_path):
    nb = notebook(
        tmp_path / "carol.ipynb",
        [("md", "# My work"), "%matplotlib inline", solution_body("ex02_returns"), "print(1)"],
    )
    modules = notebook_modules([nb])
    assert list(modules) == ["ex02_returns"]
    compile(modules["ex02_returns"], "ex02_returns.py", "exec")


def test_grade_cells_are_left_out_and_question_answers_go_to_questions(tmp_path):
    grader = (
        "# rl4llm: grader cell - ex02_returns, 1 point\nfrom autograder.notebook import check\n"
    )
    nb = notebook(
        tmp_path / "erin.ipynb",
        [solution_body("ex02_returns"), grader + 'check("ex02_returns", "x")', "Q1_seeds = [0, 1]"],
    )
    modules = notebook_modules([nb])
    assert sorted(modules) == ["ex02_returns", "questions"]
    assert "check(" not in modules["ex02_returns"] and "Q1_seeds = [0, 1]" in modules["questions"]


def test_notebook_marker_cells_split_the_code_into_modules(tmp_path):
    nb = notebook(
        tmp_path / "dave.ipynb",
        [
            "import math",
            "# module: ex01_gridworld\nA = 1",
            "B = 2",
            "%%writefile ex02_returns.py\nC = 3",
        ],
    )
    modules = notebook_modules([nb])
    assert sorted(modules) == ["ex01_gridworld", "ex02_returns"]
    assert "import math" in modules["ex01_gridworld"] and "B = 2" in modules["ex01_gridworld"]
    assert "C = 3" in modules["ex02_returns"] and "A = 1" not in modules["ex02_returns"]
    assert "writefile" not in modules["ex02_returns"]


def test_ids_are_unique_and_safe(tmp_path):
    (tmp_path / "al ice").mkdir()
    (tmp_path / "al_ice.zip").write_bytes(b"")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob.ipynb").write_text("{}")
    (tmp_path / "readme.txt").write_text("")
    (tmp_path / ".hidden").mkdir()
    entries, ignored = discover(tmp_path)
    assert [e.id for e in entries] == ["al_ice", "al_ice.zip", "bob", "bob.ipynb"]
    assert ignored == ["readme.txt"]


def test_problem_notes_name_import_errors_and_missing_modules():
    data = {
        "tests": [
            {
                "name": "ex02_returns: a",
                "output": "import error: importing ex02_returns raised X",
                "extra_data": {"verdict": "import error"},
            },
            {
                "name": "ex02_returns: b",
                "output": "crashed: looks like a verdict, but the verdict is failed",
                "extra_data": {"verdict": "failed"},
            },
        ]
    }
    notes = problem_notes(data, ONLY, missing=["ex01_gridworld"])
    assert (
        notes
        == "ex01_gridworld: ex01_gridworld.py is missing; ex02_returns: import error: importing ex02_returns raised X"
    )


def test_only_a_worker_that_could_not_start_is_graded_again(tmp_path):
    out = tmp_path / "output.txt"
    out.write_text(
        "grading seed: 1\nerror: --require-sandbox: the sandbox is unavailable: bwrap failed:"
        " ['setpriv: failed to execute /usr/bin/python: Resource temporarily unavailable']\n"
    )
    assert needs_retry(None, out)
    assert last_error(out).startswith(": --require-sandbox: the sandbox is unavailable")
    out.write_text("Points 14/33\n")
    fork_bomb = "import error: importing ex02_returns raised BlockingIOError: [Errno 11] Resource"
    assert not needs_retry({"tests": [{"name": "ex02_returns: a", "output": fork_bomb}]}, out)
    assert last_error(out) == ""


# -- the end-to-end batch --------------------------------------------------------------------


def build_batch(root: Path) -> dict[str, str]:
    """Submissions of every kind; returns id -> what it is."""
    root.mkdir()
    kinds = {}
    honest(root / "h1_full")
    kinds["h1_full"] = "honest"
    honest(root / "h2_partial", stub=("ex02_returns",))
    kinds["h2_partial"] = "honest"
    with zipfile.ZipFile(root / "h3_zip.zip", "w") as zf:
        for name in ONLY:
            zf.writestr(f"student/course/{name}.py", solution_body(name))
    kinds["h3_zip"] = "honest"
    notebook(  # no marker cells: the whole code goes to ex01_gridworld.py and ex02_returns.py
        root / "h4_notebook.ipynb",
        [
            ("md", "# Grid world and returns"),
            "%matplotlib inline\n!pip list",
            solution_body("ex01_gridworld"),
            solution_body("ex02_returns"),
        ],
    )
    kinds["h4_notebook"] = "honest"
    daemon = (
        IN_SANDBOX
        + "    import time as _t\n"
        + "    if _os.fork() == 0:\n"
        + "        _os.setsid()\n"
        + "        if _os.fork() == 0:\n"
        + "            while True:\n"
        + "                _t.sleep(1)\n"
        + "        _os._exit(0)\n"
        + "    _os.wait()\n"
    )
    spoiled(root / "h5_daemon", daemon)
    kinds["h5_daemon"] = "honest"
    spoiled(
        root / "busy_loop",
        "def discounted_returns(rewards, gamma):\n    while True:\n        pass\n",
    )
    spoiled(root / "asleep_at_import", "import time\ntime.sleep(1e6)\n")
    spoiled(root / "p_exit", "import os\nos._exit(0)\n")
    spoiled(root / "p_fork", IN_SANDBOX + "    while True:\n        _os.fork()\n")
    spoiled(
        root / "p_memory", "_hog = []\nwhile True:\n    _hog.append(bytearray(256 * 1024**2))\n"
    )
    spoiled(root / "p_syntax", "def broken(:\n    pass\n")
    (root / "p_corrupt.ipynb").write_text('{"cells": [{"cell_type": "code", "source": ')
    (root / "p_corrupt_zip.zip").write_bytes(b"PK\x05\x06" + b"\0" * 10)
    for name in (
        "busy_loop",
        "asleep_at_import",
        "p_exit",
        "p_fork",
        "p_memory",
        "p_syntax",
        "p_corrupt",
        "p_corrupt_zip",
    ):
        kinds[name] = "pathological"
    return kinds


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def scores_of(data: dict) -> list[tuple[str, str, float]]:
    return [(t["name"], t["status"], t["score"]) for t in data["tests"]]


def leftover_processes(marker: str) -> list[str]:
    """Processes of the sandbox user started by this batch (an ancestor's command line has ``marker``).

    Other graders may run on the same machine as the same user, so a bare
    ``pgrep -u rl4llm-sbx`` is not enough: each process is traced to its ancestors.
    """
    proc = subprocess.run(["pgrep", "-u", SANDBOX_USER], capture_output=True, text=True)
    found = []
    for pid in proc.stdout.split():
        p, seen = pid, 0
        while p not in ("0", "1") and seen < 50:
            try:
                cmdline = Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                stat = Path(f"/proc/{p}/stat").read_text()
            except OSError:
                break
            if marker in cmdline:
                found.append(f"{pid}: {cmdline[:200]}")
                break
            p, seen = stat[stat.rindex(")") + 2 :].split()[1], seen + 1
    return found


@pytest.mark.slow
@pytest.mark.skipif(not bwrap_works()[0], reason="needs the bubblewrap sandbox (fork bomb, daemon)")
def test_a_batch_grades_every_kind_of_submission_and_resumes(tmp_path):
    kinds = build_batch(tmp_path / "subs")
    out = tmp_path / "out"
    cmd = ["grade-batch", str(tmp_path / "subs"), "--out", str(out), "--only", *ONLY]
    cmd += ["--require-sandbox", "--seed", str(SEED), "--jobs", "4", "--timeout", str(BUDGET)]
    start = time.monotonic()
    proc = run_cli(*cmd)
    first_wall = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr[-3000:]

    rows = read_csv(out / "scores.csv")
    assert [r["id"] for r in rows] == sorted(kinds)
    by_id = {r["id"]: r for r in rows}
    for ident in kinds:
        assert (out / ident / "results.json").is_file() and (out / ident / "output.txt").is_file()
    full = {"ex01_gridworld": "14", "ex02_returns": "19"}

    # honest submissions: full marks, or exactly their finished part
    for ident in ("h1_full", "h3_zip", "h4_notebook", "h5_daemon"):
        assert by_id[ident]["status"] == "ok", by_id[ident]
        assert (by_id[ident]["total"], by_id[ident]["max"]) == ("33", "33"), by_id[ident]
    assert by_id["h2_partial"]["status"] == "ok"
    assert (by_id["h2_partial"]["ex01_gridworld"], by_id["h2_partial"]["ex02_returns"]) == (
        "14",
        "0",
    )
    assert by_id["h4_notebook"]["status"] == "ok"
    assert [by_id["h4_notebook"][n] for n in ONLY] == [full[n] for n in ONLY]
    assert "wrote ex01_gridworld.py" in (out / "h4_notebook" / "output.txt").read_text()

    # pathological submissions: a clear row each, within their own budget
    # a busy loop spends CPU time: its calls time out one by one and the rest is graded
    row = by_id["busy_loop"]
    assert row["status"] == "ok" and row["ex01_gridworld"] == "14", row
    assert float(row["ex02_returns"]) < 19 and "timeout" in row["notes"], row
    # asleep at import spends no CPU time: a wall-clock backstop ends it (the grader's own
    # per-call backstop, or the batch's when that comes first)
    row = by_id["asleep_at_import"]
    assert row["status"] in (f"error: timed out after {BUDGET} s", "ok"), row
    assert row["total"] == "0" and row["max"] == "33", row
    for ident in ("p_exit", "p_fork", "p_memory", "p_syntax"):
        row = by_id[ident]
        assert row["status"] == "ok", row
        assert (row["ex01_gridworld"], row["ex02_returns"]) == ("14", "0"), row
        assert "ex02_returns: import error" in row["notes"], row
    assert "SyntaxError" in by_id["p_syntax"]["notes"]
    assert by_id["p_corrupt"]["status"].startswith("error: corrupt notebook p_corrupt.ipynb")
    assert by_id["p_corrupt_zip"]["status"].startswith("error: not a valid zip file")
    for ident in ("p_corrupt", "p_corrupt_zip"):
        data = json.loads((out / ident / "results.json").read_text())
        assert data["score"] == 0 and data["tests"] == [] and data["extra_data"]["catastrophic"]
    for ident in kinds:
        seconds = json.loads((out / ident / "results.json").read_text())["extra_data"]["batch"][
            "seconds"
        ]
        assert seconds < backstop(BUDGET) + 15, (ident, seconds)  # the wall-clock backstop

    # the seed is the same for everyone and logged for the instructor
    log = (out / "batch.log").read_text()
    assert f"seed={SEED}" in log
    for ident in ("h1_full", "p_syntax"):
        assert json.loads((out / ident / "results.json").read_text())["extra_data"]["seed"] == SEED

    # honest submissions score exactly as when graded alone
    alone = {
        "h1_full": tmp_path / "subs" / "h1_full",
        "h2_partial": tmp_path / "subs" / "h2_partial",
        "h5_daemon": tmp_path / "subs" / "h5_daemon",
    }
    procs = {}
    for ident, path in alone.items():  # graded alone, side by side to save time
        cmd1 = ["grade", str(path), "--json", str(tmp_path / f"alone-{ident}.json")]
        cmd1 += ["--seed", str(SEED), "--only", *ONLY, "--require-sandbox", "--summary"]
        procs[ident] = (
            cmd1,
            subprocess.Popen([sys.executable, "-m", "autograder", *cmd1], **QUIET),
        )
    for ident, (cmd1, proc1) in procs.items():
        proc1.wait(timeout=300)
        if proc1.returncode != 0:  # once more: another grader on this machine may have held
            # the sandbox user's process limit (a fork bomb in its own tests)
            proc1 = subprocess.run([sys.executable, "-m", "autograder", *cmd1], **QUIET)
        assert proc1.returncode == 0, ident
        single = json.loads((tmp_path / f"alone-{ident}.json").read_text())
        batch = json.loads((out / ident / "results.json").read_text())
        assert scores_of(batch) == scores_of(single), ident

    # nothing of the batch is left running in the sandbox
    deadline = time.monotonic() + 15
    while leftover_processes(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert leftover_processes(str(tmp_path)) == []

    # a second run resumes: nothing graded again, same rows, no duplicates
    mtimes = {i: (out / i / "results.json").stat().st_mtime_ns for i in kinds}
    start = time.monotonic()
    again = run_cli(*[c for c in cmd if c not in ("--seed", str(SEED))])
    assert again.returncode == 0, again.stderr[-3000:]
    assert time.monotonic() - start < min(30, first_wall)
    assert {i: (out / i / "results.json").stat().st_mtime_ns for i in kinds} == mtimes
    assert read_csv(out / "scores.csv") == rows
    assert log.count("graded id=") >= len(kinds)
    log2 = (out / "batch.log").read_text()
    assert log2.count("graded id=") == log.count("graded id=")
    assert f"seed={SEED} (read back" in log2


@pytest.mark.slow
@pytest.mark.skipif(not bwrap_works()[0], reason="needs the bubblewrap sandbox")
def test_an_interrupted_batch_resumes_where_it_stopped(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    honest(subs / "a_first")
    spoiled(subs / "b_slow", "import time\ntime.sleep(1e6)\n")
    honest(subs / "c_last")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "autograder", "grade-batch", str(subs), "--out", str(out)]
    cmd += ["--only", "ex02_returns", "--jobs", "1", "--seed", "7", "--require-sandbox"]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:  # a_first graded and stamped, b_slow started
        if (out / "b_slow" / "output.txt").exists():
            break
        time.sleep(0.2)
    time.sleep(1)
    proc.terminate()
    proc.wait(timeout=30)
    rows = {r["id"]: r for r in read_csv(out / "scores.csv")}
    assert rows["a_first"]["status"] == "ok" and rows["a_first"]["total"] == "19"
    assert rows["b_slow"]["status"] == rows["c_last"]["status"] == "pending"
    assert not (out / "b_slow" / "results.json").exists()
    first = (out / "a_first" / "results.json").stat().st_mtime_ns
    shutil.rmtree(subs / "b_slow")
    honest(subs / "b_slow")
    again = run_cli(
        "grade-batch", str(subs), "--out", str(out), "--only", "ex02_returns", "--require-sandbox"
    )
    assert again.returncode == 0, again.stderr[-2000:]
    rows = read_csv(out / "scores.csv")
    assert [(r["id"], r["status"], r["total"]) for r in rows] == [
        ("a_first", "ok", "19"),
        ("b_slow", "ok", "19"),
        ("c_last", "ok", "19"),
    ]
    assert (out / "a_first" / "results.json").stat().st_mtime_ns == first
    assert "seed=7 (read back" in (out / "batch.log").read_text()


def test_a_forked_grading_process_runs_the_command_with_its_own_log_folder_and_exit_code(tmp_path):
    from autograder.grading import forkserver

    log = tmp_path / "output.txt"
    log.write_text("header\n")
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path), "MARK": "forked"}
    ok = forkserver.start(["grade", "--help"], log, tmp_path, env)
    bad = forkserver.start(["grade", str(tmp_path / "missing")], log, tmp_path, env)
    assert (ok.wait(120), bad.wait(120)) == (0, 2), log.read_text()[-2000:]
    text = log.read_text()
    assert text.startswith("header\n") and "usage: python -m autograder grade" in text, text[:500]
    assert "no such directory" in text, text[-500:]
    assert forkserver.helpers(), "the fork server should be a child of this process"


def test_a_relative_out_folder_gets_the_results(tmp_path):
    """The grading processes run in folders of their own: a relative --out must still work."""
    honest(tmp_path / "subs" / "s1", stub=tuple(ONLY))
    cmd = ["grade-batch", "subs", "--out", "out", "--only", "ex01_gridworld", "--no-sandbox"]
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", *cmd],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = read_csv(tmp_path / "out" / "scores.csv")
    assert [(r["id"], r["status"], r["total"]) for r in rows] == [("s1", "ok", "0")], rows
    assert (tmp_path / "out" / "s1" / "results.json").is_file()


def test_find_root_prefers_the_folder_with_most_modules(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "ex01_gridworld.py").write_text("")
    for name in ONLY:
        (tmp_path / "x" / f"{name}.py").write_text("")
    assert find_root(tmp_path) == (tmp_path / "x", 2)
