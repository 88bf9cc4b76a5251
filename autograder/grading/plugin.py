"""The pytest plugin: picks the target, hands checks an ``impl``, keeps the score.

Two ways in, one code path:

* students: ``pytest course/`` - ``course/conftest.py`` calls
  :func:`register_student_plugin`, each ``course/exNN_*.py`` file is mapped to its
  checks in ``autograder/checks/``, and a score table ends the run;
* graders: ``python -m autograder grade PATH`` runs pytest on
  ``autograder/checks`` with its own rootdir and a :class:`GraderPlugin` that
  targets ``PATH`` (which is never on ``sys.path`` nor under the rootdir).

The score comes only from parent-side outcomes of the *expected* set of checks
(the rubric): a skipped, xfailed, errored or missing check counts as failed.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

from autograder import PACKAGE_DIR
from autograder.grading.results import (
    ON_SUBMISSION,
    PENDING,
    RunResult,
    empty_run,
)
from autograder.grading.rubric import Rubric, RubricError
from autograder.seam.errors import Problem, StudentProblem
from autograder.seam.launcher import PlainLauncher
from autograder.seam.process import Limits
from autograder.seam.proxy import Impl, WorkerState
from autograder.seam.zygote import Zygote
from autograder.verdict import TODO as TODO_VERDICTS
from autograder.verdict import Verdict

CHECKS_DIR = PACKAGE_DIR / "checks"
KEY = pytest.StashKey["GraderPlugin"]()
PLUGIN_NAME = "rl4llm-grader"

# No shrinking: the first falsifying example is reported at once, so a wrong answer costs
# no more time than a right one (shrinking took 14-22 s in one ex08 check). Failures print
# the example's arguments in full, so a non-minimal example is still reproducible.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)

settings.register_profile(
    "student",
    phases=NO_SHRINK,
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "grading",
    phases=NO_SHRINK,
    max_examples=60,
    derandomize=False,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def register_student_plugin(config: pytest.Config, impl_dir: Path) -> None:
    """Entry point for ``course/conftest.py``: grade the modules in ``impl_dir``."""
    if config.pluginmanager.get_plugin(PLUGIN_NAME) is None:
        config.pluginmanager.register(GraderPlugin(impl_dir, mode="student"), PLUGIN_NAME)


def exercise_of(path: Path) -> str:
    return Path(path).stem


class GraderPlugin:
    """Target selection, the ``impl`` seam, outcomes and the score table.

    Args:
        impl_dir: directory holding the student's ``exNN_*.py`` modules.
        mode: ``"student"`` (collect through ``course/``) or ``"grading"``.
        launcher: how workers are started (plain subprocess or sandbox).
        exercises: restrict grading to these exercises (grading mode).
    """

    def __init__(
        self,
        impl_dir: Path,
        mode: str = "student",
        launcher=None,
        exercises: list[str] | None = None,
        limits: Limits | None = None,
        worker_dir: Path | None = None,
        seed: int | None = None,
    ) -> None:
        self.impl_dir = Path(impl_dir).resolve()
        self.worker_dir = Path(worker_dir) if worker_dir else self.impl_dir  # what workers import
        self.mode = mode
        self.launcher = launcher or PlainLauncher()
        self.limits = limits or Limits()
        self.rubric = Rubric.load()
        self.only = exercises
        self.collected: list[str] = []
        self.states: dict[str, WorkerState] = {}
        # (module, function) -> its first timeout or crash, shared by every exercise's worker
        self.broken: dict[tuple[str, str], StudentProblem] = {}
        self.outcomes: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.result: RunResult | None = None
        self.started = time.monotonic()
        self.seed = seed if seed is not None else 0
        self.hidden: set[tuple[str, str]] = set()
        self.titles: dict[tuple[str, str], str] = {}  # @pytest.mark.title("...")
        self.notes: list[str] = []
        self.zygote: Zygote | None = None  # started with the workers (pytest_collection_finish)

    # -- configuration -----------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[KEY] = self
        config.addinivalue_line("markers", "hidden: graded only by the authoritative grader")
        config.addinivalue_line("markers", "title(text): the check's title as students read it")
        config.pluginmanager.import_plugin("autograder.grading.fixtures")
        config.option.tbstyle = "no"  # our own one-line verdicts replace tracebacks
        config.option.reportchars = ""
        settings.load_profile("grading" if self.mode == "grading" else "student")
        if Zygote.usable() and not config.option.collectonly:
            # One process imports torch (while this one collects the checks) and forks every
            # exercise's worker: one import instead of one per exercise.
            trains = any(self.rubric.exercises[e].trains for e in self.expected(config))
            self.zygote = Zygote(self.worker_dir, self.launcher, warm_optimizers=trains)

    def expected(self, config: pytest.Config) -> list[str]:
        """The rubric's exercises this run will grade, as far as is known before collection.

        Grading: ``exercises`` (default all). ``pytest course/ex06_ppo.py``: the exercise
        files named on the command line (any folder or other argument: all).
        """
        names = list(self.rubric.exercises)
        if self.mode != "student":
            return [e for e in (self.only or names) if e in self.rubric.exercises]
        stems = [Path(str(arg).split("::")[0]).stem for arg in config.args]
        named = [s for s in stems if s in self.rubric.exercises]
        return named if named and len(named) == len(stems) else names

    # -- collection ----------------------------------------------------------------
    def _check_module(self, file_path: Path, parent: pytest.Collector):
        if self.mode != "student" or file_path.suffix != ".py":
            return None
        if file_path.parent.resolve() != self.impl_dir:
            return None
        name = file_path.stem
        if name not in self.rubric.exercises or not (CHECKS_DIR / f"{name}.py").is_file():
            return None
        return CheckModule.from_parent(parent, path=file_path)

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector):
        # `pytest course/`: each exercise file of the student's folder stands for its checks.
        # A file named on the command line goes through pytest_pycollect_makemodule instead.
        if parent.session.isinitpath(file_path):
            return None
        return self._check_module(file_path, parent)

    @pytest.hookimpl(tryfirst=True)
    def pytest_pycollect_makemodule(self, module_path: Path, parent: pytest.Collector):
        # `pytest course/ex02_returns.py`: never import the student's file here.
        return self._check_module(module_path, parent)

    def pytest_collection_modifyitems(self, session, config, items: list[pytest.Item]) -> None:
        for item in items:
            if not self.owns(item):
                continue
            key = (exercise_of(item.path), getattr(item, "originalname", None) or item.name)
            if item.get_closest_marker("hidden"):
                self.hidden.add(key)
            title = item.get_closest_marker("title")
            if title and title.args:
                self.titles[key] = str(title.args[0])
        if self.mode != "grading":  # hidden checks run only in authoritative grading
            hidden = [i for i in items if self.owns(i) and i.get_closest_marker("hidden")]
            if hidden:
                config.hook.pytest_deselected(items=hidden)
                items[:] = [i for i in items if i not in hidden]
        ours = [i for i in items if self.owns(i)]
        names = list(dict.fromkeys(exercise_of(i.path) for i in ours))
        if self.only is not None:
            names = [n for n in names if n in self.only]
            items[:] = [i for i in items if not self.owns(i) or exercise_of(i.path) in names]
            ours = [i for i in items if self.owns(i)]
        for item in ours:
            check = getattr(item, "originalname", None) or item.name
            self.rubric.points(exercise_of(item.path), check)  # raises RubricError if unknown
        for name in names:
            have = {
                getattr(i, "originalname", None) or i.name
                for i in ours
                if exercise_of(i.path) == name
            }
            missing = set(self.rubric.exercises[name].points) - have
            if self.mode != "grading":
                missing -= self.hidden_ids(name)
            if missing:
                raise RubricError(
                    f"rubric.toml gives points to checks that do not exist: {name}::{sorted(missing)}"
                )
        self.collected = names
        if self.mode == "student":
            missing_files = [
                n for n in self.rubric.exercises if not (self.impl_dir / f"{n}.py").exists()
            ]
            self.collected += [n for n in missing_files if n not in self.collected]

    def pytest_collection_finish(self, session) -> None:
        names = [n for n in self.collected if (self.impl_dir / f"{n}.py").is_file()]
        for name in names:  # start the workers now, while checks begin
            try:
                self.state_for(name).start(self.worker_dir, self.launcher, self.limits)
            except StudentProblem:
                pass

    def hidden_ids(self, exercise: str) -> set[str]:
        """Check ids of ``exercise`` that are hidden (seen at collection)."""
        return {c for e, c in self.hidden if e == exercise}

    def owns(self, item: pytest.Item) -> bool:
        if isinstance(item.getparent(pytest.Module), CheckModule):
            return True
        try:
            return Path(item.path).resolve().parent == CHECKS_DIR
        except (OSError, AttributeError):
            return False

    # -- the seam --------------------------------------------------------------------
    def state_for(self, exercise: str) -> WorkerState:
        if exercise not in self.states:
            self.states[exercise] = WorkerState(broken=self.broken)
            self.states[exercise].zygote = self.zygote
        return self.states[exercise]

    def impl_for(self, exercise: str) -> Impl:
        return Impl(
            self.worker_dir, exercise, self.launcher, self.limits, _shared=self.state_for(exercise)
        )

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if self.owns(item):
            self.state_for(exercise_of(item.path)).new_check()

    def pytest_sessionfinish(self, session) -> None:
        for state in self.states.values():
            state.close()
        if self.zygote is not None:
            self.zygote.close()
        self.result = self.build_result()

    # -- outcomes ----------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if not self.owns(item):
            return report
        key = (exercise_of(item.path), getattr(item, "originalname", None) or item.name)
        if report.when == "call" or (report.when == "setup" and not report.passed):
            if report.passed and not hasattr(report, "wasxfail"):
                verdict, text = Verdict.PASSED, ""
            elif hasattr(report, "wasxfail"):
                verdict, text = (
                    Verdict.FAILED,
                    "the check was marked as an expected failure; counted as failed",
                )
            elif report.skipped:
                verdict, text = Verdict.FAILED, "the check was skipped; counted as failed"
            else:
                verdict, text = classify(call.excinfo)
            if verdict in PENDING:  # decided later (by a person, or by the grader with the key)
                report.outcome = "skipped"
                report.longrepr = (
                    str(item.location[0]),
                    item.location[1] or 0,
                    f"Skipped: {verdict}",
                )
            elif verdict != Verdict.PASSED:
                report.longrepr = text
            if verdict in TODO_VERDICTS:
                report.rl4llm_todo = True  # pytest's summary says "N todo", not "N failed"
            self.outcomes.setdefault(key, []).append((verdict, text))
        return report

    def build_result(self) -> RunResult:
        run = empty_run(self.rubric, self.collected)
        hidden_points = 0.0
        for name, ex in run.items():
            if self.mode != "grading":
                hidden = self.hidden_ids(name)
                hidden_points += sum(c.max_points for c in ex.checks if c.check in hidden)
                ex.checks = [c for c in ex.checks if c.check not in hidden]
            path = self.impl_dir / f"{name}.py"
            problem = self.states[name].import_errors.get(name) if name in self.states else None
            if not path.exists():
                ex.problem = f"{name}.py is missing"
            elif problem is not None:
                ex.problem = problem.message
            for check in ex.checks:
                check.hidden = (name, check.check) in self.hidden
                check.title_text = self.titles.get((name, check.check), "")
                outcomes = self.outcomes.get((name, check.check), [])
                if not outcomes:
                    check.verdict = Verdict.MISSING_FILE if not path.exists() else Verdict.NOT_RUN
                    check.output = ex.problem or "the check did not run; counted as failed"
                    continue
                bad = [o for o in outcomes if o[0] != Verdict.PASSED]
                check.passed = not bad
                check.verdict, check.output = bad[0] if bad else (Verdict.PASSED, "")
        notes = list(self.notes)
        if hidden_points:
            notes.append(
                f"(+ {hidden_points:g} points in hidden checks, graded only when you submit)"
            )
        checks = [c for ex in run.values() for c in ex.checks]
        later = sum(c.max_points for c in checks if c.verdict == ON_SUBMISSION and not c.manual)
        if later:
            notes.append(f"(+ {later:g} points in answers graded when you submit)")
        manual = sum(c.max_points for c in checks if c.manual)
        if manual:
            notes.append(f"(+ {manual:g} points in explanations that a person grades)")
        return RunResult(
            list(run.values()),
            submission=str(self.impl_dir),
            mode=self.mode,
            sandbox=getattr(self.launcher, "name", ""),
            seed=self.seed if self.mode == "grading" else None,
            notes=notes,
            duration=time.monotonic() - self.started,
        )

    def pytest_report_teststatus(self, report, config):
        """A check whose function is still a stub is a TODO, not a failure, on pytest's screen."""
        if getattr(report, "rl4llm_todo", False) and report.failed:
            return "todo", "t", "TODO"
        return None

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config) -> None:
        if self.result is None:
            self.result = self.build_result()
        from autograder.grading.report import render_table

        terminalreporter.write("\n" + render_table(self.result, details=True) + "\n")


class CheckModule(pytest.Module):
    """The checks of one exercise, collected in place of the student's file of that name.

    Its path is the student's ``course/exNN_*.py`` (so node ids and ``pytest
    course/ex02_returns.py`` read naturally), but its code is
    ``autograder.checks.exNN_*``: the student's file is never imported by pytest.
    """

    def _getobj(self):
        return importlib.import_module(f"autograder.checks.{self.path.stem}")


def find_problem(exc: BaseException | None, depth: int = 0) -> Problem | None:
    """The first verdict-carrying problem inside ``exc`` (exception groups, causes, contexts)."""
    if exc is None or depth > 10:
        return None
    if isinstance(exc, Problem):
        return exc
    for sub in getattr(exc, "exceptions", ()) or ():
        found = find_problem(sub, depth + 1)
        if found:
            return found
    return find_problem(exc.__cause__, depth + 1) or find_problem(exc.__context__, depth + 1)


def classify(excinfo) -> tuple[Verdict, str]:
    """A verdict and a short message for a failed check."""
    exc = excinfo.value if excinfo is not None else None
    problem = find_problem(exc)
    if problem is not None:
        return problem.verdict, problem.render()
    if isinstance(exc, AssertionError) or (
        isinstance(exc, BaseExceptionGroup)
        and all(isinstance(e, AssertionError) for e in exc.exceptions)
    ):
        first = exc.exceptions[0] if isinstance(exc, BaseExceptionGroup) else exc
        text = str(first).strip() or "assertion failed"
        notes = [n for n in getattr(first, "__notes__", []) if n.startswith("Falsifying example")]
        lines = text.splitlines()[:20]
        return Verdict.FAILED, "\n".join(lines + notes[:1])
    if exc is not None and exc.__class__.__name__ in ("Skipped", "XFailed", "Exit"):
        return (
            Verdict.FAILED,
            f"the check was stopped ({exc.__class__.__name__}); counted as failed",
        )
    return (
        Verdict.CHECK_ERROR,
        f"the check itself failed ({type(exc).__name__}: {exc}); please report this",
    )
