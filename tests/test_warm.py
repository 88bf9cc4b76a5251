"""The warm grading server (``autograder/grading/warm.py``, ``warmserver.py``), end to end.

Each test runs ``pytest COURSE/ex02_returns.py`` as a student would, in a subprocess with a
private ``XDG_RUNTIME_DIR``/``XDG_CACHE_HOME`` and without the suite's ``RL4LLM_NO_WARM``; the
first (cold) run starts a server in the background, the next one is handed to it. Every
server a test started is killed at its end.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder.grading import warm
from autograder.grading.proctree import descendants

SLOW = pytest.mark.slow  # grades real submissions end to end

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 300  # seconds for one run
SERVER_WAIT = 120.0  # seconds for a server to import torch and listen
TIMING = re.compile(r" in [\d.]+s(?: \([^)]*\))?[ =]*$")


def complete_copy(dest: Path) -> Path:
    """``course/`` with the reference's ``ex02_returns.py``."""
    shutil.copytree(REPO / "course", dest, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "solutions" / "ex02_returns.py", dest / "ex02_returns.py")
    return dest


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


@pytest.fixture
def env(tmp_path: Path):
    """A private server folder and an environment with warm runs on; kills every server after."""
    runtime = Path(tempfile.mkdtemp(prefix="rl4w-", dir="/tmp"))  # a short Unix socket path
    os.chmod(runtime, 0o700)
    environ = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), XDG_CACHE_HOME=str(tmp_path / "c"))
    environ.pop("RL4LLM_NO_WARM", None)
    environ.pop("CI", None)
    environ["RL4LLM_WARM_IDLE"] = "120"
    yield environ
    for lock in (runtime / "rl4llm").glob("*.lock"):
        try:
            pid = int(lock.read_text().split()[0])
        except (ValueError, IndexError):
            continue
        for p in [*descendants(pid), pid]:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
    shutil.rmtree(runtime, ignore_errors=True)


def run(target: Path, environ: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(target), "-p", "no:cacheprovider"],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def folder(environ: dict) -> Path:
    return Path(environ["XDG_RUNTIME_DIR"]) / "rl4llm"


def server_log(environ: dict) -> str:
    return "".join(p.read_text() for p in sorted(folder(environ).glob("*.log")))


def served(environ: dict) -> list[int]:
    """The pids of the runs the server forked so far (from its log)."""
    return [int(m) for m in re.findall(r"\] run (\d+): \[", server_log(environ))]


def server_pid(environ: dict) -> int | None:
    for lock in folder(environ).glob("*.lock"):
        text = lock.read_text().split()
        if text and Path(f"/proc/{text[0]}").exists():
            return int(text[0])
    return None


def wait_for_server(environ: dict) -> None:
    deadline = time.monotonic() + SERVER_WAIT
    while not list(folder(environ).glob("*.sock")):
        assert time.monotonic() < deadline, f"no server came up:\n{server_log(environ)}"
        time.sleep(0.2)


def wait_gone(pids: list[int], seconds: float) -> list[int]:
    """The pids among ``pids`` still alive (zombies count as gone) after up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        alive = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state != "Z":
                alive.append(pid)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


DURATIONS = re.compile(r"^[\d.]+s (?:setup|call|teardown) |slowest \d+ durations|durations < ")


def screen(out: str) -> list[str]:
    """The output's lines without timings (the last line's, ``--durations``)."""
    lines = [line for line in out.splitlines() if not DURATIONS.search(line)]
    return [TIMING.sub("", line).strip("= ") for line in lines]


def same_screen(cold: str, warm_out: str) -> None:
    """Cold and warm output agree line for line, but for timings."""
    a, b = screen(cold), screen(warm_out)
    assert a == b, f"cold:\n{cold[-3000:]}\nwarm:\n{warm_out[-3000:]}"


def cold_then_warm(course: Path, environ: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    target = course / "ex02_returns.py"
    cold = run(target, environ, tmp_path)
    assert not served(environ)
    wait_for_server(environ)
    hot = run(target, environ, tmp_path)
    assert len(served(environ)) == 1, f"the second run was not served:\n{server_log(environ)}"
    assert hot.returncode == cold.returncode, (cold.stdout[-2000:], hot.stdout[-2000:])
    same_screen(cold.stdout, hot.stdout)
    assert hot.stderr == cold.stderr
    return cold


@SLOW
def test_complete_solution_same_verdicts_warm(env, tmp_path):
    cold = cold_then_warm(complete_copy(tmp_path / "done"), env, tmp_path)
    assert cold.returncode == 0
    assert re.search(r"^TOTAL\s+(\S+)/\1\s*$", cold.stdout, re.MULTILINE), cold.stdout[-2000:]


@SLOW
def test_broken_exercise_same_verdicts_warm(env, tmp_path):
    """A wrong value and an exception give the same failures, warm and cold."""
    course = complete_copy(tmp_path / "broken")
    ex02 = course / "ex02_returns.py"
    edit(ex02, "        out[t] = running\n", "        out[t] = running + 1.0\n")
    edit(ex02, "    x64 = torch.as_tensor(x)", "    raise RuntimeError('broken')\n    x64 = (x)")
    cold = cold_then_warm(course, env, tmp_path)
    assert cold.returncode == 1
    assert "FAIL" in cold.stdout and "RuntimeError" in cold.stdout


@SLOW
def test_endless_loop_same_verdict_warm(env, tmp_path):
    """The forked zygote's workers keep their CPU budget: a loop times out as it does cold."""
    course = complete_copy(tmp_path / "loop")
    edit(
        course / "ex02_returns.py",
        "    x64 = torch.as_tensor(x)",
        "    while True:\n        pass\n    x64 = (x)",
    )
    cold = cold_then_warm(course, env, tmp_path)
    assert cold.returncode == 1 and "did not return" in cold.stdout, cold.stdout[-2000:]


@SLOW
def test_no_warm_and_stale_server_run_locally(env, tmp_path):
    course = complete_copy(tmp_path / "done")
    target = course / "ex02_returns.py"
    run(target, env, tmp_path)
    wait_for_server(env)
    local = run(target, dict(env, RL4LLM_NO_WARM="1"), tmp_path)
    assert local.returncode == 0 and not served(env), server_log(env)
    # The grader changes (as after a `git pull`): the old server must not serve it, and exits.
    pid = server_pid(env)
    probe = REPO / "autograder" / "course.toml"
    before = os.stat(probe)
    try:
        os.utime(probe, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
        stale = run(target, env, tmp_path)
        assert stale.returncode == 0
        assert not served(env), server_log(env)
        assert not wait_gone([pid], 30.0), f"the stale server did not exit:\n{server_log(env)}"
    finally:
        os.utime(probe, ns=(before.st_atime_ns, before.st_mtime_ns))


@SLOW
def test_killed_client_takes_its_run_along(env, tmp_path):
    """SIGINT reaches the run (exit 2, as pytest's own); a killed client leaves nothing behind."""
    course = complete_copy(tmp_path / "done")
    (course / "test_sleep.py").write_text(
        "import time\n\n\ndef test_sleep():\n    time.sleep(600)\n"
    )
    run(course / "ex02_returns.py", env, tmp_path)
    wait_for_server(env)

    started: list[int] = []

    def start() -> tuple[subprocess.Popen, int]:
        client = subprocess.Popen(
            [sys.executable, "-m", "pytest", str(course / "test_sleep.py")],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while len(served(env)) <= len(started):
            assert time.monotonic() < deadline and client.poll() is None, server_log(env)
            time.sleep(0.1)
        child = served(env)[-1]
        started.append(child)
        deadline = time.monotonic() + 60  # the run's zygote: forked from the run, not started
        while not descendants(child):
            assert time.monotonic() < deadline, "the warm run started no zygote"
            time.sleep(0.1)
        time.sleep(1.0)
        return client, child

    client, child = start()
    for pid in descendants(child):
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert b"main.py" not in cmd, "the warm run's zygote was started afresh"
    client.send_signal(signal.SIGINT)
    out = client.communicate(timeout=60)[0].decode()
    assert client.returncode == 2, out[-2000:]
    assert "test_sleep.py:5: KeyboardInterrupt" in out, out[-2000:]  # the run's own report

    client, child = start()
    tree = [child, *descendants(child)]
    client.kill()
    client.wait(timeout=10)
    assert not wait_gone(tree, 20.0), "the run of a killed client is still running"


@SLOW
def test_idle_server_exits(env, tmp_path):
    env["RL4LLM_WARM_IDLE"] = "2"
    run(complete_copy(tmp_path / "done") / "ex02_returns.py", env, tmp_path)
    wait_for_server(env)
    pid = server_pid(env)
    assert pid is not None
    assert not wait_gone([pid], 30.0), f"the idle server did not exit:\n{server_log(env)}"
    assert not list(folder(env).glob("*.sock"))
    assert "idle: exiting" in server_log(env)


def test_disabled_by_env(monkeypatch):
    monkeypatch.setenv("RL4LLM_NO_WARM", "1")
    assert warm.disabled()
    monkeypatch.delenv("RL4LLM_NO_WARM")
    monkeypatch.setenv("RL4LLM_WARM_CHILD", "1")
    assert warm.disabled()
    monkeypatch.delenv("RL4LLM_WARM_CHILD")
    monkeypatch.delenv("CI", raising=False)
    assert not warm.disabled()
    monkeypatch.setenv("CI", "true")
    assert warm.disabled()


def test_server_dir_is_private(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = warm.server_dir()
    assert path == tmp_path / "rl4llm" / "warm"
    assert os.stat(path).st_mode & 0o777 == 0o700
    os.chmod(path, 0o755)  # a folder others may enter is never used
    assert warm.server_dir() is None


def test_sweep_removes_only_the_files_of_servers_that_are_gone(tmp_path):
    import fcntl

    for key in ("old", "live", "mine"):
        for suffix in (".lock", ".log"):
            (tmp_path / f"{key}{suffix}").write_text("1\n")
    with open(tmp_path / "live.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert warm.held(tmp_path / "live.lock")
        warm.sweep(tmp_path, "mine")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "live.lock",
        "live.log",
        "mine.lock",
        "mine.log",
    ]
