"""One submission's grading process in a batch (:mod:`autograder.grading.batch`): the job
record, and preparing the submission and starting ``python -m autograder grade`` on it
(forked from the grader's fork server where it is usable, else a fresh interpreter).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder import REPO_ROOT
from autograder.grading import forkserver
from autograder.grading.ledger import Entry
from autograder.grading.proctree import die_with_parent
from autograder.ingest.submission import SubmissionError, prepare
from autograder.seam.cputime import ProcessTree


@dataclass
class Job:
    """One submission being graded: its grading process, output log and CPU budget."""

    entry: Entry
    workdir: Path
    proc: subprocess.Popen | None = None
    started: float = 0.0
    log: io.BufferedWriter | None = None
    error: str = ""  # why it could not be prepared
    tree: ProcessTree | None = None  # the grading process and its workers (CPU time)
    cpu: float = 0.0  # CPU seconds the tree has used so far (never decreases)
    looked: float = 0.0  # when its CPU time was last read (monotonic)
    missing: list[str] = field(default_factory=list)  # exercise modules it does not have


def start_job(
    entry: Entry, tmp: Path, out: Path, exercises: list[str], seed: int, sandbox: str
) -> Job:
    """Prepare the submission and start its grading process (or record why not).

    Args:
        entry: the submission.
        tmp: the batch's private temp dir (the job's work dir is made in it).
        out: the batch's output folder (``out/<id>/results.json`` and ``output.txt``).
        exercises: the exercises to grade.
        seed: the batch seed.
        sandbox: ``"auto"``, ``"require"`` or ``"off"`` (passed on to ``grade``).

    Returns:
        The job: with ``proc`` (and ``tree``) when its grading process started, else with
        ``error`` (why the submission could not be prepared).
    """
    job = Job(entry, Path(tempfile.mkdtemp(prefix=f"{entry.id[:40]}-", dir=tmp)))
    out_dir = out / entry.id
    out_dir.mkdir(parents=True, exist_ok=True)
    results = out_dir / "results.json"
    results.unlink(missing_ok=True)  # whatever is there is incomplete: never trust it
    job.started = time.monotonic()
    (out_dir / "output.txt").write_bytes(b"")
    # appending: a forked grading process appends its output to the same file
    job.log = open(out_dir / "output.txt", "ab")  # noqa: SIM115 - closed in finish()
    head = [f"submission: {entry.path.name} ({entry.kind})"]
    try:
        prepared = prepare(entry.path, job.workdir)
    except SubmissionError as exc:
        job.log.write(("\n".join(head) + f"\nerror: {exc}\n").encode())
        job.error = str(exc)
        return job
    head += [f"prepared: {note}" for note in prepared.notes]
    job.missing = [n for n in exercises if not (prepared.path / f"{n}.py").is_file()]
    cmd = [sys.executable, "-m", "autograder", "grade", str(prepared.path)]
    cmd += ["--json", str(results), "--seed", str(seed), "--only", *exercises]
    cmd += ["--jobs", "1"]  # the batch grades submissions in parallel, each in one process
    cmd += {"require": ["--require-sandbox"], "off": ["--no-sandbox"]}.get(sandbox, [])
    tmp = job.workdir / "tmp"
    tmp.mkdir()
    env = dict(os.environ)
    env.update(TMPDIR=str(tmp), PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    job.log.write(("\n".join(head) + "\n\n").encode())
    job.log.flush()
    if forkserver.usable():
        job.proc = forkserver.start(cmd[3:], out_dir / "output.txt", tmp, env)
        job.tree = ProcessTree(job.proc.pid)
        return job
    job.proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=job.log,
        stderr=subprocess.STDOUT,
        cwd=tmp,  # never the submission: `python -m` puts the cwd on sys.path
        env=env,
        start_new_session=True,
        preexec_fn=die_with_parent if sys.platform.startswith("linux") else None,
    )
    job.tree = ProcessTree(job.proc.pid)
    return job
