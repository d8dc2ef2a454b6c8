"""Input validation, in one place, for every public function that takes arrays from a user.

Each check raises :class:`nnlearn.errors.InputError` (a ``ValueError``) with a message that names
the argument, the problem and the fix.
"""

from __future__ import annotations

import math

import numpy as np

from nnlearn.errors import InputError


def as_float_array(a, name: str) -> np.ndarray:
    """Return ``a`` as a floating-point array (float64 unless it already is a float type)."""
    arr = np.asarray(a)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise InputError(f"{name} must be numeric, got an array of {arr.dtype}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    if not np.isfinite(arr).all():
        bad = "NaN" if np.isnan(arr).any() else "inf"
        raise InputError(f"{name} contains {bad}; check the data or lower the learning rate")


def check_nonempty(arr: np.ndarray, name: str) -> None:
    if arr.size == 0:
        raise InputError(f"{name} is empty; pass at least one sample")


def check_labels(t, n_classes: int, name: str = "t") -> np.ndarray:
    """Return integer class labels, refusing non-integers and values outside ``[0, n_classes)``."""
    arr = np.asarray(t)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or not np.array_equal(arr, np.round(arr)):
            raise InputError(f"{name} holds non-integer labels; labels are class indices 0..{n_classes - 1}")
        arr = arr.astype(np.intp)
    elif arr.dtype.kind not in "iub":
        raise InputError(f"{name} must hold integer class labels, got {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise InputError(
            f"{name} has labels out of range [{arr.min()}, {arr.max()}]; "
            f"with {n_classes} outputs labels must lie in 0..{n_classes - 1}"
        )
    return arr.astype(np.intp, copy=False)


def is_one_hot(arr: np.ndarray) -> bool:
    """True when every row (last axis) holds exactly one 1 and zeros elsewhere."""
    return bool(
        arr.ndim >= 1
        and arr.size > 0
        and np.all((arr == 0) | (arr == 1))
        and np.all(arr.sum(axis=-1) == 1)
    )


def check_positive_int(value, name: str) -> int:
    """A whole number >= 1 (not a bool, not a float), as a Python int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_positive_number(value, name: str, hint: str = "") -> float:
    """A finite number > 0, as a Python float; ``hint`` (e.g. the book's value) ends the message."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise InputError(f"{name} must be a positive finite number, got {value!r}" + (f"; {hint}" if hint else ""))
    return number
