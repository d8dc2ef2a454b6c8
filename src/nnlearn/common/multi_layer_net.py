"""A fully connected network of any depth: the description every engine computes with.

It keeps its weights in ``params`` (``W1``, ``b1``, ``W2``, ...) and offers the book's interface,
``predict``, ``loss``, ``accuracy``, ``numerical_gradient`` and ``gradient``. How these are computed
is up to an engine (:mod:`nnlearn.common.engines`); the network checks the inputs once and hands them on.
Networks are float64 by default, which a gradient check needs; ``dtype=np.float32`` trains faster.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from nnlearn.base.constraints import (
    POSITIVE_WHOLE,
    Options,
    as_float_array,
    check,
    check_finite,
    check_labels,
    check_network_size,
    check_nonempty,
    check_numeric,
)
from nnlearn.base.errors import DivergenceError, InputError, InputTypeError
from nnlearn.base.i18n import _, ngettext
from nnlearn.common import engines
from nnlearn.common.functions import softmax
from nnlearn.common.layers import Affine, Dropout, IdentityWithLoss, Relu, Sigmoid, SoftmaxWithLoss
from nnlearn.common.saving import save_network

ACTIVATIONS = {"sigmoid": Sigmoid, "relu": Relu}
LOSSES = {"cross_entropy": SoftmaxWithLoss, "mse": IdentityWithLoss}
DTYPES = ("float32", "float64")
#: The named weight scales: the standard deviation is sqrt(gain / n_in) (Xavier for sigmoid, He for ReLU).
INIT_GAINS = {"xavier": 1.0, "he": 2.0}
#: Rows per chunk when a whole data set is evaluated: memory stays bounded (a 2000 x 784 float64
#: chunk is 12 MiB) whatever the size of the data.
EVAL_CHUNK = 2000


class MultiLayerNet:
    """A fully connected network: ``Affine -> activation`` repeated, then ``Affine -> output``.

    Parameters
    ----------
    input_size : int
        Values per sample (784 for MNIST).
    hidden_size_list : list of int
        Units per hidden layer, e.g. ``[100, 100]``. May be empty (a linear classifier).
    output_size : int
        Number of classes.
    activation : {"relu", "sigmoid"}, default "relu"
    weight_init_std : float or {"he", "xavier"}, default "he"
        Standard deviation of the normal distribution the weights are drawn from: a number (the
        book's 0.01), ``"xavier"`` (``sqrt(1 / n_in)``, suits sigmoid; alias ``"sigmoid"``) or
        ``"he"`` (``sqrt(2 / n_in)``, suits ReLU; alias ``"relu"``). Biases start at zero.
    loss : {"cross_entropy", "mse"}, default "cross_entropy"
        ``"cross_entropy"``: softmax output with the cross-entropy error (a classifier).
        ``"mse"``: identity output with the mean squared error.
    seed : int, optional
        Seed of the ``numpy.random.Generator`` that draws the weights; same seed, same network.
    dtype : {numpy.float64, numpy.float32}, default float64
        float64 for gradient checks; float32 is about twice as fast for training.
    weight_decay_lambda : float, default 0
        The book's weight decay (ch. 6.4.2): :meth:`loss` adds ``lambda / 2 * sum ||W||**2`` over the
        weights (biases excluded), and the gradient of each weight gains ``lambda * W``.
    dropout_ratio : float in [0, 1), default 0
        The book's Dropout (ch. 6.4.3) after each hidden activation. Its ``train_flg`` is whether
        masks are given: ``loss(x, t, masks=net.dropout_masks(rng, len(x)))`` is a training pass, so
        a gradient check can hold one mask fixed; without masks the outputs are scaled by ``1 - ratio``.

    ``sizes`` holds the units per layer, input and output included: ``(784, 50, 10)``.

    Examples
    --------
    >>> net = MultiLayerNet(4, [5, 3], 2, activation="sigmoid", weight_init_std="xavier", seed=0)
    >>> list(net.params)
    ['W1', 'b1', 'W2', 'b2', 'W3', 'b3']
    >>> list(net.layers)
    ['Affine1', 'Sigmoid1', 'Affine2', 'Sigmoid2', 'Affine3']
    >>> x = np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.4, 0.3, 0.2]])
    >>> t = np.array([0, 1])
    >>> net.predict(x).round(6)
    array([[0.669555, 0.330445],
           [0.666762, 0.333238]])
    >>> net.classify(x)
    array([0, 0])
    >>> net.loss(x, t)
    0.7500197936861969
    >>> net.accuracy(x, t)
    0.5

    Backpropagation agrees with the numerical gradient:

    >>> num, bp = net.numerical_gradient(x, t), net.gradient(x, t)
    >>> max(float(np.max(np.abs(num[k] - bp[k]))) for k in net.params) < 1e-9
    True
    """

    def __init__(
        self,
        input_size,
        hidden_size_list,
        output_size,
        activation="relu",
        weight_init_std="he",
        loss="cross_entropy",
        seed=None,
        dtype=np.float64,
        weight_decay_lambda=0.0,
        dropout_ratio=0.0,
    ):
        # An empty list is the linear classifier; the sizes rule wants at least one layer.
        empty = isinstance(hidden_size_list, (list, tuple, np.ndarray)) and len(hidden_size_list) == 0
        hidden = () if empty else check("hidden_size", hidden_size_list, "hidden_size_list")
        sizes = [
            POSITIVE_WHOLE.check(input_size, "input_size"),
            *hidden,
            POSITIVE_WHOLE.check(output_size, "output_size"),
        ]
        Options(tuple(ACTIVATIONS)).check(activation, "activation")
        Options(tuple(LOSSES)).check(loss, "loss")
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            pass
        dtype = np.dtype(Options(DTYPES).check(getattr(dtype, "name", dtype), "dtype"))
        check_network_size(sizes, dtype)  # before allocating: TwoLayerNet(784, 10**12, 10) was a MemoryError
        self.weight_decay_lambda = check("weight_decay_lambda", weight_decay_lambda)
        self.dropout_ratio = check("dropout_ratio", dropout_ratio)
        self.sizes = tuple(sizes)
        self.activation = activation
        self.loss_type = loss
        self.weight_init_std = check("weight_init_std", weight_init_std)
        self.dtype = dtype
        self.params = {}
        rng = np.random.default_rng(check("seed", seed))
        for i in range(1, len(self.sizes)):
            n_in, n_out = self.sizes[i - 1], self.sizes[i]
            std = self.weight_init_std
            scale = np.sqrt(INIT_GAINS[std] / n_in) if isinstance(std, str) else std
            # Drawn in float64 and then rounded, so float32 and float64 nets of one seed agree.
            self.params[f"W{i}"] = (scale * rng.standard_normal((n_in, n_out))).astype(dtype)
            self.params[f"b{i}"] = np.zeros(n_out, dtype=dtype)
        self.layers = OrderedDict()
        for i in range(1, self.n_affine + 1):
            self.layers[f"Affine{i}"] = Affine(self.params[f"W{i}"], self.params[f"b{i}"], input_grad=i > 1)
            if i < self.n_affine:
                act = ACTIVATIONS[activation]
                self.layers[f"{act.__name__}{i}"] = act()
                if self.dropout_ratio:
                    self.layers[f"Dropout{i}"] = Dropout(self.dropout_ratio)
        self.last_layer = LOSSES[loss]()
        self.engines = {}

    @property
    def n_affine(self) -> int:
        """Number of affine (weight) layers."""
        return len(self.sizes) - 1

    def engine(self, name: str | None = None, kind: str = engines.BACKPROP):
        """This network's engine called ``name`` (default: the reference engine), made once and kept."""
        cls = engines.get_engine(name, kind)
        engine = self.engines.get(cls.name)
        if engine is None:
            engine = self.engines[cls.name] = cls(self)
        return engine

    # -- the book's interface ------------------------------------------------------------------

    def logits(self, x):
        """The output of the last affine layer (the scores before softmax), for a batch ``x``."""
        x, _single = self.check_x(x)
        return self.engine().logits(x)

    def dropout_masks(self, rng, batch_size: int):
        """The book's dropout masks for a training pass on ``batch_size`` samples, or ``None`` without dropout:
        ``rng.random((batch_size, units)) > dropout_ratio`` per hidden layer, from the Generator ``rng``
        (the trainer's own, so that the masks are part of the seeded, resumable run).

        Examples
        --------
        >>> net = MultiLayerNet(4, [3, 2], 2, dropout_ratio=0.5, seed=0)
        >>> [m.astype(int).tolist() for m in net.dropout_masks(np.random.default_rng(0), 1)]
        [[[1, 0, 0]], [[0, 1]]]
        >>> MultiLayerNet(4, [3], 2).dropout_masks(np.random.default_rng(0), 1) is None
        True
        """
        if not self.dropout_ratio:
            return None
        n = check("batch_size", batch_size)
        if not isinstance(rng, np.random.Generator):
            raise InputTypeError(
                _(
                    "rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type}",
                    type=type(rng).__name__,
                )
            )
        return tuple(rng.random((n, size)) > self.dropout_ratio for size in self.sizes[1:-1])

    def weight_decay_loss(self) -> float:
        """The book's weight decay term, ``lambda / 2 * sum ||W||**2`` over the weights (0 without decay)."""
        if not self.weight_decay_lambda:
            return 0.0
        weights = (p for key, p in self.params.items() if key.startswith("W"))
        return 0.5 * self.weight_decay_lambda * sum(float(np.vdot(w, w)) for w in weights)

    def predict(self, x):
        """The network's output: softmax probabilities (or the identity output for ``loss="mse"``).

        ``x`` is one sample (1-D, gives 1-D) or a batch (one row per sample).
        """
        x, single = self.check_x(x)
        y = self.engine().logits(x)
        if self.loss_type == "cross_entropy":
            y = softmax(y)
        return y[0] if single else y

    def classify(self, x, engine: str | None = "fused", chunk_size: int = EVAL_CHUNK) -> np.ndarray:
        """The predicted class of each row of ``x`` (the largest output), ``chunk_size`` rows at a time
        (memory stays bounded). A NaN or inf in ``x``, in the weights or in an output is refused. The
        fused engine's forward pass is about 1.5 times the reference engine's speed on MNIST."""
        x = self.check_rows(x)
        chunk_size = POSITIVE_WHOLE.check(chunk_size, "chunk_size")
        run = self.engine(engine)
        labels = np.empty(x.shape[0], dtype=np.intp)
        ones = np.ones(x.shape[1], dtype=self.dtype)
        for start in range(0, x.shape[0], chunk_size):
            chunk = x[start : start + chunk_size].astype(self.dtype, copy=False)
            # NaN or inf in a row makes its sum NaN or inf: one matrix-vector product (a third of the time
            # of np.isfinite over every input) says whether to look closer. A sum of large finite
            # inputs may overflow too; the closer look then finds nothing, so that overflow is silent.
            with np.errstate(over="ignore", invalid="ignore"):
                sums_finite = np.isfinite(chunk @ ones).all()
            if not sums_finite:
                check_finite(chunk, "x")
            logits = run.logits(chunk)
            if not np.isfinite(logits).all():  # argmax would still name a class: 0.75 from a NaN weight
                raise self.not_finite_error(start + int(np.argwhere(~np.isfinite(logits))[0, 0]))
            labels[start : start + chunk_size] = np.argmax(logits, axis=1)
        return labels

    def not_finite_error(self, row: int):
        """The error for an output that is NaN or inf at ``row``: the weights' fault, or the input's."""
        bad = [key for key, p in self.params.items() if not np.isfinite(p).all()]
        if bad:
            return DivergenceError(
                ngettext(
                    "the network's {names} holds NaN or inf, so its outputs mean nothing; such weights come from a training "
                    "that diverged -- load a good checkpoint, or train again with a lower learning rate",
                    "the network's {names} hold NaN or inf, so its outputs mean nothing; such weights come from a training "
                    "that diverged -- load a good checkpoint, or train again with a lower learning rate",
                    len(bad),
                    names=_(" and ").join(bad),
                )
            )
        return InputError(
            _(
                "the network's output for row {row} of x is not finite: x overflows the network; scale the inputs to "
                "[0, 1] (load_mnist(normalize=True))",
                row=row,
            )
        )

    def loss(self, x, t, masks=None) -> float:
        """The loss of a batch: cross-entropy error of :meth:`predict` (or the mean squared error),
        plus the weight decay term; with dropout ``masks``, of a training pass with those masks."""
        x, t = self.check_batch(x, t)
        return self.engine().loss(x, t, self.check_masks(masks, x.shape[0]))

    def accuracy(self, x, t, chunk_size: int = EVAL_CHUNK) -> float:
        """Fraction of samples whose largest output is the label (labels or one-hot ``t``).

        The data are evaluated ``chunk_size`` rows at a time (see :meth:`classify`).
        """
        x = self.check_rows(x)
        labels = self.check_labels(t, x.shape[0])
        return int(np.count_nonzero(self.classify(x, chunk_size=chunk_size) == labels)) / x.shape[0]

    def gradient(self, x, t, engine: str | None = None, masks=None) -> dict:
        """Gradient of :meth:`loss` by backpropagation (default: the reference engine, layer by layer)."""
        return self.loss_and_gradient(x, t, engine, masks)[1]

    def loss_and_gradient(self, x, t, engine: str | None = None, masks=None):
        """``(loss, grads)`` from one forward and one backward pass (with dropout ``masks``: a training pass)."""
        x, t = self.check_batch(x, t)
        loss, grads = self.engine(engine).loss_and_gradient(x, t, masks=self.check_masks(masks, x.shape[0]))
        return loss, {key: g.copy() for key, g in grads.items()}

    def numerical_gradient(self, x, t, engine: str | None = None, masks=None) -> dict:
        """Gradient of :meth:`loss` by central differences (h = 1e-4), for every weight and bias.

        ``engine``: ``"loop"`` (the book's: about 10 s for TwoLayerNet(784, 50, 10) on 100 samples),
        ``"fast"`` (the default, the same numbers about 2000 times faster) or ``"rows"``
        (:mod:`nnlearn.common.engines`). Dropout ``masks`` are held fixed.
        """
        x, t = self.check_batch(x, t)
        return engines.numerical_gradient(self, x, t, engine, masks=self.check_masks(masks, x.shape[0]))

    # -- checking inputs (the one place) -------------------------------------------------------

    def check_rows(self, x, name: str = "x") -> np.ndarray:
        """``x`` as a 2-D array of samples for this network, without converting its values."""
        x = check_numeric(x, name)
        if x.ndim == 0:
            raise InputError(
                _(
                    "{name} is one number ({value!r}); give one sample (1-D) or a batch (one row per sample)",
                    name=name,
                    value=x[()],
                )
            )
        if x.ndim == 1:
            x = x.reshape(1, -1)
        elif x.ndim > 2:
            x = x.reshape(x.shape[0], math.prod(x.shape[1:]))  # not -1: an empty x has no -1 to infer
        check_nonempty(x, name)
        if x.shape[1] != self.sizes[0]:
            raise InputError(
                _(
                    "{name} has {n} values per sample but the network's input_size is {size}; flatten the images "
                    "(flatten=True) or build the network for this input",
                    name=name,
                    n=x.shape[1],
                    size=self.sizes[0],
                )
            )
        return x

    def check_x(self, x):
        """``(x, single)``: a batch in the network's dtype, finite; ``single`` if one sample was given."""
        single = np.ndim(x) == 1
        x = as_float_array(self.check_rows(x), "x")
        check_finite(x, "x")
        return x.astype(self.dtype, copy=False), single

    def check_labels(self, t, n: int) -> np.ndarray:
        """Integer labels of ``n`` samples from labels or one-hot rows."""
        t = self.check_t(t, n)
        return t if t.ndim == 1 else np.argmax(t, axis=1)

    def check_t(self, t, n: int, name: str = "t", x_name: str = "x") -> np.ndarray:
        """Labels ``(n,)`` or float targets ``(n, output_size)`` in the network's dtype."""
        t = np.asarray(t)
        n_out = self.sizes[-1]
        if t.ndim == 0:
            t = t.reshape(1)
        if t.shape == (n,):
            return check_labels(t, n_out, name)
        if t.shape == (n, n_out):
            t = as_float_array(t, name)
            check_finite(t, name)
            return t.astype(self.dtype, copy=False)
        raise InputError(
            _(
                "{name} has shape {shape} but {x_name} holds {n} samples; {name} must be labels of shape ({n},) or "
                "one-hot targets of shape ({n}, {n_out})",
                name=name,
                shape=t.shape,
                x_name=x_name,
                n=n,
                n_out=n_out,
            )
        )

    def check_masks(self, masks, n: int):
        """Dropout masks for ``n`` samples as boolean arrays, one per hidden layer (``None`` stays ``None``)."""
        if masks is None:
            return None
        if not self.dropout_ratio:
            raise InputError(_("dropout masks were given but this network has no dropout (dropout_ratio=0); drop them"))
        if not isinstance(masks, (list, tuple)):
            raise InputTypeError(
                _(
                    "masks must be a tuple of arrays, one per hidden layer (net.dropout_masks(rng, n)), got {type}",
                    type=type(masks).__name__,
                )
            )
        shapes = [(n, size) for size in self.sizes[1:-1]]
        masks = [np.asarray(m) for m in masks]
        if [m.shape for m in masks] != shapes:
            raise InputError(
                _(
                    "dropout masks have shapes {got} but this network and batch need {shapes}; draw them with "
                    "net.dropout_masks(rng, batch_size)",
                    got=[m.shape for m in masks],
                    shapes=shapes,
                )
            )
        return tuple(m if m.dtype == bool else m.astype(bool) for m in masks)

    def check_batch(self, x, t):
        """A checked batch ``(x, t)`` that any engine accepts."""
        x, _single = self.check_x(x)
        return x, self.check_t(t, x.shape[0])

    # -- description and weights -----------------------------------------------------------------

    def config(self) -> dict:
        """What is needed to rebuild this network (weights aside), as plain JSON values."""
        return {
            "class": type(self).__name__,
            "input_size": self.sizes[0],
            "hidden_size_list": list(self.sizes[1:-1]),
            "output_size": self.sizes[-1],
            "activation": self.activation,
            "weight_init_std": self.weight_init_std,
            "loss": self.loss_type,
            "dtype": self.dtype.name,
            "weight_decay_lambda": self.weight_decay_lambda,
            "dropout_ratio": self.dropout_ratio,
        }

    def save(self, path):
        """Write the weights and :meth:`config` to an ``.npz`` file, atomically (see :mod:`nnlearn.common.saving`)."""
        return save_network(self, path)

    def set_params(self, params: dict) -> None:
        """Copy ``params`` into this network's arrays (shapes must match; values are copied)."""
        if not isinstance(params, dict):
            raise InputTypeError(
                _("params must be a dict of arrays such as net.params, got {type}", type=type(params).__name__)
            )
        for key, value in params.items():
            if key not in self.params:
                raise InputError(
                    _("unknown parameter {key!r}; this network has {names}", key=key, names=", ".join(self.params))
                )
            value = np.asarray(value)
            if value.shape != self.params[key].shape:
                raise InputError(
                    _(
                        "parameter {key} has shape {shape}, the network needs {needed}",
                        key=key,
                        shape=value.shape,
                        needed=self.params[key].shape,
                    )
                )
            self.params[key][...] = value
