"""Every figure of issue 14 ("fast and load-proof grading"), in one run.

Usage: python benchmarks/bench_speed.py [--repo PATH] [--only NAME ...] [--pause S]

``--repo`` measures another checkout of the course (e.g. the commit before the change, for
"before" figures) with this script. Figures (wall seconds; the line each must meet in brackets):

- ``one exercise``: ``pytest course/ex06_ppo.py`` on a complete solution, ``(cold)`` without
  the warm server (``RL4LLM_NO_WARM=1``: a fresh process imports everything) and ``(warm)``
  with it (``autograder/grading/warm.py``: the run is forked from a process that has the
  grader imported, as a student's second run is) [3 s]
- ``stubs``: ``pytest course/`` on the untouched stubs, cold and warm as above [3 s]
- ``student loop``: ``pytest course/`` on a complete solution, questions included (with the
  reference's ``capstone_record.json``), twice: ``student loop (cold)`` with an empty
  ``XDG_CACHE_HOME`` and no warm server (the first run trains: the questions' ``train_bandit``
  re-runs, ex11's short GRPO run), then ``student loop (warm)``, the student's edit-run loop,
  which reuses those runs of the same code and is served by the warm server [15 s]
- ``authoritative``: ``python -m autograder grade`` of the reference, sandbox if available,
  with an empty run cache (a first grading) [15 s]; then ``authoritative (re-grade)``, the same
  files again (the questions' ``train_bandit`` runs are reused) [15 s]
- ``all hang``: ``grade`` of the stubs with every ``raise NotImplementedError()`` an endless
  loop [60 s]
- ``paused``: ``pytest course/ex04_reinforce.py`` on a complete solution while its workers are
  SIGSTOPped for ``--pause`` seconds (12 by default): the score must stay full

The warm figures use a private ``XDG_RUNTIME_DIR`` (the server's folder); the server is stopped
at the end. Every other figure runs with ``RL4LLM_NO_WARM=1``.
Prints the machine's core count and load: timings on a loaded machine are not comparable.
No figure is asserted; the test suite holds no timed assertion.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOTAL = re.compile(r"^TOTAL\s+([\d.]+)/([\d.]+)", re.MULTILINE)
TARGETS = {
    "one exercise": 3,
    "stubs": 3,
    "student loop": 15,  # the warm run's line; the cold run (first training) has none
    "authoritative": 15,
    "all hang": 60,
    "paused": None,
}


def complete_course(repo: Path, dest: Path) -> Path:
    """A copy of ``course/`` in which every exercise is the reference implementation."""
    shutil.copytree(repo / "course", dest, ignore=shutil.ignore_patterns("__pycache__"))
    for src in [
        *(repo / "solutions").glob("ex[0-9][0-9]_*.py"),
        repo / "solutions" / "questions.py",
        repo / "solutions" / "capstone_record.json",  # the CAP questions are checked against it
    ]:
        if src.is_file():  # an older checkout may have no record
            shutil.copy(src, dest / src.name)
    return dest


def all_hang(repo: Path, dest: Path) -> Path:
    """The stubs with every ``raise NotImplementedError()`` replaced by an endless loop."""
    shutil.copytree(repo / "course", dest, ignore=shutil.ignore_patterns("__pycache__"))
    for path in dest.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(
            re.sub(
                r"^( *)raise NotImplementedError\(\)$",
                r"\1while True:\n\1    pass",
                text,
                flags=re.MULTILINE,
            ),
            encoding="utf-8",
        )
    return dest


def descendants(root: int) -> list[int]:
    """Processes below ``root`` (one scan of /proc)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                data = Path(f"/proc/{name}/stat").read_bytes()
            except OSError:
                continue
            ppid = int(data[data.rfind(b")") + 2 :].split()[1])
            children.setdefault(ppid, []).append(int(name))
    found, todo = [], list(children.get(root, ()))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def pause_later(root: int, after: float, seconds: float) -> threading.Thread:
    """SIGSTOP every process below ``root`` ``after`` seconds from now, SIGCONT ``seconds`` later."""

    def run() -> None:
        time.sleep(after)
        pids = [p for p in descendants(root) if "main.py" in _cmdline(p)]
        pids = [q for p in pids for q in [p, *descendants(p)]]
        for pid in pids:
            _signal(pid, signal.SIGSTOP)
        time.sleep(seconds)
        for pid in pids:
            _signal(pid, signal.SIGCONT)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
    except OSError:
        return ""


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def run(
    label: str,
    cmd: list[str],
    cwd: Path,
    target: float | None = None,
    pause: float | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """Run ``cmd``, print its wall time, its score and the line it must meet.

    Args:
        label: the figure's name.
        cmd: the command line.
        cwd: where it runs.
        target: the wall seconds it must meet (None: no line).
        pause: SIGSTOP its workers for this many seconds, 3 s in (``paused``).
        env: extra environment variables.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    if pause:
        pause_later(proc.pid, 3.0, pause)
    out = proc.communicate()[0].decode("utf-8", "replace")
    took = time.perf_counter() - start
    total = TOTAL.findall(out)
    score = f"{total[-1][0]}/{total[-1][1]}" if total else "no TOTAL line"
    line = f"[target {target} s: {'ok' if took <= target else 'MISSED'}]" if target else ""
    print(f"{label:<20} {took:7.1f} s   score {score:<14} exit {proc.returncode}  {line}")
    sys.stdout.flush()


NO_WARM = {"RL4LLM_NO_WARM": "1"}


def warm_server(python: str, runtime: Path, repo: Path) -> None:
    """Start the warm server for ``repo``'s grader in ``runtime`` (if none) and wait for it."""
    sockets = runtime / "rl4llm"
    if not list(sockets.glob("*.sock")):
        code = "from autograder.grading import warm; warm.start_server(warm.grader_key())"
        started = subprocess.run([python, "-c", code], cwd=repo, env=warm_env(runtime))
        if started.returncode:  # a checkout without the warm server: warm figures are cold
            return
    deadline = time.monotonic() + 180
    while not list(sockets.glob("*.sock")) and time.monotonic() < deadline:
        time.sleep(0.2)


def warm_env(runtime: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RL4LLM_NO_WARM", "CI")}
    return {**env, "XDG_RUNTIME_DIR": str(runtime)}


def stop_servers(runtime: Path) -> None:
    """Kill the servers started in ``runtime`` (their pid is in their lock file) and their runs."""
    for lock in (runtime / "rl4llm").glob("*.lock"):
        try:
            pid = int(lock.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        for p in [*descendants(pid), pid]:
            _signal(p, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout to measure")
    parser.add_argument("--only", nargs="*", choices=list(TARGETS), default=list(TARGETS))
    parser.add_argument("--pause", type=float, default=12.0, help="seconds of SIGSTOP")
    ns = parser.parse_args()
    repo = ns.repo.resolve()
    python = str(repo / ".venv" / "bin" / "python")
    if not os.path.exists(python):
        python = sys.executable
    print(f"repo {repo}   cores {os.cpu_count()}   load {os.getloadavg()[0]:.1f}")
    runtime = Path(tempfile.mkdtemp(prefix="rl4b-", dir="/tmp"))  # a short socket path
    os.chmod(runtime, 0o700)
    try:
        measure(ns, repo, python, runtime)
    finally:
        stop_servers(runtime)
        shutil.rmtree(runtime, ignore_errors=True)


def measure(ns: argparse.Namespace, repo: Path, python: str, runtime: Path) -> None:
    """Every figure named by ``--only``."""
    pytest = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    grade = [python, "-m", "autograder", "grade"]
    warm = warm_env(runtime)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        done = complete_course(repo, tmp / "course")
        stubs = tmp / "stubs"
        shutil.copytree(repo / "course", stubs, ignore=shutil.ignore_patterns("__pycache__"))
        # The student loop's run cache starts empty; its second run finds what the first kept.
        cache = {"XDG_CACHE_HOME": str(tmp / "xdg")}
        loop = pytest + [str(done)]
        # The grader's own run cache (questions' re-runs) starts empty too: the first grading
        # of a submission always re-runs; a re-grade of the same files reuses those runs.
        graded_cache = {"XDG_CACHE_HOME": str(tmp / "xdg-graded")}
        one = pytest + [str(done / "ex06_ppo.py")]
        hang = grade + [str(all_hang(repo, tmp / "hang"))]
        cases = {  # figure -> [(label, command, pause, environment), ...]
            "one exercise": [
                ("one exercise (cold)", one, None, NO_WARM),
                ("one exercise (warm)", one, None, warm),
            ],
            "stubs": [
                ("stubs (cold)", pytest + [str(stubs)], None, NO_WARM),
                ("stubs (warm)", pytest + [str(stubs)], None, warm),
            ],
            "student loop": [
                ("student loop (cold)", loop, None, {**cache, **NO_WARM}),
                ("student loop (warm)", loop, None, {**warm, **cache}),
            ],
            "authoritative": [  # the first grading of these files, then a re-grade of them
                (
                    "authoritative",
                    grade + [str(repo / "solutions")],
                    None,
                    {**graded_cache, **NO_WARM},
                ),
                (
                    "authoritative (re-grade)",
                    grade + [str(repo / "solutions")],
                    None,
                    {**graded_cache, **NO_WARM},
                ),
            ],
            "all hang": [("all hang", hang, None, NO_WARM)],
            "paused": [("paused", pytest + [str(done / "ex04_reinforce.py")], ns.pause, NO_WARM)],
        }
        for name in ns.only:
            for label, cmd, pause, env in cases[name]:
                if env is warm or env.get("XDG_RUNTIME_DIR"):
                    warm_server(python, runtime, repo)
                target = None if label.endswith("(cold)") else TARGETS[name]
                run(label, cmd, repo, target, pause, env)


if __name__ == "__main__":
    main()
