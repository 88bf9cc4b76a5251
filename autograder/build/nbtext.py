"""Lesson text for the notebooks: docstring prose (RST-ish) to Markdown, equations to LaTeX."""

from __future__ import annotations

import re
import textwrap

# The docstrings write equations as indented plain text; here is each one in LaTeX. A block
# that is not listed stays a fenced code block (correct, only less pretty).
LATEX: dict[str, str] = {
    "s' = clamp(s + move(a), 0, size-1) # walls keep you inside the grid "
    "r = 1.0 if s' == goal else -0.01 # a small cost per step done = (s' == goal)": r"""
\begin{aligned}
s' &= \operatorname{clamp}\big(s + \operatorname{move}(a),\ 0,\ \mathrm{size}-1\big)
   && \text{walls keep you inside the grid}\\
r &= \begin{cases} 1.0 & \text{if } s' = \mathrm{goal}\\ -0.01 & \text{otherwise} \end{cases}
   && \text{a small cost per step}\\
\mathrm{done} &= [\, s' = \mathrm{goal} \,]
\end{aligned}""",
    "G_t = r_t + gamma * G_{t+1}, G_{T-1} = r_{T-1}": r"""
G_t = r_t + \gamma\, G_{t+1}, \qquad G_{T-1} = r_{T-1}""",
    "normalize(x) = (x - mean(x)) / (std(x) + eps)": r"""
\operatorname{normalize}(x) = \frac{x - \operatorname{mean}(x)}{\operatorname{std}(x) + \epsilon}""",
    "pi(a | s) = softmax(z)_a = exp(z_a) / sum_b exp(z_b) log pi(a | s) = z_a - logsumexp(z)": r"""
\pi(a \mid s) = \operatorname{softmax}(z)_a = \frac{e^{z_a}}{\sum_b e^{z_b}}, \qquad
\log \pi(a \mid s) = z_a - \operatorname{logsumexp}(z)""",
    "loss = - sum_t log pi(a_t | s_t) * G_t": r"""
\mathcal{L} = -\sum_t \log \pi(a_t \mid s_t)\; G_t""",
    "V(s) = sum_a pi(a|s) * [ r(s, a) + gamma * V(s') * (1 - done(s, a)) ]": r"""
V(s) = \sum_a \pi(a \mid s)\,\big[\, r(s, a) + \gamma\, V(s')\,\big(1 - \mathrm{done}(s, a)\big) \,\big]""",
    "ratio = exp(logp_new - logp_old)": r"""
\mathrm{ratio} = \exp\big(\log \pi_\text{new}(a \mid s) - \log \pi_\text{old}(a \mid s)\big)""",
    "loss = - mean( min( ratio * A, clamp(ratio, 1 - eps, 1 + eps) * A ) )": r"""
\mathcal{L} = -\operatorname{mean}\Big(\min\big(\mathrm{ratio}\cdot A,\;
\operatorname{clamp}(\mathrm{ratio}, 1-\epsilon, 1+\epsilon)\cdot A\big)\Big)""",
    "delta_t = r_t + gamma * V_{t+1} * (1 - done_t) - V_t, V_T = last_value "
    "A_t = delta_t + gamma * lam * (1 - done_t) * A_{t+1}": r"""
\begin{aligned}
\delta_t &= r_t + \gamma\, V_{t+1}\,(1 - \mathrm{done}_t) - V_t, \qquad V_T = \texttt{last\_value}\\
A_t &= \delta_t + \gamma \lambda\, (1 - \mathrm{done}_t)\, A_{t+1}
\end{aligned}""",
    "k1 = logp - ref_logp unbiased, but negative about half the time "
    "k3 = exp(log r) - 1 - log r unbiased as well, low variance, never negative": r"""
\begin{aligned}
k_1 &= \log \pi - \log \pi_\text{ref} && \text{unbiased, but negative about half the time}\\
k_3 &= e^{\log r} - 1 - \log r && \text{unbiased as well, low variance, never negative}
\end{aligned}""",
    "r_t = -beta * (logp_t - ref_logp_t) + [t == last real token] * score": r"""
r_t = -\beta\,\big(\log \pi_t - \log \pi_{\text{ref},t}\big) + [\,t = \text{last real token}\,]\cdot
\mathrm{score}""",
    "P(chosen > rejected) = sigmoid(r_c - r_r)": r"""
P(\text{chosen} \succ \text{rejected}) = \sigma(r_c - r_r)""",
    "loss = mean( -log sigmoid(r_c - r_r) ) = mean( softplus(r_r - r_c) )": r"""
\mathcal{L} = \operatorname{mean}\big(-\log \sigma(r_c - r_r)\big)
= \operatorname{mean}\big(\operatorname{softplus}(r_r - r_c)\big)""",
    "A_i = (r_i - mean(r_group)) / (std(r_group) + eps)": r"""
A_i = \frac{r_i - \operatorname{mean}(r_\text{group})}{\operatorname{std}(r_\text{group}) + \epsilon}""",
    "loss_t = -min(ratio_t * A_i, clamp(ratio_t, 1 - eps, 1 + eps) * A_i) "
    "+ kl_coef * (exp(ref_t - logp_t) - (ref_t - logp_t) - 1)": r"""
\ell_t = -\min\big(\mathrm{ratio}_t A_i,\; \operatorname{clamp}(\mathrm{ratio}_t, 1-\epsilon, 1+\epsilon) A_i\big)
+ \texttt{kl\_coef}\,\big(e^{\,\mathrm{ref}_t - \log \pi_t} - (\mathrm{ref}_t - \log \pi_t) - 1\big)""",
}


# -- lesson text ---------------------------------------------------------------------------------
def _norm(text: str) -> str:
    return " ".join(text.split())


def inline(text: str) -> str:
    """RST inline markup to Markdown: ``code`` -> `code`."""
    return re.sub(r"``(.+?)``", r"`\1`", text, flags=re.S)


def rst_to_markdown(text: str, heading: str = "###") -> str:
    """Docstring prose (RST-ish) to Markdown: headings, inline code, equations, code blocks."""
    lines = textwrap.dedent(text).strip("\n").splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and re.fullmatch(r"-{3,}|={3,}", nxt.strip()):
            out += [f"{heading} {line.strip()}", ""]
            i += 2
            continue
        if (
            line.startswith("    ")
            and line.strip()
            and (not out or not out[-1].strip() or out[-1].endswith(":"))
        ):
            block = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                if not lines[i].strip() and not (
                    i + 1 < len(lines) and lines[i + 1].startswith("    ")
                ):
                    break
                block.append(lines[i][4:])
                i += 1
            latex = LATEX.get(_norm("\n".join(block)))
            if out and out[-1].strip():
                out.append("")
            if latex is not None:
                out += ["$$", latex.strip("\n"), "$$", ""]
            else:
                out += ["```text", *block, "```", ""]
            continue
        out.append(inline(re.sub(r"::$", ":", line)))
        i += 1
    text = "\n".join(out).strip() + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)


def split_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """``(title, {section: text})`` of a module docstring with RST ``----`` headings."""
    lines = doc.strip("\n").splitlines()
    title = lines[0].strip().rstrip(".")
    sections: dict[str, str] = {"": ""}
    current = ""
    i = 1
    while i < len(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if lines[i].strip() and re.fullmatch(r"-{3,}", nxt.strip()):
            current = lines[i].strip()
            sections[current] = ""
            i += 2
            continue
        sections[current] += lines[i] + "\n"
        i += 1
    return title, {k: v.strip("\n") for k, v in sections.items() if v.strip()}
