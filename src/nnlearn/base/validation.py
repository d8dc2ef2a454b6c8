"""Input validation, in one place, for every public function that takes arrays from a user.

Each check raises :class:`nnlearn.base.errors.InputError` (a ``ValueError``) or, for a value of the
wrong type, :class:`nnlearn.base.errors.InputTypeError` (a ``TypeError``), with a message that names the
argument, the problem and the fix.
"""

from __future__ import annotations

import math

import numpy as np

from nnlearn.base.errors import InputError, InputTypeError
from nnlearn.base.i18n import _


def as_float_array(a, name: str) -> np.ndarray:
    """Return ``a`` as a floating-point array (float64 unless it already is a float type)."""
    arr = np.asarray(a)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise InputError(_("{name} must be numeric, got an array of {dtype}", name=name, dtype=arr.dtype))
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    return arr


def check_numbers(x, name: str = "x") -> np.ndarray:
    """``x`` as an array of numbers (bool, int, float or complex; NumPy subclasses kept), else InputTypeError.

    Examples
    --------
    >>> check_numbers(None)
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.InputTypeError: x must be a number or an array of numbers, got NoneType None
    """
    try:
        arr = np.asanyarray(x) if not isinstance(x, (str, bytes)) else np.asarray(x, dtype=object)
    except (ValueError, TypeError):  # a ragged list
        arr = np.asarray(None, dtype=object)
    if arr.dtype.kind not in "biufc":
        shown = repr(x) if len(repr(x)) <= 40 else repr(x)[:37] + "..."
        raise InputTypeError(_("{name} must be a number or an array of numbers, got {type} {shown}", name=name,
                                type=type(x).__name__, shown=shown))
    return arr


def check_seed(seed, name: str = "seed"):
    """A seed for ``numpy.random.default_rng``: None, a whole number >= 0, or a Generator (kept as is)."""
    if seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence)):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(_("{name} must be a whole number >= 0 (or None for a fresh one), got {seed!r}", name=name,
                           seed=seed))
    return int(seed)


def check_flag(value, name: str) -> bool:
    """True or False (NumPy's bool too), not an array or a number."""
    if not isinstance(value, (bool, np.bool_)):
        raise InputTypeError(_("{name} must be True or False, got {type} {value!r}", name=name, type=type(value).__name__,
                                value=value))
    return bool(value)


def check_choice(value, choices, name: str) -> str:
    """One of the strings ``choices``; anything else (an array, a number) is refused by name."""
    if not isinstance(value, str) or value not in choices:
        raise InputError(_("unknown {name} {value!r}; choose one of {choices}", name=name, value=value,
                           choices=", ".join(choices)))
    return value


def check_finite(arr: np.ndarray, name: str, fix: str | None = None) -> None:
    """Refuse NaN/inf in ``arr``; ``fix`` is the second half of the message (what to do about it; default:
    check the data), in the current language."""
    if not np.isfinite(arr).all():
        bad = "NaN" if np.isnan(arr).any() else "inf"
        raise InputError(_("{name} contains {bad}; {fix}", name=name, bad=bad,
                           fix=_("check the data") if fix is None else fix))


def check_nonempty(arr: np.ndarray, name: str) -> None:
    if arr.size == 0:
        raise InputError(_("{name} is empty; pass at least one sample", name=name))


def check_labels(t, n_classes: int, name: str = "t") -> np.ndarray:
    """Return integer class labels, refusing non-integers and values outside ``[0, n_classes)``."""
    arr = np.asarray(t)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or not np.array_equal(arr, np.round(arr)):
            raise InputError(_("{name} holds non-integer labels; labels are class indices 0..{last}", name=name,
                               last=n_classes - 1))
        arr = arr.astype(np.intp)
    elif arr.dtype.kind not in "iub":
        raise InputError(_("{name} must hold integer class labels, got {dtype}", name=name, dtype=arr.dtype))
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise InputError(_("{name} has labels out of range [{low}, {high}]; with {n} outputs labels must lie in "
                           "0..{last}", name=name, low=arr.min(), high=arr.max(), n=n_classes, last=n_classes - 1))
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
        raise InputError(_("{name} must be a positive integer, got {value!r}", name=name, value=value))
    return int(value)


#: The most weights and biases a network may have: 800 MB in float64, 80 times the largest network
#: the recipes and sweeps build (784-800-800-10, 1.3 million). More is refused before any allocation.
MAX_PARAMETERS = 10**8
#: The most samples one batch may have: a million MNIST rows are 3 GB of float32 already.
MAX_BATCH = 10**6


def check_batch_size(value, name: str = "batch_size") -> int:
    """A whole number of samples from 1 to :data:`MAX_BATCH`, as a Python int.

    Examples
    --------
    >>> check_batch_size(10**12)
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.InputError: batch_size must be a whole number from 1 to 1,000,000 (the book uses 100), got 1000000000000
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_BATCH:
        raise InputError(_("{name} must be a whole number from 1 to {most:,} (the book uses 100), got {value!r}",
                           name=name, most=MAX_BATCH, value=value))
    return int(value)


def check_network_size(sizes, dtype=np.float64) -> int:
    """The number of weights and biases of a fully connected network with layer ``sizes`` (input and
    output included), refused when over :data:`MAX_PARAMETERS`.

    Examples
    --------
    >>> check_network_size([784, 50, 10])
    39760
    >>> check_network_size([784, 10**12, 10])
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.InputError: a 784-1000000000000-10 network has 7.95e+14 parameters (6.36e+06 GB of float64); nnlearn builds networks of at most 100,000,000 -- choose smaller layers
    """
    sizes = [check_positive_int(s, "a layer size") for s in sizes]
    count = sum(n_in * n_out + n_out for n_in, n_out in zip(sizes, sizes[1:]))
    if count > MAX_PARAMETERS:
        gigabytes = count * np.dtype(dtype).itemsize / 1e9
        raise InputError(_(
            "a {sizes} network has {count:.3g} parameters ({gigabytes:.3g} GB of {dtype}); nnlearn builds networks "
            "of at most {most:,} -- choose smaller layers", sizes="-".join(map(str, sizes)), count=count,
            gigabytes=gigabytes, dtype=np.dtype(dtype).name, most=MAX_PARAMETERS))
    return count


def check_positive_number(value, name: str, hint: str = "") -> float:
    """A finite number > 0, as a Python float; ``hint`` (e.g. the book's value, in the current language)
    ends the message."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        message = _("{name} must be a positive finite number, got {value!r}", name=name, value=value)
        raise InputError(_("{message}; {hint}", message=message, hint=hint) if hint else message)
    return number


def check_count(value, name: str) -> int:
    """A whole number >= 0 (not a bool, not a float), as a Python int: 0 means "do nothing"."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputTypeError(_("{name} must be a whole number (int), got {value!r}", name=name, value=value))
    if value < 0:
        raise InputError(_("{name} must be 0 or more, got {value!r}", name=name, value=value))
    return int(value)


def check_no_bool_labels(t, name: str = "t") -> None:
    """Refuse True/False as targets: ``True`` would silently mean class 1."""
    if np.asarray(t).dtype == np.bool_:
        raise InputTypeError(_("{name} holds booleans (True/False), which would be read as classes 1/0; pass "
                               "integer class labels or a one-hot array of 0.0 and 1.0", name=name))


#: How far a row of probabilities may sum from 1: float32 and float16 softmax outputs, and
#: probabilities typed with two decimals, stay inside; sigmoid outputs or raw scores do not.
PROBABILITY_SUM_TOLERANCE = 1e-2


def check_probabilities(y: np.ndarray, name: str = "y", fix: str | None = None) -> None:
    """Every value in [0, 1] and every row (last axis) summing to 1 within :data:`PROBABILITY_SUM_TOLERANCE`;
    ``fix`` ends the message (default: apply softmax first)."""
    fix = _("apply softmax first") if fix is None else fix
    low, high = float(np.min(y)), float(np.max(y))
    if low < 0 or high > 1:
        bad = low if low < 0 else high
        raise InputError(_("{name} holds {bad:g}, outside [0, 1]; {name} must be probabilities -- {fix}", name=name,
                           bad=bad, fix=fix))
    sums = np.sum(y, axis=-1, dtype=np.float64)
    off = np.abs(sums - 1.0)
    # The slack keeps "within 0.01" inclusive despite rounding: 0.33 * 3 sums to 0.99000000000000010.
    if off.max() > PROBABILITY_SUM_TOLERANCE * (1 + 1e-9):
        row = int(np.argmax(off))
        where = _("row {row} of {name}", row=row, name=name) if y.ndim > 1 and y.shape[0] > 1 else name
        raise InputError(_("{where} sums to {total:g}, not 1; {name} must be probabilities -- {fix}", where=where,
                           total=sums.reshape(-1)[row], name=name, fix=fix))


def callable_name(f) -> str:
    """How to name ``f`` in a message: ``f (function_1)``, ``f (<lambda>)``."""
    return f"f ({getattr(f, '__name__', type(f).__name__)})"


def check_callable(f, what: str | None = None) -> None:
    """``f`` callable; ``what`` says what it must be (default: a function of one variable)."""
    if not callable(f):
        raise InputTypeError(_("f must be {what}, got {type} {f!r}", what=_("a function of one variable")
                               if what is None else what, type=type(f).__name__, f=f))


def check_real_point(x, name: str = "x") -> None:
    """A finite real number, or an array of them (not a string, bool or complex number)."""
    arr = np.asarray(x) if not isinstance(x, (str, bytes)) else np.asarray(x, dtype=object)
    if arr.dtype.kind not in "iuf":
        raise InputTypeError(_("{name} must be a real number or an array of real numbers, got {type} {x!r}", name=name,
                               type=type(x).__name__, x=x))
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise InputError(_("{name} must be finite, got {x!r}", name=name, x=x))


def check_real_result(value, f, x) -> None:
    """Refuse a value of ``f`` that is not real: None, a string, a complex number (f left its real domain)."""
    arr = np.asarray(value) if value is not None else np.asarray(None, dtype=object)
    if arr.dtype.kind in "biuf":
        return
    if arr.dtype.kind == "c":
        raise InputTypeError(_(
            "{f} returned the complex number {value!r} at x={x!r}; it must return a real number (a complex value "
            "means x is outside f's real domain, such as sqrt of a negative number)", f=callable_name(f), value=value,
            x=x))
    raise InputTypeError(_("{f} returned {value!r} at x={x!r}; it must return a real number", f=callable_name(f),
                           value=value, x=x))
