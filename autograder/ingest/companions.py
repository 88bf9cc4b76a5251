"""Files a notebook submission carries *beside* the notebook: the capstone's run record.

A folder submission holds its files where they are graded. A notebook becomes modules in a
fresh folder (:mod:`autograder.ingest.notebook`), so whatever else the checks read must be
copied there from the notebook's own folder: today only ``capstone_record.json``, which the
capstone questions (CAP1-CAP3) are checked against (:mod:`autograder.capstone.answers`). The
student writes it with ``python -m autograder capstone --notebook a4_capstone.ipynb`` and
submits it with the notebook (nbgrader collects the whole assignment folder; on Gradescope
they upload both files).

Every path that grades a notebook uses :func:`copy_companions`: ``grade-batch`` and
Gradescope (:func:`autograder.ingest.submission.prepare`), ``nbgrader-regrade`` and the grade
cells in a live kernel (the kernel's working folder, which is the notebook's). A missing
file is not an error here: the check that needs it says what to run. Only a regular file
(no symlink) of at most :data:`MAX_BYTES` is copied; the checks validate its content.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from autograder.capstone.record import MAX_BYTES, RECORD_NAME

COMPANIONS = (RECORD_NAME,)


def usable(path: Path) -> bool | None:
    """Whether ``path`` may be copied (a regular file of at most MAX_BYTES); None: absent."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return stat.S_ISREG(info.st_mode) and info.st_size <= MAX_BYTES


def copy_companions(sources: list[Path], out: Path) -> list[str]:
    """Copy the companion files of the first folder in ``sources`` that has each into ``out``.

    Args:
        sources: the notebooks' folders, in the order the notebooks were read.
        out: the folder being graded (a file already there is kept: a folder submission's own).

    Returns:
        One note per file copied (for the submission's report).
    """
    notes = []
    for name in COMPANIONS:
        if (Path(out) / name).exists():
            continue
        for folder in sources:
            ok = usable(Path(folder) / name)
            if ok is None:
                continue
            if ok:
                shutil.copyfile(Path(folder) / name, Path(out) / name, follow_symlinks=False)
                notes.append(f"copied {name} from beside the notebook")
            else:
                notes.append(f"{name} beside the notebook is not a regular file or too big")
            break
    return notes
