"""``python -m autograder grade-batch DIR --out OUT``: grade every submission of a folder.

Each entry of ``DIR`` (a folder, a ``.zip`` or an ``.ipynb``; see
:mod:`autograder.ingest.submission`) is turned into a folder laid out like course/ in a
private temp dir and graded by its own ``python -m autograder grade`` process (forked
from a server that has imported the grader, :mod:`autograder.grading.forkserver`; a fresh
interpreter where that is unavailable), ``--jobs`` at a time, with one secret seed for the
whole batch. A grading process
that uses more than ``--timeout`` seconds of CPU time (its own and its workers'), or that
is still running after the wall-clock backstop (``max(3 x timeout, timeout + 30 s)``: a
submission that sleeps), is killed with everything it started, and the submission gets a
failure row; nothing a submission does costs more than its own budget, and a busy machine
(many jobs on few cores) never runs an honest submission out of time.

Output, for every submission id (the entry's name without ``.zip``/``.ipynb``)::

    OUT/<id>/results.json   Gradescope results (always written, also on failure)
    OUT/<id>/output.txt     what the grader printed (score table, warnings)
    OUT/scores.csv          id, total, max, one column per exercise, status, sandbox_tier, notes
    OUT/batch.log           the seed and one line per graded submission (instructor-only)

``scores.csv`` is rebuilt from the ``results.json`` files after every submission
and at the end, so it never has duplicated or lost rows. A ``results.json`` is
complete once the batch has stamped it (``extra_data.batch.complete``) after
the grading process ended; running the same command again skips the complete
ones (same exercises, same seed - read back from ``batch.log``), so a killed
batch resumes where it stopped.

All workers of all grading processes run as the one sandbox user, whose
RLIMIT_NPROC is shared: while one submission's fork bomb holds the limit, the
workers of other submissions cannot start. A submission whose worker could not
start for that reason is graded again at the end, alone.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from autograder.grading import batch_scores, forkserver
from autograder.grading.authoritative import new_seed
from autograder.grading.batch_jobs import Job, start_job
from autograder.grading.ledger import (
    Entry,
    as_number,
    discover,
    is_complete,
    last_error,
    needs_retry,
    read_results,
)
from autograder.grading.proctree import become_subreaper, kill_tree, ppid_map
from autograder.grading.report import failure_results, write_json_atomic
from autograder.seam.cputime import backstop

DEFAULT_TIMEOUT = 900.0  # seconds per submission: preparing, starting and grading
_SEED_RE = re.compile(r"\bseed=(\d+)\b")
_POLL = 0.1


@dataclass
class Outcome:
    """What happened to one submission in this run (for the summary and the tests)."""

    id: str
    status: str
    seconds: float
    graded: bool  # False: skipped because a complete results.json was there


# -- the batch ----------------------------------------------------------------------------------


class Batch:
    """Grade the submissions of ``src`` into ``out`` (see the module docstring).

    Args:
        src: folder whose entries are the submissions.
        out: output folder (created).
        jobs: grading processes at a time.
        seed: the batch seed (default: the one in ``out/batch.log``, else a fresh secret one).
        exercises: the exercises to grade (default: all of the rubric).
        sandbox: ``"auto"``, ``"require"`` or ``"off"`` (passed on to ``grade``).
        timeout: seconds per submission.
        reap_orphans: make this process a child subreaper and kill orphans it inherits
            (only for the command-line process, whose only children are grading processes).
    """

    def __init__(
        self,
        src: Path,
        out: Path,
        *,
        jobs: int | None = None,
        seed: int | None = None,
        exercises: list[str] | None = None,
        sandbox: str = "auto",
        timeout: float = DEFAULT_TIMEOUT,
        reap_orphans: bool = False,
        stream=None,
    ) -> None:
        from autograder.grading.rubric import Rubric

        self.src = Path(src)
        self.out = Path(out).resolve()  # the grading processes run in folders of their own
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.rubric = Rubric.load()
        wanted = set(exercises or self.rubric.exercises)
        self.exercises = [n for n in self.rubric.exercises if n in wanted]  # rubric order
        self.sandbox = sandbox
        self.timeout = float(timeout)
        self.reap = reap_orphans and become_subreaper()
        self.stream = stream if stream is not None else sys.stderr
        self.out.mkdir(parents=True, exist_ok=True)
        self.log_path = self.out / "batch.log"
        self.seed, how = self._choose_seed(seed)
        self.entries, self.ignored = discover(self.src, self.out)
        self.tmp = Path()  # a private temp dir while run() runs
        self.log(
            f"batch start src={self.src} jobs={self.jobs} timeout={self.timeout:g}s "
            f"sandbox={sandbox} exercises={','.join(self.exercises)}"
        )
        self.log(f"seed={self.seed} ({how})")
        for name in self.ignored:
            self.log(f"ignored {name} (not a folder, .zip or .ipynb)")
        self.done = 0
        self._swept = 0.0
        self.total = 0
        self.bar = None

    # -- bookkeeping ---------------------------------------------------------------
    def _choose_seed(self, seed: int | None) -> tuple[int, str]:
        if seed is not None:
            return seed, "given with --seed"
        try:
            found = _SEED_RE.findall(self.log_path.read_text())
        except OSError:
            found = []
        if found:
            return int(found[-1]), f"read back from {self.log_path.name}"
        return new_seed(), "fresh secret seed"

    def log(self, line: str) -> None:
        stamp = datetime.now().isoformat(timespec="seconds")
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a") as fh:
            fh.write(f"{stamp} {line}\n")

    def say(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def results_path(self, entry: Entry) -> Path:
        return self.out / entry.id / "results.json"

    # -- running ---------------------------------------------------------------------
    def run(self) -> list[Outcome]:
        """Grade what is not graded yet; rebuild scores.csv; return one Outcome per entry."""
        outcomes: dict[str, Outcome] = {}
        todo = []
        for entry in self.entries:
            if is_complete(self.results_path(entry), self.exercises, self.seed):
                outcomes[entry.id] = Outcome(entry.id, self.status_of(entry), 0.0, graded=False)
            else:
                todo.append(entry)
        skipped = len(self.entries) - len(todo)
        if skipped:
            self.log(f"resume: {skipped} submission(s) already graded, {len(todo)} to grade")
            self.say(f"{skipped} submission(s) already graded; {len(todo)} to grade")
        self.total = len(todo)
        self.write_csv()
        self.tmp = Path(tempfile.mkdtemp(prefix="rl4llm-batch-"))
        try:
            self._start_progress()
            outcomes.update(self._grade(todo, self.jobs))
            retry = [
                e
                for e in todo
                if needs_retry(read_results(self.results_path(e)), self.out / e.id / "output.txt")
            ]
            if retry:
                names = ", ".join(e.id for e in retry)
                self.log(f"retry alone (a worker could not start: process limit): {names}")
                self.say(f"grading again, one at a time: {names}")
                self.total += len(retry)
                outcomes.update(self._grade(retry, 1))
        finally:
            if self.bar is not None:
                self.bar.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.write_csv()
        ok = sum(1 for o in outcomes.values() if o.status == "ok")
        self.log(
            f"batch end: {len(outcomes)} submission(s), {ok} ok, {len(outcomes) - ok} error(s)"
        )
        return [outcomes[e.id] for e in self.entries if e.id in outcomes]

    def _start_progress(self) -> None:
        """A tqdm bar on a terminal; otherwise (or without tqdm) one line per submission."""
        if not (hasattr(self.stream, "isatty") and self.stream.isatty()):
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self.bar = tqdm(total=self.total, file=self.stream, unit="sub", desc="grading")

    def _grade(self, entries: list[Entry], jobs: int) -> dict[str, Outcome]:
        pending = deque(entries)
        running: dict[str, Job] = {}
        outcomes: dict[str, Outcome] = {}
        try:
            while pending or running:
                while pending and len(running) < jobs:
                    job = self.start(pending.popleft())
                    if job.proc is None:
                        outcomes[job.entry.id] = self.finish(job, None)
                    else:
                        running[job.entry.id] = job
                time.sleep(_POLL)
                for ident, job in list(running.items()):
                    rc = job.proc.poll()
                    if rc is None and self.out_of_time(job):
                        kill_tree(job.proc)
                        rc = "timeout"
                    if rc is not None:
                        del running[ident]
                        outcomes[ident] = self.finish(job, rc)
                self.sweep(running)
        except BaseException:
            for job in running.values():
                kill_tree(job.proc)
                self._cleanup(job)
            self.sweep({})
            self.log(f"interrupted; {len(running)} grading process(es) killed")
            raise
        return outcomes

    def out_of_time(self, job: Job) -> bool:
        """Whether a running job has spent its CPU budget or passed the wall backstop."""
        now = time.monotonic()
        if now - job.started > backstop(self.timeout):
            return True
        if job.tree is None or not job.tree.enabled:
            return now - job.started > self.timeout  # no /proc: wall-clock time, as before
        if now - job.looked >= 1.0:  # one /proc scan per job and second
            job.looked = now
            job.cpu = max(job.cpu, sum(job.tree.rescan().values()))
        return job.cpu > self.timeout

    def start(self, entry: Entry) -> Job:
        """Prepare the submission and start its grading process (or record why not)."""
        return start_job(entry, self.tmp, self.out, self.exercises, self.seed, self.sandbox)

    def finish(self, job: Job, rc) -> Outcome:
        """Write the final (stamped) results.json for a finished, failed or killed job."""
        entry = job.entry
        path = self.results_path(entry)
        seconds = time.monotonic() - job.started
        data = read_results(path) if job.proc is not None else None
        if job.proc is None:
            data, status = failure_results(job.error), f"error: {job.error}"
        elif rc == "timeout":
            data = failure_results(
                f"grading used more than {self.timeout:g} s of CPU time, or ran past "
                f"{backstop(self.timeout):g} s of wall-clock time, and was stopped"
            )
            status = f"error: timed out after {self.timeout:g} s"
        elif data is None:
            how = f"was killed by signal {-rc}" if rc < 0 else f"exited with code {rc}"
            said = last_error(self.out / entry.id / "output.txt")
            data = failure_results(f"the grader {how} without writing results" + said)
            status = f"error: the grader {how}{said}"
        elif isinstance(data.get("extra_data"), dict) and data["extra_data"].get("catastrophic"):
            msg = str(data.get("output", "")).split(": ", 1)[-1].splitlines()[0][:200]
            status = f"error: {msg}"
        elif rc != 0:
            status = f"error: the grader exited with code {rc}"
        else:
            status = "ok"
        if job.log is not None:
            if rc == "timeout":
                job.log.write(f"\n[batch] stopped after {self.timeout:g} s\n".encode())
            job.log.close()
        extra = data.setdefault("extra_data", {})
        if not isinstance(extra, dict):
            extra = data["extra_data"] = {}
        extra["batch"] = {
            "complete": True,
            "id": entry.id,
            "source": entry.path.name,
            "status": status,
            "exercises": self.exercises,
            "seed": self.seed,
            "missing": job.missing,
            "seconds": round(seconds, 2),
        }
        write_json_atomic(path, data)
        self._cleanup(job)
        self.done += 1
        total = sum(as_number(t.get("score")) for t in data.get("tests", []) if isinstance(t, dict))
        top = self.max_points(data)
        self.log(
            f"graded id={entry.id} status={status!r} score={total:g}/{top:g} time={seconds:.1f}s"
        )
        line = (
            f"[{self.done}/{self.total}] {entry.id}: {status} {total:g}/{top:g} ({seconds:.1f} s)"
        )
        self.say(line)
        if self.bar is not None:
            self.bar.update(1)
        self.write_csv()
        return Outcome(entry.id, status, seconds, graded=True)

    def _cleanup(self, job: Job) -> None:
        if job.log is not None and not job.log.closed:
            job.log.close()
        shutil.rmtree(job.workdir, ignore_errors=True)

    def sweep(self, running: dict[str, Job]) -> None:
        """Kill and reap orphans that were re-parented to us (only as a subreaper)."""
        if not self.reap or (running and time.monotonic() - self._swept < 1.0):
            return
        self._swept = time.monotonic()
        mine = {job.proc.pid for job in running.values() if job.proc is not None}
        mine |= forkserver.helpers()
        me, own = os.getpid(), os.getpgrp()
        for pid, ppid in ppid_map().items():
            if ppid != me or pid in mine:
                continue
            with contextlib.suppress(OSError):
                if os.getpgid(pid) != own:  # never the batch's own process group
                    os.killpg(os.getpgid(pid), signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(pid, os.WNOHANG)

    # -- the CSV (autograder.grading.batch_scores) ------------------------------------
    def max_points(self, data: dict) -> float:
        return batch_scores.max_points(data, self.rubric, self.exercises)

    def status_of(self, entry: Entry) -> str:
        return batch_scores.status_of(self.results_path(entry))

    def write_csv(self) -> None:
        """Rebuild OUT/scores.csv from the results.json files (atomically)."""
        batch_scores.write_scores(self.out, self.entries, self.exercises, self.rubric)


def lock_out_dir(out: Path):
    """An exclusive lock on OUT (one batch at a time), or None if another batch holds it."""
    import fcntl

    out.mkdir(parents=True, exist_ok=True)
    fh = open(out / ".batch.lock", "w")  # noqa: SIM115 - held for the whole run
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        return None
    return fh
