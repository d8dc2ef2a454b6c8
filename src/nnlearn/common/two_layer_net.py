"""The chapter's two-layer network, ``TwoLayerNet`` (*Deep Learning from Scratch*, ch. 4.5)."""

from __future__ import annotations

import numpy as np

from nnlearn.base.constraints import POSITIVE_WHOLE
from nnlearn.common.multi_layer_net import MultiLayerNet


class TwoLayerNet(MultiLayerNet):
    """The chapter's two-layer network: ``Affine -> Sigmoid -> Affine -> Softmax``.

    ``TwoLayerNet(input_size, hidden_size, output_size, weight_init_std=0.01)`` as in the book; the
    weights are drawn from a normal distribution with standard deviation ``weight_init_std``.
    ``weight_decay_lambda`` and ``dropout_ratio`` are those of :class:`MultiLayerNet`.

    Examples
    --------
    >>> net = TwoLayerNet(input_size=784, hidden_size=100, output_size=10, seed=0)
    >>> {k: v.shape for k, v in net.params.items()}
    {'W1': (784, 100), 'b1': (100,), 'W2': (100, 10), 'b2': (10,)}
    >>> x = np.random.default_rng(1).random((100, 784))
    >>> net.predict(x).shape
    (100, 10)
    >>> round(net.loss(x, np.arange(100) % 10), 4)
    2.3037
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        output_size,
        weight_init_std=0.01,
        seed=None,
        dtype=np.float64,
        weight_decay_lambda=0.0,
        dropout_ratio=0.0,
    ):
        super().__init__(
            input_size,
            [POSITIVE_WHOLE.check(hidden_size, "hidden_size")],
            output_size,
            activation="sigmoid",
            weight_init_std=weight_init_std,
            loss="cross_entropy",
            seed=seed,
            dtype=dtype,
            weight_decay_lambda=weight_decay_lambda,
            dropout_ratio=dropout_ratio,
        )

    def config(self) -> dict:
        cfg = super().config()
        cfg["hidden_size"] = cfg["hidden_size_list"][0]
        return cfg
