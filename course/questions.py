"""Graded questions - the REINFORCE experiments, "Check your understanding", the capstone.

The idea
--------
The lesson ends its runnable REINFORCE example with three questions (Q1-Q3) and
closes with three "Check your understanding" questions (CU1-CU3); the capstone
asks three more about reward hacking (CAP1-CAP3). Answer each one by setting the
variables below it; leave nothing else in this file.

* Q1 and Q2 are answered with numbers from running **your own** ``train_bandit``
  (exercise 04) over several seeds. Run all three experiments (about a minute on
  two cores; a progress bar, one PNG plot per experiment and a summary)::

      python -m autograder experiments            # reads course/, writes experiments/*.png

  or, in a notebook, ``autograder.experiments.run_experiments(train_bandit)``.
  The summary ends with the lines to copy here.
* Multiple-choice answers are one letter, e.g. ``"B"``.
* Explanations are a few sentences of plain text.

Which numbers
-------------
*Episodes to 90 %* uses ``metric="prob"`` of ``train_bandit``: the mean probability
of the target action on a fixed set of evaluation states, evaluated every 10
episodes. For one seed it is the episode count at the first evaluation that is at
least 0.9; for a setting, the mean over your seeds, rounded to the nearest integer.
(The lesson's greedy "action-2 rate" reaches 90 % within a few dozen episodes in
every setting at lr 3e-3, so it cannot show the differences asked about; the
experiments plot it too.) The runs use ``train_bandit(target_action, lr,
wrong_reward, episodes, eval_every=10, seed, metric="prob")`` with a budget of
``episodes=300`` at lr 3e-3 and ``episodes=4000`` at lr 1e-4; all other arguments
keep the lesson's values (target 2, lr 3e-3, wrong-action reward -0.1).

How this is checked
-------------------
Numbers: the grader re-runs your ``train_bandit`` on the seeds you list and checks
that your number is what your code produces (within half an evaluation interval or
2 %): the question asks what *you* observed, so it is never compared with the
reference's numbers. A wrong number is told which way it is off and what your own
run produced.
Capstone numbers (CAP1-CAP3): checked against the ``capstone_record.json`` you submit
next to this file, or next to your a4 notebook (written by ``python -m autograder
capstone``): the record must be unedited and made from the ex06/ex07/ex08/ex09/ex11
functions you submit (comments, formatting and docstrings aside), and each number
must be its figure within the rounding its question states. A missing or stale record
fails these checks with what to run. CAP1's letter and CAP2's yes/no answers are
checked against the directions in your own record (what your run did), CAP3's letter
against the answer key.
Choices (and Q1's yes/no): checked against answer keys that only the grader that
scores your submission holds; ``pytest course/`` says "graded on submission". A
wrong choice gets a hint that points back to the lesson.
Explanations: read and marked by a person ("needs manual grading"); no automatic
points either way. An empty answer is "not answered" and scores 0.
"""

# Generated from solutions/questions.py by `python -m autograder build-course`.
# Edit this copy: it is yours. Answer below each `# YOUR ANSWER HERE`.
# -- lesson: questions on the runnable REINFORCE example ------------------------------------------

# Q1. "Change the target action from 2 to 0. Does the policy learn equally fast?"
#     Experiment `target`: target_action=2 vs target_action=0 (lr 3e-3, episodes=300).

Q1_seeds: list[int] | None = None
"""The seeds you ran for Q1: 3 to 5 different ints, e.g. [0, 1, 2, 3, 4]."""
# YOUR ANSWER HERE

Q1_episodes_target2: int | None = None
"""Episodes to 90 % (metric "prob") with target_action=2, mean over Q1_seeds, rounded."""
# YOUR ANSWER HERE

Q1_episodes_target0: int | None = None
"""Episodes to 90 % (metric "prob") with target_action=0, mean over Q1_seeds, rounded."""
# YOUR ANSWER HERE

Q1_same_speed: bool | None = None
"""True if target 0 learns as fast as target 2 (the same up to seed-to-seed noise), else False."""
# YOUR ANSWER HERE

# Q2. "Reduce the learning rate to 1e-4. How many episodes does it take to reach 90%?"
#     Experiment `lr`: lr=1e-4 (target 2, wrong-action reward -0.1, episodes=4000).

Q2_seeds: list[int] | None = None
"""The seeds you ran for Q2: 3 to 5 different ints, e.g. [0, 1, 2, 3, 4]."""
# YOUR ANSWER HERE

Q2_episodes_lr_1e4: int | None = None
"""Episodes to 90 % (metric "prob") at lr=1e-4, mean over Q2_seeds, rounded.

Leave it None *and* fill in Q2_seeds if some seed never reaches 90 % within 4000 episodes.
"""
# YOUR ANSWER HERE

# Q3. "Change the reward for wrong actions from -0.1 to 0.0. What happens and why?"
#     Experiment `wrong_reward`: wrong_reward=-0.1 vs wrong_reward=0.0 (lr 3e-3, episodes=300).

Q3_choice: str | None = None
"""What happens? One letter:

A. Learning breaks down: without a penalty nothing tells the policy that the other
   actions are worse, so it stays close to uniform.
B. It still learns to pick the target: an episode that sampled a wrong action now has
   loss -log_prob * 0, whose gradient is zero, so only the episodes that sampled the
   target give a gradient; raising the target's logit lowers the other actions'
   probabilities through the softmax.
C. It learns faster: with no negative rewards every update makes the sampled action
   more likely, so the policy settles in fewer episodes.
D. Nothing changes: for the same seed the learning curve is exactly the same, because
   the loss only depends on the rewarded action.
"""
# YOUR ANSWER HERE

Q3_why: str = ""
"""Why? Two or three sentences in your own words, using what your plot shows (graded by hand)."""
# YOUR ANSWER HERE

# -- understanding: check your understanding ------------------------------------------------------

# CU1. "In the RLHF framework for LLM training, what plays the role of the RL 'action'?"

CU1_choice: str | None = None
"""One letter:

A. The whole prompt that the user sends to the model.
B. The score that the reward model gives to a complete response.
C. Picking the next token, given the prompt and the tokens generated so far.
D. One update of the model's weights by PPO.
"""
# YOUR ANSWER HERE

# CU2. "Why does PPO use clipping in its objective function?"

CU2_choice: str | None = None
"""One letter:

A. To keep each update small: once the probability ratio between the new and the old
   policy leaves [1 - eps, 1 + eps] in the direction the advantage favours, the objective
   stops rewarding further change, so an update has no incentive to move the policy far
   enough to collapse its performance.
B. To keep the rewards between -1 and 1, so that the returns cannot overflow.
C. To clip the norm of the gradient, which makes each training step faster.
D. To stop the model from generating responses longer than a maximum length.
"""
# YOUR ANSWER HERE

CU2_why: str = ""
"""One or two sentences, your own words: what goes wrong without the clipping? (graded by hand)"""
# YOUR ANSWER HERE

# CU3. "What is 'reward hacking' in the context of RLHF?"

CU3_choice: str | None = None
"""One letter:

A. Editing the human preference labels so that the reward model agrees with the policy.
B. Training the reward model and the policy at the same time, on the same data.
C. Giving the policy larger rewards so that it learns faster.
D. The policy finding outputs that the imperfect reward model scores highly without
   being good (for example repetitive flattery): it exploits the reward model's flaws.
"""
# YOUR ANSWER HERE

# -- capstone: reward hacking with and without the KL penalty -------------------------------------
#
# Answer these with the figures of YOUR run of the capstone's RLHF part:
#
#     python -m autograder capstone --only rlhf --seeds 3     # a few minutes per seed
#
# It writes capstone/capstone_record.json (the figures, means over your seeds, and a hash of
# your ex06/ex07/ex08/ex09/ex11 functions). Copy that file next to this questions.py and submit
# it with your work (from the a4 notebook: `--notebook a4_capstone.ipynb` writes it next to the
# notebook; submit both): the numbers below are checked against it (not against anybody else's
# run), so re-run the command after you change any of those functions. Figures are fractions,
# as in the record (an accuracy change of -0.254 is -25.4 points); give at least 2 decimals.

# CAP1. "Run PPO against the learned reward model with kl_coef = 0. What happens?"

CAP1_rm_score_gain: float | None = None
"""Reward-model score gain with kl_coef = 0: ``settings["kl_coef=0"]["rm_score_gain"]`` of
your record (final minus first evaluation, mean over your seeds), within 0.005."""
# YOUR ANSWER HERE

CAP1_accuracy_change: float | None = None
"""Change of true (verifier) held-out accuracy with kl_coef = 0, a fraction:
``settings["kl_coef=0"]["accuracy_change"]`` of your record, within 0.005."""
# YOUR ANSWER HERE

CAP1_final_kl: float | None = None
"""Final KL to the SFT model with kl_coef = 0: ``settings["kl_coef=0"]["final_kl"]`` of your
record, within 0.005."""
# YOUR ANSWER HERE

CAP1_choice: str | None = None
"""What did YOUR run with kl_coef = 0 do? One letter (checked against your record's signs of
the reward-model score gain and the accuracy change):

A. The reward-model score rose and true accuracy rose: the policy got better at the task.
B. The reward-model score rose while true accuracy fell: the policy found what the flawed
   reward model likes without being right (reward hacking).
C. The reward-model score fell and true accuracy fell.
D. The reward-model score fell while true accuracy rose.
"""
# YOUR ANSWER HERE

# CAP2. "Now the same PPO run with a KL penalty, kl_coef > 0. What changes?"

CAP2_kl_coef: float | None = None
"""The positive kl_coef of your run (the record's other setting; 2.0 unless you changed it)."""
# YOUR ANSWER HERE

CAP2_rm_score_gain: float | None = None
"""Reward-model score gain with that kl_coef (your record's ``rm_score_gain``), within 0.005."""
# YOUR ANSWER HERE

CAP2_accuracy_change: float | None = None
"""Change of true held-out accuracy with that kl_coef (your record's ``accuracy_change``),
a fraction, within 0.005."""
# YOUR ANSWER HERE

CAP2_final_kl: float | None = None
"""Final KL to the SFT model with that kl_coef (your record's ``final_kl``), within 0.005."""
# YOUR ANSWER HERE

CAP2_accuracy_held_better: bool | None = None
"""True if, in your record, accuracy changed more favourably with the penalty than without it
(``accuracy_change`` with kl_coef > 0 larger than with kl_coef = 0), else False."""
# YOUR ANSWER HERE

CAP2_kl_smaller: bool | None = None
"""True if, in your record, the final KL to SFT is smaller with the penalty than without it."""
# YOUR ANSWER HERE

# CAP3. "What does the KL term cost?"

CAP3_choice: str | None = None
"""One letter:

A. Nothing: with the penalty the policy reaches the same reward-model score, only without
   hacking it.
B. Reward: the penalty keeps the policy near the SFT model, so it gives up part of the
   reward-model score it could reach (also the part a better policy would have earned) in
   exchange for staying where the reward model is still trustworthy.
C. Only compute: the penalty needs a second forward pass, and that is its whole cost.
D. It makes the reward model's flaw worse, because the policy is pushed towards the
   completions the labeller liked.
"""
# YOUR ANSWER HERE

CAP3_rm_score_given_up: float | None = None
"""Reward-model score gain without the penalty minus with it (CAP1_rm_score_gain minus
CAP2_rm_score_gain, from your record), within 0.01."""
# YOUR ANSWER HERE

CAP3_why: str = ""
"""Why does the penalty hold accuracy? Two or three sentences on what your samples and plots
show: what did the kl_coef = 0 policy write, and why does staying near SFT prevent it?
(graded by hand)"""
# YOUR ANSWER HERE
