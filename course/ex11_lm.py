"""Exercise 11 - language-model plumbing: log-probs of a completion, and which tokens count.

The idea
--------
RLHF and RLVR treat a language model as a policy whose actions are tokens. Every
trainer (PPO, GRPO) needs, for each generated token, its log-probability under the
model, and a mask saying which tokens the policy actually chose. Three small
functions, and the place where most RLHF code gets something silently wrong.

``tokens`` is a ``(B, T)`` batch: a prompt of ``prompt_len`` tokens (left-padded to
one length) followed by the generated tokens. ``logits`` ``(B, T, V)`` is the
model's output on ``tokens``. A causal model's output at position ``t`` is its
prediction of the **next** token, so the log-prob of token ``t + 1`` is read at
position ``t`` (the one-position shift)::

    token_logp[:, t] = log_softmax(logits[:, t] / temperature)[tokens[:, t + 1]]

for ``t = 0 .. T-2``: the result has ``T - 1`` columns. Reading position ``t + 1``
instead gives a number for every token that is simply not its probability, and
training on it teaches nothing. ``temperature`` is the **sampler's**: if the
completions were sampled from ``softmax(logits / 0.7)``, the PPO/GRPO ratio must
compare log-probs of that same distribution; computing them at temperature 1 makes
the ratio differ from 1 before any update. Use ``log_softmax`` (never
``log(softmax(...))``, which in float32 loses precision once a probability
underflows, at a logit gap of about 88, and gives ``-inf`` beyond a gap of about
104).

``completion_mask[:, t]`` says whether column ``t`` of ``token_logp`` (i.e. token
``t + 1``) belongs to the completion the policy generated::

    mask[:, t] = (t + 1 >= prompt_len) and (t + 1 <= e)

where ``e`` is the position of the first ``eos_id`` among the generated tokens of
that row (``T - 1`` if there is none). The prompt is not the policy's action (it is
excluded); the end token **is** (the model must learn when to stop); whatever comes
after it is padding. An ``eos_id`` inside the prompt is ignored: some tokenizers pad
prompts with their end token.

``sequence_logprob`` sums each row's log-probs over its masked tokens: ``log pi(y|x)``
of a whole completion, ``(B,)``, keeping the autograd graph. Padded positions may
hold anything (``-inf`` after an end token is common) and must reach neither the
value nor the gradient: select with ``torch.where``, do not multiply
(``-inf * 0 = nan``).

Contracts
---------
* ``token_logprobs``: ``logits`` is a float ``(B, T, V)`` tensor and ``tokens`` an
  integer ``(B, T)`` tensor with ids in ``[0, V)``; ``temperature`` is a finite
  number ``> 0``. Anything else raises ``ValueError``. Returns ``(B, T - 1)`` in the
  dtype of ``logits``, attached to the graph of ``logits``.
* ``completion_mask``: ``tokens`` is an integer ``(B, T)`` tensor; ``prompt_len`` an
  int with ``1 <= prompt_len <= T``, else ``ValueError``. Returns a ``torch.bool``
  tensor ``(B, T - 1)``.
* ``sequence_logprob``: ``token_logp`` is a float ``(B, T)`` tensor and ``mask`` a
  0/1 or bool tensor of the same shape, else ``ValueError``. Returns ``(B,)``; a row
  without a real token sums to 0.
* No function modifies its inputs.

How this is checked
-------------------
Hand-worked examples (a 3-token vocabulary with known log-probs, an end token in the
middle, in the prompt and absent); the output shapes and dtypes; ``ValueError`` for
each bad argument above; properties on random batches (log-probs are ``<= 0`` and
their ``exp`` sums to 1 over the vocabulary; at temperature ``tau`` they equal
those of ``logits / tau`` at temperature 1; the mask is a contiguous run that starts
at column ``prompt_len - 1``; the sum equals a plain loop); the gradients of
``token_logprobs`` (``one_hot - softmax``, divided by the temperature) and of
``sequence_logprob`` (the mask, zero on padding holding ``-inf``); and the reference
on fresh random batches.

Integration (the capstone, graded): your ``group_advantages`` and ``grpo_loss``
(ex10), ``kl_k3`` (ex07), ``math_reward`` and ``format_reward`` (ex09) and the three
functions here drive 12 GRPO steps (16 prompts x 8 samples, temperature 1) of the
capstone's small model from its SFT checkpoint, in your worker. Only the final
weights come back: the grader samples 600 held-out prompts from them with its own
code and requires a sampled accuracy at least 2 points above the SFT checkpoint's
on the same prompts (the reference functions added 8 to 16 points, 12 on
average, over seven seeds). So this check also needs your ex07, ex09 and ex10
files, and fails if any of those functions is wrong in a way that stops learning.
"""

# Generated from solutions/ex11_lm.py by `python -m autograder build-course`.
# Edit this copy: it is yours. Replace each `raise NotImplementedError()`.
from __future__ import annotations

import math

import torch


def token_logprobs(
    logits: torch.Tensor, tokens: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """Log-prob of each token ``t + 1`` under the model's prediction at position ``t``.

    Args:
        logits: ``(B, T, V)`` float, the model's output on ``tokens``.
        tokens: ``(B, T)`` integer ids in ``[0, V)``.
        temperature: the sampler's temperature, finite and ``> 0``.

    Returns:
        ``(B, T - 1)``: ``log_softmax(logits[:, t] / temperature)[tokens[:, t + 1]]``,
        in the dtype of ``logits`` and attached to its graph.

    Raises:
        ValueError: ``logits`` not a float 3-d tensor, ``tokens`` not an integer
            ``(B, T)`` tensor matching it, an id outside ``[0, V)``, or a temperature
            that is not a finite number ``> 0``.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def completion_mask(tokens: torch.Tensor, prompt_len: int, eos_id: int) -> torch.Tensor:
    """Which columns of ``token_logprobs`` are generated tokens, up to the first end token.

    Args:
        tokens: ``(B, T)`` integer ids: ``prompt_len`` prompt tokens, then the completion.
        prompt_len: the (left-padded) prompt length, an int in ``[1, T]``.
        eos_id: the end-of-sequence id; ``eos_id`` in the prompt is ignored.

    Returns:
        ``(B, T - 1)`` ``torch.bool``: column ``t`` is True iff token ``t + 1`` was
        generated (``t + 1 >= prompt_len``) and is at or before the row's first
        generated ``eos_id``.

    Raises:
        ValueError: ``tokens`` not an integer 2-d tensor, or ``prompt_len`` not an int
            in ``[1, T]``.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def sequence_logprob(token_logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``log pi(completion | prompt)``: each row's sum of log-probs over its masked tokens.

    Args:
        token_logp: ``(B, T)`` float per-token log-probs (padding may hold anything).
        mask: ``(B, T)`` 0/1 or bool, 1 = a token of the completion.

    Returns:
        ``(B,)``, attached to the graph of ``token_logp``; padding reaches neither the
        value nor the gradient; a row without real tokens gives 0.

    Raises:
        ValueError: ``token_logp`` not a float 2-d tensor, ``mask`` of another shape or
            holding values other than 0 and 1.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
