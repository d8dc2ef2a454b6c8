"""The book's layers (ch. 5): ``forward`` keeps what ``backward(dout)`` needs to turn the gradient
with respect to the output into the gradient with respect to the input (:class:`Affine` also stores
``dW`` and ``db``). The output layers take the target, return the loss and start the backward pass
with ``backward()``. Plain versions, written to be read, in the dtype of their inputs.
"""

from __future__ import annotations

import numpy as np

from nnlearn.common.functions import sigmoid, softmax
from nnlearn.common.losses import CEE_DELTA, batch_cross_entropy


class Affine:
    """The fully connected layer ``out = x @ W + b``.

    ``W`` and ``b`` are used by reference, so an optimizer that updates the network's arrays in
    place updates the layer too. ``input_grad=False`` (the first layer: nobody learns the data) skips
    the gradient with respect to the input, one of the three large matrix products of a training step.

    Examples
    --------
    >>> layer = Affine(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -0.5]))
    >>> layer.forward(np.array([[1.0, 1.0]]))
    array([[4.5, 5.5]])
    >>> layer.backward(np.array([[1.0, 0.0]]))
    array([[1., 3.]])
    >>> layer.dW
    array([[1., 0.],
           [1., 0.]])
    >>> layer.db
    array([1., 0.])
    """

    def __init__(self, W, b, input_grad: bool = True):
        self.W = W
        self.b = b
        self.input_grad = input_grad
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        # A batch of images (N, C, H, W) is flattened to (N, C*H*W), as in the book.
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = np.sum(dout, axis=0)
        if not self.input_grad:
            return None
        return (dout @ self.W.T).reshape(self.original_x_shape)


class Sigmoid:
    """The sigmoid activation; its derivative is ``out * (1 - out)``, read from the forward output.

    Examples
    --------
    >>> layer = Sigmoid()
    >>> layer.forward(np.array([0.0, 2.0]))
    array([0.5       , 0.88079708])
    >>> layer.backward(np.array([1.0, 1.0]))
    array([0.25      , 0.10499359])
    """

    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = np.asarray(sigmoid(x))
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class Relu:
    """The ReLU activation: passes the gradient where the input was positive, blocks it elsewhere.

    Examples
    --------
    >>> layer = Relu()
    >>> layer.forward(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
    >>> layer.backward(np.array([5.0, 5.0, 5.0]))
    array([0., 0., 5.])
    """

    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


class Dropout:
    """The book's Dropout (ch. 6.4): while training, drop each unit with probability ``dropout_ratio``.

    ``forward(x, train_flg=True)`` returns ``x * mask``, ``mask = rng.random(x.shape) > dropout_ratio``;
    at test time, ``x * (1 - dropout_ratio)``, the expected training output. The book draws from
    ``np.random``, this layer from the Generator ``rng``, or takes ``mask=m`` as it is, so that a
    gradient check can hold one mask fixed while it differences the loss.

    Examples
    --------
    >>> layer = Dropout(0.5, rng=np.random.default_rng(0))
    >>> layer.forward(np.array([[1.0, 2.0, 3.0, 4.0]]))
    array([[1., 0., 0., 0.]])
    >>> layer.backward(np.array([[1.0, 1.0, 1.0, 1.0]]))
    array([[1., 0., 0., 0.]])
    >>> layer.forward(np.array([[1.0, 2.0, 3.0, 4.0]]), train_flg=False)
    array([[0.5, 1. , 1.5, 2. ]])
    >>> layer.forward(np.array([[1.0, 2.0]]), mask=np.array([[False, True]]))
    array([[0., 2.]])
    """

    def __init__(self, dropout_ratio: float = 0.5, rng=None):
        self.dropout_ratio = dropout_ratio
        self.rng = rng if rng is not None else np.random.default_rng()
        self.mask = None

    def forward(self, x, train_flg: bool = True, mask=None):
        if mask is None and train_flg:
            mask = self.rng.random(x.shape) > self.dropout_ratio
        self.mask = mask
        if mask is None:
            return x * (1.0 - self.dropout_ratio)
        return x * mask

    def backward(self, dout):
        if self.mask is None:
            return dout * (1.0 - self.dropout_ratio)
        return dout * self.mask


class SoftmaxWithLoss:
    """Softmax followed by the cross-entropy error: the output layer of a classifier.

    ``forward(x, t)`` returns the book's loss, ``-sum(t * log(y + 1e-7)) / N`` with ``y = softmax(x)``
    -- the same number as :func:`nnlearn.cross_entropy_error`. ``t`` is a batch of integer labels
    (shape ``(N,)``) or of one-hot / soft targets (shape ``(N, C)``).

    ``backward()`` returns the **exact** gradient of that loss. The book returns ``(y - t) / N``,
    which is the gradient without the ``1e-7`` inside the log; the exact one differs from it by the
    factor ``y_c / (y_c + 1e-7)`` (``y_c`` the probability of the correct class), which is why a
    gradient check agrees with the numerical gradient to about 1e-10 instead of 1e-7.

    Examples
    --------
    >>> layer = SoftmaxWithLoss()
    >>> layer.forward(np.array([[0.3, 2.9, 4.0]]), np.array([2]))
    0.3057143290530003
    >>> layer.backward()
    array([[ 0.01821127,  0.24519178, -0.26340305]])

    Labels and one-hot targets give the same loss:

    >>> layer.forward(np.array([[0.3, 2.9, 4.0]]), np.array([[0.0, 0.0, 1.0]]))
    0.3057143290530003
    """

    def __init__(self):
        self.y = None
        self.t = None
        self.loss = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = batch_cross_entropy(self.y, t)
        return self.loss

    def backward(self, dout=1.0):
        y, t = self.y, self.t
        n = y.shape[0]
        if t.ndim == 1:
            # d/dx_j of -log(y_c + d) is r * (y_j - [j == c]) with r = y_c / (y_c + d).
            y_c = y[np.arange(n), t]
            r = y_c / (y_c + CEE_DELTA)
            dx = y * r[:, None]
            dx[np.arange(n), t] -= r
        else:
            # d/dx_j of -sum_k t_k log(y_k + d) is y_j * sum(w) - w_j with w = t * y / (y + d).
            w = t * y / (y + CEE_DELTA)
            dx = y * np.sum(w, axis=1, keepdims=True) - w
        return dx * (dout / n)


class IdentityWithLoss:
    """The identity output with the mean squared error: the output layer for regression.

    ``forward(x, t)`` returns ``0.5 * sum((x - t)**2) / N`` -- the same number as
    :func:`nnlearn.mean_squared_error` (integer labels count as one-hot targets); ``backward()``
    returns ``(x - t) / N``.

    Examples
    --------
    >>> layer = IdentityWithLoss()
    >>> layer.forward(np.array([[0.1, 0.7, 0.2]]), np.array([1]))
    0.07000000000000002
    >>> layer.backward()
    array([[ 0.1, -0.3,  0.2]])
    """

    def __init__(self):
        self.y = None
        self.t = None
        self.loss = None

    def forward(self, x, t):
        self.y = x
        self.t = np.eye(x.shape[1], dtype=x.dtype)[t] if t.ndim == 1 else t
        self.loss = float(0.5 * np.sum((self.y - self.t) ** 2) / self.y.shape[0])
        return self.loss

    def backward(self, dout=1.0):
        return (self.y - self.t) * (dout / self.y.shape[0])
