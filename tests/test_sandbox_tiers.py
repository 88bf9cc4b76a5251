"""The sandbox tiers (bwrap, uid-only, none): which one runs, and the uid-only tier's promises.

The uid-only tier is what a container without namespaces gets (Gradescope): tested here as
root with bubblewrap disabled through ``RL4LLM_NO_BWRAP``. The exploit corpus under this tier
is run by hand (``RL4LLM_EXPLOIT_TIER=uid-only pytest tests/test_exploits.py``, 10 min): since the
linear-time check counts CPU time, timing_cpu_hog and timing_padding score 0 there too and os_exit
is quick; the network is the tier's documented residual risk, and read_reference_files finds the
reference whenever another grading's snapshot (world-readable) sits in /tmp at the same time
(docs/instructors.md: --jobs 1 under this tier). It is not part of the suite (its time).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
def test_the_uid_only_tier_grades_and_every_output_names_it(tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "solutions", "--only", "ex02_returns"]
        + ["--json", str(out), "--format", "summary"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "RL4LLM_NO_BWRAP": "1"},
        timeout=600,
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
    slot = launcher.claim()
    try:
        cmd = launcher.command(tmp_path, (0, 1), slot=slot)
        cut = cmd.index(sys.executable)
        cmd = [*cmd[:cut], sys.executable, "-I", "-c", probe]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=launcher.env(""))
    finally:
        launcher.release(slot)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@ROOT_ONLY
def test_nothing_of_a_uid_only_worker_outlives_its_release(tmp_path):
    from autograder.seam.uidonly import UidOnlyLauncher
    from autograder.seam.uids import processes_of

    launcher = UidOnlyLauncher()
    slot = launcher.claim()
    daemon = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\n"
    cmd = launcher.command(tmp_path, (0, 1), slot=slot)
    cut = cmd.index(sys.executable)
    subprocess.run(
        [*cmd[:cut], sys.executable, "-I", "-c", daemon], timeout=60, env=launcher.env("")
    )
    assert processes_of(slot[0]), "the daemon should be running before the release"
    launcher.release(slot)
    assert processes_of(slot[0]) == []
