"""The values that cross between the check's two processes: plain data as JSON, never pickle.

A value is JSON, or an object with one tag: ``$f`` a float JSON cannot hold, ``$a`` an array, ``$n`` a
NumPy scalar, ``$l``/``$t``/``$d`` a list/tuple/dict, ``$o`` an object that stays in the child (a
handle), ``$big`` an array too large to send, ``$fn`` (to the child only) a probe's function by name.
What the parent reads comes from a process that ran the reader's code, so :func:`decode` checks every
field and caps every size before allocating; anything else is a :class:`WireError`.
"""

from __future__ import annotations

import base64
import binascii
import math
import signal
from dataclasses import dataclass

import numpy as np

from nnlearn.checker.values import Opaque

#: Elements of one array sent back; a larger one arrives as its shape only.
MAX_ELEMENTS = 1 << 20
#: Items of one list, tuple or dict, and nesting depth.
MAX_ITEMS = 10_000
MAX_DEPTH = 8
#: Characters of one string.
MAX_TEXT = 20_000
#: Integers beyond this are sent as floats (JSON's and Python's parsers limit long digit strings).
MAX_INT = 1 << 63
#: The array dtypes that cross, little-endian as the machine's: numbers only (never object arrays).
DTYPES = frozenset(
    np.dtype(name).str
    for name in "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 complex64 complex128".split()
)


class WireError(ValueError):
    """A message from the child that is not what the check asked for."""


class Timeout(Exception):
    """A reader call ran out of time; ``where`` is the reader's line it was running."""

    def __init__(self, seconds: float, where: list):
        super().__init__(f"did not return within {seconds:g} s")
        self.seconds = seconds
        self.where = where


class ReaderError(Exception):
    """The reader's code raised an exception of type ``kind`` (described by ``text``) at ``where``
    (the reader's frames, innermost last). ``signature``: the arguments did not fit the function.
    ``exc`` is the exception itself, in the child only."""

    def __init__(self, kind: str, text: str, where: list, signature: bool = False, exc: BaseException | None = None):
        super().__init__(text)
        self.kind = kind
        self.text = text
        self.where = where
        self.signature = signature
        self.exc = exc


@dataclass(frozen=True)
class Function:
    """One of the probes' functions (:data:`nnlearn.checker.targets.TARGETS`), passed by name; ``arg``: the
    position of the call's argument it reads (the book's ``lambda W: net.loss(x, t)``), else None."""

    name: str
    arg: int | None = None
    label: str = ""

    @property
    def __name__(self) -> str:  # noqa: PLW3201 -- shown in a report as the function's name
        return self.label or self.name


def ending(code: int) -> str:
    """How a process ended, from its return code (negative: the signal): ``exit code 3``, ``SIGKILL``."""
    if code >= 0:
        return f"exit code {code}"
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


# -- encoding (both processes) ------------------------------------------------------------------------


def _array(arr: np.ndarray) -> dict:
    if arr.dtype.str not in DTYPES:
        native = arr.dtype.newbyteorder("=")
        if native.str not in DTYPES:
            return None
        arr = arr.astype(native)
    if arr.size > MAX_ELEMENTS:
        return {"$big": [arr.dtype.str, list(arr.shape)]}
    data = base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode("ascii")
    return {"$a": [arr.dtype.str, list(arr.shape), data, bool(arr.flags.writeable)]}


def encode(value, register=None, depth: int = 0):
    """``value`` as JSON; an object that is not plain data becomes ``$o`` through ``register(obj)``
    (which returns its handle), or its type's name alone without ``register``.

    Only exact types are read, through their base classes' own methods: nothing a reader's subclass
    overrides (``__float__``, ``__iter__``, ``__getitem__``) is called.
    """
    if value is None or type(value) is bool:
        return value
    if isinstance(value, np.generic) and value.dtype.str in DTYPES:  # before float: np.float64 is one
        return {"$n": [value.dtype.str, base64.b64encode(np.asarray(value).tobytes()).decode("ascii")]}
    if isinstance(value, int):
        number = int.__int__(value)
        return number if -MAX_INT < number < MAX_INT else encode(float(number) if abs(number) < 1 << 1000 else math.inf)
    if isinstance(value, float):
        number = float.__float__(value)
        return number if math.isfinite(number) else {"$f": repr(number)}
    if isinstance(value, str):
        return str.__str__(value)[:MAX_TEXT]
    if isinstance(value, Function):
        return {"$fn": [value.name, value.arg]}
    if isinstance(value, np.ndarray):
        out = _array(np.asarray(value))
        if out is not None:
            return out
    elif depth < MAX_DEPTH and isinstance(value, (list, tuple)):
        items = list.copy(value) if isinstance(value, list) else tuple.__getitem__(value, slice(None))
        if len(items) <= MAX_ITEMS:
            return {"$l" if isinstance(value, list) else "$t": [encode(v, register, depth + 1) for v in items]}
    elif depth < MAX_DEPTH and isinstance(value, dict):
        items = list(dict.items(value))
        if len(items) <= MAX_ITEMS and all(type(k) in (str, int) for k, _ in items):
            return {"$d": [[k, encode(v, register, depth + 1)] for k, v in items]}
    handle = register(value) if register is not None else -1
    return {"$o": [handle, type(value).__name__[:100], callable(value)]}


# -- decoding (hardened: the parent reads what a process running the reader's code sent) -------------


def need(condition: bool, what: str) -> None:
    """A :class:`WireError` saying ``what`` unless ``condition`` holds."""
    if not condition:
        raise WireError(what)


def typed(fields, *types) -> bool:
    """Whether ``fields`` is a list of ``len(types)`` items, each of its exact type (a tuple: one of them)."""
    return (
        type(fields) is list
        and len(fields) == len(types)
        and all(type(v) in (t if isinstance(t, tuple) else (t,)) for v, t in zip(fields, types))
    )


def _bytes(text, limit: int) -> bytes:
    need(isinstance(text, str) and len(text) <= 4 * (limit // 3 + 1), "an array's data is not text of its size")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise WireError("an array's data is not base64") from None


def _dtype(text) -> np.dtype:
    need(isinstance(text, str) and text in DTYPES, "an array of a type the check does not send")
    return np.dtype(text)


def _shape(shape) -> tuple:
    need(
        isinstance(shape, list) and len(shape) <= 32 and all(type(n) is int and 0 <= n <= MAX_ELEMENTS for n in shape),
        "an array's shape is not a shape",
    )
    need(math.prod(shape) <= MAX_ELEMENTS, "an array larger than the check sends")
    return tuple(shape)


def decode(data, resolve=None, depth: int = 0):
    """The value :func:`encode` made of ``data``; ``resolve(tag, fields)`` turns ``$o`` and ``$fn`` into
    objects (without it, ``$o`` is an :class:`~nnlearn.checker.values.Opaque` and ``$fn`` is refused)."""
    need(depth <= MAX_DEPTH + 1, "values nested too deep")
    if data is None or type(data) in (bool, str):
        return data
    if type(data) is int:
        need(-MAX_INT < data < MAX_INT, "an integer out of range")
        return data
    if type(data) is float:
        return data
    need(type(data) is dict and len(data) == 1, "a value that is not one of the check's")
    ((tag, fields),) = data.items()
    if tag == "$f":
        need(fields in ("nan", "inf", "-inf"), "a float that is not one")
        return float(fields)
    if tag == "$a":
        need(typed(fields, str, list, str, bool), "an array without its fields")
        dtype, shape = _dtype(fields[0]), _shape(fields[1])
        raw = _bytes(fields[2], math.prod(shape) * dtype.itemsize)
        need(len(raw) == math.prod(shape) * dtype.itemsize, "an array whose bytes do not fill its shape")
        arr = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        arr.flags.writeable = fields[3]
        return arr
    if tag == "$n":
        need(typed(fields, str, str), "a number without its fields")
        dtype = _dtype(fields[0])
        raw = _bytes(fields[1], dtype.itemsize)
        need(len(raw) == dtype.itemsize, "a number of the wrong size")
        return np.frombuffer(raw, dtype=dtype)[0]
    if tag in ("$l", "$t"):
        need(type(fields) is list and len(fields) <= MAX_ITEMS, "a list too long")
        items = [decode(v, resolve, depth + 1) for v in fields]
        return items if tag == "$l" else tuple(items)
    if tag == "$d":
        need(type(fields) is list and len(fields) <= MAX_ITEMS, "a dict too long")
        out = {}
        for pair in fields:
            need(type(pair) is list and len(pair) == 2 and type(pair[0]) in (str, int), "a dict item that is not one")
            out[pair[0]] = decode(pair[1], resolve, depth + 1)
        return out
    if tag == "$big":
        need(
            typed(fields, str, list) and all(type(n) is int and n >= 0 for n in fields[1][:32]),
            "a large array without its shape",
        )
        return Opaque(-1, f"array of shape {tuple(fields[1][:32])}")
    if tag == "$o":
        need(typed(fields, int, str, bool), "an object without its fields")
        if resolve is not None:
            return resolve(tag, fields)
        return Opaque(fields[0], fields[1][:100], fields[2])
    if tag == "$fn" and resolve is not None:
        return resolve(tag, fields)
    raise WireError("a value that is not one of the check's")


def frames(data) -> list:
    """The reader's frames of a message (``[file, line, code, cell]``), checked."""
    need(type(data) is list and len(data) <= 20, "frames that are not a list")
    for frame in data:
        need(
            typed(frame, str, int, str, (type(None), int, str)) and len(frame[0]) <= 4096 and len(frame[2]) <= 400,
            "a frame that is not one",
        )
    return data
