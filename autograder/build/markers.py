"""Pure text transforms on nbgrader's solution markers.

The marker dialect is nbgrader's own, so the same source works in notebooks::

    ### BEGIN SOLUTION
    ...reference code...
    ### END SOLUTION

``strip_solutions`` replaces each region by nbgrader's default Python stub at the
marker's indent (``# YOUR CODE HERE`` + ``raise NotImplementedError()``).
``strip_hidden_tests`` removes ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``
regions. Both raise :class:`MarkerError` (with file and line) on a nested,
unterminated or unopened marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError()")


class MarkerError(ValueError):
    """A marker is nested, unterminated or closes nothing."""


@dataclass(frozen=True)
class Region:
    """One marker region: 1-based line numbers of its BEGIN and END lines and its indent."""

    begin: int
    end: int
    indent: str


def find_regions(text: str, kind: str = "SOLUTION", filename: str = "<string>") -> list[Region]:
    """Locate ``### BEGIN <kind>`` / ``### END <kind>`` regions.

    Args:
        text: source text.
        kind: ``"SOLUTION"`` or ``"HIDDEN TESTS"``.
        filename: used in error messages.

    Returns:
        The regions in order.

    Raises:
        MarkerError: nested, unterminated or unopened markers.
    """
    begin_re = re.compile(rf"^(\s*)###\s*BEGIN {kind}\s*$")
    end_re = re.compile(rf"^(\s*)###\s*END {kind}\s*$")
    regions: list[Region] = []
    open_at: tuple[int, str] | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if m := begin_re.match(line):
            if open_at is not None:
                raise MarkerError(
                    f"{filename}:{lineno}: nested '### BEGIN {kind}' "
                    f"(the region opened at line {open_at[0]} is not closed)"
                )
            open_at = (lineno, m.group(1))
        elif end_re.match(line):
            if open_at is None:
                raise MarkerError(f"{filename}:{lineno}: '### END {kind}' without a BEGIN")
            regions.append(Region(open_at[0], lineno, open_at[1]))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"{filename}:{open_at[0]}: '### BEGIN {kind}' is never closed")
    return regions


def _replace_regions(text: str, kind: str, filename: str, stub: tuple[str, ...]) -> str:
    regions = find_regions(text, kind, filename)
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    pos = 0  # 0-based index of the next line to copy
    for region in regions:
        out.extend(lines[pos : region.begin - 1])
        out.extend(f"{region.indent}{s}\n" for s in stub)
        pos = region.end
    out.extend(lines[pos:])
    return "".join(out)


def strip_solutions(text: str, filename: str = "<string>") -> str:
    """Replace every solution region by the ``# YOUR CODE HERE`` stub (nbgrader's default)."""
    return _replace_regions(text, "SOLUTION", filename, STUB_LINES)


def strip_hidden_tests(text: str, filename: str = "<string>") -> str:
    """Delete every hidden-tests region, markers included."""
    return _replace_regions(text, "HIDDEN TESTS", filename, ())


def strip_markers(text: str, filename: str = "<string>") -> str:
    """Keep the solution code but drop the marker lines (a clean reference copy)."""
    find_regions(text, "SOLUTION", filename)  # validate first
    marker = re.compile(r"^\s*###\s*(BEGIN|END) SOLUTION\s*$")
    return "".join(line for line in text.splitlines(keepends=True) if not marker.match(line))
