"""Loss functions of the chapter: how badly the network's output ``y`` fits the target ``t``.

The target (second, as in the book) is one-hot or a distribution of ``y``'s shape, or integer class
labels. The loss of a batch (a 2-D ``y``) is the **average over the samples**, so that the loss (and
the learning rate) does not depend on the batch size.
"""

from __future__ import annotations

import warnings

import numpy as np

from nnlearn.base.constraints import (
    as_float_array,
    check_finite,
    check_labels,
    check_no_bool_labels,
    check_nonempty,
    check_probabilities,
    is_one_hot,
)
from nnlearn.base.errors import InputError
from nnlearn.base.i18n import _

#: Added inside the log so that log(0) never happens (the book's ``delta``).
CEE_DELTA = 1e-7


def _prepare(y, t, loss: str):
    """``(y, t)`` checked, as ``(y2d, target)``: ``target`` float of ``y2d``'s shape, or 1-D labels."""
    y = as_float_array(y, "y")
    if y.ndim not in (1, 2):
        raise InputError(
            _("y must be 1-D (one sample) or 2-D (a batch, one row per sample), got shape {shape}", shape=y.shape)
        )
    check_nonempty(y, "y")
    # y is a network's output: NaN/inf there mostly means training diverged.
    check_finite(y, "y", _("check the data or lower the learning rate"))
    t_arr = np.asarray(t)
    check_no_bool_labels(t_arr)
    y2 = y.reshape(1, -1) if y.ndim == 1 else y
    if t_arr.shape == y.shape:
        t_arr = as_float_array(t_arr, "t")
        check_finite(t_arr, "t")
        if is_one_hot(y) and not is_one_hot(t_arr):
            warnings.warn(
                _(
                    "{loss}(y, t): y is exactly one-hot but t is not a one-hot target; the arguments look swapped -- pass "
                    "the network output first and the target second",
                    loss=loss,
                ),
                UserWarning,
                stacklevel=3,
            )
        return y2, t_arr.reshape(y2.shape)
    if t_arr.shape == y.shape[:-1]:
        return y2, check_labels(t_arr.reshape(-1), y.shape[-1])
    raise InputError(
        _(
            "shape mismatch: y has shape {y} but t has shape {t}; t must be one-hot or a distribution of shape {y}, or "
            "class labels of shape {labels}",
            y=y.shape,
            t=t_arr.shape,
            labels=y.shape[:-1],
        )
    )


def mean_squared_error(y, t) -> float:
    """Sum of squared errors, halved: 0.5 * sum((y - t)**2).

    For a batch (2-D ``y``) it is the average of that quantity over the samples. Integer labels are
    treated as one-hot targets.

    Examples
    --------
    The book's example: the target is class 2 and the network is most confident in class 2,

    >>> t = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    >>> y = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]
    >>> mean_squared_error(np.array(y), np.array(t))
    0.09750000000000003

    and then most confident in class 7 -- a larger loss:

    >>> y = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]
    >>> mean_squared_error(np.array(y), np.array(t))
    0.5975
    """
    y2, target = _prepare(y, t, "mean_squared_error")
    if target.ndim == 1:
        target = np.eye(y2.shape[1])[target]
    return float(0.5 * np.sum((y2 - target) ** 2) / y2.shape[0])


def cross_entropy_error(y, t) -> float:
    """Cross-entropy -sum(t * log(y + 1e-7)), averaged over the samples of a batch.

    ``y`` must be probabilities (the softmax output): values in [0, 1], each row summing to 1
    (within 0.01, so float32 softmax outputs and probabilities typed with two decimals pass).
    Anything else -- raw scores, sigmoid outputs -- is refused with
    :class:`nnlearn.base.errors.InputError` (a ``ValueError``), because the loss would be meaningless,
    even negative. A target of the shape of ``y`` must be a distribution too (one-hot or soft). With
    integer labels only the probability of the correct class is read: -log(y[label] + 1e-7).

    Examples
    --------
    >>> t = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    >>> y = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]
    >>> cross_entropy_error(np.array(y), np.array(t))
    0.510825457099338
    >>> y = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]
    >>> cross_entropy_error(np.array(y), np.array(t))
    2.302584092994546

    Labels give the same value as one-hot targets:

    >>> cross_entropy_error(np.array(y), 2)
    2.302584092994546

    Scores that are not probabilities are refused:

    >>> cross_entropy_error(np.array([3.0, 5.0, 7.0]), 0)
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.InputError: y holds 7, outside [0, 1]; y must be probabilities -- apply softmax first
    """
    y2, target = _prepare(y, t, "cross_entropy_error")
    check_probabilities(y2, "y")
    if target.ndim == 2 and not is_one_hot(y2):
        # A target that is no distribution (np.ones(10) gave 23.0) weighs log(y) meaninglessly. A
        # one-hot y with such a t is the swapped-arguments pitfall, already warned about by name.
        check_probabilities(target, "t", _("give one-hot targets, distributions over the classes, or class labels"))
    return batch_cross_entropy(y2, target)


def batch_cross_entropy(y, t) -> float:
    """The book's cross-entropy of a batch already checked: ``y`` (N, C), ``t`` labels (N,) or targets (N, C)."""
    n = y.shape[0]
    if t.ndim == 1:
        return float(-np.sum(np.log(y[np.arange(n), t] + CEE_DELTA)) / n)
    return float(-np.sum(t * np.log(y + CEE_DELTA)) / n)
