"""The sandbox tiers (bwrap, uid-only, none): which one runs, and the uid-only tier's promises.

The uid-only tier is what a container without namespaces gets (Gradescope): tested here as
root with bubblewrap disabled through ``RL4LLM_NO_BWRAP``, including its isolation of concurrent
gradings (a group per grading: one grading's workers cannot read another's snapshot) and
``grade-batch`` under it. The exploit corpus under this tier is run by hand
(``RL4LLM_EXPLOIT_TIER=uid-only pytest tests/test_exploits.py``, 10 min): since the linear-time
check counts CPU time, timing_cpu_hog and timing_padding score 0 there too and os_exit is quick;
the network is the tier's documented residual risk, and read_reference_files is tolerated only
where another world-readable copy of ``solutions/`` sits on the host (another checkout). It is
not part of the suite (its time).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder.commands.common import readable_by_others

REPO = Path(__file__).resolve().parents[1]
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="the uid-only tier needs root")
CHOOSE = (
    "import json; from autograder.seam.sandbox import choose_launcher as c; "
    "l, n = c({mode!r}); print(json.dumps([l.tier, l.name, n]))"
)


def _choose(mode: str, **env: str) -> tuple[str, str, str]:
    proc = subprocess.run(
        [sys.executable, "-c", CHOOSE.format(mode=mode)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **env},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return tuple(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_no_sandbox_is_the_none_tier_with_the_loud_note():
    tier, _, note = _choose("off")
    assert tier == "none" and note.startswith("UNSANDBOXED")


@ROOT_ONLY
def test_root_without_bwrap_gets_the_uid_only_tier_even_when_required():
    for mode in ("auto", "require"):
        tier, name, note = _choose(mode, RL4LLM_NO_BWRAP="1")
        assert (tier, name) == ("uid-only", "uid-only sandbox"), (mode, tier, note)
        assert note.startswith("SANDBOX TIER uid-only"), note


@ROOT_ONLY
@pytest.mark.slow
def cli_without_bwrap(*args: str) -> subprocess.CompletedProcess:
    """``python -m autograder ARGS`` from the repository with bubblewrap made unavailable."""
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "RL4LLM_NO_BWRAP": "1"},
        timeout=600,
    )


def test_the_uid_only_tier_grades_and_every_output_names_it(tmp_path):
    out = tmp_path / "results.json"
    proc = cli_without_bwrap(
        "grade", "solutions", "--only", "ex02_returns", "--json", str(out), "--format", "summary"
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data["extra_data"]["sandbox_tier"] == "uid-only"
    assert data["score"] == sum(t["max_score"] for t in data["tests"]) > 0
    assert "sandbox tier: uid-only" in proc.stdout and "sandbox tier: uid-only" in data["output"]
    # the reference and the checks are unreadable to other users from now on
    for secret in (REPO / "solutions", REPO / "autograder" / "checks"):
        assert os.stat(secret).st_mode & 0o007 == 0, secret


def test_the_gradescope_zip_carries_the_sandbox_mode(tmp_path):
    import zipfile

    from autograder.build.gradescope import build_zip

    build_zip(tmp_path / "a.zip", ["ex02_returns"], sandbox="require")
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        config = json.loads(zf.read("package/gradescope.json"))
    assert config == {"exercises": ["ex02_returns"], "sandbox": "require"}


def _run_as_worker(launcher, snapshot: Path, code: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``code`` exactly as a worker of ``snapshot``'s grading would run (argv, uid, gid)."""
    slot = launcher.claim()
    try:
        cmd = launcher.command(snapshot, (0, 1), slot=slot)
        cut = cmd.index(sys.executable)
        cmd = [*cmd[:cut], sys.executable, "-I", "-c", code, *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=launcher.env(""))
    finally:
        launcher.release(slot)


def _submission(folder: Path, secret: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "ex02_returns.py").write_text(f"SECRET = {secret!r}\n")
    (folder / "pkg").mkdir()
    (folder / "pkg" / "data.txt").write_text(secret)
    return folder


@ROOT_ONLY
def test_a_uid_only_worker_cannot_read_the_reference_or_write_the_grader(tmp_path):
    from autograder.grading.plugin import CHECKS_DIR
    from autograder.grading.reference import SOLUTIONS_DIR
    from autograder.seam.uidonly import UidOnlyLauncher

    launcher = UidOnlyLauncher()
    launcher.protect([SOLUTIONS_DIR, CHECKS_DIR])
    results = tmp_path / "results"
    results.mkdir()
    os.chmod(tmp_path, 0o755)
    probe = (
        "import sys\n"
        "bad = []\n"
        f"for p in {[str(SOLUTIONS_DIR / 'ex02_returns.py'), str(CHECKS_DIR / 'ex02_returns.py')]!r}:\n"
        "    try: open(p).read(); bad.append('read ' + p)\n"
        "    except OSError: pass\n"
        f"for d in {[str(REPO), str(REPO / 'autograder'), str(results)]!r}:\n"
        "    try: open(d + '/rl4llm-probe', 'w').write('x'); bad.append('wrote ' + d)\n"
        "    except OSError: pass\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    snapshot = launcher.prepare(_submission(tmp_path / "sub", "mine"))
    try:
        proc = _run_as_worker(launcher, snapshot, probe)
    finally:
        launcher.discard(snapshot)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@ROOT_ONLY
def test_concurrent_uid_only_gradings_cannot_read_each_others_snapshot(tmp_path):
    """Two gradings at once (two grading processes, or two gradings of one launcher)."""
    from autograder.seam.uidonly import UidOnlyLauncher

    a, b = UidOnlyLauncher(), UidOnlyLauncher()
    snap_a = a.prepare(_submission(tmp_path / "alice", "alice's work"))
    snap_b = b.prepare(_submission(tmp_path / "bob", "bob's work"))
    snap_c = a.prepare(_submission(tmp_path / "carol", "carol's work"))  # same launcher
    snaps = (snap_a, snap_b, snap_c)
    try:
        gids = [os.stat(s).st_gid for s in snaps]
        assert len(set(gids)) == 3, gids  # one group per grading
        for snap, gid in zip(snaps, gids, strict=True):
            st = os.stat(snap)
            assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, gid, 0o750), snap
        probe = (
            "import os, sys\n"
            "own, others = sys.argv[1], sys.argv[2:]\n"
            "assert os.getgid() == os.stat(own).st_gid and os.getgroups() in ([], [os.getgid()])\n"
            "assert open(own + '/ex02_returns.py').read().startswith('SECRET')\n"
            "assert open(own + '/pkg/data.txt').read()\n"
            "home = os.environ['HOME']\n"
            "st = os.stat(home)\n"
            "assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (os.getuid(), os.getgid(), 0o700)\n"
            "got = []\n"
            "for other in others:\n"
            "    for how in (os.listdir, lambda p: open(p + '/ex02_returns.py').read(),\n"
            "                lambda p: open(p + '/pkg/data.txt').read()):\n"
            "        try: how(other); got.append(other)\n"
            "        except PermissionError: pass\n"
            "print('read', got); sys.exit(1 if got else 0)\n"
        )
        for launcher, own in ((a, snap_a), (b, snap_b), (a, snap_c)):
            others = [str(s) for s in snaps if s != own]
            proc = _run_as_worker(launcher, own, probe, str(own), *others)
            assert proc.returncode == 0, f"{own}: {proc.stdout}{proc.stderr}"
        # the worker of one grading is refused by a launcher that did not prepare it
        with pytest.raises(RuntimeError, match="not a snapshot"):
            b.command(snap_a, (0, 1), slot=(0, -1))
    finally:
        a.discard(snap_a)
        b.discard(snap_b)
        a.discard(snap_c)
    assert not any(s.exists() for s in snaps)


@ROOT_ONLY
def test_a_killed_uid_only_graders_snapshot_is_removed_when_its_gid_is_claimed_again(tmp_path):
    from autograder.seam import uids

    killed = (
        "import sys\n"
        "from pathlib import Path\n"
        "from autograder.seam import uids\n"
        "from autograder.seam.uidonly import UidOnlyLauncher\n"
        "uids.GID_POOL_SIZE = 1\n"
        "print(UidOnlyLauncher().prepare(Path(sys.argv[1])), flush=True)\n"
        "import os; os._exit(0)  # no discard: as if the grader were killed\n"
    )
    base = uids.GID_POOL_BASE + uids.GID_POOL_SIZE + 7  # a pool of one gid of its own
    env = {**os.environ, "RL4LLM_SANDBOX_GID_BASE": str(base), "TMPDIR": str(tmp_path)}
    os.chmod(tmp_path, 0o755)
    sub = _submission(tmp_path / "sub", "killed")
    proc = subprocess.run(
        [sys.executable, "-c", killed, str(sub)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    stale = Path(proc.stdout.strip().splitlines()[-1])
    assert os.stat(stale).st_gid == base, "the stale snapshot should be there"
    gid, fd = uids.claim_id("g", base, 1)
    try:
        assert gid == base
        assert uids.sweep_noted(fd, gid) == [str(stale)]
        assert not stale.exists()
    finally:
        uids.release_uid((gid, fd))


@ROOT_ONLY
def test_nothing_of_a_uid_only_worker_outlives_its_release(tmp_path):
    from autograder.seam.uidonly import UidOnlyLauncher
    from autograder.seam.uids import processes_of

    launcher = UidOnlyLauncher()
    snapshot = launcher.prepare(_submission(tmp_path / "sub", "mine"))
    slot = launcher.claim()
    daemon = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\n"
    try:
        cmd = launcher.command(snapshot, (0, 1), slot=slot)
        cut = cmd.index(sys.executable)
        subprocess.run(
            [*cmd[:cut], sys.executable, "-I", "-c", daemon], timeout=60, env=launcher.env("")
        )
        assert processes_of(slot[0]), "the daemon should be running before the release"
        launcher.release(slot)
        assert processes_of(slot[0]) == []
    finally:
        launcher.discard(snapshot)


PEEKER = """
import glob as _glob, os as _os, time as _time  # noqa: E401
from pathlib import Path as _Path


def _peek():  # wait for another grading's snapshot, then try to read it
    mine = _Path(__file__).resolve().parent
    deadline = _time.monotonic() + 40
    while _time.monotonic() < deadline:
        for d in _glob.glob(str(mine.parent / "rl4llm-sub-*")):
            try:
                gid = _os.stat(d).st_gid
            except OSError:
                continue
            if _Path(d).resolve() == mine or not {lo} <= gid < {hi}:
                continue
            try:
                _os.listdir(d)
            except PermissionError:
                _time.sleep(8)  # keep this grading's snapshot alive while the other one looks
                return
            raise RuntimeError("LEAKED " + d)
        _time.sleep(0.2)
    raise RuntimeError("SAW NO OTHER GRADING")


_peek()
"""


@ROOT_ONLY
@pytest.mark.slow
def test_grade_batch_under_uid_only_grades_and_isolates_concurrent_submissions(tmp_path):
    """Two submissions graded at once, each waiting at import to see (and try) the other's."""
    from autograder.seam.uids import GID_POOL_BASE, GID_POOL_SIZE

    src = tmp_path / "class"
    peek = PEEKER.format(lo=GID_POOL_BASE, hi=GID_POOL_BASE + GID_POOL_SIZE)
    for student in ("alice", "bob"):
        (src / student).mkdir(parents=True)
        reference = (REPO / "solutions" / "ex02_returns.py").read_text()
        (src / student / "ex02_returns.py").write_text(reference + peek)
    out = tmp_path / "out"
    proc = cli_without_bwrap(
        "grade-batch",
        str(src),
        "--out",
        str(out),
        "--jobs",
        "2",
        "--only",
        "ex02_returns",
        "--require-sandbox",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "SANDBOX TIER uid-only" in proc.stderr
    for student in ("alice", "bob"):
        data = json.loads((out / student / "results.json").read_text())
        assert data["extra_data"]["sandbox_tier"] == "uid-only"
        said = json.dumps(data)
        assert "LEAKED" not in said and "SAW NO OTHER" not in said, said[-1500:]
        assert data["score"] == sum(t["max_score"] for t in data["tests"]) > 0, said[-1500:]


@ROOT_ONLY
def test_uid_only_warns_about_a_class_folder_every_user_can_read():
    base = Path(tempfile.mkdtemp(prefix="rl4llm-class-"))  # under /tmp, which others may search
    try:
        os.chmod(base, 0o755)
        open_class, private_class = base / "open", base / "private"
        open_class.mkdir(mode=0o755)
        private_class.mkdir(mode=0o750)
        os.chmod(open_class, 0o755)  # whatever the umask
        assert readable_by_others(open_class) and not readable_by_others(private_class)
        proc = cli_without_bwrap("grade-batch", str(open_class), "--out", str(base / "out"))
        assert proc.returncode == 2 and "no submissions" in proc.stderr, proc.stderr  # no grading
        assert f"warning: {open_class} can be read by every user" in proc.stderr, proc.stderr
        assert f"chmod -R o-rwx {open_class}" in proc.stderr, proc.stderr
        proc = cli_without_bwrap("grade-batch", str(private_class), "--out", str(base / "out2"))
        assert "can be read by every user" not in proc.stderr, proc.stderr
        submitted = base / "course" / "submitted"  # nbgrader-regrade reads the course's submitted/
        submitted.mkdir(parents=True)
        for folder in (submitted.parent, submitted):
            os.chmod(folder, 0o755)
        proc = cli_without_bwrap("nbgrader-regrade", str(submitted.parent), "--assignment", "a1")
        assert f"warning: {submitted} can be read by every user" in proc.stderr, proc.stderr
    finally:
        shutil.rmtree(base, ignore_errors=True)
