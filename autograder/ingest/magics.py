"""The one magic rule: how IPython magics and shell lines of a notebook cell are read."""

from __future__ import annotations

import functools
import re

_SHELL_OR_MAGIC = re.compile(r"^\s*(?:[%!]|\w+\s*=\s*!)")


@functools.lru_cache(maxsize=1)
def _transformer():
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except Exception:  # noqa: BLE001 - IPython is optional
        return None
    return TransformerManager()


def _compiles(src: str) -> bool:
    try:
        compile(src, "<cell>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _blank_out(line: str) -> str:
    indent = line[: len(line) - len(line.lstrip())]
    return f"{indent}pass  # IPython magic/shell line dropped by the grader"


def is_cell_magic(src: str) -> bool:
    """Whether the cell starts with a cell magic (``%%time``, ``%%bash``...)."""
    first = next((ln for ln in src.splitlines() if ln.strip()), "")
    return first.lstrip().startswith("%%")


def strip_magics(src: str) -> str:
    """The one magic rule: IPython magics and ``!`` shell lines become ``pass``.

    A cell that is already valid Python is kept as it is (a ``%`` line inside a
    string stays). A cell magic (``%%time``...) drops the whole cell (a comment is
    left). Lines are replaced one for one, so line numbers in tracebacks stay right.
    """
    if _compiles(src):
        return src
    if is_cell_magic(src):
        return "# IPython cell magic dropped by the grader\n"
    tm = _transformer()
    if tm is not None:
        try:
            code = tm.transform_cell(src)
        except Exception:  # noqa: BLE001 - fall back to the line rule
            code = None
        if code is not None:
            lines = [_blank_out(ln) if "get_ipython()" in ln else ln for ln in code.splitlines()]
            return "\n".join(lines) + "\n"
    lines = [_blank_out(ln) if _SHELL_OR_MAGIC.match(ln) else ln for ln in src.splitlines()]
    return "\n".join(lines) + "\n"
