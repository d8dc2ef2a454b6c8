"""The loop engine: the chapter's numerical gradient exactly as the book writes it."""

from __future__ import annotations

import warnings

import numpy as np

from nnlearn.engines import NUMERICAL, register
from nnlearn.gradient import numerical_gradient


@register
class LoopEngine:
    """Each element of each parameter is perturbed in place to ``w + h`` and ``w - h``, the loss of
    the whole batch recomputed by the reference engine, and the element restored: two forward
    passes per parameter, obviously right, and slow (about 10 s for TwoLayerNet(784, 50, 10) on a
    batch of 100).

    Examples
    --------
    >>> import numpy as np
    >>> from nnlearn import TwoLayerNet
    >>> net = TwoLayerNet(3, 4, 2, weight_init_std=0.5, seed=0)
    >>> g = LoopEngine(net).numerical_gradient(np.array([[0.1, 0.5, 0.9]]), np.array([1]))
    >>> g["b2"].round(8)
    array([ 0.32155108, -0.32155108])
    """

    name = "loop"
    kind = NUMERICAL

    def __init__(self, net):
        self.net = net

    def numerical_gradient(self, x, t, elements: dict | None = None) -> dict:
        """The gradient of every parameter, or only of the flat ``elements[key]`` of each (others 0)."""
        reference = self.net.engine("reference")
        if elements is None:
            loss_w = lambda _: reference.loss(x, t)  # noqa: E731 -- the book's idiom
            with warnings.catch_warnings():
                # float32 was already warned about, in the words every numerical engine uses.
                warnings.filterwarnings("ignore", message="x is float32", category=RuntimeWarning)
                return {key: numerical_gradient(loss_w, param) for key, param in self.net.params.items()}
        return {
            key: sampled_central_differences(lambda: reference.loss(x, t), param, elements[key])
            for key, param in self.net.params.items()
        }


def sampled_central_differences(loss, param, flat_indices, h=1e-4) -> np.ndarray:
    """The book's central difference for the chosen elements of ``param`` (the others left 0)."""
    grad = np.zeros(param.shape)
    flat, out = param.reshape(-1), grad.reshape(-1)  # views: perturbing ``flat`` perturbs ``param``
    for i in flat_indices:
        tmp = flat[i]
        try:
            flat[i] = float(tmp) + h
            fxh1 = loss()
            flat[i] = float(tmp) - h
            fxh2 = loss()
        finally:
            flat[i] = tmp
        out[i] = (fxh1 - fxh2) / (2 * h)
    return grad
