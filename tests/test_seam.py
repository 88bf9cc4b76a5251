"""The seam: :class:`autograder.seam.proxy.Impl` against small student modules in a temp dir.

What crosses back is always built by the grader (plain values, :class:`Array`,
:class:`Handle`); what goes wrong in the student's process becomes a verdict
(:class:`StudentError`, :class:`NotImplementedByStudent`, :class:`StudentTimeout`,
:class:`WorkerCrashed`, :class:`ImportFailed`) and never a hang or a grader crash.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from autograder.seam import zygotefork
from autograder.seam.cputime import descendants
from autograder.seam.errors import (
    ImportFailed,
    NotImplementedByStudent,
    StudentError,
    StudentProblem,
    StudentTimeout,
    WorkerCrashed,
)
from autograder.seam.launcher import PlainLauncher
from autograder.seam.process import Limits
from autograder.seam.proxy import Impl, WorkerState
from autograder.seam.values import Array, Handle
from autograder.seam.zygote import Zygote
from autograder.seam.zygotefork import WARM_CHILD

pytestmark = pytest.mark.slow  # starts real worker processes

CALL_TIMEOUT = 1.0  # CPU seconds
WALL_SLACK = 3.0  # the fragile worker's wall-clock backstop is CALL_TIMEOUT + WALL_SLACK
SLACK = 4.0  # seconds allowed beyond the per-call timeout on a loaded machine (kill + reap)

STUDENT = textwrap.dedent(
    """\
    import os
    import sys
    import time

    import numpy as np
    import torch


    def echo(x):
        return x


    def plain_values():
        return 3, 2.5, "text", None, True, [1, 2], {"a": 1, 2: "b"}


    def special_floats():
        return [float("nan"), float("inf"), float("-inf")]


    def float64_tensor_with_grad():
        return torch.ones(2, 3, dtype=torch.float64, requires_grad=True) * 2


    def int_tensor():
        return torch.arange(5)


    def zero_d_tensor():
        return torch.tensor(1.5)


    def parameter():
        return torch.nn.Parameter(torch.zeros(2))


    def numpy_array():
        return np.arange(6, dtype=np.int32).reshape(2, 3)


    def numpy_scalars():
        return np.float64(0.25), np.int64(7), np.float32(1.5), np.bool_(True)


    def nested():
        return (1, (2.0, [torch.zeros(1)]), {"k": (np.ones(2),)})


    def student_shape(t):
        return [type(t).__name__, str(t.dtype), list(t.shape), bool(getattr(t, "requires_grad", False))]


    class Counter:
        def __init__(self, start):
            self.n = start

        def add(self, k=1):
            self.n += k
            return self.n

        def __call__(self, x):
            return x * self.n


    def read_counter(counter):
        return counter.n


    class AlwaysEqual:
        def __eq__(self, other):
            return True

        def __ne__(self, other):
            return False

        def __hash__(self):
            return 0


    def always_equal():
        return AlwaysEqual()


    class MyTensor(torch.Tensor):
        def __eq__(self, other):
            return True


    def tensor_subclass():
        return torch.ones(3).as_subclass(MyTensor)


    class MyArray(np.ndarray):
        pass


    def ndarray_subclass():
        return np.ones(3).view(MyArray)


    class SneakyInt(int):
        def __eq__(self, other):
            return True


    def int_subclass():
        return SneakyInt(3)


    class SneakyList(list):
        pass


    def list_subclass():
        return SneakyList([1, 2])


    def fails(x):
        return helper(x)


    def helper(x):
        raise ValueError(f"bad input {x}")


    def todo():
        raise NotImplementedError()


    def todo_deep():
        return helper_todo()


    def helper_todo():
        raise NotImplementedError("later")


    def spin():
        while True:
            pass


    def sleep_forever():
        time.sleep(1000)


    def nap(seconds):
        time.sleep(seconds)
        return seconds


    def stubborn():
        while True:
            try:
                while True:
                    pass
            except BaseException:
                pass


    def busy(seconds):
        start = time.process_time()
        while time.process_time() - start < seconds:
            pass
        return seconds


    def hard_exit():
        os._exit(0)


    def soft_exit():
        sys.exit(0)


    def pid():
        return os.getpid()


    def chatty():
        print("hello from the student " * 5000)
        print("to stderr", file=sys.stderr)
        sys.stdout.flush()
        os.write(1, b"\\x00\\x00\\x00\\x0c" + b'{"ok": true}')  # looks like a frame
        os.write(2, b"\\x00\\x00\\x00\\x02{}")
        return 42


    def flood(rid):
        # writes a reply for the current call (id rid), then 8 MB of stale frames, to the
        # reply pipe (the worker's only pipe open for writing), as a forging student would
        import json
        import struct

        frames = [json.dumps({"id": rid, "ok": True, "out": 1}).encode()]
        frames += [json.dumps({"id": -1, "ok": True, "out": "x" * (1 << 20)}).encode()] * 8
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            try:
                pipe = os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:")
                with open(f"/proc/self/fdinfo/{fd}") as info:
                    flags = int(info.read().split("flags:")[1].split()[0], 8)
            except (OSError, ValueError, IndexError):
                continue
            if pipe and flags & 3 == 1:
                for data in frames:
                    os.write(fd, struct.pack(">I", len(data)) + data)
        return 2


    def square_sum(x):
        return (x ** 2).sum()


    def double(x):
        return 2 * x


    def detached(x):
        return x.detach() * 3
    """
)

# the line numbers in STUDENT of the two raises, found by text so the test follows edits
LINE_OF = {line.strip(): i for i, line in enumerate(STUDENT.splitlines(), start=1)}


@pytest.fixture(scope="module")
def submission(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("submission")
    (root / "student.py").write_text(STUDENT)
    (root / "broken.py").write_text("x = 1\n\ndef f(:\n    pass\n")
    (root / "raises_on_import.py").write_text(
        "import math\n\n\ndef g():\n    return math.sqrt(-1)\n\n\ng()\n"
    )
    return root


@pytest.fixture(scope="module", params=["alone", "zygote"])
def start(request) -> str:
    """How workers start: on their own, or forked by a zygote (as in a grading)."""
    return request.param


@pytest.fixture(scope="module", params=["alone", "zygote", "forked"])
def fragile_start(request) -> str:
    """As ``start``, and "forked": the zygote of a warm run, forked from this process
    (``seam/zygotefork.py``): its workers keep their CPU budgets, kills and crash reports."""
    return request.param


def make_impl(submission: Path, start: str, limits: Limits) -> Impl:
    state = WorkerState()
    if start == "zygote":
        state.zygote = Zygote(submission, PlainLauncher())
    elif start == "forked":
        with pytest.MonkeyPatch.context() as mp:  # as in a run the warm server forked
            mp.delenv("RL4LLM_NO_WARM", raising=False)
            mp.setenv(WARM_CHILD, "1")
            assert zygotefork.usable(PlainLauncher())
            state.zygote = Zygote(submission, PlainLauncher())
        assert isinstance(state.zygote.proc, zygotefork.ForkedZygote)
    return Impl(submission, "student", limits=limits, _shared=state)


def shut(impl: Impl) -> None:
    impl.shutdown()
    if impl._state.zygote is not None:
        impl._state.zygote.close()


@pytest.fixture(scope="module")
def shared(submission, start):
    """One worker for the well-behaved calls (starting python + torch takes about a second)."""
    impl = make_impl(submission, start, Limits(call_timeout=10.0))
    yield impl
    shut(impl)


@pytest.fixture
def impl(shared):
    shared._state.new_check()
    return shared


@pytest.fixture
def fragile(submission, fragile_start):
    """A worker of its own, for calls that kill or hang it."""
    impl = make_impl(
        submission, fragile_start, Limits(call_timeout=CALL_TIMEOUT, wall_slack=WALL_SLACK)
    )
    yield impl
    shut(impl)


def worker_pid(impl: Impl) -> int:
    worker = impl._state.worker
    assert worker is not None and worker.alive, f"expected a live worker, got {worker!r}"
    return worker.proc.pid


def assert_gone(pid: int, proc) -> None:
    assert proc.poll() is not None, f"expected worker process {pid} to have exited, poll() is None"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the process was killed and reaped, so the pid no longer exists


# -- plain values --------------------------------------------------------------------------


def test_plain_python_values_come_back_with_their_exact_types(impl):
    got = impl.plain_values()
    expected = (3, 2.5, "text", None, True, [1, 2], {"a": 1, 2: "b"})
    assert got == expected, f"plain_values(): expected {expected!r}, got {got!r}"
    kinds = [type(v) for v in got]
    assert kinds == [int, float, str, type(None), bool, list, dict], (
        f"plain_values(): expected exact types, got {kinds}"
    )


def test_nan_and_infinities_cross_the_json_channel(impl):
    got = impl.special_floats()
    assert type(got) is list and len(got) == 3, (
        f"special_floats(): expected a list of 3 floats, got {got!r}"
    )
    assert math.isnan(got[0]) and got[1] == math.inf and got[2] == -math.inf, (
        f"special_floats(): expected [nan, inf, -inf], got {got!r}"
    )


@pytest.mark.parametrize(
    "value",
    [
        0,
        -7,
        2**62,
        0.1,
        -1e300,
        "",
        "naïve ☃",
        None,
        True,
        False,
        [],
        [1, [2, [3]]],
        {},
        {"x": [1.5]},
    ],
    ids=repr,
)
def test_echoed_plain_values_are_unchanged(impl, value):
    got = impl.echo(value)
    assert got == value and type(got) is type(value), (
        f"echo({value!r}): expected {value!r}, got {got!r}"
    )


def test_tuples_and_dicts_keep_their_structure_both_ways(impl):
    sent = (1, (2, 3), {"k": [1.0, (None,)], 5: "five"})
    got = impl.echo(sent)
    assert got == sent, f"echo({sent!r}): expected it unchanged, got {got!r}"
    assert type(got) is tuple and type(got[1]) is tuple and type(got[2]) is dict, (
        f"echo({sent!r}): expected tuple/tuple/dict, got {[type(x).__name__ for x in got]}"
    )
    assert type(got[2]["k"][1]) is tuple, (
        f"echo({sent!r}): expected the inner (None,) to stay a tuple, got {got!r}"
    )


# -- tensors and arrays -----------------------------------------------------------------------


def test_a_tensor_comes_back_as_an_array_with_dtype_shape_and_requires_grad(impl):
    got = impl.float64_tensor_with_grad()
    assert isinstance(got, Array), f"float64_tensor_with_grad(): expected an Array, got {got!r}"
    facts = (got.lib, got.dtype, got.shape, got.requires_grad)
    assert facts == ("torch", "float64", (2, 3), True), (
        f"float64_tensor_with_grad(): expected ('torch', 'float64', (2, 3), True), got {facts}"
    )
    np.testing.assert_array_equal(
        got.value, np.full((2, 3), 2.0), strict=True, err_msg="float64_tensor_with_grad()"
    )


@pytest.mark.parametrize(
    ("fn", "facts"),
    [
        ("int_tensor", ("torch", "int64", (5,), False)),
        ("zero_d_tensor", ("torch", "float32", (), False)),
        ("parameter", ("torch", "float32", (2,), True)),
        ("numpy_array", ("numpy", "int32", (2, 3), False)),
    ],
)
def test_tensors_and_ndarrays_keep_lib_dtype_shape_and_grad_flag(impl, fn, facts):
    got = impl.raw_call(fn)
    assert isinstance(got, Array), f"{fn}(): expected an Array, got {got!r}"
    have = (got.lib, got.dtype, got.shape, got.requires_grad)
    assert have == facts, f"{fn}(): expected (lib, dtype, shape, requires_grad) {facts}, got {have}"


def test_returned_arrays_are_fresh_read_only_numpy_arrays(impl):
    got = impl.numpy_array()
    assert type(got.value) is np.ndarray, (
        f"numpy_array(): expected a plain ndarray inside, got {type(got.value)}"
    )
    assert not got.value.flags.writeable, (
        "numpy_array(): expected the decoded array to be read-only"
    )
    with pytest.raises(ValueError):
        got.value[0, 0] = 99


def test_numpy_scalars_come_back_as_npscalar_arrays_of_their_dtype(impl):
    got = impl.numpy_scalars()
    assert type(got) is tuple and len(got) == 4, f"numpy_scalars(): expected a 4-tuple, got {got!r}"
    facts = [(a.lib, a.dtype, a.shape) for a in got]
    expected = [
        ("npscalar", "float64", ()),
        ("npscalar", "int64", ()),
        ("npscalar", "float32", ()),
        ("npscalar", "bool", ()),
    ]
    assert facts == expected, f"numpy_scalars(): expected {expected}, got {facts}"
    assert got[0].value.item() == 0.25 and got[1].value.item() == 7, (
        f"numpy_scalars(): wrong values {got!r}"
    )


def test_inputs_are_rebuilt_in_the_worker_as_the_same_kind_dtype_shape_and_grad_flag(impl):
    cases = [
        (
            torch.zeros(2, 3, dtype=torch.float64, requires_grad=True),
            ["Tensor", "torch.float64", [2, 3], True],
        ),
        (torch.arange(4, dtype=torch.int32), ["Tensor", "torch.int32", [4], False]),
        (np.zeros((3, 1), dtype=np.float32), ["ndarray", "float32", [3, 1], False]),
    ]
    for sent, expected in cases:
        got = impl.student_shape(sent)
        assert got == expected, (
            f"student_shape({sent!r}): expected the worker to see {expected}, got {got}"
        )


def test_echoed_tensors_and_arrays_keep_their_values(impl):
    t = torch.tensor([[1.5, -2.0], [0.0, 3.25]], requires_grad=True)
    got = impl.echo(t)
    assert (got.lib, got.dtype, got.shape, got.requires_grad) == (
        "torch",
        "float32",
        (2, 2),
        True,
    ), f"echo(tensor): got {got!r}"
    np.testing.assert_array_equal(
        got.value, t.detach().numpy(), strict=True, err_msg="echo(tensor)"
    )
    a = np.array([True, False])
    got = impl.echo(a)
    assert (got.lib, got.dtype) == ("numpy", "bool"), (
        f"echo({a!r}): expected a numpy bool array, got {got!r}"
    )
    s = np.float32(0.5)
    got = impl.echo(s)
    assert (got.lib, got.dtype, got.shape) == ("npscalar", "float32", ()), (
        f"echo({s!r}): expected an npscalar, got {got!r}"
    )


def test_nested_containers_of_arrays_decode_element_by_element(impl):
    got = impl.nested()
    assert type(got) is tuple and got[0] == 1, f"nested(): expected (1, ...), got {got!r}"
    inner = got[1][1][0]
    assert isinstance(inner, Array) and inner.lib == "torch" and inner.shape == (1,), (
        f"nested(): inner tensor {inner!r}"
    )
    deep = got[2]["k"][0]
    assert isinstance(deep, Array) and deep.lib == "numpy" and deep.dtype == "float64", (
        f"nested(): inner array {deep!r}"
    )


# -- handles ----------------------------------------------------------------------------------


def test_objects_stay_in_the_worker_behind_handles_with_methods_and_call(impl):
    counter = impl.Counter(2)
    assert isinstance(counter, Handle) and counter.type_name == "Counter", (
        f"Counter(2): expected a Handle, got {counter!r}"
    )
    assert counter.add() == 3, "Counter(2).add(): expected 3"
    assert counter.add(k=4) == 7, "after add() then add(k=4): expected 7"
    assert counter(10) == 70, f"counter(10) with n=7: expected 70, got {counter(10)!r}"
    assert counter.attr("n") == 7, f"counter.attr('n'): expected 7, got {counter.attr('n')!r}"
    assert impl.read_counter(counter) == 7, (
        "read_counter(handle): expected the worker to resolve the handle to the object"
    )


def test_an_always_equal_object_comes_back_as_a_handle_that_equals_nothing(impl):
    got = impl.always_equal()
    assert isinstance(got, Handle) and got.type_name == "AlwaysEqual", (
        f"always_equal(): expected a Handle, got {got!r}"
    )
    for other in (0, 1, 1.0, None, "x", [], True, impl.always_equal()):
        assert not (got == other), f"always_equal(): the handle compared equal to {other!r}"
        assert got != other, f"always_equal(): the handle was not != {other!r}"


@pytest.mark.parametrize(
    ("fn", "type_name"),
    [
        ("tensor_subclass", "MyTensor"),
        ("ndarray_subclass", "MyArray"),
        ("int_subclass", "SneakyInt"),
        ("list_subclass", "SneakyList"),
    ],
)
def test_subclasses_of_tensors_arrays_and_plain_types_come_back_as_handles_not_values(
    impl, fn, type_name
):
    got = impl.raw_call(fn)
    assert isinstance(got, Handle), (
        f"{fn}(): expected a Handle (never a student object or an Array), got {got!r}"
    )
    assert not isinstance(got, (Array, int, list)), (
        f"{fn}(): expected no decoded value, got {got!r}"
    )
    assert got.type_name == type_name, (
        f"{fn}(): expected type name {type_name!r}, got {got.type_name!r}"
    )


# -- student exceptions -----------------------------------------------------------------------


def test_a_student_exception_is_a_student_error_with_only_the_students_frames(impl):
    with pytest.raises(StudentError) as info:
        impl.fails(3)
    err = info.value
    assert err.exc == "ValueError" and err.is_a("Exception"), (
        f"fails(3): expected ValueError, got {err.exc} mro {err.mro}"
    )
    assert "bad input 3" in err.message, (
        f"fails(3): expected the student's message, got {err.message!r}"
    )
    got = [(f[0], f[1], f[2]) for f in err.frames]
    expected = [
        ("student.py", LINE_OF["return helper(x)"], "fails"),
        ("student.py", LINE_OF['raise ValueError(f"bad input {x}")'], "helper"),
    ]
    assert got == expected, f"fails(3): expected frames {expected}, got {got}"
    rendered = err.render()
    assert f"student.py:{LINE_OF['return helper(x)']}" in rendered, (
        f"fails(3): expected file:line in {rendered!r}"
    )
    for grader_file in ("main.py", "codec.py", "probes.py", "protocol.py", "impl.py"):
        assert grader_file not in rendered, (
            f"fails(3): grader frame {grader_file} shown to the student: {rendered!r}"
        )


def test_an_error_that_is_not_in_student_code_shows_no_grader_frames(impl):
    with pytest.raises(StudentError) as info:
        impl.no_such_function()
    err = info.value
    assert err.exc == "AttributeError", (
        f"no_such_function(): expected AttributeError, got {err.exc}"
    )
    files = [f[0] for f in err.frames]
    assert files == [], (
        f"no_such_function(): expected no frames (none is the student's), got {err.frames}"
    )


def test_a_student_exception_inside_a_probe_shows_only_the_students_frames(impl):
    with pytest.raises(StudentError) as info:
        impl.grad("fails", torch.ones(1, requires_grad=True))
    files = {f[0] for f in info.value.frames}
    assert files == {"student.py"}, (
        f"grad('fails', ...): expected only student.py frames, got {info.value.frames}"
    )


@pytest.mark.parametrize("fn", ["todo", "todo_deep"])
def test_not_implemented_error_becomes_not_implemented_by_student(impl, fn):
    with pytest.raises(NotImplementedByStudent) as info:
        impl.raw_call(fn)
    assert info.value.verdict == "not implemented", (
        f"{fn}(): expected verdict 'not implemented', got {info.value.verdict!r}"
    )
    assert "Traceback" not in info.value.render(), (
        f"{fn}(): expected no traceback, got {info.value.render()!r}"
    )


def test_sys_exit_is_a_student_error_and_the_worker_survives(impl):
    before = impl.pid()
    with pytest.raises(StudentError) as info:
        impl.soft_exit()
    assert info.value.is_a("SystemExit"), (
        f"soft_exit(): expected SystemExit, got {info.value.exc} (mro {info.value.mro})"
    )
    after = impl.pid()
    assert after == before, (
        f"soft_exit(): expected the same worker to go on (pid {before}), got pid {after}"
    )


def test_student_prints_do_not_corrupt_the_channel(impl):
    got = impl.chatty()
    assert got == 42, (
        f"chatty() prints ~100 kB and writes frame-like bytes to fds 1 and 2: expected 42, got {got!r}"
    )
    assert impl.echo([1, "two"]) == [1, "two"], "after chatty(): expected the channel to still work"


def test_a_worker_blocked_on_stale_frames_still_takes_the_next_large_call(fragile):
    fragile.ensure_imported()
    rid = fragile._state.worker.next_id
    got = fragile.flood(rid)
    assert got in (1, 2), f"flood({rid}): expected the forged 1 or the returned 2, got {got!r}"
    # the worker is now blocked writing 8 MB of stale frames; the next request is larger than
    # a pipe's buffer, so the grader must drain the reply pipe while it writes
    big = [float(i) for i in range(200_000)]
    got = fragile.echo(big)
    assert got == big, (
        f"echo(<200,000 floats>) after flood({rid}): expected the same list back, got "
        f"{type(got).__name__} of length {len(got) if hasattr(got, '__len__') else '?'}"
    )


# -- gradients --------------------------------------------------------------------------------


def test_the_grad_probe_returns_the_value_and_the_gradients_of_the_leaves(impl):
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    got = impl.grad("square_sum", x)
    assert got["graph"] is True, f"grad('square_sum', {x}): expected graph=True, got {got!r}"
    np.testing.assert_allclose(
        got["out"].value, np.float32(14.0), strict=True, err_msg="square_sum([1,-2,3])"
    )
    (g,) = got["grads"]
    assert isinstance(g, Array) and g.shape == (3,), (
        f"grad('square_sum'): expected one (3,) gradient, got {got['grads']!r}"
    )
    np.testing.assert_allclose(
        g.value, np.array([2.0, -4.0, 6.0], dtype=np.float32), strict=True, err_msg="d/dx sum(x^2)"
    )


def test_the_grad_probe_takes_a_grad_output_for_non_scalar_outputs(impl):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    got = impl.grad("double", x, grad_output=torch.tensor([1.0, 10.0]))
    np.testing.assert_allclose(
        got["grads"][0].value,
        np.array([2.0, 20.0], dtype=np.float32),
        strict=True,
        err_msg="grad of 2x with grad_output [1, 10]",
    )


def test_the_grad_probe_reports_a_detached_output_as_no_graph(impl):
    got = impl.grad("detached", torch.ones(2, requires_grad=True))
    assert got["graph"] is False and got["grads"] == [None], (
        f"grad('detached'): expected no graph and [None], got {got!r}"
    )


# -- hangs and crashes --------------------------------------------------------------------------


def test_a_cpu_loop_is_a_student_timeout_after_its_cpu_budget_and_the_worker_lives_on(fragile):
    fragile.ensure_imported()
    proc = fragile._state.worker.proc
    start = time.monotonic()
    with pytest.raises(StudentTimeout) as info:
        fragile.raw_call("spin")
    took = time.monotonic() - start
    backstop = CALL_TIMEOUT + WALL_SLACK
    assert CALL_TIMEOUT <= took < backstop + SLACK, (
        f"spin(): expected a timeout after {CALL_TIMEOUT} s of CPU time and before the "
        f"{backstop} s backstop (up to {SLACK} s to kill), took {took:.2f} s"
    )
    assert info.value.verdict == "timeout", (
        f"spin(): expected verdict 'timeout', got {info.value.verdict!r}"
    )
    assert "CPU time" in info.value.message, info.value.message
    assert proc.poll() is None and fragile.echo(3) == 3, (
        "the worker stops a pure-python loop itself: expected the same worker to answer on"
    )
    assert fragile._state.worker.proc is proc, "expected no worker restart after a CPU timeout"


def test_a_loop_that_swallows_the_timeout_is_killed_after_its_cpu_budget(fragile):
    fragile.ensure_imported()
    proc = fragile._state.worker.proc
    start = time.monotonic()
    with pytest.raises(StudentTimeout) as info:
        fragile.raw_call("stubborn")
    took = time.monotonic() - start
    assert CALL_TIMEOUT <= took < CALL_TIMEOUT + WALL_SLACK + SLACK, (
        f"stubborn(): expected to be killed soon after {CALL_TIMEOUT} s of CPU, took {took:.2f} s"
    )
    assert "CPU time" in info.value.message, info.value.message
    assert_gone(proc.pid, proc)


def test_cpu_seconds_counts_the_workers_work_not_its_waiting(impl):
    """``Impl.cpu_seconds()`` (what ex02's timing check reads) grows with CPU work, not with sleep."""
    before = impl.cpu_seconds()
    assert before is not None, "expected CPU times from /proc on Linux"
    impl.raw_call("busy", 0.3)
    busy = impl.cpu_seconds() - before
    before = impl.cpu_seconds()
    impl.raw_call("nap", 0.5)
    nap = impl.cpu_seconds() - before
    assert busy >= 0.25, (
        f"busy(0.3): expected at least 0.25 s of worker CPU time, read {busy:.2f} s"
    )
    assert nap < 0.2, f"nap(0.5): sleeping is not CPU time, yet {nap:.2f} s was read"


def test_a_sleeping_call_is_stopped_by_the_wall_clock_backstop(fragile):
    fragile.ensure_imported()
    proc = fragile._state.worker.proc
    start = time.monotonic()
    with pytest.raises(StudentTimeout) as info:
        fragile.raw_call("sleep_forever")
    took = time.monotonic() - start
    backstop = CALL_TIMEOUT + WALL_SLACK
    assert backstop <= took < backstop + SLACK, (
        f"sleep_forever(): uses no CPU, so expected the {backstop} s wall-clock backstop "
        f"(up to {SLACK} s to kill), took {took:.2f} s"
    )
    assert "wall-clock" in info.value.message, (
        f"sleep_forever(): expected the message to name the wall clock, got {info.value.message!r}"
    )
    assert_gone(proc.pid, proc)


def pause_worker(impl: Impl, seconds: float) -> threading.Thread:
    """SIGSTOP every process of the worker now and SIGCONT them ``seconds`` later."""
    pids = descendants(impl._state.worker.proc.pid)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)

    def resume() -> None:
        time.sleep(seconds)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    thread = threading.Thread(target=resume, daemon=True)
    thread.start()
    return thread


def test_a_paused_worker_loses_no_call(fragile):
    """A SIGSTOPped (or descheduled) worker uses no CPU time: its call still returns."""
    fragile.ensure_imported()
    pause = 2.5 * CALL_TIMEOUT
    thread = pause_worker(fragile, pause)
    start = time.monotonic()
    got = fragile.busy(0.2 * CALL_TIMEOUT)
    took = time.monotonic() - start
    thread.join()
    assert got == 0.2 * CALL_TIMEOUT, f"busy(): expected its argument back, got {got!r}"
    assert took >= pause, f"expected the call to wait out the {pause} s pause, took {took:.2f} s"


def test_after_a_timeout_the_same_check_is_not_restarted_but_the_next_check_is(fragile):
    with pytest.raises(StudentTimeout):
        fragile.stubborn()  # swallows the worker's own timeout: the worker is killed
    with pytest.raises(WorkerCrashed) as info:
        fragile.echo(1)
    assert "not restarted" in info.value.message, (
        f"a second call in the same check: expected the circuit breaker, got {info.value.message!r}"
    )
    fragile._state.new_check()
    assert fragile.echo(1) == 1, (
        "after new_check(): expected a fresh worker that answers echo(1) with 1"
    )


def test_a_function_that_timed_out_is_not_called_again(fragile):
    with pytest.raises(StudentTimeout) as first:
        fragile.spin()
    fragile._state.new_check()
    start = time.monotonic()
    with pytest.raises(StudentTimeout) as again:
        fragile.raw_call("spin")
    took = time.monotonic() - start
    assert took < CALL_TIMEOUT, f"spin() again: expected an immediate failure, took {took:.2f} s"
    assert "not called again" in again.value.message and first.value.message in (
        again.value.message
    ), (
        f"spin() again: expected the first reason {first.value.message!r}, got {again.value.message!r}"
    )
    assert fragile.echo(2) == 2, "another function of the same module: expected it still works"


def test_os_exit_is_a_worker_crash_not_a_hang(fragile):
    fragile.ensure_imported()
    proc = fragile._state.worker.proc
    start = time.monotonic()
    with pytest.raises(WorkerCrashed) as info:
        fragile.hard_exit()
    took = time.monotonic() - start
    assert took < CALL_TIMEOUT + SLACK, (
        f"hard_exit(): expected an immediate crash verdict, took {took:.2f} s"
    )
    assert "exited with code 0" in info.value.message, (
        f"hard_exit(): expected the exit code, got {info.value.message!r}"
    )
    assert_gone(proc.pid, proc)
    fragile._state.new_check()
    assert fragile.echo("back") == "back", (
        "after an os._exit and new_check(): expected a fresh worker"
    )


def test_the_worker_process_is_gone_after_shutdown(submission):
    impl = Impl(submission, "student", limits=Limits(call_timeout=CALL_TIMEOUT))
    pid = impl.pid()
    proc = impl._state.worker.proc
    assert pid == proc.pid, (
        f"expected the student's os.getpid() {pid} to be the worker's pid {proc.pid}"
    )
    os.kill(pid, 0)  # alive now: raises if not
    impl.shutdown()
    assert_gone(pid, proc)
    assert impl._state.worker is None, (
        f"expected no worker after shutdown, got {impl._state.worker!r}"
    )


# -- imports ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def importer(submission):
    """One worker for the import failures (a failed import does not stop the worker)."""
    impl = Impl(submission, "broken", limits=Limits(call_timeout=CALL_TIMEOUT))
    yield impl
    impl.shutdown()


def test_a_syntax_error_is_import_failed_naming_the_line(importer):
    with pytest.raises(ImportFailed) as info:
        importer.f()
    message = info.value.message
    assert "SyntaxError" in message and "line 3" in message, (
        f"broken.py has `def f(:` on line 3: expected SyntaxError and 'line 3' in the message, got {message!r}"
    )
    assert all(f[0] == "broken.py" for f in info.value.frames), (
        f"expected no frames other than the student's, got {info.value.frames}"
    )
    with pytest.raises(ImportFailed) as again:
        importer.f()
    assert again.value.message == message, (
        f"a second call: expected the same verdict, got {again.value.message!r}"
    )


def test_an_exception_at_import_time_shows_the_students_frames_only(importer):
    with pytest.raises(ImportFailed) as info:
        importer.module("raises_on_import").ensure_imported()
    got = [(f[0], f[1]) for f in info.value.frames]
    assert got == [("raises_on_import.py", 8), ("raises_on_import.py", 5)], (
        f"raises_on_import.py fails in g() (line 5) called on line 8: expected those frames only, got {info.value.frames}"
    )


def test_a_missing_module_is_import_failed_saying_missing(importer):
    with pytest.raises(ImportFailed) as info:
        importer.module("not_there").anything()
    assert "missing" in info.value.message and "not_there.py" in info.value.message, (
        f"expected 'not_there.py is missing', got {info.value.message!r}"
    )


def test_failed_imports_leave_the_worker_serving_other_modules(importer):
    for name in ("broken", "raises_on_import", "not_there"):
        with pytest.raises(ImportFailed):
            importer.module(name).ensure_imported()
    assert importer.module("student").echo("ok") == "ok", (
        "after three failed imports: expected student.echo to work"
    )


def test_student_problems_are_base_exceptions_so_no_except_exception_can_swallow_them():
    for cls in (NotImplementedByStudent, StudentTimeout, WorkerCrashed, ImportFailed):
        assert issubclass(cls, StudentProblem) and not issubclass(cls, Exception), (
            f"expected {cls.__name__} to be a StudentProblem and not an Exception, mro {cls.__mro__}"
        )
    assert issubclass(StudentError, Exception), (
        f"expected StudentError to be an Exception, mro {StudentError.__mro__}"
    )


def test_a_relative_submission_path_works(submission, monkeypatch):
    monkeypatch.chdir(submission.parent)
    impl = Impl(Path(submission.name), "student", limits=Limits(call_timeout=10.0))
    try:
        assert impl.echo(5) == 5, (
            f"Impl({submission.name!r}) from {submission.parent}: expected echo(5) == 5"
        )
    finally:
        impl.shutdown()


def test_a_warm_zygote_builds_the_first_optimizer_before_forking(tmp_path):
    """``warm_optimizers``: the ~800 modules of a process's first optimizer come pre-imported."""
    (tmp_path / "trainer.py").write_text(
        "import sys\n\n\ndef dynamo_loaded():\n    return 'torch._dynamo' in sys.modules\n"
    )
    found = {}
    for warm in (False, True):
        state = WorkerState()
        state.zygote = Zygote(tmp_path, PlainLauncher(), warm_optimizers=warm)
        impl = Impl(tmp_path, "trainer", limits=Limits(call_timeout=60.0), _shared=state)
        try:
            found[warm] = impl.dynamo_loaded()
        finally:
            shut(impl)
    assert found == {False: False, True: True}, (
        f"torch._dynamo in a forked worker's modules, by warm_optimizers: expected "
        f"{{False: False, True: True}}, got {found}"
    )
