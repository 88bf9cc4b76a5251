"""Worker side of the value codec: Python/torch/numpy objects <-> wire values.

Inputs are rebuilt as fresh tensors/arrays. Outputs are converted by *exact*
type: a tensor or ndarray subclass, an always-equal object or anything else that
is not plain data stays in the worker behind a handle, so the grader never sees a
student object - only bytes it re-validates itself.
"""

from __future__ import annotations

import sys

import protocol

MAX_DEPTH = 8
MAX_ITEMS = protocol.MAX_ITEMS


class EncodeError(TypeError):
    """A returned value cannot be sent as plain data."""


class Handles:
    """Objects that stay in the worker, addressed by integer ids."""

    def __init__(self) -> None:
        self._objects: dict[int, object] = {}
        self._next = 1

    def add(self, obj: object) -> dict:
        hid = self._next
        self._next += 1
        self._objects[hid] = obj
        return {"$handle": hid, "type": type(obj).__name__}

    def get(self, hid: object) -> object:
        if type(hid) is not int or hid not in self._objects:
            raise KeyError(f"unknown handle {hid!r}")
        return self._objects[hid]

    def release(self, hid: int) -> None:
        self._objects.pop(hid, None)


def _np():
    import numpy

    return numpy


def _torch():
    return sys.modules.get("torch")


def decode(value: object, handles: Handles, depth: int = 0) -> object:
    """Wire value -> Python object (fresh tensors/arrays; handles resolved)."""
    if depth > MAX_DEPTH:
        raise ValueError("input nested too deeply")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [decode(v, handles, depth + 1) for v in value]
    if not isinstance(value, dict) or len(value) == 0:
        raise ValueError(f"bad wire value {value!r:.80}")
    if "$nd" in value:
        lib, dtype, shape, data, grad = value["$nd"]
        np = _np()
        arr = np.frombuffer(protocol.b64decode(data), dtype=np.dtype(dtype)).reshape(shape).copy()
        if lib == "numpy":
            return arr
        if lib == "npscalar":
            return arr.reshape(())[()]  # a numpy scalar of the same dtype
        import torch

        t = torch.from_numpy(arr)
        return t.requires_grad_(True) if grad else t
    if "$tuple" in value:
        return tuple(decode(v, handles, depth + 1) for v in value["$tuple"])
    if "$dict" in value:
        return {
            decode(k, handles, depth + 1): decode(v, handles, depth + 1) for k, v in value["$dict"]
        }
    if "$floats" in value:
        return protocol.decode_floats(value["$floats"], MAX_ITEMS)
    if "$float" in value:
        return float(value["$float"])
    if "$handle" in value:
        return handles.get(value["$handle"])
    raise ValueError(f"bad wire value {value!r:.80}")


def encode(obj: object, handles: Handles, depth: int = 0) -> object:
    """Python object -> wire value. Non-plain objects become handles."""
    if depth > MAX_DEPTH:
        raise EncodeError("returned value is nested too deeply")
    t = type(obj)
    if obj is None or t is bool or t is str:
        return obj
    if t is int:
        return obj
    if t is float:
        return protocol.encode_float(obj)
    if t is list or t is tuple:
        if len(obj) > MAX_ITEMS:
            raise EncodeError(f"returned a {t.__name__} of {len(obj)} items")
        if protocol.packable(obj):
            return protocol.encode_floats(obj)
        items = [encode(v, handles, depth + 1) for v in obj]
        return items if t is list else {"$tuple": items}
    if t is dict:
        return {
            "$dict": [
                [encode(k, handles, depth + 1), encode(v, handles, depth + 1)]
                for k, v in obj.items()
            ]
        }
    torch = _torch()
    if torch is not None and (t is torch.Tensor or t is torch.nn.Parameter):
        return _encode_tensor(obj, torch)
    np = sys.modules.get("numpy")
    if np is not None:
        if t is np.ndarray:
            return _encode_ndarray(obj, np, "numpy", False)
        if isinstance(obj, np.generic) and t in (
            np.bool_,
            np.int8,
            np.int16,
            np.int32,
            np.int64,
            np.uint8,
            np.float16,
            np.float32,
            np.float64,
        ):
            return _encode_ndarray(np.asarray(obj), np, "npscalar", False)
    return handles.add(obj)


def _encode_ndarray(arr, np, lib: str, grad: bool) -> dict:
    name = arr.dtype.name
    if name not in protocol.DTYPES:
        raise EncodeError(f"returned an array of dtype {name}, which is not supported")
    if arr.size > 50_000_000:
        raise EncodeError(f"returned an array of {arr.size} elements")
    data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
    return protocol.encode_array(lib, name, tuple(int(s) for s in arr.shape), data, grad)


def _encode_tensor(t, torch) -> dict:
    if t.layout != torch.strided or t.is_quantized or t.device.type != "cpu":
        raise EncodeError(f"returned a tensor with layout {t.layout} on {t.device}")
    if t.dtype == torch.bfloat16 or t.is_complex():
        raise EncodeError(f"returned a tensor of dtype {t.dtype}, which is not supported")
    arr = t.detach().resolve_conj().resolve_neg().contiguous().numpy()
    return _encode_ndarray(arr, _np(), "torch", bool(t.requires_grad))
