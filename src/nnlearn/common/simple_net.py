"""The chapter's one-layer example network, ``simpleNet`` (*Deep Learning from Scratch*, ch. 4.4.1)."""

from __future__ import annotations

import numpy as np

from nnlearn.base.constraints import as_float_array, check, check_finite, check_numbers
from nnlearn.base.errors import InputError
from nnlearn.base.i18n import _
from nnlearn.common.functions import softmax
from nnlearn.common.gradient import numerical_gradient
from nnlearn.common.losses import cross_entropy_error


class SimpleNet:
    """The chapter's one-layer example: a 2x3 weight matrix, softmax and cross-entropy.

    Parameters
    ----------
    W : array_like of shape (2, 3), optional
        The weights. Without it they are drawn from a standard normal distribution.
    seed : int, optional
        Seed of the ``numpy.random.Generator`` that draws ``W``.

    Examples
    --------
    The book's numbers (its random ``W`` written out):

    >>> net = SimpleNet(W=[[0.47355232, 0.9977393, 0.84668094],
    ...                    [0.85557411, 0.03563661, 0.69422093]])
    >>> x = np.array([0.6, 0.9])
    >>> net.predict(x)
    array([1.05414809, 0.63071653, 1.1328074 ])
    >>> t = np.array([0, 0, 1])
    >>> net.loss(x, t)
    0.9280682857864075
    >>> net.numerical_gradient(x, t)["W"]
    array([[ 0.21924757,  0.14356243, -0.36281   ],
           [ 0.32887136,  0.21534364, -0.544215  ]])

    The book computes the same gradient with its general function and a lambda:

    >>> from nnlearn import numerical_gradient
    >>> f = lambda W: net.loss(x, t)
    >>> numerical_gradient(f, net.W)
    array([[ 0.21924757,  0.14356243, -0.36281   ],
           [ 0.32887136,  0.21534364, -0.544215  ]])
    """

    def __init__(self, W=None, seed=None):
        if W is None:
            W = np.random.default_rng(check("seed", seed)).standard_normal((2, 3))
        W = as_float_array(check_numbers(W, "W"), "W").astype(np.float64)  # a copy: the caller's W stays theirs
        if W.shape != (2, 3):
            raise InputError(_("W must have shape (2, 3), got {shape}", shape=W.shape))
        check_finite(W, "W", _("pass finite weights"))
        self.params = {"W": W}

    @property
    def W(self) -> np.ndarray:
        return self.params["W"]

    @W.setter
    def W(self, value) -> None:
        self.params["W"] = np.asarray(value, dtype=np.float64)

    def predict(self, x):
        """The scores ``x @ W`` (before softmax), for one input of 2 values or a batch of rows of 2."""
        x = as_float_array(check_numbers(x), "x")
        if x.ndim not in (1, 2) or x.shape[-1] != 2:
            raise InputError(
                _(
                    "x has shape {shape}; SimpleNet takes one input of 2 values (shape (2,)) or a batch of "
                    "them (shape (n, 2))",
                    shape=x.shape,
                )
            )
        check_finite(x, "x")
        return np.dot(x, self.W)

    def loss(self, x, t) -> float:
        """Cross-entropy error of ``softmax(predict(x))`` against ``t`` (one-hot or a label)."""
        return cross_entropy_error(softmax(self.predict(x)), t)

    def numerical_gradient(self, x, t) -> dict:
        """``{"W": dL/dW}`` by central differences (perturbs ``W`` in place and restores it)."""
        return {"W": numerical_gradient(lambda _W: self.loss(x, t), self.params["W"])}
