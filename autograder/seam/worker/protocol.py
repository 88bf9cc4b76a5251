"""Wire format shared by the worker and the grader: length-prefixed JSON, no pickle.

A frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON.
Values are plain JSON plus a few tagged objects:

* ``{"$nd": [lib, dtype, shape, base64, requires_grad]}`` - an array, where lib is
  ``"torch"``, ``"numpy"`` or ``"npscalar"`` (a numpy scalar such as ``np.int64(2)``);
* ``{"$tuple": [...]}`` - a tuple; ``{"$dict": [[key, value], ...]}`` - a dict;
* ``{"$float": "nan" | "inf" | "-inf"}`` - non-finite floats;
* ``{"$floats": base64}`` - a long list of Python floats, packed as little-endian doubles
  (bit-exact, non-finite values included; 300,000 rewards cost milliseconds, not a second);
* ``{"$handle": id, "type": name}`` - an object that stays in the worker.

This module is imported by both sides but holds no policy about what a *valid*
answer is: the grader re-validates everything it decodes.
"""

from __future__ import annotations

import base64
import json
import math
import os
import struct
import sys
from array import array

MAX_FRAME = 256 * 1024 * 1024  # bytes; larger replies are refused
DTYPES = (
    "bool",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "float16",
    "float32",
    "float64",
)
HEADER = struct.Struct(">I")
MAX_ITEMS = 1_000_000  # items of one list or tuple in a reply
PACK_FLOATS = 64  # a list of at least this many exact floats travels packed ("$floats")


class ProtocolError(Exception):
    """A malformed or oversized frame."""


def encode_frame(obj: object) -> bytes:
    """``obj`` as one frame: 4-byte big-endian length + UTF-8 JSON."""
    data = json.dumps(obj, allow_nan=False, separators=(",", ":")).encode()
    if len(data) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(data)} bytes exceeds {MAX_FRAME}")
    return HEADER.pack(len(data)) + data


def write_frame(fd: int, obj: object) -> None:
    """Serialise ``obj`` to JSON and write it as one frame to ``fd`` (blocking)."""
    view = memoryview(encode_frame(obj))
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_exact(fd: int, n: int) -> bytes:
    """Read exactly ``n`` bytes, or raise ``EOFError`` if the other side closed."""
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("channel closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def frame_length(header: bytes) -> int:
    """The payload length a frame header announces (refusing oversized frames)."""
    (length,) = HEADER.unpack(header)
    if length > MAX_FRAME:
        raise ProtocolError(f"frame of {length} bytes exceeds {MAX_FRAME}")
    return length


def parse_payload(data: bytes) -> object:
    """A frame's payload parsed as JSON."""
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"frame is not valid JSON: {exc}") from None


def read_frame(fd: int) -> object:
    """Read one frame from ``fd`` (blocking) and parse its JSON."""
    return parse_payload(read_exact(fd, frame_length(read_exact(fd, HEADER.size))))


def encode_float(x: float) -> object:
    """JSON cannot carry NaN or infinities; tag them."""
    if math.isfinite(x):
        return x
    return {"$float": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def encode_array(lib: str, dtype: str, shape: tuple[int, ...], data: bytes, grad: bool) -> dict:
    """Tag raw array bytes (C order, native little-endian) for the wire."""
    return {"$nd": [lib, dtype, list(shape), base64.b64encode(data).decode("ascii"), bool(grad)]}


def b64decode(text: str) -> bytes:
    """Strict base64 decoding."""
    return base64.b64decode(text.encode("ascii"), validate=True)


def packable(value: object) -> bool:
    """Whether ``value`` is a list of :data:`PACK_FLOATS` or more exact ``float`` objects."""
    return (
        type(value) is list and len(value) >= PACK_FLOATS and all(type(v) is float for v in value)
    )


def encode_floats(values: list) -> dict:
    """A list of floats as one tagged string of little-endian doubles."""
    packed = array("d", values)
    if sys.byteorder == "big":
        packed.byteswap()
    return {"$floats": base64.b64encode(packed.tobytes()).decode("ascii")}


def decode_floats(text: object, max_items: int) -> list:
    """The list of floats of a ``$floats`` value.

    Raises:
        ValueError: not strict base64 of whole doubles, or more than ``max_items`` of them.
    """
    if type(text) is not str:
        raise ValueError("packed floats are not a string")
    raw = b64decode(text)
    if len(raw) % 8 or len(raw) // 8 > max_items:
        raise ValueError(f"packed floats of {len(raw)} bytes")
    packed = array("d")
    packed.frombytes(raw)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tolist()
