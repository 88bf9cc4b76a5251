"""The student release (``python -m autograder release OUT``): complete, installable, no secrets.

The release is what students get as their template repository. It must hold the
stubs, the public checks, the grader, the notebooks and a README - and nothing a
student could use to skip the work: no ``solutions/``, no solution code, no hidden
check, no multiple-choice key. The last test installs it into a fresh virtual
environment, exactly as its README says, and runs ``pytest course/`` there.
"""

from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from autograder.build import leaks as leakscan
from autograder.build.leak_behaviour import behaviour_leaks
from autograder.build.markers import find_regions
from autograder.build.release import (
    build_release,
    leaks,
    removed_checks,
    strip_checks,
    strip_rubric,
    strip_support,
)
from autograder.grading.rubric import Rubric

pytestmark = pytest.mark.slow  # grades real submissions end to end

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    pytest.importorskip("nbgrader")
    out = tmp_path_factory.mktemp("release") / "rl4llm-student"
    build_release(out)
    return out


def files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def solution_lines() -> set[str]:
    """Lines of reference code (inside solution regions) found nowhere in the public sources."""
    public = "\n".join(
        p.read_text() for top in ("autograder", "course") for p in (REPO / top).rglob("*.py")
    )
    out = set()
    for path in sorted(SOLUTIONS.glob("*.py")):
        text = path.read_text()
        lines = text.splitlines()
        for r in find_regions(text, "SOLUTION", str(path)):
            for line in lines[r.begin : r.end - 1]:
                s = line.strip()
                if len(s) >= 28 and not s.startswith("#") and s not in public:
                    out.add(s)
    return out


def mc_keys() -> list[str]:
    """The answer lines of the graded questions, e.g. ``Q3_choice = "B"``."""
    path = SOLUTIONS / "questions.py"
    if not path.is_file():
        return []
    text = path.read_text()
    lines = text.splitlines()
    keys = []
    for r in find_regions(text, "SOLUTION", str(path)):
        for line in lines[r.begin : r.end - 1]:
            if re.match(r"^\s*\w+_(choice|same_speed)\s*=", line):
                keys.append(line.strip())
    return keys


# -- contents ----------------------------------------------------------------------------------
def test_the_release_has_the_template_repository_layout(release):
    for rel in (
        "README.md",
        "pyproject.toml",
        ".gitignore",
        ".github/workflows/classroom.yml",
        "course/conftest.py",
        "autograder/rubric.toml",
        "autograder/checks/pytest.ini",
        "autograder/seam/worker/main.py",
    ):
        assert (release / rel).is_file(), rel
    assert sorted(p.name for p in (release / "course").glob("ex*.py")) == sorted(
        p.name for p in SOLUTIONS.glob("ex*.py")
    )
    assert len(list((release / "notebooks").glob("*.ipynb"))) == 4
    for gone in (
        "solutions",
        "autograder/build",
        "autograder/grading/nbgrader_regrade.py",
        "nbgrader",
        "autograder/data/nbgrader_config.py",
    ):
        assert not (release / gone).exists(), f"{gone} must not be in the release"
    # built from an allowlist: of data/ only the capstone's SFT checkpoint (the students run the
    # capstone themselves); no bands, no nbgrader config, no .orig or stray files
    data = sorted(p.relative_to(release).as_posix() for p in files(release / "autograder" / "data"))
    assert data == ["autograder/data/capstone/sft.pt"], data
    assert not [p for p in files(release) if p.suffix in (".orig", ".json", ".rej")]


def test_no_solutions_hidden_checks_or_answer_keys_anywhere(release):
    assert leaks(release) == []
    texts = {p: p.read_text(errors="replace") for p in files(release)}
    hidden = sorted({c for ids in removed_checks().values() for c in ids})
    assert hidden, "expected some hidden checks to strip"
    for needle in ["BEGIN SOLUTION", "BEGIN HIDDEN TESTS", *hidden, *mc_keys()]:
        found = [str(p.relative_to(release)) for p, t in texts.items() if needle in t]
        assert not found, f"{needle!r} is in the release: {found}"
    code = solution_lines()
    assert len(code) > 50
    for p, t in texts.items():
        leaked = [line for line in code if line in t]
        assert not leaked, f"{p.relative_to(release)} holds reference code: {leaked[:3]}"


def test_no_solution_body_or_answer_key_is_in_the_release(release):
    found = leakscan.answers()
    assert len(found.bodies) > 30 and len(found.keys) >= 5, "expected the answers to look for"
    assert len(found.alpha) > 20, "expected bodies to compare up to renaming"
    assert leakscan.leaks(release, behaviour=False) == []


def test_no_released_function_behaves_as_a_solution(release):
    """The checks, the worker and its stand-ins carry hand examples, not re-implementations."""
    assert behaviour_leaks(release) == []


def test_the_leak_detector_finds_a_body_however_it_is_laid_out(tmp_path):
    """The detector must be able to fail: a reformatted, re-commented solution body is found."""
    found = leakscan.answers()
    name, body = next((k, v) for k, v in found.bodies.items() if k.endswith("discounted_returns"))
    fn = name.rsplit(".", 1)[1]
    code = "def helper(*a):\n" + "\n".join("        " + ln for ln in body.splitlines())
    code = code.replace("def helper", f"def {fn}")  # same body, other indentation
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "ex99.py").write_text("# a check\n" + code)
    assert any("reference solution body" in p for p in leakscan.leaks(tmp_path)), code
    key = found.keys[0]
    (tmp_path / "feedback.html").write_text(f"<pre><span>{key.replace(' ', ' </span>')}</pre>")
    assert any("answer key" in p for p in leakscan.leaks(tmp_path))


def test_the_release_rubric_lists_exactly_the_public_checks(release):
    rubric = Rubric.load(release / "autograder" / "rubric.toml")
    for ex in rubric.exercises:
        path = release / "autograder" / "checks" / f"{ex}.py"
        tree = ast.parse(path.read_text())
        tests = {
            n.name
            for n in tree.body
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
        }
        assert tests == set(rubric.exercises[ex].points), ex
        assert "pytest.mark.hidden" not in path.read_text()
        assert not any(
            "ref" in {a.arg for a in n.args.args}
            for n in tree.body
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
        )


def test_strip_checks_removes_the_check_and_helpers_only_it_used():
    src = (
        "import pytest\n\nEXERCISE = 'x'\nSEED = 3\n\n\ndef _helper():\n    return SEED\n\n\n"
        "def _shared():\n    return 1\n\n\n"
        "def test_public(impl):\n    assert _shared()\n\n\n"
        "# the secret one\n@pytest.mark.hidden\ndef test_secret(impl, ref):\n    assert _helper() + _shared()\n"
    )
    out = strip_checks(src, {"test_secret"})
    assert (
        "test_secret" not in out
        and "_helper" not in out
        and "SEED" not in out
        and "secret one" not in out
    )
    assert "def test_public" in out and "def _shared" in out and "EXERCISE" in out
    rub = "[x]\ntitle = 'X'\n[x.points]\ntest_public = 1\ntest_secret = 2\n[y.points]\ntest_secret = 1\n"
    assert strip_rubric(rub, {"x": {"test_secret"}}) == (
        "[x]\ntitle = 'X'\n[x.points]\ntest_public = 1\n[y.points]\ntest_secret = 1\n"
    )


def test_the_workflow_grades_course_and_reports_points(release):
    wf = (release / ".github" / "workflows" / "classroom.yml").read_text()
    assert "python -m autograder grade course" in wf
    assert "Points" in wf and "::notice title=Autograding complete::" in wf
    readme = (release / "README.md").read_text()
    for words in ("pytest course/", "How points work", "How to submit", "pip install"):
        assert words in readme


# -- a fresh install, as the student README says -------------------------------------------------------
def test_the_release_installs_in_a_fresh_venv_and_pytest_course_runs(release, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    install = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "torch==2.13.0", "-e", str(release)],
        capture_output=True,
        text=True,
        timeout=1200,
        env=env,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    where = subprocess.run(
        [str(py), "-c", "import autograder, sys; print(autograder.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert str(release) in where.stdout, where.stdout + where.stderr

    proc = subprocess.run(
        [str(py), "-m", "pytest", "course/", "-q", "-p", "no:randomly"],
        cwd=release,
        capture_output=True,
        text=True,
        timeout=1200,
        env=env,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, (
        f"expected failing checks (exit 1), got {proc.returncode}:\n{out[-4000:]}"
    )
    assert "INTERNALERROR" not in out and "Traceback" not in out, out[-4000:]
    total = re.search(r"TOTAL\s+(\S+)/(\S+)", out)
    assert total and float(total.group(1)) == 0 and float(total.group(2)) > 0, out[-3000:]
    assert "TODO" in out and "check error" not in out, out[-3000:]

    grade = subprocess.run(
        [str(py), "-m", "autograder", "grade", "course", "--format", "classroom", "--no-sandbox"],
        cwd=release,
        capture_output=True,
        text=True,
        timeout=1200,
        env=env,
    )
    assert grade.returncode == 0, grade.stdout[-3000:] + grade.stderr[-3000:]
    assert re.search(r"^Points 0/\d+", grade.stdout, re.M), grade.stdout[-2000:]
    assert sys.executable != str(py)


class _Renamer(ast.NodeTransformer):
    """Every argument and local name ``x`` becomes ``my_x``: an alpha-renamed copy."""

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(
            "my_" + node.id if node.id[0].islower() and node.id not in NONLOCAL else node.id,
            node.ctx,
        )

    def visit_arg(self, node: ast.arg) -> ast.arg:
        return ast.arg("my_" + node.arg, node.annotation)


NONLOCAL = {
    "np",
    "torch",
    "float",
    "int",
    "len",
    "range",
    "reversed",
    "zip",
    "isinstance",
    "tuple",
    "list",
}
NONLOCAL |= {"ValueError", "bool", "sum", "min", "max", "abs", "any", "all", "math", "F", "nn"}


def test_the_leak_detector_finds_a_renamed_copy_of_a_solution_body(tmp_path):
    """A solution function with other names for everything local is still found."""
    tree = ast.parse((SOLUTIONS / "ex06_ppo.py").read_text())
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "gae")
    fn = _Renamer().visit(fn)
    fn.name = "advantage_helper"
    code = "import numpy as np\nimport torch\n\n\n" + ast.unparse(fn) + "\n"
    assert "my_rewards" in code and "def gae" not in code
    fake = tmp_path / "autograder" / "checks"
    fake.mkdir(parents=True)
    (fake / "ex99_fake.py").write_text(code)
    found = leakscan.leaks(tmp_path, behaviour=False)
    assert any(
        "advantage_helper holds the body of ex06_ppo.gae with names changed" in p for p in found
    ), found


# Answers written differently from the reference: a loop instead of vectorised code, a class
# instead of a method, the grid built from its size. The behavioural scan must flag each.
PLANTED = """
import numpy as np


def my_returns(rs, g):
    acc, out = 0.0, []
    for x in rs[::-1]:
        acc = x + g * acc
        out.insert(0, acc)
    return np.array(out)


class Walls:
    def __init__(self, n):
        self.n = n

    def move(self, s, a):
        if tuple(s) == (self.n - 1, self.n - 1):
            return s, 0.0, True
        d = [(-1, 0), (0, 1), (1, 0), (0, -1)][a]
        t = (min(max(s[0] + d[0], 0), self.n - 1), min(max(s[1] + d[1], 0), self.n - 1))
        end = t == (self.n - 1, self.n - 1)
        return t, (1.0 if end else -0.01), end


def q_table(n, V, gamma):
    w, Q = Walls(n), np.zeros((n, n, 4))
    for r in range(n):
        for c in range(n):
            for a in range(4):
                (r2, c2), rew, done = w.move((r, c), a)
                Q[r, c, a] = rew + gamma * V[r2, c2] * (not done)
    return Q


def adv_only(rewards, values, dones, gamma, lam, last_value):
    A, nxt, run = [], float(last_value), 0.0
    for t in range(len(rewards) - 1, -1, -1):
        keep = 1.0 - float(dones[t])
        delta = float(rewards[t]) + gamma * nxt * keep - float(values[t])
        run = delta + gamma * lam * keep * run
        A.append(run)
        nxt = float(values[t])
    return np.array(A[::-1])


def not_an_answer(rewards, gamma):
    return np.array(rewards) * gamma  # a wrong formula: must not be flagged
"""


def test_the_behavioural_scan_flags_re_implementations_however_written(tmp_path):
    fake = tmp_path / "autograder" / "checks"
    fake.mkdir(parents=True)
    (fake / "ex99_fake.py").write_text(PLANTED)
    found = "\n".join(behaviour_leaks(tmp_path))
    for name, key in (
        ("my_returns", "ex02_returns.discounted_returns"),
        ("Walls.move", "ex01_gridworld.SimpleGridWorld.transition"),
        ("q_table", "ex05_values.q_from_v"),
        ("adv_only", "ex06_ppo.gae"),
    ):
        assert f"{name} behaves as the reference {key}" in found, found
    assert "not_an_answer" not in found
    # outside autograder/ (e.g. feedback files) nothing is imported
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.py").write_text(PLANTED)
    assert "other/" not in "\n".join(behaviour_leaks(tmp_path))


MEDDLING = """
import os
import signal
import sys


def meddle(a, b):
    sys.path.insert(0, "poisoned")
    os.chdir("/")
    signal.signal(signal.SIGCHLD, lambda *args: None)
    return a
"""


def test_the_behavioural_scan_leaves_the_calling_process_as_it_was(tmp_path):
    """Released code it calls may change its process: the scan runs in a child of its own."""
    fake = tmp_path / "autograder" / "checks"
    fake.mkdir(parents=True)
    (fake / "ex99_meddling.py").write_text(MEDDLING)
    worker = tmp_path / "autograder" / "seam" / "worker"
    worker.mkdir(parents=True)
    (worker / "zygote.py").write_text("import sys\nsys.exit('an entry point must not be run')\n")
    path, cwd = list(sys.path), os.getcwd()
    handler = signal.getsignal(signal.SIGCHLD)
    assert behaviour_leaks(tmp_path) == []
    assert sys.path == path and os.getcwd() == cwd, "the scan changed this process"
    assert signal.getsignal(signal.SIGCHLD) == handler, "the scan changed a signal handler"


def test_strip_support_ships_only_the_helpers_the_public_checks_use():
    mod = "autograder.checks.x_support"
    checks = (
        "import pytest\n\nfrom autograder.checks.x_support import (\n    SECRET,\n    shared,\n)\n\n"
        "EXERCISE = 'x'\n\n\ndef test_public(impl):\n    assert shared()\n"
    )
    support = (
        "SEED = 3\nSECRET = 4\n\n\ndef base():\n    return SEED\n\n\n"
        "def shared():\n    return base()\n\n\n# only the hidden check's\ndef oracle():\n    return SECRET\n"
    )
    out, rest = strip_support(checks, support, mod)
    assert "SECRET" not in out and "shared," in out and "def test_public" in out
    assert "SECRET" not in rest and "oracle" not in rest and "hidden check" not in rest
    assert "def shared" in rest and "def base" in rest and "SEED = 3" in rest
    none, _ = strip_support(checks.replace("shared()", "True"), support, mod)
    assert "x_support" not in none
