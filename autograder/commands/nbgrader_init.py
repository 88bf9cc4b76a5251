"""``python -m autograder nbgrader-init COURSE``: an nbgrader course folder (config + notebooks)."""

from __future__ import annotations

import argparse
from pathlib import Path

from autograder.commands.common import CliError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Declare the verb."""
    ni = sub.add_parser(
        "nbgrader-init", help="create an nbgrader course folder (config + source notebooks)"
    )
    ni.add_argument(
        "course_dir", help="the course folder to create (run nbgrader commands from there)"
    )
    ni.add_argument(
        "--force",
        action="store_true",
        help="overwrite an existing nbgrader_config.py and notebooks",
    )
    ni.set_defaults(func=run)


def run(ns: argparse.Namespace) -> int:
    """Copy the nbgrader config and the generated source notebooks into the course folder."""
    import shutil

    from autograder import PACKAGE_DIR
    from autograder.build.notebooks import SOURCE_DIR

    course = Path(ns.course_dir)
    config = course / "nbgrader_config.py"
    if config.exists() and not ns.force:
        raise CliError(f"{config} exists (use --force to overwrite it and the source notebooks)")
    if not SOURCE_DIR.is_dir():
        raise CliError(
            f"{SOURCE_DIR}: no generated notebooks (run from a clone of the course repository)"
        )
    course.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PACKAGE_DIR / "data" / "nbgrader_config.py", config)
    print(f"wrote {config}")
    for src in sorted(SOURCE_DIR.glob("*/*.ipynb")):
        dst = course / "source" / src.parent.name / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        print(f"wrote {dst}")
    print(
        f"next: cd {course} && nbgrader generate_assignment <assignment>  (see docs/instructors.md)"
    )
    return 0
