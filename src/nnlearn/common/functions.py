"""Activation functions of the book (chapter 3), stable for any finite input.

Every function works elementwise on scalars and arrays of any shape, except :func:`softmax`,
which normalises along the last axis (one sample, or a batch of rows). Anything but real numbers
(None, text, objects, complex numbers) is refused with :class:`~nnlearn.base.errors.InputTypeError`:
these are functions of real numbers, and ``sigmoid(1j)`` computed from ``|x|`` and ``x >= 0`` gave
0.731 where the complex logistic function is 0.5+0.273j.
"""

from __future__ import annotations

import warnings

import numpy as np

from nnlearn.base.constraints import check_real_numbers
from nnlearn.base.errors import InputError
from nnlearn.base.i18n import _


def identity_function(x):
    """Return ``x`` unchanged (the output activation for regression).

    Examples
    --------
    >>> identity_function(np.array([1.0, -2.0]))
    array([ 1., -2.])
    """
    return x


def step_function(x):
    """1 where ``x > 0``, else 0 (the perceptron's activation).

    Its derivative is 0 almost everywhere, which is why a network cannot learn with it: a small
    change of a weight changes nothing the loss can see.

    Examples
    --------
    >>> step_function(np.array([-1.0, 0.0, 2.0]))
    array([0, 0, 1])
    """
    return np.asarray(check_real_numbers(x, "step_function") > 0, dtype=np.int_)


def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)).

    Computed from ``exp(-|x|)`` so that no input overflows: ``sigmoid(-1e4)`` is 0 without a warning.

    Examples
    --------
    >>> sigmoid(np.array([-1.0, 1.0, 2.0]))
    array([0.26894142, 0.73105858, 0.88079708])
    >>> float(sigmoid(-1e4)), float(sigmoid(1e4))
    (0.0, 1.0)
    """
    x = _floats(x, "sigmoid")
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out[()]


def sigmoid_grad(x):
    """Derivative of :func:`sigmoid`: sigmoid(x) * (1 - sigmoid(x)).

    Examples
    --------
    >>> float(sigmoid_grad(0.0))
    0.25
    """
    s = sigmoid(x)
    return (1.0 - s) * s


def relu(x):
    """max(0, x).

    Examples
    --------
    >>> relu(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
    """
    check_real_numbers(x, "relu")  # x itself goes on (a NumPy subclass stays one)
    return np.maximum(0, x)


def softmax(x):
    """Softmax along the last axis: one sample (1-D) or a batch (one row per sample).

    The row maximum is subtracted first, so large inputs do not overflow; the result is
    mathematically unchanged.

    Examples
    --------
    >>> softmax(np.array([0.3, 2.9, 4.0]))
    array([0.01821127, 0.24519181, 0.73659691])
    >>> softmax(np.array([1010.0, 1000.0, 990.0]))
    array([9.99954600e-01, 4.53978686e-05, 2.06106005e-09])

    A row holding inf or NaN has no softmax (inf - inf is undefined): its result is NaN, with a
    warning (not an error: a diverging network's scores reach here, and the trainer names that).
    """
    x = _floats(x, "softmax")
    if x.ndim == 0 or x.shape[-1] == 0:
        raise InputError(
            _(
                "softmax needs at least one value along the last axis, got shape {shape}; pass the scores "
                "of one sample (1-D) or a batch (one row per sample)",
                shape=x.shape,
            )
        )
    top = np.max(x, axis=-1, keepdims=True)
    if not np.isfinite(top).all():  # only then: the row maxima are a tenth of x, the usual case costs nothing
        _warn_not_finite(x)
    with np.errstate(invalid="ignore"):  # inf - inf: said once, above, in words
        z = x - top
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def _warn_not_finite(x: np.ndarray) -> None:
    bad = "NaN" if np.isnan(x).any() else "inf"
    if x.ndim > 1:
        rows = ~np.isfinite(x.reshape(-1, x.shape[-1])).all(axis=-1)
        what = _(
            "{n} of its {rows} rows hold {bad}, so their results are NaN", n=int(rows.sum()), rows=rows.size, bad=bad
        )
    else:
        what = _("x holds {bad}, so the result is NaN", bad=bad)
    warnings.warn(
        "softmax: "
        + _(
            "{what} (inf - inf is undefined); scores that large come from an overflow before "
            "softmax -- lower the learning rate or check the input",
            what=what,
        ),
        RuntimeWarning,
        stacklevel=3,
    )


def _floats(x, name: str) -> np.ndarray:
    """``x`` as a plain array of real numbers; True/False as 1.0/0.0 (NumPy refuses to negate booleans)."""
    x = np.asarray(check_real_numbers(x, name))
    return x.astype(np.float64) if x.dtype.kind == "b" else x
