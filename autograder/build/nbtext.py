"""Lesson text for the notebooks: docstring prose (RST-ish) to Markdown.

Equations are written once, in the solution docstrings, as RST ``.. math::`` blocks of
LaTeX (the modules' docstrings are raw strings); they become ``$$ ... $$`` here. Any other
indented block stays a fenced code block.
"""

from __future__ import annotations

import re
import textwrap


# -- lesson text ---------------------------------------------------------------------------------
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
        if line.strip() == ".. math::":
            i += 1
            while i < len(lines) and not lines[i].strip():
                i += 1
            block = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                block.append(lines[i][4:])
                i += 1
            if out and out[-1].strip():
                out.append("")
            out += ["$$", "\n".join(block).strip("\n"), "$$", ""]
            continue
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
            if out and out[-1].strip():
                out.append("")
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
