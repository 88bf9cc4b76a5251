"""The sandbox itself (``autograder/seam/sandbox.py``), probed from inside a real worker.

A probe module is graded like a submission: it is snapshotted by
:class:`~autograder.seam.sandbox.SandboxLauncher`, imported by the real worker inside
bubblewrap, and its functions are called through :class:`~autograder.seam.proxy.Impl`.
What they report about their surroundings is checked here. The fallback path
(no bubblewrap: loud "UNSANDBOXED", or a refusal with ``--require-sandbox``) is
tested by simulating a machine without ``bwrap`` and without the uid-only tier
(``RL4LLM_NO_UID_ONLY``; that tier is tested in ``tests/test_sandbox_tiers.py``).
"""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from autograder.seam import sandbox
from autograder.seam.launcher import PlainLauncher
from autograder.seam.proxy import Impl, WorkerState
from autograder.seam.sandbox import (
    SANDBOX_USER,
    UNSANDBOXED,
    SandboxLauncher,
    bwrap_works,
    choose_launcher,
)
from autograder.seam.zygote import Zygote

pytestmark = pytest.mark.slow  # grades real submissions end to end

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "rl4llm_exploit_harness", REPO / "tests" / "exploits" / "harness.py"
)
harness = sys.modules.get(_spec.name) or importlib.util.module_from_spec(_spec)
if _spec.name not in sys.modules:
    sys.modules[_spec.name] = harness
    _spec.loader.exec_module(harness)
needs_bwrap = pytest.mark.skipif(
    not bwrap_works()[0], reason=f"the sandbox is unavailable here: {bwrap_works()[1]}"
)
TOKEN = uuid.uuid4().hex[:12]

PROBE = textwrap.dedent(
    '''
    """Reports what a submission can see and do from inside the sandbox."""
    import errno
    import os
    import resource
    import socket
    import time


    def identity():
        return {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
                "pid": os.getpid(), "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
                "env": dict(os.environ), "cwd": os.getcwd()}


    def rlimits():
        names = ("RLIMIT_DATA", "RLIMIT_NPROC", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE")
        return {n: list(resource.getrlimit(getattr(resource, n))) for n in names}


    def listing(path):
        return sorted(os.listdir(path)) if os.path.isdir(path) else None


    def exists(path):
        return os.path.exists(path)


    def find(names, skip=("/proc", "/sys", "/dev")):
        """Every visible path whose last component is in ``names``."""
        hits = []
        for root, dirs, files in os.walk("/"):
            dirs[:] = [d for d in dirs if os.path.join(root, d) not in skip]
            hits += [os.path.join(root, n) for n in dirs + files if n in names]
        return hits


    def write(path):
        """'ok' or the errno name of writing a small file at ``path``."""
        try:
            with open(path, "w") as fh:
                fh.write("written from inside the sandbox")
            return "ok"
        except OSError as exc:
            return errno.errorcode.get(exc.errno, str(exc.errno))


    def read(path):
        try:
            with open(path) as fh:
                return fh.read()
        except OSError as exc:
            return errno.errorcode.get(exc.errno, str(exc.errno))


    def connect(host, port):
        try:
            with socket.create_connection((host, port), timeout=2):
                return "connected"
        except OSError as exc:
            return errno.errorcode.get(exc.errno, type(exc).__name__) if exc.errno else type(exc).__name__


    def resolve(name):
        try:
            return socket.getaddrinfo(name, 80)[0][4][0]
        except OSError as exc:
            return type(exc).__name__


    def interfaces():
        return sorted(name for _, name in socket.if_nameindex())


    def hoard(chunk_mb=64):
        """Allocate and touch memory until it fails; report how far it got."""
        blocks = []
        try:
            while True:
                blocks.append(b"\\x01" * (chunk_mb << 20))
        except MemoryError:
            got = len(blocks) * chunk_mb
            blocks.clear()
            return ["MemoryError", got]


    def fill_tmp(limit_mb, chunk_mb=16):
        """Write files to /tmp until it fails or ``limit_mb`` is reached; remove them; report MiB written."""
        written, err, paths = 0, "", []
        try:
            while written < limit_mb:
                path = f"/tmp/fill-{len(paths)}"
                paths.append(path)
                with open(path, "wb") as fh:
                    fh.write(b"\\x01" * (chunk_mb << 20))
                written += chunk_mb
        except OSError as exc:
            err = errno.errorcode.get(exc.errno, str(exc.errno))
        for path in paths:
            try:
                os.unlink(path)
            except OSError:
                pass
        return [written, err]


    def daemon(marker, seconds):
        """A setsid double-fork daemon that sleeps, then writes ``marker``; returns at once."""
        r, w = os.pipe()
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.write(w, b"x")
                time.sleep(seconds)
                for path in (marker, "/tmp/" + os.path.basename(marker)):
                    try:
                        open(path, "w").write("daemon survived")
                    except OSError:
                        pass
                os._exit(0)
            os._exit(0)
        os.read(r, 1)
        return True


    def forks(limit=200):
        """Fork children that sleep until killed; return how many forks succeeded."""
        n = 0
        for _ in range(limit):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                time.sleep(3600)
                os._exit(0)
            n += 1
        return n
    '''
)


def _mine(snapshot: Path) -> list[int]:
    """Live sandbox processes whose ``/submission`` is ``snapshot``."""
    return [
        pid for pid in harness.sandbox_processes() if harness.submission_root(pid) == str(snapshot)
    ]


def _wait_gone(snapshot: Path, seconds: float = 5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := _mine(snapshot)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.fixture(scope="module", params=["alone", "zygote"])
def box(request, tmp_path_factory):
    """One sandboxed worker that imported the probe module: started on its own, or forked by
    a zygote started with the same launcher (as in a grading)."""
    src = tmp_path_factory.mktemp("probe-submission")
    (src / "probe.py").write_text(PROBE)
    launcher = SandboxLauncher()
    snapshot = launcher.prepare(src)
    state = WorkerState()
    if request.param == "zygote":
        state.zygote = Zygote(snapshot, launcher)
    impl = Impl(snapshot, "probe", launcher=launcher, _shared=state).using(120)
    impl.ensure_imported()
    yield impl, snapshot
    impl.shutdown()
    if state.zygote is not None:
        state.zygote.close()
    _wait_gone(snapshot)
    shutil.rmtree(snapshot, ignore_errors=True)


# -- who and where ------------------------------------------------------------------------------------
@needs_bwrap
def test_the_worker_runs_as_the_dedicated_sandbox_uid(box):
    impl, _ = box
    me = impl.identity()
    sbx = pwd.getpwnam(SANDBOX_USER)
    base = getattr(sandbox, "UID_POOL_BASE", None)
    if base is None:
        assert me["uid"] == sbx.pw_uid
    else:  # one uid per live worker, from a pool, in the sandbox group
        assert base <= me["uid"] < base + sandbox.UID_POOL_SIZE, me["uid"]
    assert me["euid"] == me["uid"] != 0 and me["gid"] == sbx.pw_gid
    assert me["groups"] in ([], [sbx.pw_gid])
    # bwrap's init (1), then the worker (2), or the zygote (2) and the worker it forked (3)
    pids = [1, 2, 3] if impl._state.zygote is not None else [1, 2]
    assert me["pids"] == pids and me["pid"] == pids[-1], (
        f"the worker must see only its own PID namespace: {me['pids']}, pid {me['pid']}"
    )
    assert set(me["env"]) <= set(sandbox.sandbox_env()) | {"PWD"}, me["env"]


@needs_bwrap
def test_the_limits_are_applied(box):
    impl, _ = box
    got = impl.rlimits()
    want = sandbox.ResourceLimits()
    assert got["RLIMIT_DATA"] == [want.data_bytes] * 2
    assert got["RLIMIT_NPROC"] == [want.processes] * 2
    assert got["RLIMIT_CPU"] == [want.cpu_seconds] * 2
    assert got["RLIMIT_FSIZE"] == [want.file_bytes] * 2
    assert got["RLIMIT_CORE"] == [0, 0]


@needs_bwrap
def test_only_the_runtime_the_worker_code_and_the_submission_are_visible(box):
    impl, _ = box
    assert impl.listing("/submission") == ["probe.py"]
    assert set(impl.listing("/rt")) <= {
        "__init__.py",
        "__pycache__",
        "codec.py",
        "main.py",
        "probes.py",
        "protocol.py",
        "standins.py",
        "zygote.py",
    }
    for secret in (
        REPO,
        Path(sys.prefix),
        REPO / "solutions",
        REPO / "autograder",
        REPO / "autograder" / "checks",
        Path("/home"),
        Path("/etc/passwd"),
    ):
        assert not impl.exists(str(secret)), f"{secret} is visible inside the sandbox"
    assert set(impl.listing("/tmp")) <= {"worker.log"}, impl.listing("/tmp")
    leaks = impl.find(
        ["solutions", "rubric.toml", "ex02_returns.py", "ex04_reinforce.py", "rl4llm_reference"]
    )
    assert leaks == [], f"grader files visible inside the sandbox: {leaks}"


@needs_bwrap
def test_tmp_is_private_and_writable_and_the_rest_is_read_only(box):
    impl, _ = box
    name = f"rl4llm-sandbox-probe-{TOKEN}"
    assert impl.write(f"/tmp/{name}") == "ok"
    assert impl.read(f"/tmp/{name}") == "written from inside the sandbox"
    assert not Path("/tmp", name).exists(), "the sandbox's /tmp is the host's /tmp"
    assert impl.identity()["env"]["HOME"] == "/tmp"
    assert impl.write(f"/submission/{name}") == "EROFS"
    assert impl.write(f"/rt/{name}") == "EROFS"
    assert impl.write(f"/venv/{name}") in ("EROFS", "EACCES", "ENOENT")
    assert impl.write(f"{sys.prefix}/{name}") in ("EROFS", "EACCES", "ENOENT")
    assert impl.write(f"/{name}") in ("EROFS", "EACCES")
    assert impl.write(f"{REPO}/{name}") in ("ENOENT", "EACCES", "EROFS")
    assert not list(REPO.glob("rl4llm-sandbox-probe-*")) and not list(
        Path(sys.prefix).glob("rl4llm-sandbox-probe-*")
    )


@needs_bwrap
def test_there_is_no_network(box):
    impl, _ = box
    assert impl.connect("1.1.1.1", 80) == "ENETUNREACH"
    assert impl.connect("127.0.0.1", 22) == "ECONNREFUSED", "loopback must be the sandbox's own"
    assert impl.resolve("example.com") == "gaierror"
    assert impl.interfaces() == ["lo"]


# -- limits ----------------------------------------------------------------------------------------------
@needs_bwrap
def test_rlimit_data_gives_a_memory_error_not_a_host_oom(box):
    impl, _ = box
    kind, mib = impl.hoard()
    cap = sandbox.ResourceLimits().data_bytes >> 20
    assert kind == "MemoryError" and cap - 512 <= mib <= cap, (kind, mib)
    pid = 3 if impl._state.zygote is not None else 2  # see test_the_worker_runs_as_...
    assert impl.identity()["pid"] == pid, "the worker survived its MemoryError"


@needs_bwrap
def test_tmp_cannot_hold_more_than_the_memory_limit(box):
    """/tmp is a tmpfs, i.e. RAM that RLIMIT_DATA does not count: it needs a size of its own."""
    impl, _ = box
    cap = sandbox.ResourceLimits().data_bytes >> 20
    written, err = impl.fill_tmp(cap + 1024)
    assert written <= cap, (
        f"wrote {written} MiB to the sandbox's /tmp without an error ({err or 'no error'}): "
        f"a tmpfs without --size lets a submission pin up to half the host's RAM past RLIMIT_DATA ({cap} MiB)"
    )


@pytest.fixture
def fresh(tmp_path):
    """Make snapshots of the probe submission (removed afterwards, whatever happens)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "probe.py").write_text(PROBE)
    launcher = SandboxLauncher()
    made: list[Path] = []

    def make() -> tuple[SandboxLauncher, Path]:
        made.append(launcher.prepare(src))
        return launcher, made[-1]

    yield make
    for snapshot in made:
        shutil.rmtree(snapshot, ignore_errors=True)


@needs_bwrap
def test_forks_stop_at_rlimit_nproc_do_not_starve_other_workers_and_die_with_the_worker(fresh):
    launcher, snapshot = fresh()
    _, other = fresh()
    impl = Impl(snapshot, "probe", launcher=launcher).using(60)
    neighbour = Impl(other, "probe", launcher=launcher).using(60)
    try:
        n = impl.forks(200)
        assert 0 < n < sandbox.ResourceLimits().processes, n
        assert len(_mine(snapshot)) >= n
        # While this worker holds its process limit, another submission's worker still
        # starts and can fork: the limit must not be shared between sandboxes.
        assert neighbour.forks(5) == 5
        if hasattr(sandbox, "UID_POOL_BASE"):
            assert neighbour.identity()["uid"] != impl.identity()["uid"]
    finally:
        impl.shutdown()
        neighbour.shutdown()
    assert _wait_gone(snapshot) == [] and _wait_gone(other) == [], (
        "forked children outlived the worker"
    )


@needs_bwrap
def test_a_setsid_daemon_dies_with_the_sandbox(fresh):
    launcher, snapshot = fresh()
    marker = Path(tempfile.gettempdir()) / f"rl4llm-sandbox-daemon-{TOKEN}"
    impl = Impl(snapshot, "probe", launcher=launcher)
    try:
        assert impl.daemon(str(marker), 2) is True
        assert len(_mine(snapshot)) >= 2, "the daemon should be running next to the worker"
    finally:
        impl.shutdown()
    assert _wait_gone(snapshot) == [], "the daemon outlived the sandbox"
    time.sleep(3)
    assert not marker.exists(), "the daemon wrote to the host"


@needs_bwrap
def test_a_forked_workers_children_die_with_it_and_its_daemons_with_the_zygote(fresh):
    launcher, snapshot = fresh()
    marker = Path(tempfile.gettempdir()) / f"rl4llm-sandbox-zygote-daemon-{TOKEN}"
    state = WorkerState()
    state.zygote = Zygote(snapshot, launcher)
    impl = Impl(snapshot, "probe", launcher=launcher, _shared=state).using(60)
    other = Impl(snapshot, "probe", launcher=launcher, _shared=WorkerState()).using(60)
    other._state.zygote = state.zygote  # a second exercise's worker, forked by the same zygote
    try:
        uid = impl.identity()["uid"]
        n = impl.forks(5)
        assert n == 5 and len(_mine(snapshot)) >= 1 + 1 + 5, _mine(snapshot)  # zygote, worker, 5
        worker = impl._state.worker.proc.pid
        impl.shutdown()  # the worker and the children it forked go; the zygote stays
        deadline = time.monotonic() + 5
        while len(held := _mine(snapshot)) > 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert worker not in held and len(held) == 1, f"only the zygote should be left: {held}"
        assert other.identity()["uid"] == uid, "the zygote's workers share its sandbox uid"
        assert other.daemon(str(marker), 2) is True
        other.shutdown()
    finally:
        impl.shutdown()
        other.shutdown()
        state.zygote.close()
    assert _wait_gone(snapshot) == [], "a process outlived the zygote"
    time.sleep(3)
    assert not marker.exists(), "the daemon wrote to the host"


# -- without bubblewrap ------------------------------------------------------------------------------------
@pytest.fixture
def no_bwrap(monkeypatch):
    """Pretend bwrap is not installed (shutil.which finds nothing by that name), and no
    uid-only tier either (``tests/test_sandbox_tiers.py`` tests that one)."""
    monkeypatch.setenv("RL4LLM_NO_UID_ONLY", "1")
    real = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda cmd, *a, **k: None if cmd == "bwrap" else real(cmd, *a, **k)
    )
    bwrap_works.cache_clear()
    yield
    monkeypatch.undo()
    bwrap_works.cache_clear()


def test_choose_launcher_refuses_to_run_unsandboxed_when_required(no_bwrap):
    assert bwrap_works()[0] is False
    with pytest.raises(RuntimeError, match="sandbox is unavailable.*bwrap"):
        choose_launcher("require")


def test_choose_launcher_falls_back_loudly_when_not_required(no_bwrap):
    launcher, note = choose_launcher("auto")
    assert isinstance(launcher, PlainLauncher) and not launcher.sandboxed
    assert note.startswith(UNSANDBOXED) and "bwrap" in note


def test_choose_launcher_refuses_when_bwrap_is_blocked(monkeypatch):
    monkeypatch.setenv("RL4LLM_NO_UID_ONLY", "1")
    monkeypatch.setattr(
        sandbox,
        "bwrap_works",
        lambda: (False, "bwrap failed: setting up uid map: Permission denied"),
    )
    with pytest.raises(RuntimeError, match="uid map"):
        sandbox.choose_launcher("require")
    launcher, note = sandbox.choose_launcher()
    assert isinstance(launcher, PlainLauncher) and UNSANDBOXED in note


def _path_without_bwrap(tmp_path: Path) -> str:
    """A PATH with the tools the grader needs except bwrap."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("prlimit", "setpriv", "useradd", "pgrep"):
        found = shutil.which(tool)
        if found:
            (bindir / tool).symlink_to(found)
    return str(bindir)


def _cli(args: list[str], tmp_path: Path, path: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, TMPDIR=str(tmp_path))
    if path is not None:
        env["PATH"] = path
        env["RL4LLM_NO_UID_ONLY"] = "1"  # neither confined tier: the "none" tier
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=600,
    )


def test_grade_require_sandbox_exits_2_with_one_line_when_bwrap_is_missing(tmp_path):
    out = tmp_path / "results.json"
    proc = _cli(
        [
            "grade",
            str(REPO / "solutions"),
            "--require-sandbox",
            "--only",
            "ex02_returns",
            "--json",
            str(out),
        ],
        tmp_path,
        path=_path_without_bwrap(tmp_path),
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "bwrap" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_grade_without_bwrap_falls_back_and_says_unsandboxed(tmp_path):
    out = tmp_path / "results.json"
    proc = _cli(
        [
            "grade",
            str(REPO / "solutions"),
            "--only",
            "ex02_returns",
            "--json",
            str(out),
            "--seed",
            "1",
        ],
        tmp_path,
        path=_path_without_bwrap(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    assert UNSANDBOXED in proc.stderr and UNSANDBOXED in proc.stdout
    data = json.loads(out.read_text())
    assert UNSANDBOXED in data["output"] and data["extra_data"]["sandbox"] == PlainLauncher.name
    assert data["score"] == 19


def test_grade_no_sandbox_works_and_says_unsandboxed(tmp_path):
    out = tmp_path / "results.json"
    proc = _cli(
        [
            "grade",
            str(REPO / "solutions"),
            "--no-sandbox",
            "--only",
            "ex02_returns",
            "--json",
            str(out),
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert UNSANDBOXED in proc.stderr and UNSANDBOXED in proc.stdout
    data = json.loads(out.read_text())
    assert UNSANDBOXED in data["output"] and data["extra_data"]["sandbox"] == PlainLauncher.name
    assert data["score"] == 19 and all(t["status"] == "passed" for t in data["tests"])


def test_errno_names_used_above_exist():
    for name in ("EROFS", "EACCES", "ENOENT", "ENETUNREACH", "ECONNREFUSED"):
        assert hasattr(errno, name)
