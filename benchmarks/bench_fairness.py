"""A wrong answer must cost no more grading time than a right one (issue 10, item 8).

For each exercise, grades the reference and one buggy module from the chaff corpus
(``tests/corpus/chaff/<exercise>/``), each in a submission of its own, with the same run
seed, and prints the wall-clock time of both and their ratio (target: buggy <= 1.5x).
Hypothesis does not shrink (``autograder/plugin.py``: ``NO_SHRINK``), so a failing property
check stops at its first falsifying example.

    python benchmarks/bench_fairness.py [--only ex08_reward_model ...] [--chaff NAME] [--seed N]

By default the chaff is the one whose checks fail latest: the slowest case. Timings on a
busy machine are noisy; compare the ratio, and run twice.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from autograder import REPO_ROOT
from autograder.grading import grade

sys.path.insert(0, str(REPO_ROOT / "tests"))
from corpus_support import CORPUS_LIMITS, EXERCISES, SOLUTIONS_DIR  # noqa: E402

CHAFF_DIR = REPO_ROOT / "tests" / "corpus" / "chaff"


def submission(dest: Path, exercise: str, module: Path) -> Path:
    dest.mkdir(parents=True)
    for name in EXERCISES:
        shutil.copyfile(SOLUTIONS_DIR / f"{name}.py", dest / f"{name}.py")
    shutil.copyfile(module, dest / f"{exercise}.py")
    return dest


def timed_grade(folder: Path, exercise: str, seed: int) -> tuple[float, float, float]:
    start = time.perf_counter()
    run = grade(folder, exercises=[exercise], limits=CORPUS_LIMITS, seed=seed)
    took = time.perf_counter() - start
    (result,) = [e for e in run.exercises if e.name == exercise]
    return took, result.score, result.max_points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=list(EXERCISES))
    parser.add_argument("--chaff", help="the chaff module's name (default: every chaff, slowest)")
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()
    print(f"{'exercise':<20} {'correct':>9} {'buggy':>9} {'ratio':>6}  chaff (score)")
    with tempfile.TemporaryDirectory() as tmp:
        for exercise in args.only:
            ref = submission(
                Path(tmp) / exercise / "reference", exercise, SOLUTIONS_DIR / f"{exercise}.py"
            )
            t_ok, _, _ = timed_grade(ref, exercise, args.seed)
            chaffs = sorted((CHAFF_DIR / exercise).glob("*.py"))
            if args.chaff:
                chaffs = [c for c in chaffs if c.stem == args.chaff]
            worst = None
            for chaff in chaffs:
                folder = submission(Path(tmp) / exercise / chaff.stem, exercise, chaff)
                t_bad, score, top = timed_grade(folder, exercise, args.seed)
                if worst is None or t_bad > worst[0]:
                    worst = (t_bad, chaff.stem, score, top)
            if worst is None:
                print(f"{exercise:<20} {t_ok:8.1f}s {'-':>9}")
                continue
            t_bad, name, score, top = worst
            print(
                f"{exercise:<20} {t_ok:8.1f}s {t_bad:8.1f}s {t_bad / t_ok:5.2f}x  "
                f"{name} ({score:g}/{top:g})",
                flush=True,
            )


if __name__ == "__main__":
    main()
