"""The loop engine: the chapter's numerical gradient exactly as the book writes it."""

from __future__ import annotations

import time
import warnings

from nnlearn.common.gradient import central_differences, numerical_gradient


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

    def __init__(self, net):
        self.net = net

    def numerical_gradient(self, x, t, elements: dict | None = None, masks=None, progress=None) -> dict:
        """The gradient of every parameter, or only of the flat ``elements[key]`` of each (others 0).

        ``progress(done, total)`` is called about every :data:`PROGRESS_SECONDS`; a ``KeyboardInterrupt``
        raised there stops it with the weights restored. Dropout ``masks`` are held fixed.
        """
        reference = self.net.engine("reference")
        if elements is None:
            total = 2 * sum(p.size for p in self.net.params.values())
            loss = reported(lambda: reference.loss(x, t, masks), total, progress)
            loss_w = lambda _: loss()  # noqa: E731 -- the book's idiom
            with warnings.catch_warnings():
                # float32 was already warned about, in the words every numerical engine uses.
                warnings.filterwarnings("ignore", message="x is float32", category=RuntimeWarning)
                return {key: numerical_gradient(loss_w, param) for key, param in self.net.params.items()}
        return {
            key: central_differences(lambda _: reference.loss(x, t, masks), param, 1e-4, elements[key])
            for key, param in self.net.params.items()
        }


#: How often, at most, a long gradient reports its progress (and can be stopped).
PROGRESS_SECONDS = 1.0


def reported(loss, total: int, progress):
    """``loss`` counting its calls, calling ``progress(done, total)`` every :data:`PROGRESS_SECONDS`."""
    if progress is None:
        return loss
    done, last = 0, time.monotonic()

    def counted():
        nonlocal done, last
        done += 1
        if time.monotonic() - last >= PROGRESS_SECONDS:
            last = time.monotonic()
            progress(done, total)
        return loss()

    return counted
