"""Stand-in for the book's ``common/gradient.py``: the central difference, by nnlearn.

``numerical_gradient(f, x)`` perturbs ``x`` in place and restores it, as the book's does, so the
book's ``f = lambda W: net.loss(x, t)`` works.
"""

import numpy as np

from nnlearn.common.gradient import numerical_gradient

__all__ = ["numerical_gradient", "numerical_gradient_2d"]


#: The book's name for the gradient at a 1-D ``x``.
_numerical_gradient_1d = numerical_gradient


def numerical_gradient_2d(f, X):
    """The gradient at each row of a 2-D ``X`` (one point per row), or at a 1-D ``X``."""
    if X.ndim == 1:
        return numerical_gradient(f, X)
    grad = np.zeros(X.shape, dtype=np.float64)
    for idx, x in enumerate(X):
        grad[idx] = numerical_gradient(f, x)
    return grad
