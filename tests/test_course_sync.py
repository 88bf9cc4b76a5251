"""``course/`` is generated from ``solutions/`` and committed: it must be in sync.

If one of these fails after editing ``solutions/``, run
``python -m autograder build-course`` and commit the regenerated ``course/``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.build.markers import find_regions
from autograder.build.stubs import (
    COURSE_DIR,
    SOLUTIONS_DIR,
    exercise_sources,
    render_course,
    stale_files,
    write_course,
)

REPO = Path(__file__).resolve().parents[1]


def committed_files(directory: Path) -> dict[str, str]:
    """Regular files of a course folder (caches and dot-folders ignored): name -> text."""
    return {
        p.relative_to(directory).as_posix(): p.read_text()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
        and "__pycache__" not in p.parts
        and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    }


def solution_only_lines(source: str) -> set[str]:
    """Stripped lines that occur inside a solution region and nowhere outside one."""
    lines = source.splitlines()
    inside: set[int] = set()
    for region in find_regions(source):
        inside.update(range(region.begin, region.end - 1))  # 0-based body lines
    secret = {lines[i].strip() for i in inside}
    public = {line.strip() for i, line in enumerate(lines) if i not in inside}
    return {s for s in secret - public if s and not s.startswith("#")}


def test_the_generator_and_the_repo_agree_on_where_course_and_solutions_are():
    assert COURSE_DIR == REPO / "course", f"expected COURSE_DIR {REPO / 'course'}, got {COURSE_DIR}"
    assert SOLUTIONS_DIR == REPO / "solutions", (
        f"expected SOLUTIONS_DIR {REPO / 'solutions'}, got {SOLUTIONS_DIR}"
    )


def test_regenerating_course_into_a_temp_dir_gives_exactly_the_committed_course(tmp_path):
    written = write_course(out_dir=tmp_path)
    fresh = committed_files(tmp_path)
    committed = committed_files(COURSE_DIR)
    assert sorted(fresh) == sorted(written), (
        f"write_course reported {written}, but wrote {sorted(fresh)}"
    )
    assert sorted(committed) == sorted(fresh), (
        f"course/ has files {sorted(committed)}, the generator writes {sorted(fresh)}; "
        "run `python -m autograder build-course` (and delete files it no longer writes)"
    )
    differing = [name for name in fresh if committed[name] != fresh[name]]
    assert not differing, (
        f"course/ is stale: {differing} differ from what solutions/ generates; "
        "run `python -m autograder build-course`"
    )


def test_stale_files_reports_nothing_for_the_committed_course():
    stale = stale_files()
    assert stale == [], (
        f"expected no stale files in course/, got {stale}; run `python -m autograder build-course`"
    )


def test_stale_files_notices_an_edited_and_a_deleted_file(tmp_path):
    write_course(out_dir=tmp_path)
    assert stale_files(out_dir=tmp_path) == [], (
        f"expected a fresh copy in {tmp_path} to be in sync, got {stale_files(out_dir=tmp_path)}"
    )
    (tmp_path / "ex02_returns.py").write_text(
        (tmp_path / "ex02_returns.py").read_text() + "# edited\n"
    )
    (tmp_path / "conftest.py").unlink()
    got = stale_files(out_dir=tmp_path)
    assert got == ["conftest.py", "ex02_returns.py"], (
        f"after editing ex02_returns.py and deleting conftest.py, expected both stale, got {got}"
    )


def test_render_course_is_deterministic():
    first, second = render_course(), render_course()
    assert first == second, (
        f"two renders differ in {[k for k in first if first[k] != second.get(k)]}"
    )


def test_every_course_module_compiles():
    for name, text in sorted(committed_files(COURSE_DIR).items()):
        if not name.endswith(".py"):
            continue
        try:
            compile(text, str(COURSE_DIR / name), "exec")
        except SyntaxError as exc:
            pytest.fail(f"expected course/{name} to be valid Python, got {exc!r}")


# questions.py holds answers as module-level values: its regions become a comment only, so
# the stub stays importable; every other module gets nbgrader's raising stub.
STUB_MARK = {"questions.py": "# YOUR ANSWER HERE"}
DEFAULT_STUB_MARK = "raise NotImplementedError()"


def test_every_solution_module_has_a_course_stub_with_one_stub_per_region():
    for path in exercise_sources():
        regions = find_regions(path.read_text(), filename=str(path))
        stub = COURSE_DIR / path.name
        assert stub.is_file(), (
            f"expected course/{path.name} for solutions/{path.name}; it is missing"
        )
        assert regions, (
            f"expected solutions/{path.name} to have at least one solution region, found none"
        )
        mark = STUB_MARK.get(path.name, DEFAULT_STUB_MARK)
        count = sum(line.strip() == mark for line in stub.read_text().splitlines())
        assert count == len(regions), (
            f"expected {len(regions)} `{mark}` lines in course/{path.name} "
            f"(one per region of solutions/{path.name}), got {count}"
        )


def test_no_course_module_contains_a_line_from_inside_a_solution_region():
    sources = exercise_sources()
    assert sources, f"expected exercise modules in {SOLUTIONS_DIR}, found none"
    for path in sources:
        secret = solution_only_lines(path.read_text())
        stub = COURSE_DIR / path.name
        assert stub.is_file(), (
            f"expected course/{path.name} for solutions/{path.name}; it is missing"
        )
        course_lines = {line.strip() for line in stub.read_text().splitlines()}
        leaked = sorted(secret & course_lines)
        assert not leaked, (
            f"course/{path.name} contains solution lines from solutions/{path.name}: {leaked[:5]}"
        )


def test_no_course_module_contains_a_marker():
    for name, text in committed_files(COURSE_DIR).items():
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text, (
            f"expected no solution markers in course/{name}, found one"
        )


def test_course_modules_never_import_solutions_or_the_autograder():
    for name, text in committed_files(COURSE_DIR).items():
        if name == "conftest.py" or not name.endswith(".py"):
            continue
        imported = []
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                imported += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.append(node.module)
        bad = [m for m in imported if m.split(".")[0] in ("solutions", "autograder")]
        assert not bad, (
            f"expected course/{name} not to import solutions/ or autograder/, it imports {bad}"
        )


def test_build_course_check_exits_0_on_the_repo():
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "build-course", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, (
        f"expected `python -m autograder build-course --check` to exit 0, got {proc.returncode}; "
        f"stdout {proc.stdout!r}, stderr {proc.stderr!r}"
    )
    assert "Traceback" not in proc.stderr, f"expected no traceback, got stderr {proc.stderr!r}"
