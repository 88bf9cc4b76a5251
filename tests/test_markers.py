"""The marker transforms in ``autograder.build.markers`` (nbgrader's dialect).

``strip_solutions`` must replace every ``### BEGIN SOLUTION`` / ``### END SOLUTION``
region by nbgrader's default stub at the marker's indent, ``strip_hidden_tests``
must delete hidden-test regions, ``strip_markers`` must keep the reference code
without its marker lines, and all three must refuse nested, unterminated or
unopened markers with an error that names the file and the line.
"""

from __future__ import annotations

import re
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.build.markers import (
    STUB_LINES,
    MarkerError,
    find_regions,
    strip_hidden_tests,
    strip_markers,
    strip_solutions,
)

SOURCE = textwrap.dedent(
    '''\
    """A module."""

    import math


    def f(x):
        """Docstring stays."""
        ### BEGIN SOLUTION
        y = math.sqrt(x)
        return y + 1
        ### END SOLUTION


    class C:
        def g(self):
            if True:
                ### BEGIN SOLUTION
                return 42
                ### END SOLUTION

    ### BEGIN SOLUTION
    TOP_LEVEL_SECRET = 7
    ### END SOLUTION
    KEPT = 1
    '''
)

EXPECTED_STUB = textwrap.dedent(
    '''\
    """A module."""

    import math


    def f(x):
        """Docstring stays."""
        # YOUR CODE HERE
        raise NotImplementedError()


    class C:
        def g(self):
            if True:
                # YOUR CODE HERE
                raise NotImplementedError()

    # YOUR CODE HERE
    raise NotImplementedError()
    KEPT = 1
    '''
)


def test_strip_solutions_replaces_each_region_by_nbgraders_stub_at_the_marker_indent():
    got = strip_solutions(SOURCE, filename="solutions/ex00_demo.py")
    assert got == EXPECTED_STUB, f"input:\n{SOURCE}\nexpected:\n{EXPECTED_STUB}\ngot:\n{got}"


def test_the_stub_is_nbgraders_default_python_stub():
    assert STUB_LINES == ("# YOUR CODE HERE", "raise NotImplementedError()"), (
        f"expected nbgrader's default python stub lines, got {STUB_LINES!r}"
    )


def test_the_stubbed_module_still_compiles_and_keeps_the_code_outside_regions():
    got = strip_solutions(SOURCE)
    compile(got, "<stub>", "exec")  # raises SyntaxError if the indent were wrong
    for line in ('"""Docstring stays."""', "import math", "KEPT = 1", "def g(self):"):
        assert line in got, f"expected {line!r} outside the regions to survive; got:\n{got}"
    for secret in ("math.sqrt(x)", "return y + 1", "return 42", "TOP_LEVEL_SECRET"):
        assert secret not in got, f"expected solution line {secret!r} to be removed; got:\n{got}"


def test_text_without_markers_is_returned_unchanged_by_every_transform():
    text = "def f():\n    return 1\n# ## BEGIN SOLUTION is not a marker when it is not alone\n"
    for transform in (strip_solutions, strip_hidden_tests, strip_markers):
        got = transform(text)
        assert got == text, (
            f"{transform.__name__}: expected the input unchanged, got {got!r} (input {text!r})"
        )


def test_markers_without_a_space_after_the_hashes_are_still_markers():
    text = "def f():\n    ###BEGIN SOLUTION\n    return 1\n    ###END SOLUTION\n"
    got = strip_solutions(text)
    expected = "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    assert got == expected, f"input {text!r}: expected {expected!r}, got {got!r}"


def test_the_last_end_marker_without_a_trailing_newline_still_gives_a_whole_stub():
    text = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"
    got = strip_solutions(text)
    expected = "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    assert got == expected, f"input {text!r}: expected {expected!r}, got {got!r}"


# -- malformed markers -------------------------------------------------------------------

NESTED = "x = 1\n### BEGIN SOLUTION\ny = 2\n    ### BEGIN SOLUTION\nz = 3\n### END SOLUTION\n"
UNTERMINATED = "x = 1\n\ndef f():\n    ### BEGIN SOLUTION\n    return 1\n"
UNOPENED = "x = 1\ny = 2\n### END SOLUTION\n"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (NESTED, 4, "nested"),
        (UNTERMINATED, 4, "never closed"),
        (UNOPENED, 3, "without a BEGIN"),
    ],
    ids=["nested", "unterminated", "unopened"],
)
@pytest.mark.parametrize("transform", [strip_solutions, strip_markers], ids=lambda f: f.__name__)
def test_malformed_solution_markers_raise_marker_error_with_file_and_line(
    transform, text, line, words
):
    with pytest.raises(MarkerError) as info:
        transform(text, filename="solutions/ex07_kl.py")
    message = str(info.value)
    assert f"solutions/ex07_kl.py:{line}:" in message, (
        f"{transform.__name__} on {text!r}: expected the message to name solutions/ex07_kl.py:{line}, got {message!r}"
    )
    assert words in message, (
        f"{transform.__name__} on {text!r}: expected {words!r} in the message, got {message!r}"
    )


def test_marker_error_is_a_value_error():
    assert issubclass(MarkerError, ValueError), (
        f"expected MarkerError to subclass ValueError, mro {MarkerError.__mro__}"
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("### BEGIN HIDDEN TESTS\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n", 2),
        ("a = 1\n### BEGIN HIDDEN TESTS\nassert a\n", 2),
        ("a = 1\n### END HIDDEN TESTS\n", 2),
    ],
    ids=["nested", "unterminated", "unopened"],
)
def test_malformed_hidden_test_markers_raise_marker_error_with_file_and_line(text, line):
    with pytest.raises(MarkerError) as info:
        strip_hidden_tests(text, filename="checks/ex01.py")
    message = str(info.value)
    assert f"checks/ex01.py:{line}:" in message, (
        f"input {text!r}: expected checks/ex01.py:{line} in {message!r}"
    )


def test_find_regions_reports_begin_end_lines_and_indent():
    regions = find_regions(SOURCE)
    got = [(r.begin, r.end, r.indent) for r in regions]
    expected = [(8, 11, "    "), (17, 19, "            "), (21, 23, "")]
    assert got == expected, f"expected regions {expected}, got {got} for input:\n{SOURCE}"


# -- hidden tests and plain markers ------------------------------------------------------

HIDDEN = textwrap.dedent(
    """\
    def test_public():
        assert f(1) == 2
        ### BEGIN HIDDEN TESTS
        assert f(2) == 3
        ### END HIDDEN TESTS
        assert f(0) == 1
    ### BEGIN SOLUTION
    kept = True
    ### END SOLUTION
    """
)


def test_strip_hidden_tests_deletes_the_region_and_its_markers_and_nothing_else():
    got = strip_hidden_tests(HIDDEN, filename="t.py")
    expected = textwrap.dedent(
        """\
        def test_public():
            assert f(1) == 2
            assert f(0) == 1
        ### BEGIN SOLUTION
        kept = True
        ### END SOLUTION
        """
    )
    assert got == expected, f"input:\n{HIDDEN}\nexpected:\n{expected}\ngot:\n{got}"


def test_strip_markers_keeps_the_solution_code_and_drops_only_the_marker_lines():
    got = strip_markers(SOURCE)
    expected = "".join(line for line in SOURCE.splitlines(keepends=True) if "### " not in line)
    assert got == expected, f"input:\n{SOURCE}\nexpected:\n{expected}\ngot:\n{got}"
    assert "TOP_LEVEL_SECRET = 7" in got, f"expected the reference code to be kept; got:\n{got}"


# -- a property: random indentation and bodies -------------------------------------------

_SAFE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 _=+-*/()[]{}.,:'\"", max_size=30)
_INDENTS = st.sampled_from(["", " ", "  ", "    ", "        ", "\t", "    \t"])


@st.composite
def marked_sources(draw):
    """A source text made of kept lines and solution regions, plus what must happen to it.

    Returns ``(text, expected_stub, expected_reference, n_regions, secret_lines)``.
    """
    pieces = draw(st.lists(st.booleans(), min_size=0, max_size=8))  # True: a region
    text, stub, reference, secrets = [], [], [], []
    counter = 0
    for is_region in pieces:
        counter += 1
        if not is_region:
            line = f"{draw(_INDENTS)}keep_{counter} = {draw(_SAFE)!r}\n"
            text.append(line)
            stub.append(line)
            reference.append(line)
            continue
        indent = draw(_INDENTS)
        begin_gap = draw(st.sampled_from(["", " "]))
        text.append(
            f"{indent}###{begin_gap}BEGIN SOLUTION{draw(st.sampled_from(['', ' ', '  ']))}\n"
        )
        body_indents = draw(st.lists(_INDENTS, min_size=0, max_size=4))
        for j, extra in enumerate(body_indents):
            if draw(st.booleans()) and j:
                body = "\n"  # a blank line inside the region
            else:
                body = f"{indent}{extra}secret_{counter}_{j} {draw(_SAFE)}\n"
                secrets.append(body.strip())
            text.append(body)
            reference.append(body)
        text.append(f"{indent}### END SOLUTION\n")
        stub.extend(f"{indent}{s}\n" for s in STUB_LINES)
    return "".join(text), "".join(stub), "".join(reference), sum(pieces), secrets


@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(marked_sources())
def test_random_regions_give_one_stub_each_at_their_indent_and_no_solution_line_survives(case):
    text, expected_stub, expected_reference, n_regions, secrets = case
    got = strip_solutions(text, filename="x.py")
    assert got == expected_stub, f"input:\n{text!r}\nexpected:\n{expected_stub!r}\ngot:\n{got!r}"
    raises = len(re.findall(r"^\s*raise NotImplementedError\(\)$", got, flags=re.MULTILINE))
    assert raises == n_regions, (
        f"expected {n_regions} stub raise lines, got {raises} for input {text!r}"
    )
    survivors = [s for s in secrets if s in got]
    assert not survivors, f"solution lines {survivors} survived strip_solutions on input {text!r}"
    assert "SOLUTION" not in got, f"a marker survived: {got!r} (input {text!r})"
    reference = strip_markers(text, filename="x.py")
    assert reference == expected_reference, (
        f"strip_markers on {text!r}: expected {expected_reference!r}, got {reference!r}"
    )
    assert strip_solutions(reference) == reference, (
        f"expected a marker-free text to be a fixed point of strip_solutions; input {reference!r}"
    )
