"""The Gradescope autograder zip: ``python -m autograder gradescope-zip OUT.zip``.

The zip holds, at its root (Gradescope's layout)::

    setup.sh          run once as root when Gradescope builds the image: apt installs Python
                      >= 3.11, venv and bubblewrap; pip installs torch (CPU) and this package
    run_autograder    run per submission: grades /autograder/submission into
                      /autograder/results/results.json (always written, also on failure)
    package/          the grader, from an allowlist (:data:`ALLOW`): autograder/ with every
                      check (hidden ones included), solutions/ (the reference the hidden
                      checks compare with), course/, pyproject.toml - nothing is
                      downloaded at grading time

The reference is the only answer in the zip, and it stays on the grader's side: the
bubblewrap sandbox never binds it, and ``setup.sh`` makes it readable by root only, so a
worker running as another user cannot read it either. (With the plain launcher, used
only where no sandbox works and announced as ``UNSANDBOXED``, student code runs as the
grader's user and could read it.)

Only ``setup.sh`` needs the network (Debian/Ubuntu packages and PyPI). The
submission may be the ``exNN_*.py`` files (loose or in a folder), a zip of them,
or notebooks (the course's assignment notebooks or any notebook defining the
exercises' functions): notebooks are read with nbformat, never executed.

``run_autograder`` honours ``AUTOGRADER_ROOT`` (default ``/autograder``) and
``AUTOGRADER_PYTHON`` (default ``$AUTOGRADER_ROOT/venv/bin/python``), so it can be
tried on a fake tree: ``python -m autograder gradescope-zip ag.zip`` then see
``tests/test_gradescope.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import sys
import tempfile
import traceback
import zipfile
from pathlib import Path

from autograder import REPO_ROOT

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope image set-up (runs once, as root). Choose the Ubuntu 22.04 or 24.04 base image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap util-linux ca-certificates
PY=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    # Ubuntu 22.04 ships Python 3.10; the grader needs 3.11+
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
    PY=python3.11
fi
"$PY" -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install -e /autograder/source/package
# the reference solutions are for the grader (root) only: a worker that runs as another user
# cannot read them, and the bubblewrap sandbox never binds them
chown -R root:root /autograder/source/package/solutions
chmod -R go-rwx /autograder/source/package/solutions
# a dedicated unprivileged user for the sandboxed workers (the grader creates it if missing)
id rl4llm-sbx >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin rl4llm-sbx
/autograder/venv/bin/python -c "import autograder.grading.run; print('grader installed')"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope entry point: grade /autograder/submission, write /autograder/results/results.json.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PY="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
mkdir -p "$ROOT/results"
cd "$ROOT" || exit 0
"$PY" -I -m autograder.build.gradescope run --root "$ROOT" || true
if [ ! -s "$ROOT/results/results.json" ]; then
    printf '%s\n' '{"score": 0.0, "output": "The autograder could not run; please contact the course staff.", "tests": []}' \
        > "$ROOT/results/results.json"
fi
"""

# What the zip carries under package/: an allowlist of globs relative to the repository, so
# a stray file (a .orig, a notebook with outputs, a data file) never ships by accident.
ALLOW = (
    "pyproject.toml",
    "README.md",
    "autograder/**/*.py",
    "autograder/*.toml",
    "autograder/checks/pytest.ini",
    "course/*.py",
    "solutions/*.py",  # the reference: the grader's ``ref`` fixture, never the worker's
)
REFERENCE = "solutions"
"""The one part of the zip that holds answers; ``setup.sh`` makes it readable by root only."""


def package_files(root: Path = REPO_ROOT) -> list[str]:
    """The repository files the zip carries under ``package/`` (relative paths, sorted)."""
    out = set()
    for pattern in ALLOW:
        out.update(p.relative_to(root).as_posix() for p in root.glob(pattern) if p.is_file())
    return sorted(f for f in out if "__pycache__" not in f)


def build_zip(out: Path, exercises: list[str] | None = None, sandbox: str = "auto") -> list[str]:
    """Write the autograder zip; returns its member names.

    Args:
        exercises: grade only these exercises (one Gradescope assignment per course
            assignment); default: every exercise of the rubric.
        sandbox: the sandbox mode at grading time: ``"auto"`` (the best tier that works),
            ``"require"`` (fail closed: a submission is not graded without a confined tier,
            bwrap or uid-only) or ``"off"``.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    members: list[str] = []

    def add(zf: zipfile.ZipFile, arcname: str, data: bytes, mode: int = 0o644) -> None:
        info = zipfile.ZipInfo(arcname, date_time=(2026, 1, 1, 0, 0, 0))
        info.external_attr = (stat.S_IFREG | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, data)
        members.append(arcname)

    tmp = out.with_suffix(out.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        add(zf, "setup.sh", SETUP_SH.encode(), 0o755)
        add(zf, "run_autograder", RUN_AUTOGRADER.encode(), 0o755)
        if exercises or sandbox != "auto":
            config = {"exercises": list(exercises or []), "sandbox": sandbox}
            add(zf, "package/gradescope.json", json.dumps(config).encode())
        if not (REPO_ROOT / REFERENCE).is_dir():
            raise FileNotFoundError(
                f"{REPO_ROOT / REFERENCE} is missing: the zip needs the reference solutions"
            )
        for rel in package_files():
            add(zf, f"package/{rel}", (REPO_ROOT / rel).read_bytes())
    os.replace(tmp, out)
    return members


# -- at grading time (inside Gradescope) ----------------------------------------------------------
def configured_exercises() -> list[str] | None:
    """The exercises ``gradescope-zip --assignment/--only`` chose (None: all)."""
    path = REPO_ROOT / "gradescope.json"
    if path.is_file():
        return json.loads(path.read_text()).get("exercises") or None
    return None


def configured_sandbox() -> str:
    """The sandbox mode ``gradescope-zip --require-sandbox/--no-sandbox`` chose (default auto)."""
    path = REPO_ROOT / "gradescope.json"
    if path.is_file():
        return str(json.loads(path.read_text()).get("sandbox", "auto"))
    return "auto"


def run(root: Path) -> int:
    """Grade ``root/submission`` into ``root/results/results.json`` (always written)."""
    from autograder.grading.authoritative import authoritative
    from autograder.grading.parallel import usable_cpus
    from autograder.grading.report import failure_results, gradescope, write_json_atomic
    from autograder.ingest.submission import prepare

    results = root / "results" / "results.json"
    work = Path(tempfile.mkdtemp(prefix="rl4llm-gs-"))
    try:
        prepared = prepare(root / "submission", work)
        folder, notes = prepared.path, prepared.notes
        run_result = authoritative(
            folder, configured_exercises(), configured_sandbox(), jobs=usable_cpus()
        )
        data = gradescope(run_result)
        data["extra_data"]["submission_notes"] = notes
        write_json_atomic(results, data)
        print("\n".join([*notes, data["output"], f"grading seed: {run_result.seed}"]))
    except Exception as exc:  # noqa: BLE001 - results.json is written whatever happens
        traceback.print_exc()
        write_json_atomic(results, failure_results(f"{type(exc).__name__}: {exc}"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.build.gradescope")
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="grade <root>/submission into <root>/results/results.json")
    r.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    z = sub.add_parser("zip", help="build the autograder zip")
    z.add_argument("out")
    z.add_argument("--only", nargs="+")
    ns = parser.parse_args(argv)
    if ns.cmd == "run":
        return run(Path(ns.root))
    build_zip(Path(ns.out), ns.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
