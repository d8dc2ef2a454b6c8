"""Stand-in for the book's ``common/functions.py``: the same names, computed by nnlearn.

``from common.functions import *`` gives the book's names and ``np``, as the book's module does
(its ``two_layer_net.py`` uses ``np`` without importing NumPy itself).
"""

import numpy as np

from nnlearn.common.functions import identity_function, relu, sigmoid, sigmoid_grad, softmax, step_function
from nnlearn.common.losses import cross_entropy_error

__all__ = [
    "np",
    "identity_function",
    "step_function",
    "sigmoid",
    "sigmoid_grad",
    "relu",
    "relu_grad",
    "softmax",
    "sum_squared_error",
    "mean_squared_error",
    "cross_entropy_error",
    "softmax_loss",
]


def relu_grad(x):
    """1 where ``x >= 0``, else 0 (the book's convention at 0)."""
    return (np.asarray(x) >= 0).astype(np.asarray(x).dtype if np.asarray(x).dtype.kind == "f" else np.float64)


def sum_squared_error(y, t):
    """The book's ``0.5 * np.sum((y - t)**2)``, summed over every element (a batch too)."""
    return 0.5 * np.sum((np.asarray(y) - np.asarray(t)) ** 2)


mean_squared_error = sum_squared_error


def softmax_loss(X, t):
    """Cross-entropy error of ``softmax(X)``."""
    return cross_entropy_error(softmax(X), t)
