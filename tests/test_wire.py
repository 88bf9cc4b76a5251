"""The wire codec in isolation: frames (``seam/worker/protocol.py``) and values (``seam/values.py``)."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
import torch

from autograder.seam.errors import BadReply
from autograder.seam.proxy import probe_reply
from autograder.seam.values import Array, Handle, decode, encode
from autograder.seam.worker import protocol


class RecordingLink:
    """A stand-in for the proxy's link: records what a handle sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[dict, tuple, dict, str, int | None]] = []

    def send(self, req, args, kwargs, where, generation=None):
        self.sent.append((req, tuple(args), dict(kwargs), where, generation))
        return "sent"

    def request(self, req, where, generation=None):
        self.sent.append((req, (), {}, where, generation))
        return "requested"


def roundtrip(value: object) -> object:
    """Grader value -> wire -> JSON text -> grader value (what a reply of the worker becomes)."""
    return decode(json.loads(json.dumps(encode(value))), RecordingLink(), 1)


def test_a_frame_is_a_big_endian_length_then_json_and_reads_back_through_a_pipe():
    r, w = os.pipe()
    try:
        protocol.write_frame(w, {"op": "ping", "x": [1, 2.5, "é"]})
        assert protocol.read_frame(r) == {"op": "ping", "x": [1, 2.5, "é"]}
    finally:
        os.close(r)
        os.close(w)
    frame = protocol.encode_frame([1])
    assert frame[: protocol.HEADER.size] == (3).to_bytes(4, "big") and frame[4:] == b"[1]"


def test_oversized_and_malformed_frames_are_refused():
    with pytest.raises(protocol.ProtocolError):
        protocol.frame_length(protocol.HEADER.pack(protocol.MAX_FRAME + 1))
    assert protocol.frame_length(protocol.HEADER.pack(7)) == 7
    with pytest.raises(protocol.ProtocolError):
        protocol.parse_payload(b"{not json")
    with pytest.raises(protocol.ProtocolError):
        protocol.parse_payload(b"\xff\xfe")
    with pytest.raises(ValueError):
        protocol.encode_frame(float("nan"))  # NaN must be tagged, never sent as bare JSON


@pytest.mark.parametrize(
    "value",
    [None, True, 3, -2.5, "text", [1, [2, 3]], (1, "a"), {"k": 1, 2: (3, 4)}],
)
def test_plain_values_survive_the_round_trip(value):
    assert roundtrip(value) == value


def test_non_finite_floats_are_tagged_and_come_back():
    assert encode(float("inf")) == {"$float": "inf"}
    back = roundtrip([float("nan"), float("-inf")])
    assert math.isnan(back[0]) and back[1] == float("-inf")


def test_long_float_lists_travel_packed_and_come_back_bit_exact_as_lists_of_floats():
    special = [float("nan"), -0.0, float("inf"), float("-inf"), 5e-324, 0.1]
    value = special * 20  # 120 floats: packed
    wire = encode(value)
    assert set(wire) == {"$floats"}, "a long list of floats should travel packed"
    back = roundtrip(value)
    assert type(back) is list and len(back) == len(value)
    for a, b in zip(value, back, strict=True):
        assert type(b) is float and (a == b or (math.isnan(a) and math.isnan(b)))
        assert math.copysign(1.0, a) == math.copysign(1.0, b)
    # not packed: short lists, ints, bools or numpy floats among the floats
    for plain in ([0.5] * 3, [0.5] * 100 + [1], [0.5] * 100 + [True], [0.5] * 99 + [np.float64(1)]):
        assert isinstance(encode(plain), list), f"{plain[-1]!r} in a list must not be packed"


def test_the_worker_packs_and_unpacks_the_same_way(monkeypatch):
    from autograder.seam.launcher import WORKER_DIR

    monkeypatch.syspath_prepend(str(WORKER_DIR))  # the worker imports its modules by plain name
    codec = __import__("codec")

    value = [0.25 * i for i in range(200)]
    wire = json.loads(json.dumps(codec.encode(value, codec.Handles())))
    assert set(wire) == {"$floats"} and codec.decode(wire, codec.Handles()) == value
    assert codec.decode(encode(value), codec.Handles()) == value


@pytest.mark.parametrize(
    ("value", "lib", "dtype"),
    [
        (torch.tensor([[1.0, 2.0]], dtype=torch.float32), "torch", "float32"),
        (np.arange(6, dtype=np.int64).reshape(2, 3), "numpy", "int64"),
        (np.int32(5), "npscalar", "int32"),
        (torch.zeros(0, 3, dtype=torch.float64), "torch", "float64"),
    ],
)
def test_arrays_come_back_as_read_only_copies_with_lib_dtype_and_shape(value, lib, dtype):
    back = roundtrip(value)
    assert isinstance(back, Array) and back.lib == lib and back.dtype == dtype
    expected = value.numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    assert back.shape == expected.shape and np.array_equal(back.value, expected)
    assert not back.value.flags.writeable


def test_requires_grad_is_carried():
    assert roundtrip(torch.ones(2, requires_grad=True)).requires_grad is True


@pytest.mark.parametrize(
    "reply",
    [
        {"$nd": ["torch", "float32", [2], "AAAA", False]},  # 3 bytes for 2 float32
        {"$nd": ["cupy", "float32", [1], "AAAAAA==", False]},
        {"$nd": ["numpy", "object", [1], "AA==", False]},
        {"$nd": ["numpy", "int8", [-1], "", False]},
        {"$float": "NaN-ish"},
        {"$floats": "AAAA"},  # 3 bytes: not whole doubles
        {"$floats": "not base64!"},
        {"$floats": 3},
        {"$dict": [[[1, 2], 3]]},  # a list is not a valid key
        {"$unknown": 1},
        {"a": 1, "b": 2, "c": 3},
    ],
)
def test_malformed_replies_are_bad_replies_never_crashes(reply):
    with pytest.raises(BadReply):
        decode(reply, RecordingLink(), 1)


def test_replies_nested_too_deeply_are_refused():
    deep: object = 1
    for _ in range(20):
        deep = [deep]
    with pytest.raises(BadReply):
        decode(deep, RecordingLink(), 1)


def test_a_handle_calls_its_methods_through_the_link_with_its_generation():
    link = RecordingLink()
    handle = decode({"$handle": 7, "type": "PolicyNetwork"}, link, generation=3)
    assert isinstance(handle, Handle) and handle.describe() == "an object of type PolicyNetwork"
    assert handle.forward(1, x=2) == "sent"
    assert handle.attr("size") == "requested"
    req, args, kwargs, where, generation = link.sent[0]
    assert req == {"op": "method", "handle": 7, "name": "forward"} and args == (1,)
    assert kwargs == {"x": 2} and where == "PolicyNetwork.forward" and generation == 3
    assert link.sent[1][0] == {"op": "getattr", "handle": 7, "name": "size"}
    assert encode(handle) == {"$handle": 7}


def test_values_the_worker_cannot_receive_are_a_type_error():
    with pytest.raises(TypeError):
        encode(object())


@pytest.mark.parametrize(
    "reply",
    [
        "out",
        [1, 2],
        {"out": 1, "grads": [None]},  # no graph
        {"out": 1, "grads": "x", "graph": True},
        {"out": 1, "grads": [None], "graph": 1},
    ],
)
def test_a_forged_probe_reply_is_a_bad_reply_never_a_check_error(reply):
    with pytest.raises(BadReply, match="f: the worker's reply"):
        probe_reply(reply, {"out": object, "grads": list, "graph": bool}, "f")


def test_a_well_formed_probe_reply_passes_through():
    reply = {"out": 1, "grads": [None], "graph": False}
    got = probe_reply(reply, {"out": object, "grads": list, "graph": bool}, "f")
    assert got is reply, f"probe_reply({reply!r}): expected it back unchanged, got {got!r}"
