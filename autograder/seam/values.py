"""Grader side of the value codec: parent-built objects from the worker's bytes.

Everything a check receives from student code is built here: Python scalars,
tuples, lists, dicts, :class:`Array` records (a fresh read-only numpy array plus
where it came from) and :class:`Handle` references to objects that stay in the
worker. Nothing the student created ever crosses into the grader process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from autograder.seam.errors import BadReply
from autograder.seam.worker import protocol

MAX_DEPTH = 8


class Channel(Protocol):
    """How a :class:`Handle` reaches its object (:class:`autograder.seam.proxy.Link`)."""

    def send(self, req: dict, args, kwargs, where: str, generation: int | None = None):
        """Encode the arguments into ``req``, send it and decode the reply."""

    def request(self, req: dict, where: str, generation: int | None = None):
        """Send ``req`` as it is and decode the reply."""


@dataclass(frozen=True, eq=False)
class Array:
    """An array the student's code returned.

    Attributes:
        lib: ``"torch"`` (a ``torch.Tensor``), ``"numpy"`` (an ``np.ndarray``) or
            ``"npscalar"`` (a numpy scalar such as ``np.float64``).
        value: a fresh, read-only numpy array with the same dtype and shape.
        requires_grad: whether the tensor was attached to an autograd graph.
    """

    lib: str
    value: np.ndarray
    requires_grad: bool = False

    @property
    def dtype(self) -> str:
        return self.value.dtype.name

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)

    def describe(self) -> str:
        kind = {"torch": "torch.Tensor", "numpy": "np.ndarray", "npscalar": "numpy scalar"}[
            self.lib
        ]
        return f"{kind} of dtype {self.dtype} and shape {self.shape}"

    def __repr__(self) -> str:
        return f"Array({self.describe()}: {np.array2string(self.value, precision=6, threshold=20)})"


@dataclass(eq=False)
class Handle:
    """A student object that lives in the worker; attribute access calls its methods."""

    link: Channel = field(repr=False)
    hid: int
    type_name: str
    generation: int = field(repr=False)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.link.send(
            {"op": "method", "handle": self.hid, "name": name},
            args,
            kwargs,
            where=f"{self.type_name}.{name}",
            generation=self.generation,
        )

    def __call__(self, *args, **kwargs):
        return self.link.send(
            {"op": "method", "handle": self.hid, "name": "__call__"},
            args,
            kwargs,
            where=f"{self.type_name}(...)",
            generation=self.generation,
        )

    def attr(self, name: str):
        """Read a plain attribute of the object."""
        return self.link.request(
            {"op": "getattr", "handle": self.hid, "name": name},
            where=f"{self.type_name}.{name}",
            generation=self.generation,
        )

    def describe(self) -> str:
        return f"an object of type {self.type_name}"


def encode(value: object, depth: int = 0) -> object:
    """Grader value -> wire value (inputs sent to the worker)."""
    import torch

    if depth > MAX_DEPTH:
        raise ValueError("input nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, np.integer):
        return value
    if isinstance(value, float):
        return protocol.encode_float(value)
    if isinstance(value, Handle):
        return {"$handle": value.hid}
    if isinstance(value, torch.Tensor):
        arr = value.detach().contiguous().numpy()
        return protocol.encode_array(
            "torch",
            arr.dtype.name,
            arr.shape,
            arr.astype(arr.dtype.newbyteorder("<")).tobytes(),
            value.requires_grad,
        )
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        return protocol.encode_array("numpy", arr.dtype.name, arr.shape, arr.tobytes(), False)
    if isinstance(value, np.generic):
        arr = np.asarray(value)
        return protocol.encode_array("npscalar", arr.dtype.name, (), arr.tobytes(), False)
    if isinstance(value, list):
        if protocol.packable(value):
            return protocol.encode_floats(value)
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"$dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    raise TypeError(f"cannot send {type(value).__name__} to the worker")


def decode(value: object, link: Channel, generation: int, depth: int = 0) -> object:
    """Wire value -> grader object, validating every field."""
    if depth > MAX_DEPTH:
        raise BadReply("reply nested too deeply")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is list:
        return [decode(v, link, generation, depth + 1) for v in value]
    if type(value) is not dict or len(value) not in (1, 2):
        raise BadReply(f"malformed reply value {str(value)[:80]}")
    if "$nd" in value:
        return _decode_array(value["$nd"])
    if "$tuple" in value and type(value["$tuple"]) is list:
        return tuple(decode(v, link, generation, depth + 1) for v in value["$tuple"])
    if "$dict" in value and type(value["$dict"]) is list:
        out = {}
        for pair in value["$dict"]:
            if type(pair) is not list or len(pair) != 2:
                raise BadReply("malformed dict in reply")
            key = decode(pair[0], link, generation, depth + 1)
            if type(key) not in (str, int, bool, float) and key is not None:
                raise BadReply("dict key in reply is not a plain value")
            out[key] = decode(pair[1], link, generation, depth + 1)
        return out
    if "$floats" in value:
        try:
            return protocol.decode_floats(value["$floats"], protocol.MAX_ITEMS)
        except ValueError as exc:
            raise BadReply(f"malformed packed floats in reply: {exc}") from None
    if "$float" in value and value["$float"] in ("nan", "inf", "-inf"):
        return float(value["$float"])
    if "$handle" in value and type(value["$handle"]) is int:
        return Handle(link, value["$handle"], str(value.get("type", "?"))[:80], generation)
    raise BadReply(f"malformed reply value {str(value)[:80]}")


def _decode_array(fields: object) -> Array:
    if type(fields) is not list or len(fields) != 5:
        raise BadReply("malformed array in reply")
    lib, dtype, shape, data, grad = fields
    if lib not in ("torch", "numpy", "npscalar") or dtype not in protocol.DTYPES:
        raise BadReply(f"array of kind {lib!r} / dtype {dtype!r} is not allowed")
    if (
        type(shape) is not list
        or not all(type(s) is int and s >= 0 for s in shape)
        or len(shape) > 16
    ):
        raise BadReply(f"array shape {shape!r} is not valid")
    if type(data) is not str or type(grad) is not bool:
        raise BadReply("malformed array in reply")
    try:
        raw = protocol.b64decode(data)
    except ValueError:
        raise BadReply("array bytes are not valid base64") from None
    dt = np.dtype(dtype).newbyteorder("<")
    if len(raw) != math.prod(shape) * dt.itemsize:
        raise BadReply(f"array of shape {shape} and dtype {dtype} has {len(raw)} bytes")
    arr = np.frombuffer(raw, dtype=dt).reshape(shape).astype(np.dtype(dtype), copy=True)
    arr.setflags(write=False)
    return Array(lib, arr, grad)
