"""The capstone: the student's own functions train a small language model (RLVR, RLHF).

Grader-side code only (never shipped as an exercise): a verifiable task
(:mod:`.task`), a character tokenizer with the R1 tags as single tokens
(:mod:`.tokenizer`), a nanoGPT-sized causal transformer (:mod:`.model`), the SFT
checkpoint and its regeneration (:mod:`.sft`), the GRPO loop (:mod:`.rlvr`) and the
command line (:mod:`.cli`).
"""
