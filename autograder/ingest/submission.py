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
  exercise module): read without a kernel and turned into modules by the rules of
  :mod:`autograder.ingest.notebook` (the same for every entry point). In a folder or zip,
  a ``capstone_record.json`` beside a notebook is copied next to the modules
  (:mod:`autograder.ingest.companions`); a bare ``.ipynb`` entry carries none (its folder is
  the whole batch's), so a notebook student with a record submits a folder or a zip.
* **Gradescope** hands over a folder; a folder holding nothing but one ``.zip`` is that zip.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder.ingest.companions import copy_companions
from autograder.ingest.errors import SubmissionError
from autograder.ingest.notebook import MODULE_RE, notebook_modules

MAX_BYTES = 50 * 1024**2  # total uncompressed size of one submission
MAX_FILES = 2000  # files (zip entries) in one submission
MAX_DEPTH = 2  # exercise modules may sit this many folders below the top
SKIP_DIRS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git", ".hg", ".svn"}
_CHUNK = 1 << 16


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
    if kind == "folder" and (only_zip := _only_zip(entry)) is not None:
        extract_zip(only_zip, files)
    elif kind == "folder":
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
    notes += copy_companions(list(dict.fromkeys(p.parent for p in notebooks)), out)
    return Prepared(out, kind, notes)


def _only_zip(folder: Path) -> Path | None:
    """The one ``.zip`` a folder holds when it holds nothing else (hidden files aside)."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].suffix.lower() == ".zip" and entries[0].is_file():
        return entries[0]
    return None


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


def write_modules(modules: dict[str, str], out: Path) -> list[str]:
    """Write ``name.py`` files into ``out``; return one note per file."""
    notes = []
    for name, code in sorted(modules.items()):
        (out / f"{name}.py").write_text(code, encoding="utf-8")
        notes.append(f"wrote {name}.py ({len(code.splitlines())} lines)")
    return notes
