"""The fused engine: backpropagation from preallocated buffers, every operation in place."""

from __future__ import annotations

import operator

import numpy as np

from nnlearn.engines import BACKPROP, register
from nnlearn.losses import CEE_DELTA


@register
class FusedEngine:
    """The reference engine's numbers, faster: the training step of ``nnlearn train``.

    Buffers are kept for one batch size; a batch of another size rebuilds them.

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
    kind = BACKPROP

    def __init__(self, net):
        self.net = net
        self.workspace = None

    def _workspace(self, batch_size: int) -> "Workspace":
        ws = self.workspace
        if ws is None or ws.batch_size != batch_size or ws.shapes != _shapes(self.net):
            ws = self.workspace = Workspace(self.net, batch_size)
        return ws

    def logits(self, x, masks=None):
        ws = self._workspace(x.shape[0])
        with np.errstate(over="ignore"):
            ws.forward(x, masks)
        return ws.out_t.T.copy()

    def loss(self, x, t, masks=None) -> float:
        ws = self._workspace(x.shape[0])
        with np.errstate(over="ignore"):
            ws.forward(x, masks)
            return ws.loss_and_delta(t, 1.0) + self.net.weight_decay_loss()

    def loss_and_gradient(self, x, t, scale: float = 1.0, masks=None):
        """``(loss, grads)`` with the gradients multiplied by ``scale``; ``grads`` are buffers that the
        next call overwrites. The caller silences overflow (see :class:`Workspace`)."""
        return self._workspace(x.shape[0]).loss_and_gradient(x, t, scale, masks)


_SHAPE = operator.attrgetter("shape")


def _shapes(net):
    # The regularisers decide which buffers exist, so a change of them rebuilds the workspace too.
    # (map and attrgetter: checked at every step, 0.25 us less than a generator.)
    return (*map(_SHAPE, net.params.values()), net.dropout_ratio, net.weight_decay_lambda)


#: A sum of more terms than this whose length is not a multiple of :data:`BLOCK` is cut in two.
MAX_TERMS = 256
#: The length, in terms, the first part of a cut sum is a multiple of.
BLOCK = 32


def head(k: int) -> int | None:
    """Where a sum of ``k`` terms is cut (``None``: it is added up by one BLAS call).

    >>> head(784), head(512), head(100)
    (768, None, None)
    """
    if k <= MAX_TERMS or k % BLOCK == 0:
        return None
    return k - k % BLOCK


def product(terms: int, out_shape, dtype):
    """``out = a @ b`` for one product of the step, as a function ``(a, b, out)``: ``np.dot`` itself, or
    a :class:`CutSum` where :func:`head` cuts the sum."""
    return np.dot if head(terms) is None else CutSum(head(terms), out_shape, dtype)


class CutSum:
    """``out = a @ b`` with the sum cut in two: the first ``head`` terms in one BLAS call, the rest in another.

    Why: OpenBLAS adds up a sum too long for one block in two halves, and on one thread it rounds
    the half up to its kernel's width (16 terms) where several threads do not. For the 784 pixels of
    an MNIST image that is 400 + 384 terms on one thread and 392 + 392 on several: the last bits of
    ``x @ W1`` depended on the thread count, and a run could not change it halfway
    (:mod:`nnlearn.threads`). A sum whose length is a multiple of 32 is cut the same way on any count,
    so the first ``head(k)`` terms go to BLAS in one call, the rest (fewer than 32) in another, and
    the two parts are added. The start-up check of :class:`nnlearn.threads.ThreadPolicy` verifies it
    on the BLAS at hand. It costs about 2 % of the book's step, nothing measurable in the strong
    recipe's (BENCHMARKS.md).
    """

    def __init__(self, head: int, out_shape, dtype):
        self.head = head
        self.tail = np.empty(out_shape, dtype=dtype)
        self.a = self.b = None  # the last operands, and their two parts (slicing costs 0.3 us a view)

    def __call__(self, a, b, out) -> None:
        h = self.head
        if a is not self.a:
            self.a, self.a_head, self.a_tail = a, a[..., :h], a[..., h:]
        if b is not self.b:
            self.b, self.b_head, self.b_tail = b, b[:h], b[h:]
        # np.matmul: on these strided slices about 10 % faster than np.dot
        np.matmul(self.a_head, self.b_head, out=out)
        np.matmul(self.a_tail, self.b_tail, out=self.tail)
        np.add(out, self.tail, out=out)


class Workspace:
    """The training step: the reference engine's arithmetic from preallocated buffers.

    The reference engine goes layer by layer; this one computes the same numbers -- the same operations on the same
    values, up to the order in which some sums are added -- and is tested against it. For the book's network
    (784-50-10, batch 100, float32) the step's five matrix products and the gathering of its batch are
    the floor; everything below is about the rest, some 30 small NumPy calls of 0.4-2 us each
    (BENCHMARKS.md has the per-operation times):

    - every intermediate array is preallocated and every operation writes into it (``out=``); the
      views the step uses and its constants (0-d arrays of the dtype: 0.4 us less per in-place
      operation than a Python number) are made once;
    - every product goes through :func:`product`, which cuts a long sum in two so that its bits do
      not depend on the number of BLAS threads (:class:`CutSum`);
    - ``np.dot`` rather than ``np.matmul`` for whole products: about 0.3 us less per call on these sizes;
    - the output layer is kept transposed, one column per sample (``out_t``, ``dy_t``): softmax's
      maximum then reduces over the rows of a C-ordered array, which NumPy vectorises, instead of
      along 100 separate rows of 10 numbers (about 3 us less per step);
    - sums over the samples (bias gradients, softmax's denominator) are products with a vector of
      ones, which BLAS does in 0.4-0.6 us where ``np.add.reduce`` takes 0.9-2 us -- the same sums,
      added in another order;
    - the label entries are read and changed through flat indices into the flattened arrays, a
      simpler kind of fancy indexing than ``a[t, samples]`` (about 1 us less);
    - :meth:`loss_and_gradient` leaves overflow warnings to the caller (``Trainer.train`` silences
      them), so there is no ``np.errstate`` (1.2 us) on the hot path; a large ``-a`` in the sigmoid's
      ``exp`` overflows to inf harmlessly (1 / inf = 0).

    Dropout and weight decay cost nothing when they are off (one false test per layer): with dropout
    the activation stays in ``h`` and the dropped output, ``h * mask`` (or ``h * (1 - ratio)`` at test
    time), goes to ``kept``; weight decay adds ``lambda * scale * W`` through a buffer per weight.

    Measured and left out, as slower: gathering the next batch in a background thread (the
    hand-offs cost more than the copy they hide, and the copy competes with BLAS's threads);
    folding the biases into the products with a column of ones (the batch is then gathered into a
    strided buffer, 9 us slower); skipping the input columns that are zero in every sample (it needs
    a second copy of the training set, or a per-step gather of columns dearer than the arithmetic
    it saves); gathering the pixels as uint8 and dividing by 255 here (the same bits, but the
    division costs more than the narrower gather saves); skipping the cut sum's tail when a batch's
    last 16 pixels are all zero (in MNIST 36 % of batches, and the check costs 3 us).
    """

    def __init__(self, net, batch_size: int):
        dt = net.dtype
        self.net = net
        self.batch_size = n = batch_size
        self.shapes = _shapes(net)
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
        # Made once (see the class docstring): a view costs 0.2-0.4 us to make.
        self.out_flat, self.dy_flat, self.dy = self.out_t.reshape(-1), self.dy_t.reshape(-1), self.dy_t.T
        self.zero, self.one, self.cee_delta = np.zeros((), dt), np.ones((), dt), np.array(CEE_DELTA, dt)
        self.shifted, self.logs = np.empty(n, dtype=dt), np.empty(n, dtype=dt)
        self.ones = np.ones(n, dtype=dt)
        self.ones_out = np.ones(n_out, dtype=dt)
        self.samples = np.arange(n)
        self.flat = np.empty(n, dtype=np.intp)  # flat index of each sample's label in out_t
        self.grads = {k: np.empty_like(v) for k, v in net.params.items()}
        # The products of layer i: forward (a sum over its inputs), its weight and bias gradients (sums
        # over the samples) and the gradient it passes down (a sum over its outputs).
        self.forward_product = [None] + [product(sizes[i - 1], (n, sizes[i]), dt) for i in range(1, L)]
        self.forward_product.append(product(sizes[L - 1], (n_out, n), dt))
        self.weight_product = [None] + [product(n, (sizes[i - 1], sizes[i]), dt) for i in range(1, L + 1)]
        self.bias_product = [None] + [product(n, (sizes[i],), dt) for i in range(1, L + 1)]
        self.down_product = [None, None] + [product(sizes[i], (n, sizes[i - 1]), dt) for i in range(2, L + 1)]
        self.softmax_sum = product(n_out, (n,), dt)
        self.dropout = net.dropout_ratio
        self.keep = 1.0 - net.dropout_ratio
        self.lam = net.weight_decay_lambda
        # kept[i]: hidden layer i's output after dropout (only with dropout; else h[i] is the output).
        self.kept = [None] + [np.empty((n, s), dtype=dt) for s in hidden] if self.dropout else None
        self.decay = {f"W{i}": np.empty_like(net.params[f"W{i}"]) for i in range(1, L + 1)} if self.lam else None

    def forward(self, x, masks=None) -> None:
        """Run the layers on ``x`` (this workspace's batch size): activations in ``h``, logits in ``out_t``.

        With dropout, ``masks`` (one per hidden layer) make it a training pass; see :class:`FusedEngine`.
        """
        p, h, keys = self.net.params, self.h, self.keys
        add = np.add
        L = self.n_layers
        below = x
        for i in range(1, L):
            W, b = keys[i]
            hi = h[i]
            self.forward_product[i](below, p[W], hi)
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
        self.forward_product[L](p[W].T, below.T, out_t)
        add(out_t, p[b][:, None], out=out_t)

    def loss_and_gradient(self, x, t, scale: float = 1.0, masks=None):
        """``(loss, grads)``, the gradients multiplied by ``scale`` (buffers the next call reuses)."""
        self.forward(x, masks)
        p, g, h, d, keys = self.net.params, self.grads, self.h, self.d, self.keys
        mul = np.multiply
        L = self.n_layers
        loss = self.loss_and_delta(t, scale)
        if self.lam:
            loss += self.net.weight_decay_loss()
        delta = self.dy  # dL/d(pre-activation) of the layer being differentiated, (n, size)
        for i in range(L, 0, -1):
            W, b = keys[i]
            below = x if i == 1 else (self.kept[i - 1] if self.dropout else h[i - 1])
            self.weight_product[i](below.T, delta, g[W])
            self.bias_product[i](self.ones, delta, g[b])
            if self.lam:
                decay = self.decay[W]
                mul(p[W], self.lam * scale, out=decay)
                np.add(g[W], decay, out=g[W])
            if i > 1:
                dh = d[i - 1]
                self.down_product[i](delta, p[W].T, dh)
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

    def loss_and_delta(self, t, scale: float) -> float:
        """The loss of ``out_t`` (logits, transposed), and ``dy_t`` = scale * dL/dlogits, transposed."""
        out_t, dy_t, n = self.out_t, self.dy_t, self.batch_size
        add, mul, sub = np.add, np.multiply, np.subtract
        if self.cross_entropy:
            # Softmax in place: the operations of nnlearn.functions.softmax, in the same order.
            row = self.row
            np.maximum.reduce(out_t, axis=0, keepdims=True, out=row)
            sub(out_t, row, out=out_t)
            np.exp(out_t, out=out_t)
            self.softmax_sum(self.ones_out, out_t, self.sums)
            np.divide(out_t, row, out=out_t)
            if t.ndim == 1:
                flat = self.flat
                mul(t, n, out=flat, dtype=np.intp)
                add(flat, self.samples, out=flat)
                y_c = self.out_flat[flat]  # each sample's probability of its label
                shifted = add(y_c, self.cee_delta, out=self.shifted)
                loss = float(-add.reduce(np.log(shifted, out=self.logs)) / n)
                # The gradient of -log(y_c + 1e-7) through softmax is r * (y - onehot) with
                # r = y_c / (y_c + 1e-7); the 1/n of the mean and the scale are folded into r.
                r = np.divide(y_c, shifted, out=y_c)
                r *= scale / n
                mul(out_t, r, out=dy_t)
                self.dy_flat[flat] -= r
            else:
                t_t = t.T
                loss = float(-np.sum(t_t * np.log(out_t + CEE_DELTA)) / n)
                w = t_t * out_t / (out_t + CEE_DELTA)
                mul(out_t, add.reduce(w, axis=0), out=dy_t)
                sub(dy_t, w, out=dy_t)
                mul(dy_t, scale / n, out=dy_t)
        else:
            np.copyto(dy_t, out_t)
            if t.ndim == 1:
                dy_t[t, self.samples] -= 1
            else:
                sub(dy_t, t.T, out=dy_t)
            loss = float(0.5 * np.sum(dy_t**2) / n)
            mul(dy_t, scale / n, out=dy_t)
        return loss
