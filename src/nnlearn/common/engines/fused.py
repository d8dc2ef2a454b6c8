"""The fused engine: backpropagation from preallocated buffers, every operation in place."""

from __future__ import annotations

import numpy as np

from nnlearn.common.losses import CEE_DELTA


class FusedEngine:
    """The reference engine's numbers (the same operations, up to the order of some sums), faster:
    the training step of ``nnlearn train``. Buffers are made once per batch size; what else differs,
    each measured (BENCHMARKS.md):

    - every operation writes into a preallocated array (``out=``);
    - the output layer is kept transposed, one column per sample (``out_t``, ``dy_t``), so that
      softmax's maximum and sum run over the rows of a C-ordered array;
    - sums over the samples (bias gradients, softmax's denominator) are products with a vector of
      ones, which BLAS does faster than ``np.add.reduce``;
    - overflow warnings are left to the caller (``Trainer.train`` silences them): a large ``-a`` in
      the sigmoid's ``exp`` overflows to inf harmlessly (1 / inf = 0).

    Dropout and weight decay cost nothing when they are off: the dropped output goes to ``kept``.

    Examples
    --------
    >>> import numpy as np
    >>> from nnlearn import TwoLayerNet
    >>> net = TwoLayerNet(3, 4, 2, weight_init_std=0.5, seed=0)
    >>> x, t = np.array([[0.1, 0.5, 0.9]]), np.array([1])
    >>> loss, grads = FusedEngine(net).loss_and_gradient(x, t)
    >>> round(loss, 12)
    0.387946014918
    """

    name = "fused"

    def __init__(self, net):
        self.net = net
        self.made_for = None

    def _ready(self, batch_size: int) -> None:
        net = self.net
        made_for = (batch_size, *(p.shape for p in net.params.values()), net.dropout_ratio, net.weight_decay_lambda)
        if made_for != self.made_for:
            self._allocate(batch_size)
            self.made_for = made_for

    def logits(self, x, masks=None):
        self._ready(x.shape[0])
        with np.errstate(over="ignore"):
            self.forward(x, masks)
        return self.out_t.T.copy()

    def loss(self, x, t, masks=None) -> float:
        self._ready(x.shape[0])
        with np.errstate(over="ignore"):
            self.forward(x, masks)
            return self.loss_and_delta(t) + self.net.weight_decay_loss()

    def _allocate(self, batch_size: int) -> None:
        net = self.net
        dt = net.dtype
        self.batch_size = n = batch_size
        self.n_layers = L = net.n_affine
        self.sigmoid = net.activation == "sigmoid"
        self.cross_entropy = net.loss_type == "cross_entropy"
        self.keys = [None] + [(f"W{i}", f"b{i}") for i in range(1, L + 1)]
        sizes = net.sizes
        hidden = sizes[1:-1]
        # h[i]: activation of hidden layer i (pre-activation turned into activation in place);
        # d[i]: dL/d(pre-activation of hidden layer i).
        self.h = [None] + [np.empty((n, s), dtype=dt) for s in hidden]
        self.d = [None] + [np.empty((n, s), dtype=dt) for s in hidden]
        self.tmp = [None] + [np.empty((n, s), dtype=dt) for s in hidden]
        self.mask = [None] + [np.empty((n, s), dtype=bool) for s in hidden]
        n_out = sizes[-1]
        self.out_t = np.empty((n_out, n), dtype=dt)  # the output layer, transposed
        self.dy_t = np.empty((n_out, n), dtype=dt)  # dL/d(its pre-activation), transposed
        self.row = np.empty((1, n), dtype=dt)
        self.sums = self.row[0]
        self.out_flat, self.dy_flat, self.dy = self.out_t.reshape(-1), self.dy_t.reshape(-1), self.dy_t.T
        self.zero, self.one, self.cee_delta = np.zeros((), dt), np.ones((), dt), np.array(CEE_DELTA, dt)
        self.shifted, self.logs = np.empty(n, dtype=dt), np.empty(n, dtype=dt)
        self.ones = np.ones(n, dtype=dt)
        self.ones_out = np.ones(n_out, dtype=dt)
        self.samples = np.arange(n)
        self.flat = np.empty(n, dtype=np.intp)  # flat index of each sample's label in out_t
        self.grads = {k: np.empty_like(v) for k, v in net.params.items()}
        self.dropout = net.dropout_ratio
        self.keep = 1.0 - net.dropout_ratio
        self.lam = net.weight_decay_lambda
        # kept[i]: hidden layer i's output after dropout (only with dropout; else h[i] is the output).
        self.kept = [None] + [np.empty((n, s), dtype=dt) for s in hidden] if self.dropout else None
        self.decay = {f"W{i}": np.empty_like(net.params[f"W{i}"]) for i in range(1, L + 1)} if self.lam else None

    def forward(self, x, masks=None) -> None:
        """Run the layers on ``x``: activations in ``h``, logits in ``out_t`` (``masks``: a training pass)."""
        p, h, keys = self.net.params, self.h, self.keys
        add = np.add
        L = self.n_layers
        below = x
        for i in range(1, L):
            W, b = keys[i]
            hi = h[i]
            np.dot(below, p[W], out=hi)
            add(hi, p[b], out=hi)
            if self.sigmoid:
                # 1 / (1 + exp(-a)); exp overflowing to inf gives the right 0.
                np.negative(hi, out=hi)
                np.exp(hi, out=hi)
                add(hi, self.one, out=hi)
                np.reciprocal(hi, out=hi)
            else:
                np.maximum(hi, self.zero, out=hi)
            below = hi
            if self.dropout:
                below = self.kept[i]
                np.multiply(hi, self.keep if masks is None else masks[i - 1], out=below)
        W, b = keys[L]
        out_t = self.out_t
        np.dot(p[W].T, below.T, out=out_t)
        add(out_t, p[b][:, None], out=out_t)

    def loss_and_gradient(self, x, t, masks=None):
        """``(loss, grads)``; ``grads`` are buffers that the next call overwrites."""
        self._ready(x.shape[0])
        self.forward(x, masks)
        p, g, h, d, keys = self.net.params, self.grads, self.h, self.d, self.keys
        mul = np.multiply
        L = self.n_layers
        loss = self.loss_and_delta(t)
        if self.lam:
            loss += self.net.weight_decay_loss()
        delta = self.dy  # dL/d(pre-activation) of the layer being differentiated, (n, size)
        for i in range(L, 0, -1):
            W, b = keys[i]
            below = x if i == 1 else (self.kept[i - 1] if self.dropout else h[i - 1])
            np.dot(below.T, delta, out=g[W])
            np.dot(self.ones, delta, out=g[b])
            if self.lam:
                decay = self.decay[W]
                mul(p[W], self.lam, out=decay)
                np.add(g[W], decay, out=g[W])
            if i > 1:
                dh = d[i - 1]
                np.dot(delta, p[W].T, out=dh)
                if self.dropout:
                    mul(dh, self.keep if masks is None else masks[i - 2], out=dh)
                    below = h[i - 1]  # the activation before dropout, for its derivative
                if self.sigmoid:
                    # sigmoid'(a) = s * (1 - s), with s the activation kept in h[i-1].
                    tmp = self.tmp[i - 1]
                    np.subtract(self.one, below, out=tmp)
                    mul(tmp, below, out=tmp)
                    mul(dh, tmp, out=dh)
                else:
                    mask = self.mask[i - 1]
                    np.greater(below, self.zero, out=mask)
                    mul(dh, mask, out=dh)
                delta = dh
        return loss, g

    def loss_and_delta(self, t) -> float:
        """The loss of ``out_t`` (logits, transposed), and ``dy_t`` = dL/dlogits, transposed."""
        out_t, dy_t, n = self.out_t, self.dy_t, self.batch_size
        add, mul, sub = np.add, np.multiply, np.subtract
        if self.cross_entropy:
            # Softmax in place: the operations of nnlearn.common.functions.softmax, in the same order.
            row = self.row
            np.maximum.reduce(out_t, axis=0, keepdims=True, out=row)
            sub(out_t, row, out=out_t)
            np.exp(out_t, out=out_t)
            np.dot(self.ones_out, out_t, out=self.sums)
            np.divide(out_t, row, out=out_t)
            if t.ndim == 1:
                flat = self.flat
                mul(t, n, out=flat, dtype=np.intp)
                add(flat, self.samples, out=flat)
                y_c = self.out_flat[flat]  # each sample's probability of its label
                shifted = add(y_c, self.cee_delta, out=self.shifted)
                loss = float(-add.reduce(np.log(shifted, out=self.logs)) / n)
                # The gradient of -log(y_c + 1e-7) through softmax is r * (y - onehot) with
                # r = y_c / (y_c + 1e-7); the 1/n of the mean is folded into r.
                r = np.divide(y_c, shifted, out=y_c)
                r /= n
                mul(out_t, r, out=dy_t)
                self.dy_flat[flat] -= r
            else:
                t_t = t.T
                loss = float(-np.sum(t_t * np.log(out_t + CEE_DELTA)) / n)
                w = t_t * out_t / (out_t + CEE_DELTA)
                mul(out_t, add.reduce(w, axis=0), out=dy_t)
                sub(dy_t, w, out=dy_t)
                np.divide(dy_t, n, out=dy_t)
        else:
            np.copyto(dy_t, out_t)
            if t.ndim == 1:
                dy_t[t, self.samples] -= 1
            else:
                sub(dy_t, t.T, out=dy_t)
            loss = float(0.5 * np.sum(dy_t**2) / n)
            np.divide(dy_t, n, out=dy_t)
        return loss
