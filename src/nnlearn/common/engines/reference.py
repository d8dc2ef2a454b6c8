"""The reference engine: backpropagation through the book's layers, one layer at a time."""

from __future__ import annotations

from nnlearn.common.layers import Dropout


class ReferenceEngine:
    """Forward and backward through ``net.layers`` and ``net.last_layer`` (*Deep Learning from Scratch*, ch. 5).

    Plain and readable; every other backprop engine is tested against it. ``masks`` make a pass a
    training pass (the book's ``train_flg=True``); weight decay is the book's ``MultiLayerNetExtend``'s.

    Examples
    --------
    >>> import numpy as np
    >>> from nnlearn import TwoLayerNet
    >>> net = TwoLayerNet(3, 4, 2, weight_init_std=0.5, seed=0)
    >>> x, t = np.array([[0.1, 0.5, 0.9]]), np.array([1])
    >>> loss, grads = ReferenceEngine(net).loss_and_gradient(x, t)
    >>> round(loss, 12), sorted(grads)
    (0.387946014918, ['W1', 'W2', 'b1', 'b2'])
    """

    name = "reference"

    def __init__(self, net):
        self.net = net

    def _sync(self) -> None:
        # The layers hold the parameter arrays by reference; re-read them so that assigning a new
        # array to ``net.params["W1"]`` (as a reader of the book may do) takes effect.
        for i in range(1, self.net.n_affine + 1):
            layer = self.net.layers[f"Affine{i}"]
            layer.W = self.net.params[f"W{i}"]
            layer.b = self.net.params[f"b{i}"]

    def logits(self, x, masks=None):
        self._sync()
        dropped = 0
        for layer in self.net.layers.values():
            if isinstance(layer, Dropout):
                x = layer.forward(x, train_flg=masks is not None, mask=None if masks is None else masks[dropped])
                dropped += 1
            else:
                x = layer.forward(x)
        return x

    def loss(self, x, t, masks=None) -> float:
        return self.net.last_layer.forward(self.logits(x, masks), t) + self.net.weight_decay_loss()

    def loss_and_gradient(self, x, t, masks=None):
        loss = self.loss(x, t, masks)
        dout = self.net.last_layer.backward(1.0)
        for layer in reversed(self.net.layers.values()):
            dout = layer.backward(dout)
        lam = self.net.weight_decay_lambda
        grads = {}
        for i in range(1, self.net.n_affine + 1):
            affine = self.net.layers[f"Affine{i}"]
            grads[f"W{i}"] = affine.dW + lam * affine.W if lam else affine.dW
            grads[f"b{i}"] = affine.db
        return loss, grads
