"""Values the reader's code returns: turned into arrays, compared, and shown in a report.

A reader's function may return anything -- None, a list, a 1-element array where a number belongs,
an object of its own. Nothing here calls the reader's code back: only NumPy arrays, NumPy scalars,
Python numbers, lists and tuples are read; anything else counts as "not a number".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_NUMBERS = (int, float, bool, np.generic, np.ndarray)


@dataclass(frozen=True)
class Opaque:
    """An object of the reader's that stays in the check's child process: its handle there (-1: none),
    its type's name, and whether it can be called. Not a number to any function here."""

    handle: int
    type_name: str
    callable: bool = False


def to_array(value):
    """``value`` as a float64 array, or None when it is not numbers (None, a dict, an object, ...).

    Examples
    --------
    >>> to_array([1, 2]), to_array(None), to_array("3")
    (array([1., 2.]), None, None)
    """
    if isinstance(value, (list, tuple)):
        if not all(isinstance(v, (_NUMBERS, list, tuple)) for v in value):
            return None
    elif not isinstance(value, _NUMBERS):
        return None
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    return arr


def to_scalar(value):
    """A loss: a number, or an array holding exactly one number; else None.

    Examples
    --------
    >>> to_scalar(np.array([[0.5]])), to_scalar(np.array([1.0, 2.0]))
    (0.5, None)
    """
    arr = to_array(value)
    if arr is None or arr.size != 1:
        return None
    return float(arr.reshape(-1)[0])


def close(got, expected, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Whether ``got`` holds the numbers of ``expected`` (same shape, a 1-element array for a number).

    Examples
    --------
    >>> close(np.array([0.5]), 0.5), close([1.0, 2.0], np.array([1.0, 2.0 + 1e-12])), close(np.nan, np.nan)
    (True, True, False)
    """
    exp = np.asarray(expected, dtype=np.float64)
    arr = to_array(got)
    if arr is None:
        return False
    if arr.shape != exp.shape:
        if arr.size != 1 or exp.size != 1:
            return False
        arr = arr.reshape(exp.shape)
    if not np.all(np.isfinite(arr) == np.isfinite(exp)):
        return False
    finite = np.isfinite(exp)
    return bool(np.all(arr[~finite] == exp[~finite])) and bool(
        np.allclose(arr[finite], exp[finite], rtol=rtol, atol=atol)
    )


def ratio(got, expected) -> float | None:
    """``got / expected`` when ``got`` is ``expected`` times one number (to 1e-6), else None.

    Examples
    --------
    >>> ratio(np.array([2.0, 4.0]), np.array([1.0, 2.0])), ratio([1.0, 1.0], [1.0, 2.0])
    (2.0, None)
    """
    arr, exp = to_array(got), np.asarray(expected, dtype=np.float64)
    if arr is None or arr.size != exp.size or not np.all(np.isfinite(arr)):
        return None
    arr, exp = arr.reshape(-1), exp.reshape(-1)
    big = np.argmax(np.abs(exp))
    if exp[big] == 0:
        return None
    factor = float(arr[big] / exp[big])
    return factor if np.allclose(arr, factor * exp, rtol=1e-6, atol=1e-12 * abs(factor) + 1e-300) else None


def has_nan(value) -> bool:
    """Whether ``value`` holds nan or inf (a value that is not numbers does not)."""
    arr = to_array(value)
    return arr is not None and not bool(np.all(np.isfinite(arr)))


def show(value, width: int = 200) -> str:
    """A short, language-free picture of a value for a report.

    Examples
    --------
    >>> show(np.array([0.1, 0.2], dtype=np.float32)), show(0.5), show(None), show({"W1": np.zeros((2, 3))})
    ('array([0.1, 0.2], dtype=float32)', '0.5', 'None', "{'W1': array of shape (2, 3)}")
    """
    if value is None or isinstance(value, (bool, int, str)):
        text = repr(value)
    elif isinstance(value, (float, np.floating)):
        text = repr(float(value))
    elif isinstance(value, np.generic):
        text = repr(value.item())
    elif isinstance(value, np.ndarray):
        text = _show_array(value)
    elif isinstance(value, tuple):
        text = "(" + ", ".join(show(v, width) for v in value[:4]) + (", ..." if len(value) > 4 else "") + ")"
    elif isinstance(value, list):
        text = "[" + ", ".join(show(v, width) for v in value[:6]) + (", ..." if len(value) > 6 else "") + "]"
    elif isinstance(value, dict):
        items = list(value.items())[:6]
        text = "{" + ", ".join(f"{k!r}: {_show_short(v)}" for k, v in items if isinstance(k, (str, int))) + "}"
    elif isinstance(value, Opaque):
        text = f"<{value.type_name} object>"
    else:
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= width else text[: width - 3] + "..."


def _show_short(value) -> str:
    if isinstance(value, np.ndarray) and value.size > 4:
        return f"array of shape {value.shape}"
    return show(value, 60)


def _number(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = f"{float(value):.8g}"
    return text + ".0" if text.lstrip("-").isdigit() else text


def _nested(arr: np.ndarray, edge: int = 3) -> str:
    if arr.ndim == 0:
        return _number(arr.item())
    items = list(arr)
    if len(items) > 12:
        parts = [_nested(a) for a in items[:edge]] + ["..."] + [_nested(a) for a in items[-edge:]]
    else:
        parts = [_nested(a) for a in items]
    return "[" + ", ".join(parts) + "]"


def _show_array(arr: np.ndarray) -> str:
    """``array([0.1, 0.05, 0.6, ...])``: the numbers as Python writes them, to 8 digits."""
    if arr.dtype.kind not in "biuf":
        return f"<array of {arr.dtype}, shape {arr.shape}>"
    kind = "" if arr.dtype in (np.float64, np.int64, np.bool_) else f", dtype={arr.dtype}"
    return f"array({_nested(arr)}{kind})"


def frozen(arr) -> np.ndarray:
    """A read-only array: a probe's constant input that no reader's code can change by accident."""
    arr = np.array(arr)
    arr.flags.writeable = False
    return arr


def snapshot(args) -> list:
    """Copies of the arrays among ``args``, to see afterwards whether a call changed them."""
    return [(i, a.copy()) for i, a in enumerate(args) if isinstance(a, np.ndarray)]


def changed(args, copies) -> list[int]:
    """Positions of the arrays of ``args`` that differ from their ``snapshot``."""
    return [i for i, old in copies if not np.array_equal(args[i], old, equal_nan=True)]
