"""The graded questions: answers file, experiments, bands, grading and feedback.

The capstone questions (CAP1-CAP3) are checked against a ``capstone_record.json``; a real
one takes minutes of PPO, so :func:`write_record` builds one with ``record.py``'s own
functions from made-up run figures (those of the reference answers unless told).

Grading runs go through ``autograder.grading.grade`` in a fresh interpreter (as in
``test_cli.py``) so that they cannot disturb this session. Each re-runs the
submission's ``train_bandit``; the slowest (the reference, Q1 and Q2 on 5 seeds)
takes about 30 s on 2 idle cores.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder.build.stubs import ANSWER_STUB, render_stub, strip_answers
from autograder.checks.questions_support import HINTS, judge
from autograder.experiments import (
    BAND_SEEDS,
    EVAL_EVERY,
    QUESTION_RUNS,
    answer_tolerance,
    episodes_to_90,
    function_runner,
    load_bands,
    mean_episodes,
    plot_experiment,
    run_experiments,
    run_many,
    summary,
)
from autograder.grading.reference import reference
from autograder.grading.report import gradescope, render_table
from autograder.grading.results import MANUAL, ON_SUBMISSION, CheckResult, ExerciseResult, RunResult
from autograder.grading.rubric import Rubric

pytestmark = pytest.mark.slow  # grades real submissions end to end

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"
COURSE = REPO / "course"
TIMEOUT = 600

CHOICES = ["Q1_same_speed", "Q3_choice", "CU1_choice", "CU2_choice", "CU3_choice", "CAP3_choice"]
ANSWER_NAME = re.compile(r"^(Q\d|CU\d|CAP\d)_")
CHECK = {
    "q1_numbers": "test_q1_episodes_to_90_with_target_2_and_target_0",
    "q1_same": "test_q1_does_target_0_learn_as_fast_as_target_2",
    "q2": "test_q2_episodes_to_90_at_learning_rate_1e_4",
    "q3": "test_q3_what_happens_with_reward_0_for_wrong_actions",
    "q3_why": "test_q3_why_explained",
    "cu1": "test_cu1_what_plays_the_role_of_the_action_in_rlhf",
    "cu2": "test_cu2_why_ppo_clips_its_objective",
    "cu2_why": "test_cu2_why_explained",
    "cu3": "test_cu3_what_reward_hacking_is",
    "cap1_numbers": "test_cap1_figures_without_kl_are_those_of_your_record",
    "cap1_choice": "test_cap1_what_your_run_without_kl_did",
    "cap2_numbers": "test_cap2_figures_with_kl_are_those_of_your_record",
    "cap2_bools": "test_cap2_what_the_kl_penalty_changed_in_your_run",
    "cap3_choice": "test_cap3_what_the_kl_term_costs",
    "cap3_number": "test_cap3_the_reward_model_score_given_up_is_that_of_your_record",
    "cap3_why": "test_cap3_why_explained",
}
MANUAL_CHECKS = {CHECK["q3_why"], CHECK["cu2_why"], CHECK["cap3_why"]}

GRADE_SCRIPT = textwrap.dedent(
    """\
    import json, sys
    from pathlib import Path
    from autograder.grading.run import grade
    from autograder.grading.report import gradescope

    extra = json.loads(sys.argv[2])
    run = grade(Path(sys.argv[1]), exercises=["questions"], seed=1, extra_args=extra)
    ex = run.exercises[0]
    print(json.dumps({
        "score": ex.score,
        "max_points": ex.max_points,
        "notes": run.notes,
        "checks": {c.check: {"verdict": c.verdict, "output": c.output, "passed": c.passed,
                             "score": c.score, "counted": c.counted} for c in ex.checks},
        "gradescope": gradescope(run),
    }))
    """
)


def grade_questions(submission: Path, extra: list[str] | None = None) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", GRADE_SCRIPT, str(submission), json.dumps(extra or [])],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert proc.returncode == 0, (
        f"grading {submission} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def submission(
    tmp: Path, questions: str | None = None, ex04: str | None = None, record: bool = False
) -> Path:
    """The reference exercises, and the given questions.py (default: the reference answers).

    ``record``: also the capstone's modules and a record for them (:func:`write_record`).
    """
    tmp.mkdir(parents=True, exist_ok=True)
    for path in SOLUTIONS.glob("ex*.py"):
        shutil.copy(path, tmp / path.name)
    if ex04 is not None:
        (tmp / "ex04_reinforce.py").write_text(ex04)
    (tmp / "questions.py").write_text(
        questions if questions is not None else (SOLUTIONS / "questions.py").read_text()
    )
    if record:
        write_record(tmp)
    return tmp


def fake_runs(gain: float, change: float, kl: float, seeds: int = 3) -> list:
    """``seeds`` equal stand-ins for ``rlhf.RlhfRun``: what ``record.figures`` reads."""
    from types import SimpleNamespace

    curve = SimpleNamespace(reward=[0.1, 0.1 + gain], accuracy=[0.7, 0.7 + change], kl=[0.0, kl])
    return [SimpleNamespace(curve=curve) for _ in range(seeds)]


def write_record(folder: Path, summary: dict | None = None) -> dict:
    """A valid ``capstone_record.json`` for the modules in ``folder``; returns it.

    ``summary`` (``{kl_coef: runs}``) defaults to runs whose figures are the reference
    answers of CAP1 and CAP2.
    """
    from autograder.capstone import answers, record

    if summary is None:
        ref = reference("questions")
        summary = {
            0.0: fake_runs(ref.CAP1_rm_score_gain, ref.CAP1_accuracy_change, ref.CAP1_final_kl),
            ref.CAP2_kl_coef: fake_runs(
                ref.CAP2_rm_score_gain, ref.CAP2_accuracy_change, ref.CAP2_final_kl
            ),
        }
    rec = record.build(folder, answers.NEEDS, [0, 1, 2], summary)
    record.write(folder, rec)
    return rec


def with_answers(source: str, **answers: object) -> str:
    """``source`` (a questions.py) with the given variables re-assigned at the end."""
    return source + "\n" + "".join(f"{k} = {v!r}\n" for k, v in answers.items())


def verdicts(result: dict) -> dict[str, str]:
    return {k: v["verdict"] for k, v in result["checks"].items()}


# -- the answers file ---------------------------------------------------------------------------
def test_the_stub_keeps_every_answer_blank_and_imports():
    stub = render_stub((SOLUTIONS / "questions.py").read_text(), "questions.py")
    assert "NotImplementedError" not in stub, (
        "expected the questions stub to import without raising"
    )
    namespace: dict = {}
    exec(compile(stub, "course/questions.py", "exec"), namespace)
    answers = {k: v for k, v in namespace.items() if ANSWER_NAME.match(k)}
    ref = reference("questions")
    expected = {k for k in vars(ref) if ANSWER_NAME.match(k)}
    assert set(answers) == expected, (
        f"expected the stub to declare {sorted(expected)}, got {sorted(answers)}"
    )
    filled = {k: v for k, v in answers.items() if v not in (None, "")}
    assert not filled, f"expected every answer blank (None or '') in the stub, got {filled}"
    stubs = [line for line in stub.splitlines() if line == ANSWER_STUB]
    assert len(stubs) == len(expected), f"expected one {ANSWER_STUB!r} line per answer"


def test_the_committed_stub_is_the_generated_one_and_has_no_answer():
    committed = (COURSE / "questions.py").read_text()
    assert committed == render_stub((SOLUTIONS / "questions.py").read_text(), "questions.py"), (
        "course/questions.py is stale: run python -m autograder build-course"
    )
    for name in CHOICES:
        key = getattr(reference("questions"), name)
        assert f"{name} = {key!r}" not in committed, (
            f"the answer to {name} leaked into course/questions.py"
        )


def test_every_answer_has_a_type_hint_and_a_docstring():
    import ast

    tree = ast.parse((SOLUTIONS / "questions.py").read_text())
    body = tree.body
    declared = {}
    for i, node in enumerate(body):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            nxt = body[i + 1] if i + 1 < len(body) else None
            doc = isinstance(nxt, ast.Expr) and isinstance(
                getattr(nxt, "value", None), ast.Constant
            )
            declared[node.target.id] = doc
    missing = [
        k for k in vars(reference("questions")) if ANSWER_NAME.match(k) and not declared.get(k)
    ]
    assert not missing, f"expected a typed declaration followed by a docstring for {missing}"


def test_strip_answers_replaces_regions_without_a_raise():
    src = 'A: int | None = None\n"""doc"""\n### BEGIN SOLUTION\nA = 3\n### END SOLUTION\nB = 1\n'
    assert strip_answers(src) == f'A: int | None = None\n"""doc"""\n{ANSWER_STUB}\nB = 1\n'


# -- experiments: numbers, bands ------------------------------------------------------------------
def test_episodes_to_90_is_the_episode_count_of_the_first_evaluation_at_or_above_0_9():
    assert episodes_to_90([0.2, 0.5, 0.9, 0.95]) == 3 * EVAL_EVERY
    assert episodes_to_90([0.2, 0.89]) is None
    assert mean_episodes([70, 80, 85]) == 78  # 78.33 rounds to 78
    assert mean_episodes([70, 75]) == 73  # 72.5 rounds half up
    assert mean_episodes([70, None]) is None


def test_the_stored_bands_were_generated_by_the_reference_for_the_current_settings():
    data = load_bands()  # raises if made for other settings
    assert data["seeds"] == list(BAND_SEEDS), (
        f"expected bands over seeds {list(BAND_SEEDS)}, got {data['seeds']}"
    )
    train_bandit = reference("ex04_reinforce").train_bandit
    runner = function_runner(train_bandit)
    for var in ("Q1_episodes_target2", "Q1_episodes_target0"):
        setting, _ = QUESTION_RUNS[var]
        seeds = list(BAND_SEEDS[:2])
        curves = run_many(runner, [(setting, s, "prob") for s in seeds], progress=False)
        again = [episodes_to_90(curves[(setting.key, s, "prob")]) for s in seeds]
        stored = data["answers"][var]["per_seed"][:2]
        assert again == stored, (
            f"{var}: the reference gives {again} on seeds {seeds}, the band file says {stored}"
        )
        lo, hi = data["answers"][var]["band"]
        per_seed = data["answers"][var]["per_seed"]
        assert lo < min(per_seed) <= max(per_seed) < hi, (
            f"{var}: band {[lo, hi]} does not contain {per_seed}"
        )


def test_the_reference_answers_lie_inside_their_bands():
    bands = load_bands()["answers"]
    ref = reference("questions")
    for var in QUESTION_RUNS:
        lo, hi = bands[var]["band"]
        assert lo <= getattr(ref, var) <= hi, (
            f"{var} = {getattr(ref, var)} is outside its band {[lo, hi]}"
        )


def test_train_bandit_metric_prob_is_a_probability_curve_and_the_default_is_unchanged():
    tb = reference("ex04_reinforce").train_bandit
    greedy = tb(episodes=40, eval_every=10, seed=3)
    assert greedy == tb(episodes=40, eval_every=10, seed=3, metric="greedy")
    prob = tb(episodes=40, eval_every=10, seed=3, metric="prob")
    assert len(prob) == 4 and all(type(p) is float and 0 < p < 1 for p in prob), prob
    with pytest.raises(ValueError, match="metric"):
        tb(episodes=10, eval_every=10, metric="mean")


def test_run_experiments_with_a_function_gives_curves_a_summary_and_a_png(tmp_path):
    tb = reference("ex04_reinforce").train_bandit
    (result,) = run_experiments(tb, names=["target"], seeds=[0, 1], progress=False)
    assert [s.setting.label for s in result.settings] == ["target 2", "target 0"]
    for sr in result.settings:
        assert set(sr.curves) == {"prob", "greedy"} and set(sr.curves["prob"]) == {0, 1}
    text = summary([result])
    assert (
        "target 2" in text and "Q1_episodes_target2 = " in text and "Q1_seeds = [0, 1]" in text
    ), text
    png = tmp_path / "target.png"
    plot_experiment(result, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "expected a PNG file"


def test_the_experiments_command_writes_the_plots_and_prints_the_summary(tmp_path):
    out = tmp_path / "plots"
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "experiments", "--impl-dir", str(SOLUTIONS),
         "--seeds", "1", "--only", "target", "wrong_reward", "--out", str(out), "--no-progress"],
        cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert proc.returncode == 0, (
        f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    )
    assert sorted(p.name for p in out.iterdir()) == ["target.png", "wrong_reward.png"]
    for label in (
        "target 2",
        "target 0",
        "wrong reward -0.1",
        "wrong reward 0.0",
        "train_bandit runs in",
    ):
        assert label in proc.stdout, f"expected {label!r} in the summary:\n{proc.stdout}"


def test_the_experiments_command_on_the_stubs_is_a_one_line_not_implemented_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "experiments", "--impl-dir", str(COURSE),
         "--seeds", "1", "--only", "target", "--out", str(tmp_path), "--no-progress",
         "--jobs", "1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert proc.returncode == 2, (
        f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    )
    assert "not implemented" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


# -- feedback on numbers (pure) -------------------------------------------------------------------
def test_a_consistent_number_inside_the_band_is_accepted():
    assert judge("Q1_episodes_target2", 80, [80, 90, 70], "Q1_seeds", [0, 1, 2]) is None
    assert (
        judge("Q1_episodes_target2", 80, [80, 80, 81], "Q1_seeds", [0, 1, 2]) is None
    )  # int() of 80.3


def test_a_number_that_is_not_what_the_code_produces_says_which_way_and_the_real_value():
    msg = judge("Q1_episodes_target2", 110, [80, 90, 70], "Q1_seeds", [0, 1, 2])
    assert msg and "higher" in msg and "gives 80" in msg and "80, 90, 70" in msg, msg
    msg = judge("Q1_episodes_target2", 50, [80, 90, 70], "Q1_seeds", [0, 1, 2])
    assert msg and "lower" in msg and "gives 80" in msg, msg
    msg = judge("Q2_episodes_lr_1e4", None, [2000, 2100, 2200], "Q2_seeds", [0, 1, 2])
    assert msg and "never reached" in msg and "gives 2100" in msg, msg
    msg = judge("Q2_episodes_lr_1e4", 2100, [2000, None, 2200], "Q2_seeds", [0, 1, 2])
    assert msg and "None" in msg and "never" in msg, msg


def test_an_honest_number_is_never_judged_against_the_reference_band():
    """The questions ask what the student observed: any honest number is accepted."""
    for claimed, runs in ((160, [150, 160, 170]), (20, [20, 20, 20]), (4000, [3990, 4000, 4010])):
        assert judge("Q1_episodes_target2", claimed, runs, "Q1_seeds", [0, 1, 2]) is None
    assert judge("Q2_episodes_lr_1e4", None, [None, None, None], "Q2_seeds", [0, 1, 2]) is None


def test_the_tolerance_is_half_an_evaluation_or_2_percent():
    assert answer_tolerance(80) == EVAL_EVERY / 2
    assert answer_tolerance(2200) == pytest.approx(44.0)


def test_hints_never_contain_a_letter_answer():
    for name, hint in HINTS.items():
        assert not re.search(r"\b[A-D]\b", hint), f"the hint for {name} names a letter: {hint!r}"


# -- reports: manual and pending checks -----------------------------------------------------------
def test_manual_checks_are_outside_the_automatic_total_and_have_no_score_in_results_json():
    rubric = Rubric.load()
    q = rubric.exercises["questions"]
    assert q.manual == MANUAL_CHECKS, (
        f"expected {sorted(MANUAL_CHECKS)} to be manual, got {sorted(q.manual)}"
    )
    assert q.max_points == sum(v for k, v in q.points.items() if k not in MANUAL_CHECKS)
    checks = [
        CheckResult("questions", "test_a", 2, passed=True, verdict="passed"),
        CheckResult(
            "questions", "test_b", 2, verdict=MANUAL, output="read by a person", manual=True
        ),
        CheckResult("questions", "test_c", 1, verdict=ON_SUBMISSION, output="recorded"),
        CheckResult("questions", "test_d", 1, verdict="not answered", output="blank"),
    ]
    run = RunResult([ExerciseResult("questions", "Q", checks)])
    assert (run.score, run.max_points) == (2, 3), (
        f"expected 2/3 (a + d), got {run.score}/{run.max_points}"
    )
    data = gradescope(run)
    tests = {t["name"].split(": ")[1]: t for t in data["tests"]}
    for pending in ("b", "c"):
        t = tests[pending]
        assert "score" not in t and "status" not in t, f"expected no automatic score for {t}"
        assert t["output"].startswith(MANUAL if pending == "b" else ON_SUBMISSION), t
    assert tests["d"]["score"] == 0 and tests["d"]["output"].startswith("not answered"), tests["d"]
    table = render_table(run)
    assert (
        "HAND  b - needs manual grading  [?/2]" in table
        and "TODO  d - not answered  [0/1]" in table
    ), table


# -- end to end -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reference_grade(tmp_path_factory) -> dict:
    return grade_questions(submission(tmp_path_factory.mktemp("ref"), record=True))


def test_the_reference_answers_score_full_marks(reference_grade):
    got = reference_grade
    auto = {k: v for k, v in got["checks"].items() if k not in MANUAL_CHECKS}
    failing = {k: (v["verdict"], v["output"][:300]) for k, v in auto.items() if not v["passed"]}
    assert not failing, (
        f"expected the reference answers to pass every automatic check, got {failing}"
    )
    assert got["score"] == got["max_points"] == Rubric.load().exercises["questions"].max_points, got
    assert set(got["checks"]) == set(CHECK.values()), (
        f"expected the checks {sorted(CHECK.values())}"
    )


def test_explanations_are_marked_needs_manual_grading_in_results_json(reference_grade):
    for check in MANUAL_CHECKS:
        c = reference_grade["checks"][check]
        assert c["verdict"] == MANUAL and c["score"] == 0 and not c["counted"], c
    entries = [t for t in reference_grade["gradescope"]["tests"] if "explained" in t["name"]]
    assert len(entries) == len(MANUAL_CHECKS) and all(
        t["output"].startswith(MANUAL) and "score" not in t for t in entries
    ), entries
    assert any("a person grades" in n for n in reference_grade["notes"]), reference_grade["notes"]


def test_blank_answers_score_0_with_not_answered(tmp_path):
    got = grade_questions(submission(tmp_path, (COURSE / "questions.py").read_text()))
    assert set(verdicts(got).values()) == {"not answered"}, verdicts(got)
    assert got["score"] == 0, got["score"]


def test_wrong_answers_get_their_feedback(tmp_path):
    ref = reference("questions")
    source = with_answers(
        (SOLUTIONS / "questions.py").read_text(),
        Q1_episodes_target2=ref.Q1_episodes_target2 + 30,  # not what the code gives
        Q1_same_speed=not ref.Q1_same_speed,
        Q2_seeds=None,
        Q2_episodes_lr_1e4=None,
        Q3_choice=next(x for x in "ABCD" if x != ref.Q3_choice),
        CU1_choice=f" {ref.CU1_choice.lower()}. ",  # accepted: case and punctuation do not matter
        CU2_choice="E",
        Q3_why="   ",
    )
    got = grade_questions(submission(tmp_path, source))
    c = got["checks"]
    q1 = c[CHECK["q1_numbers"]]
    assert (
        q1["verdict"] == "failed" and "higher than what your own code produces" in q1["output"]
    ), q1
    assert f"gives {ref.Q1_episodes_target2} " in q1["output"], q1
    assert "Q1_episodes_target0" not in q1["output"], f"expected target 0 to be accepted: {q1}"
    assert c[CHECK["q2"]]["verdict"] == "not answered", c[CHECK["q2"]]
    q3 = c[CHECK["q3"]]
    assert q3["verdict"] == "failed" and "Hint:" in q3["output"], q3
    assert "assert " not in q3["output"], f"expected the message alone, no compared values: {q3}"
    assert f"'{ref.Q3_choice}'" not in q3["output"] and f'"{ref.Q3_choice}"' not in q3["output"], q3
    assert c[CHECK["q1_same"]]["verdict"] == "failed", c[CHECK["q1_same"]]
    assert c[CHECK["cu1"]]["passed"], c[CHECK["cu1"]]
    assert c[CHECK["cu2"]]["verdict"] == "failed" and "one letter" in c[CHECK["cu2"]]["output"], c[
        CHECK["cu2"]
    ]
    assert c[CHECK["q3_why"]]["verdict"] == "not answered" and c[CHECK["q3_why"]]["score"] == 0
    assert c[CHECK["cu3"]]["passed"] and c[CHECK["cu2_why"]]["verdict"] == MANUAL


def test_honest_numbers_from_a_wider_network_get_full_marks(tmp_path):
    """A correct train_bandit with hidden width 64 (not the reference's 32) loses no point."""
    ex04 = (SOLUTIONS / "ex04_reinforce.py").read_text()
    wide = ex04.replace(
        "nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 4))",
        "nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 4))",
    )
    assert wide != ex04
    sub = submission(tmp_path / "sub", ex04=wide)
    seeds = [0, 1, 2]
    (result,) = run_experiments(
        impl_dir=sub, names=["target"], seeds=seeds, metrics=["prob"], progress=False
    )
    honest = {sr.setting.label: sr.stats("prob").answer for sr in result.settings}
    source = with_answers(
        (SOLUTIONS / "questions.py").read_text(),
        Q1_seeds=seeds,
        Q1_episodes_target2=honest["target 2"],
        Q1_episodes_target0=honest["target 0"],
    )
    (sub / "questions.py").write_text(source)
    got = grade_questions(sub, ["-k", "q1_episodes"])
    q1 = got["checks"][CHECK["q1_numbers"]]
    assert q1["passed"], (honest, q1)


def test_pytest_course_shows_the_questions_graded_on_submission_and_manual(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(COURSE, course, ignore=shutil.ignore_patterns("__pycache__"))
    for path in SOLUTIONS.glob("ex0[1-4]_*.py"):
        shutil.copy(path, course / path.name)
    source = with_answers(
        (SOLUTIONS / "questions.py").read_text(), Q2_seeds=None, Q2_episodes_lr_1e4=None
    )
    (course / "questions.py").write_text(source)
    write_record(course)  # the capstone numbers are checked locally, against the record
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}  # a cold run cache
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(course / "questions.py"), "-p", "no:cacheprovider"],
        cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT, env=env,
    )  # fmt: skip
    out = proc.stdout
    assert "Traceback" not in out + proc.stderr, out[-3000:]
    assert re.search(r"PASS  q1 episodes to 90 with target 2 and target 0  \[2/2\]", out), out[
        -3000:
    ]
    assert re.search(r"TODO  q2 .* - not answered  \[0/2\]", out), out[-3000:]
    for title in (
        "q1 does target 0",
        "q3 what happens",
        "cu1 what plays",
        "cu2 why ppo",
        "cu3 what reward",
        "cap3 what the kl term costs",
    ):
        assert re.search(rf"WAIT  {title}.* - graded on submission  \[\?/\d\]", out), (
            title,
            out[-3000:],
        )
    for title in (
        "cap1 figures without kl",
        "cap1 what your run",
        "cap2 figures with kl",
        "cap2 what the kl penalty",
        "cap3 the reward model score",
    ):
        assert re.search(rf"PASS  {title}.*\[\d/\d\]", out), (title, out[-3000:])
    for title in ("q3 why explained", "cu2 why explained", "cap3 why explained"):
        assert re.search(rf"HAND  {title} - needs manual grading  \[\?/\d\]", out), (
            title,
            out[-3000:],
        )
    assert re.search(r"^TOTAL\s+9/11\s*$", out, re.MULTILINE), out[-1500:]
    assert "(+ 7 points in answers graded when you submit)" in out, out[-1500:]


def test_the_answer_map_covers_every_check_and_every_answer_variable():
    from autograder.checks.questions import ANSWERS, GROUPS

    rubric = Rubric.load().exercises["questions"]
    assert set(ANSWERS) == set(rubric.points), f"expected ANSWERS for {sorted(rubric.points)}"
    assert set(GROUPS["lesson"]) | set(GROUPS["understanding"]) | set(GROUPS["capstone"]) == set(
        ANSWERS
    )
    names = [n for names in ANSWERS.values() for n in names]
    declared = {k for k in vars(reference("questions")) if ANSWER_NAME.match(k)}
    assert sorted(names) == sorted(declared), f"expected each answer read by one check: {names}"
