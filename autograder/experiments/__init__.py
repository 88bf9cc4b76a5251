"""The lesson's REINFORCE experiments, run with *your* ``train_bandit``.

The lesson ends its runnable REINFORCE example with three questions. Each one is
an experiment that compares two settings of ``train_bandit`` over several seeds:

========================  =============================  =================================
experiment                settings                       question (``course/questions.py``)
========================  =============================  =================================
``target``                target action 2 vs 0           Q1: does it learn equally fast?
``lr``                    learning rate 3e-3 vs 1e-4     Q2: episodes to 90 % at 1e-4
``wrong_reward``          wrong-action reward -0.1 vs 0  Q3: what happens, and why?
========================  =============================  =================================

Every run records two learning curves, evaluated every :data:`EVAL_EVERY` episodes:

* ``metric="prob"`` - the mean probability of the target action on a fixed set of
  evaluation states. The graded numbers use this one: it resolves the differences
  the questions ask about;
* ``metric="greedy"`` - the lesson's "action-2 rate" (argmax on 100 fresh random
  states). At lr 3e-3 it reaches 90 % within about 50 episodes in every setting,
  so it cannot tell the settings apart.

*Episodes to 90 %* of one run is the number of episodes at the first evaluation
whose value is at least 0.9 (``None`` if no evaluation within the budget is).
For a setting it is the mean over seeds, rounded to the nearest integer (``None``
if any seed never gets there).

From the command line (a progress bar, one PNG per experiment, a summary)::

    python -m autograder experiments                 # your course/ folder, seeds 0-4
    python -m autograder experiments --seeds 3 --only target --out my_plots

From a notebook or a script::

    from autograder.experiments import run_experiments, plot_experiment, summary
    results = run_experiments(train_bandit, seeds=5)   # your own function
    print(summary(results))
    for r in results:
        plot_experiment(r, f"{r.experiment.name}.png")

Instructors: ``python -m autograder experiments --write-bands`` re-derives the
accepted ranges of the numeric answers from the reference solution (see
:func:`compute_bands`) and stores them in ``benchmarks/question_bands.json`` (a record for
instructors; the questions grade each student's own runs, not these ranges).
"""

from __future__ import annotations

from autograder.experiments.bands import (  # noqa: F401 - the public API
    BAND_RULE,
    band_from,
    compute_bands,
    load_bands,
    write_bands,
)
from autograder.experiments.design import (  # noqa: F401 - the public API
    BAND_SEEDS,
    BANDS_PATH,
    CALL_TIMEOUT,
    DEFAULT_SEEDS,
    EVAL_EVERY,
    EXPERIMENTS,
    FAST_EPISODES,
    GRADED_METRIC,
    LR_FAST,
    LR_SLOW,
    METRICS,
    QUESTION_RUNS,
    SLOW_EPISODES,
    TARGET_0,
    TARGET_2,
    THRESHOLD,
    WRONG_MINUS,
    WRONG_ZERO,
    Experiment,
    ExperimentError,
    ExperimentResult,
    Setting,
    SettingResult,
    Stats,
    answer_tolerance,
    episodes_to_90,
    experiment,
    mean_episodes,
    round_half_up,
)
from autograder.experiments.plots import (  # noqa: F401 - the public API
    answer_lines,
    main,
    plot_experiment,
    summary,
)
from autograder.experiments.runner import (  # noqa: F401 - the public API
    Runner,
    WorkerRunner,
    check_curve,
    function_runner,
    run_experiments,
    run_many,
    seed_list,
)
