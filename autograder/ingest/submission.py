"""Turn one submission (a folder, a ``.zip`` or an ``.ipynb``) into a folder laid out like course/.

Used by ``python -m autograder grade-batch`` (:mod:`autograder.grading.batch`). Everything
here runs in the trusted grader process and never executes student code: folders
are copied, zips are extracted with :mod:`zipfile`, notebooks are read as JSON
with :mod:`nbformat` (no kernel).

Rules (also in the ``grade-batch`` help):

* **Folders**: regular files are copied (no symlinks, no special files, at most
  :data:`MAX_FILES` files and :data:`MAX_BYTES` bytes). The exercise modules
  (``exNN_<topic>.py``) may sit at the top or up to :data:`MAX_DEPTH` folders down
  (``student/course/ex02_returns.py``); the folder holding the most of them (the
  shallowest on a tie) is graded, with everything below it.
* **Zips**: the same, after a safe extraction: an absolute path, a ``..``
  component, a symlink, an encrypted entry or a special file rejects the whole
  zip; so do more than :data:`MAX_FILES` entries or more than :data:`MAX_BYTES`
  bytes once uncompressed (counted while extracting, not trusted from the header).
* **Notebooks** (an ``.ipynb`` entry, or the notebooks of a folder/zip with no
  exercise module): read with :mod:`nbformat` (no kernel); only code cells count,
  and grade cells are skipped (first line ``# rl4llm: grader cell``, or nbgrader
  metadata ``grade`` without ``solution``) - the grader runs its own checks.
  Then the first rule that applies:

  1. **marker cells**: a code cell whose metadata has ``{"rl4llm": {"module": "ex02_returns"}}``,
     whose first line is ``%%writefile ex02_returns.py``, or whose first line is a
     comment ``# module: ex02_returns`` (``# exercise: ...`` works too) starts that
     module; the following unmarked cells belong to it until the next marker, and
     cells before the first marker go at the top of every marked module. The
     modules are the cells as written, with IPython magics and ``!shell`` lines
     replaced by ``pass`` (IPython's ``TransformerManager`` when IPython is
     installed, else every line starting with ``%`` or ``!`` of a cell that is not
     valid Python) and cell magics dropped.
  2. Otherwise the code is extracted exactly as ``nbgrader-regrade`` does
     (:func:`autograder.notebook.build_module`: magics, shell lines, top-level
     expression statements such as ``train_bandit(...)`` demos and imports of other
     course modules left out; ``from __future__`` imports first; a cell saved with
     an error keeps only its imports, functions and classes) and written as
     **the module the notebook is named after** (``ex02_returns.ipynb``, e.g.
     nbgrader's ``submitted/<student>/<assignment>/ex02_returns.ipynb``), or else
     as **every module of the rubric for which it defines a public function,
     class or variable** of the ``course/`` stub (``discounted_returns`` ->
     ``ex02_returns.py``; ``Q1_seeds`` -> ``questions.py``). A module that is not
     written is reported as missing.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder import REPO_ROOT

MAX_BYTES = 50 * 1024**2  # total uncompressed size of one submission
MAX_FILES = 2000  # files (zip entries) in one submission
MAX_NOTEBOOK_BYTES = 20 * 1024**2
MAX_DEPTH = 2  # exercise modules may sit this many folders below the top
MODULE_RE = re.compile(r"^(?:ex\d\d_[A-Za-z0-9_]+|questions)$")  # the course's module names
SKIP_DIRS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git", ".hg", ".svn"}
_MARKER_RE = re.compile(r"^\s*#\s*(?:module|exercise)\s*:\s*([A-Za-z0-9_]+?)(?:\.py)?\s*$")
_WRITEFILE_RE = re.compile(r"^\s*%%writefile(?:\s+-a)?\s+(?:\S*/)?([A-Za-z0-9_]+)\.py\s*$")
GRADER_MARK = "# rl4llm: grader cell"  # first line of the course notebooks' grade cells
_FUTURE_RE = re.compile(r"^from[ \t]+__future__[ \t]+import[ \t]+[\w \t,]+$", re.MULTILINE)
_CHUNK = 1 << 16


class SubmissionError(Exception):
    """The submission cannot be turned into a folder to grade (one clear line)."""


@dataclass
class Prepared:
    """A folder laid out like course/, made from one submission."""

    path: Path
    kind: str  # "folder", "zip" or "notebook"
    notes: list[str] = field(default_factory=list)


def kind_of(entry: Path) -> str | None:
    """``"folder"``, ``"zip"``, ``"notebook"``, or None for an entry that is not a submission."""
    if entry.is_symlink():
        return None
    if entry.is_dir():
        return "folder"
    if entry.is_file() and entry.suffix.lower() == ".zip":
        return "zip"
    if entry.is_file() and entry.suffix.lower() == ".ipynb":
        return "notebook"
    return None


def prepare(entry: Path, workdir: Path) -> Prepared:
    """Make a folder laid out like course/ from ``entry`` inside ``workdir`` (which must exist).

    Raises:
        SubmissionError: the entry is unreadable, unsafe, too big, or holds no exercise.
    """
    entry = Path(entry)
    kind = kind_of(entry)
    if kind is None:
        raise SubmissionError(f"{entry.name}: not a folder, .zip or .ipynb")
    files = workdir / "files"
    if kind == "notebook":
        out = workdir / "submission"
        out.mkdir(mode=0o755)
        notes = write_modules(notebook_modules([entry]), out)
        return Prepared(out, kind, notes)
    if kind == "folder":
        copy_tree(entry, files)
    else:
        extract_zip(entry, files)
    root, count = find_root(files)
    if root is not None:
        rel = root.relative_to(files)
        notes = [f"{count} exercise module(s) in {'the top folder' if rel == Path('.') else rel}"]
        return Prepared(root, kind, notes)
    notebooks = find_notebooks(files)
    if not notebooks:
        raise SubmissionError(
            f"no exercise module (exNN_<topic>.py) or notebook found in the {kind}"
            f" (looked {MAX_DEPTH} folders deep)"
        )
    out = workdir / "submission"
    out.mkdir(mode=0o755)
    notes = [f"built from notebook(s): {', '.join(str(p.relative_to(files)) for p in notebooks)}"]
    notes += write_modules(notebook_modules(notebooks), out)
    return Prepared(out, kind, notes)


# -- folders and zips --------------------------------------------------------------


def copy_tree(src: Path, dst: Path) -> None:
    """Copy the regular files of ``src`` to ``dst`` (no symlinks, capped in size and count)."""
    dst.mkdir(mode=0o755)
    total = files = 0
    for root, dirs, names in os.walk(src, followlinks=False):
        rel = Path(root).relative_to(src)
        dirs[:] = sorted(
            d for d in dirs if d not in SKIP_DIRS and not os.path.islink(os.path.join(root, d))
        )
        for d in dirs:
            (dst / rel / d).mkdir(mode=0o755)
        for name in sorted(names):
            path = Path(root) / name
            try:
                st = path.lstat()
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue  # symlinks, fifos, sockets, devices
            files += 1
            if files > MAX_FILES:
                raise SubmissionError(f"the folder has more than {MAX_FILES} files")
            try:
                fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
                with open(fd, "rb") as fin, open(dst / rel / name, "xb") as fout:
                    total += _copy_capped(fin, fout, MAX_BYTES - total)
            except OSError as exc:
                raise SubmissionError(f"cannot read {rel / name}: {exc.strerror or exc}") from None


def _copy_capped(fin, fout, budget: int) -> int:
    """Copy ``fin`` to ``fout``; raise once more than ``budget`` bytes have been read."""
    n = 0
    while chunk := fin.read(_CHUNK):
        n += len(chunk)
        if n > budget:
            raise SubmissionError(f"the submission holds more than {MAX_BYTES // 1024**2} MB")
        fout.write(chunk)
    return n


def _safe_member_path(name: str) -> PurePosixPath:
    """The relative path of a zip entry, or SubmissionError if it could escape."""
    norm = name.replace("\\", "/")
    path = PurePosixPath(norm)
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm) or "\x00" in norm:
        raise SubmissionError(f"unsafe zip entry {name!r}: absolute path")
    if any(part == ".." for part in path.parts):
        raise SubmissionError(f"unsafe zip entry {name!r}: '..' in the path")
    return PurePosixPath(*[p for p in path.parts if p not in ("", ".")])


def extract_zip(archive: Path, dst: Path) -> None:
    """Extract ``archive`` into ``dst`` after checking every entry (see the module docstring)."""
    dst.mkdir(mode=0o755)
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_FILES:
                raise SubmissionError(f"the zip has {len(infos)} entries (at most {MAX_FILES})")
            members = []
            declared = 0
            for info in infos:
                rel = _safe_member_path(info.filename)
                mode = (info.external_attr >> 16) & 0o170000
                if mode == stat.S_IFLNK:
                    raise SubmissionError(f"unsafe zip entry {info.filename!r}: a symlink")
                if mode not in (0, stat.S_IFREG, stat.S_IFDIR):
                    raise SubmissionError(f"unsafe zip entry {info.filename!r}: a special file")
                if info.flag_bits & 0x1:
                    raise SubmissionError(f"zip entry {info.filename!r} is encrypted")
                declared += info.file_size
                if declared > MAX_BYTES:
                    raise SubmissionError(
                        f"the zip holds more than {MAX_BYTES // 1024**2} MB uncompressed"
                    )
                if rel.parts and not SKIP_DIRS.intersection(rel.parts):
                    members.append((info, rel))
            total = 0
            for info, rel in members:
                target = dst.joinpath(*rel.parts)
                if info.is_dir() or mode_is_dir(info):
                    target.mkdir(mode=0o755, parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
                if target.is_dir():
                    raise SubmissionError(
                        f"zip entry {info.filename!r} is both a file and a folder"
                    )
                with zf.open(info) as fin, open(target, "wb") as fout:
                    total += _copy_capped(fin, fout, MAX_BYTES - total)
    except SubmissionError:
        raise
    except zipfile.BadZipFile as exc:
        raise SubmissionError(f"not a valid zip file ({exc})") from None
    except (OSError, EOFError, RuntimeError, NotImplementedError, ValueError) as exc:
        raise SubmissionError(f"cannot extract the zip ({type(exc).__name__}: {exc})") from None


def mode_is_dir(info: zipfile.ZipInfo) -> bool:
    return (info.external_attr >> 16) & 0o170000 == stat.S_IFDIR


def _walk(top: Path, depth: int = MAX_DEPTH):
    """``top`` and its sub-folders down to ``depth`` levels, shallowest first, junk skipped."""
    level = [top]
    for d in range(depth + 1):
        nxt = []
        for folder in level:
            yield folder, d
            if d < depth:
                subs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
                nxt += [p for p in subs if p.name not in SKIP_DIRS and not p.name.startswith(".")]
        level = nxt


def find_root(top: Path) -> tuple[Path | None, int]:
    """The folder with the most ``exNN_*.py`` modules (shallowest on a tie), and how many."""
    best: tuple[int, int, str] | None = None
    best_path = None
    for folder, depth in _walk(top):
        count = sum(1 for p in folder.glob("*.py") if p.is_file() and MODULE_RE.match(p.stem))
        if count and (best is None or (-count, depth, str(folder)) < best):
            best, best_path = (-count, depth, str(folder)), folder
    return best_path, (-best[0] if best else 0)


def find_notebooks(top: Path) -> list[Path]:
    """The ``.ipynb`` files of ``top`` down to MAX_DEPTH folders, in a stable order."""
    found = []
    for folder, _ in _walk(top):
        found += sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    return found


# -- notebooks ---------------------------------------------------------------------------


def read_notebook(path: Path) -> list[dict]:
    """The cells of a notebook as ``{"cell_type", "source", "metadata"}`` dicts."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SubmissionError(f"cannot read {path.name}: {exc.strerror}") from None
    if size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES // 1024**2} MB")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubmissionError(f"corrupt notebook {path.name}: {exc}") from None
    try:
        import nbformat
    except ImportError:
        nbformat = None
    try:
        if nbformat is not None:
            try:
                nb = nbformat.reads(text, as_version=4, capture_validation_error={})
            except TypeError:  # nbformat < 5.5
                nb = nbformat.reads(text, as_version=4)
            raw_cells = nb.cells
        else:
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
                raise ValueError("no list of cells (nbformat 4 is required)")
            raw_cells = data["cells"]
        cells = []
        for c in raw_cells:
            source = c.get("source", "")
            if isinstance(source, list):
                source = "".join(str(s) for s in source)
            meta = c.get("metadata", {})
            outputs = c.get("outputs", [])
            failed = isinstance(outputs, list) and any(
                isinstance(o, dict) and o.get("output_type") == "error" for o in outputs
            )
            cells.append(
                {
                    "cell_type": str(c.get("cell_type", "")),
                    "source": str(source),
                    "metadata": meta if isinstance(meta, dict) else {},
                    "failed": failed,
                }
            )
        return cells
    except Exception as exc:  # noqa: BLE001 - any parse failure is a corrupt notebook
        msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise SubmissionError(
            f"corrupt notebook {path.name}: {type(exc).__name__}: {msg}"
        ) from None


@functools.lru_cache(maxsize=1)
def _transformer():
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except Exception:  # noqa: BLE001 - IPython is optional
        return None
    return TransformerManager()


def _compiles(src: str) -> bool:
    try:
        compile(src, "<cell>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _blank_out(line: str) -> str:
    indent = line[: len(line) - len(line.lstrip())]
    return f"{indent}pass  # IPython magic/shell line dropped by the grader"


def strip_magics(src: str) -> str:
    """A cell's source with IPython magics and ``!`` shell lines replaced by ``pass``.

    A cell that is already valid Python is kept as it is (a ``%`` line inside a
    string stays). A cell magic (``%%time``...) drops the whole cell.
    """
    if _compiles(src):
        return src
    first = next((ln for ln in src.splitlines() if ln.strip()), "")
    if first.lstrip().startswith("%%"):
        return "# IPython cell magic dropped by the grader\n"
    tm = _transformer()
    if tm is not None:
        try:
            code = tm.transform_cell(src)
        except Exception:  # noqa: BLE001 - fall back to the line rule
            code = None
        if code is not None:
            lines = [_blank_out(ln) if "get_ipython()" in ln else ln for ln in code.splitlines()]
            return "\n".join(lines) + "\n"
    lines = [_blank_out(ln) if ln.lstrip()[:1] in ("%", "!") else ln for ln in src.splitlines()]
    return "\n".join(lines) + "\n"


def _marker(cell: dict) -> tuple[str | None, str]:
    """The module a cell starts (if any) and its source without a ``%%writefile`` line."""
    meta = cell["metadata"].get("rl4llm")
    if isinstance(meta, dict) and isinstance(meta.get("module"), str):
        name = meta["module"].removesuffix(".py")
        if MODULE_RE.match(name):
            return name, cell["source"]
    lines = cell["source"].splitlines()
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is not None:
        m = _WRITEFILE_RE.match(lines[first])
        if m and MODULE_RE.match(m.group(1)):
            return m.group(1), "\n".join(lines[first + 1 :]) + "\n"
        m = _MARKER_RE.match(lines[first])
        if m and MODULE_RE.match(m.group(1)):
            return m.group(1), cell["source"]
    return None, cell["source"]


def _is_grader_cell(cell: dict) -> bool:
    """A grade cell: the course notebooks' marker line, or nbgrader's metadata (grade, no solution)."""
    nb = cell["metadata"].get("nbgrader")
    if isinstance(nb, dict) and nb.get("grade") and not nb.get("solution"):
        return True
    return cell["source"].lstrip().startswith(GRADER_MARK)


@functools.lru_cache(maxsize=1)
def exercise_names() -> dict[str, frozenset[str]]:
    """Each rubric module's public top-level names (functions, classes, variables), from
    the ``course/`` stubs (or ``solutions/``)."""
    from autograder.grading.rubric import Rubric

    found = {}
    for name in Rubric.load().exercises:
        for folder in (REPO_ROOT / "course", REPO_ROOT / "solutions"):
            try:
                tree = ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))
            except (OSError, SyntaxError, ValueError):
                continue
            found[name] = frozenset(_defined(tree))
            break
    return found


def _defined(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


def _module_text(cells: list[dict]) -> str:
    """One module made of ``cells`` with the course's own extraction (``autograder.notebook``,
    also used by ``nbgrader-regrade``), else (without it) the cells with magics dropped."""
    try:
        from autograder.notebook import build_module
    except ImportError:
        build_module = None
    if build_module is not None:
        return build_module([(c["source"], not c["failed"]) for c in cells]).code
    return "\n".join(strip_magics(c["source"]) for c in cells)


def notebook_modules(paths: list[Path]) -> dict[str, str]:
    """Module name -> source, from one or more notebooks (rules in the module docstring)."""
    out: dict[str, str] = {}
    for path in paths:
        for name, code in _one_notebook(path).items():
            header = f"# ---- from {path.name} (extracted by the grader) ----\n"
            out[name] = out.get(name, "") + header + code + "\n"
    for name, code in out.items():
        futures = dict.fromkeys(m.group(0).strip() for m in _FUTURE_RE.finditer(code))
        if (
            futures
        ):  # `from __future__` is legal in any notebook cell, but only at the top of a file
            code = _FUTURE_RE.sub("# (from __future__ import moved to the top)", code)
            out[name] = "\n".join(futures) + "\n" + code
    if not out:
        names = ", ".join(p.name for p in paths)
        raise SubmissionError(
            f"{names}: no code for any exercise (no marker cell, not named after an exercise,"
            " and no function, class or variable of an exercise is defined)"
        )
    return out


def _one_notebook(path: Path) -> dict[str, str]:
    cells = [c for c in read_notebook(path) if c["cell_type"] == "code" and not _is_grader_cell(c)]
    prelude: list[dict] = []
    marked: dict[str, list[dict]] = {}
    current = None
    for cell in cells:
        name, source = _marker(cell)
        if name is not None:
            current = name
            cell = dict(cell, source=source)
        (prelude if current is None else marked.setdefault(current, [])).append(cell)
    if marked:  # files as written (like %%writefile): magics dropped, nothing else changed
        verbatim = lambda group: "\n".join(strip_magics(c["source"]) for c in group)  # noqa: E731
        return {name: verbatim(prelude + group) for name, group in marked.items()}
    code = _module_text(prelude)
    if MODULE_RE.match(path.stem):
        return {path.stem: code}
    try:
        defined = _defined(ast.parse(code))
    except (SyntaxError, ValueError):
        defined = None
    known = exercise_names()
    if defined is None:  # a syntax error: the grader reports it for every exercise
        return dict.fromkeys(known, code)
    return {name: code for name, public in known.items() if public & defined}


def write_modules(modules: dict[str, str], out: Path) -> list[str]:
    """Write ``name.py`` files into ``out``; return one note per file."""
    notes = []
    for name, code in sorted(modules.items()):
        (out / f"{name}.py").write_text(code, encoding="utf-8")
        notes.append(f"wrote {name}.py ({len(code.splitlines())} lines)")
    return notes
