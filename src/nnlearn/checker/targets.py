"""The functions the probes hand to the reader's code (``numerical_diff(f, x)``, ``gradient_descent(f, ...)``),
known to both processes by name: a function cannot cross between them, its name does
(:class:`~.wire.Function`). Each computes exactly, in float64 (or complex: a complex-step derivative is
right too), whatever the reader's array holds.
"""

from __future__ import annotations

import numpy as np


def _exact(x):
    x = np.asarray(x)
    return x if np.iscomplexobj(x) else x.astype(np.float64)


def square(x):
    return np.sum(_exact(x) ** 2)


def cube(x):
    return np.sum(_exact(x) ** 3)


def function_1(x):
    """The book's 4.3.2 example: 0.01 x**2 + 0.1 x."""
    return 0.01 * x**2 + 0.1 * x


def function_2(x):
    """The book's 4.3.3 example: x0**2 + x1**2."""
    return square(x)


def coupled(x):
    """x0*x1 + x1**2 * x2: each partial derivative depends on the other coordinates, so a coordinate
    left shifted by the previous step changes the next partial derivative."""
    x = _exact(x)
    return x[0] * x[1] + x[1] ** 2 * x[2]


def weights_of(w) -> np.ndarray:
    """The weights of :func:`weighted_square` over an array shaped as ``w``: 1, 2, 3, ..."""
    return np.arange(1.0, np.size(w) + 1).reshape(np.shape(w))


def weighted_square(w):
    """The book's ``f = lambda W: net.loss(x, t)``: a function that ignores its argument and reads the
    array ``w`` itself, so only a gradient that perturbs ``w`` in place sees it change."""
    weights = weights_of(w)

    def loss_W(_):
        return np.sum(weights * np.asarray(w).astype(np.float64) ** 2)

    return loss_W


#: The functions passed by name; ``sin`` is NumPy's.
TARGETS = {
    "square": square,
    "cube": cube,
    "function_1": function_1,
    "function_2": function_2,
    "coupled": coupled,
    "sin": np.sin,
}
