"""The chapter's networks: ``SimpleNet``, ``TwoLayerNet`` and a general ``MultiLayerNet``.

Every network keeps its weights in a ``params`` dict (``W1``, ``b1``, ``W2``, ``b2``, ...) and
offers the book's interface:

- ``predict(x)``: the network's output (softmax probabilities for a classifier);
- ``loss(x, t)``: the cross-entropy error of that output (or the mean squared error);
- ``accuracy(x, t)``: the fraction of samples whose most probable class is the label;
- ``numerical_gradient(x, t)``: the gradient of the loss by central differences, one parameter
  at a time (the chapter's slow, obviously correct method);
- ``gradient(x, t)``: the same gradient by backpropagation through the layers.

Networks are float64 by default, which a gradient check needs; pass ``dtype=np.float32`` for
training speed (``nnlearn train`` does).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

from nnlearn import fastgrad, gradient as diff
from nnlearn._io import atomic_write
from nnlearn._validation import (
    as_float_array,
    check_finite,
    check_labels,
    check_nonempty,
    check_positive_int,
    check_positive_number,
)
from nnlearn.functions import softmax
from nnlearn.layers import Affine, IdentityWithLoss, Relu, Sigmoid, SoftmaxWithLoss
from nnlearn.losses import CEE_DELTA, cross_entropy_error

ACTIVATIONS = {"sigmoid": Sigmoid, "relu": Relu}
LOSSES = {"cross_entropy": SoftmaxWithLoss, "mse": IdentityWithLoss}
#: Names of the weight initialisations, with the book's aliases (ch. 6: "sigmoid" means Xavier).
INITS = {"xavier": "xavier", "sigmoid": "xavier", "he": "he", "relu": "he"}
#: Rows per chunk when a whole data set is evaluated: bounded memory whatever its size.
EVAL_CHUNK = 10000


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
            W = np.random.default_rng(seed).standard_normal((2, 3))
        W = np.array(W, dtype=np.float64)
        if W.shape != (2, 3):
            raise ValueError(f"W must have shape (2, 3), got {W.shape}")
        check_finite(W, "W")
        self.params = {"W": W}

    @property
    def W(self) -> np.ndarray:
        return self.params["W"]

    @W.setter
    def W(self, value) -> None:
        self.params["W"] = np.asarray(value, dtype=np.float64)

    def predict(self, x):
        """The scores ``x @ W`` (before softmax)."""
        return np.dot(x, self.W)

    def loss(self, x, t) -> float:
        """Cross-entropy error of ``softmax(predict(x))`` against ``t`` (one-hot or a label)."""
        return cross_entropy_error(softmax(self.predict(x)), t)

    def numerical_gradient(self, x, t) -> dict:
        """``{"W": dL/dW}`` by central differences (perturbs ``W`` in place and restores it)."""
        return {"W": diff.numerical_gradient(lambda _: self.loss(x, t), self.params["W"])}


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

    Attributes
    ----------
    params : dict of ndarray
        ``W1``, ``b1``, ``W2``, ``b2``, ... The layers read these arrays at every forward pass.
    layers : OrderedDict
        ``Affine1``, ``Sigmoid1`` (or ``Relu1``), ``Affine2``, ... in forward order.
    last_layer : SoftmaxWithLoss or IdentityWithLoss
    sizes : tuple of int
        Units per layer, input and output included: ``(784, 50, 10)``.
    activation, loss_type : str
        The names given (``loss_type`` is ``"cross_entropy"`` or ``"mse"``); ``output`` is the
        matching output activation, ``"softmax"`` or ``"identity"``.

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
    ):
        hidden = [hidden_size_list] if np.ndim(hidden_size_list) == 0 else list(hidden_size_list)
        sizes = [input_size, *hidden, output_size]
        for name, value in zip(["input_size", *["hidden size"] * len(hidden), "output_size"], sizes):
            check_positive_int(value, name)
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype}")
        self.sizes = tuple(int(s) for s in sizes)
        self.activation = activation
        self.loss_type = loss
        self.weight_init_std = _check_init(weight_init_std)
        self.dtype = dtype
        self.params = {}
        rng = np.random.default_rng(seed)
        for i in range(1, len(self.sizes)):
            n_in, n_out = self.sizes[i - 1], self.sizes[i]
            scale = _init_scale(self.weight_init_std, n_in)
            # Drawn in float64 and then rounded, so float32 and float64 nets of one seed agree.
            self.params[f"W{i}"] = (scale * rng.standard_normal((n_in, n_out))).astype(dtype)
            self.params[f"b{i}"] = np.zeros(n_out, dtype=dtype)
        self.layers = OrderedDict()
        n_affine = len(self.sizes) - 1
        for i in range(1, n_affine + 1):
            self.layers[f"Affine{i}"] = Affine(self.params[f"W{i}"], self.params[f"b{i}"], input_grad=i > 1)
            if i < n_affine:
                act = ACTIVATIONS[activation]
                self.layers[f"{act.__name__}{i}"] = act()
        self.last_layer = LOSSES[loss]()
        self._workspace = None

    # -- the book's interface ------------------------------------------------------------------

    @property
    def n_affine(self) -> int:
        """Number of affine (weight) layers."""
        return len(self.sizes) - 1

    @property
    def output(self) -> str:
        """The output activation: ``"softmax"`` (cross-entropy) or ``"identity"`` (mean squared error)."""
        return "softmax" if self.loss_type == "cross_entropy" else "identity"

    def logits(self, x):
        """The output of the last affine layer (the scores before softmax), for a batch ``x``."""
        x, _ = self._check_x(x)
        return self._logits(x)

    def predict(self, x):
        """The network's output: softmax probabilities (or the identity output for ``loss="mse"``).

        ``x`` is one sample (1-D, gives 1-D) or a batch (one row per sample).
        """
        x, single = self._check_x(x)
        y = self._logits(x)
        if self.loss_type == "cross_entropy":
            y = softmax(y)
        return y[0] if single else y

    def loss(self, x, t) -> float:
        """The loss of a batch: cross-entropy error of :meth:`predict` (or the mean squared error)."""
        x, t = self._check_batch(x, t)
        return self._loss(x, t)

    def accuracy(self, x, t, chunk_size: int = EVAL_CHUNK) -> float:
        """Fraction of samples whose largest output is the label (labels or one-hot ``t``).

        The data are evaluated ``chunk_size`` rows at a time, so a whole data set costs a bounded
        amount of memory.
        """
        x, t = self._check_batch(x, t)
        labels = t if t.ndim == 1 else np.argmax(t, axis=1)
        return self._correct(x, labels, chunk_size) / x.shape[0]

    def numerical_gradient(self, x, t, method="auto") -> dict:
        """Gradient of :meth:`loss` by central differences (h = 1e-4), one parameter at a time.

        Parameters
        ----------
        x, t : ndarray
            A batch and its labels (or one-hot targets).
        method : {"auto", "loop"}
            ``"loop"`` is the book's plain loop: each element of each parameter is perturbed in
            place, the loss of the whole batch recomputed twice, and the element restored -- two
            forward passes per parameter, obviously right, and slow (about 10-30 s for
            TwoLayerNet(784, 50, 10) on a batch of 100). ``"auto"`` computes the same central
            differences -- the same perturbed values, the same loss -- thousands of times faster
            with :mod:`nnlearn.fastgrad`, which is tested against the loop to 1e-10; anything it
            cannot handle falls back to the loop.

        Use a float64 network: in float32 the step 1e-4 is rounded to a few hundred units in the
        last place of the weight.
        """
        if method not in ("auto", "loop"):
            raise ValueError(f"unknown method {method!r}; choose 'auto' or 'loop'")
        x, t = self._check_batch(x, t)
        if method == "auto":
            try:
                grads = fastgrad.numerical_gradient(self._as_mlp(), x, t)
            except fastgrad.Unsupported:
                pass
            else:
                return {
                    key: g for i, pair in enumerate(grads, start=1) for key, g in zip((f"W{i}", f"b{i}"), pair)
                }
        loss_w = lambda _: self._loss(x, t)  # noqa: E731 -- the book's idiom
        return {key: diff.numerical_gradient(loss_w, param) for key, param in self.params.items()}

    def _as_mlp(self) -> fastgrad.MLP:
        n = self.n_affine
        return fastgrad.MLP(
            [self.params[f"W{i}"] for i in range(1, n + 1)],
            [self.params[f"b{i}"] for i in range(1, n + 1)],
            activation=self.activation,
            output=self.output,
            loss=self.loss_type,
        )

    def gradient(self, x, t) -> dict:
        """Gradient of :meth:`loss` by backpropagation through the layers (one backward pass)."""
        return self.loss_and_gradient(x, t)[1]

    def loss_and_gradient(self, x, t):
        """``(loss, grads)`` from one forward and one backward pass through the layers."""
        x, t = self._check_batch(x, t)
        return self._loss_and_gradient(x, t)

    # -- save and load ---------------------------------------------------------------------------

    def config(self) -> dict:
        """What is needed to rebuild this network (weights aside), as plain JSON values."""
        hidden = list(self.sizes[1:-1])
        return {
            "class": type(self).__name__,
            "input_size": self.sizes[0],
            "hidden_size_list": hidden,
            "output_size": self.sizes[-1],
            "activation": self.activation,
            "weight_init_std": self.weight_init_std,
            "loss": self.loss_type,
            "dtype": self.dtype.name,
        }

    def save(self, path) -> Path:
        """Write the weights and :meth:`config` to an ``.npz`` file, atomically."""
        path = Path(path)
        arrays = {f"param_{k}": v for k, v in self.params.items()}
        arrays["config"] = np.array(json.dumps(self.config()))
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        with atomic_write(path) as fh:
            fh.write(buf.getvalue())
        return path

    def set_params(self, params: dict) -> None:
        """Copy ``params`` into this network's arrays (shapes must match; values are copied)."""
        for key, value in params.items():
            if key not in self.params:
                raise ValueError(f"unknown parameter {key!r}; this network has {', '.join(self.params)}")
            value = np.asarray(value)
            if value.shape != self.params[key].shape:
                raise ValueError(f"parameter {key} has shape {value.shape}, the network needs {self.params[key].shape}")
            self.params[key][...] = value

    # -- internals (no validation: callers have checked the data) ------------------------------

    def _check_x(self, x):
        x = as_float_array(x, "x")
        single = x.ndim == 1
        if single:
            x = x.reshape(1, -1)
        elif x.ndim > 2:
            x = x.reshape(x.shape[0], -1)
        check_nonempty(x, "x")
        if x.shape[1] != self.sizes[0]:
            raise ValueError(
                f"x has {x.shape[1]} values per sample but the network's input_size is {self.sizes[0]}; "
                "flatten the images (flatten=True) or build the network for this input"
            )
        check_finite(x, "x")
        return x.astype(self.dtype, copy=False), single

    def _check_t(self, t, n: int) -> np.ndarray:
        t = np.asarray(t)
        n_out = self.sizes[-1]
        if t.ndim == 0:
            t = t.reshape(1)
        if t.shape == (n,):
            return check_labels(t, n_out)
        if t.shape == (n, n_out):
            t = as_float_array(t, "t")
            check_finite(t, "t")
            return t.astype(self.dtype, copy=False)
        raise ValueError(
            f"t has shape {t.shape} but x holds {n} samples; t must be labels of shape ({n},) "
            f"or one-hot targets of shape ({n}, {n_out})"
        )

    def _check_batch(self, x, t):
        x, _ = self._check_x(x)
        return x, self._check_t(t, x.shape[0])

    def _sync_layers(self) -> None:
        # The layers hold the parameter arrays by reference; re-read them so that assigning a new
        # array to ``net.params["W1"]`` (as a reader of the book may do) takes effect.
        for i in range(1, self.n_affine + 1):
            layer = self.layers[f"Affine{i}"]
            layer.W = self.params[f"W{i}"]
            layer.b = self.params[f"b{i}"]

    def _logits(self, x):
        self._sync_layers()
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def _loss(self, x, t) -> float:
        return self.last_layer.forward(self._logits(x), t)

    def _loss_and_gradient(self, x, t):
        loss = self._loss(x, t)
        dout = self.last_layer.backward(1.0)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = {}
        for i in range(1, self.n_affine + 1):
            grads[f"W{i}"] = self.layers[f"Affine{i}"].dW
            grads[f"b{i}"] = self.layers[f"Affine{i}"].db
        return loss, grads

    def _correct(self, x, labels, chunk_size: int = EVAL_CHUNK) -> int:
        """Number of correctly classified rows of ``x`` (any dtype), ``chunk_size`` rows at a time."""
        chunk_size = max(int(chunk_size), 1)
        correct = 0
        for start in range(0, x.shape[0], chunk_size):
            xc = x[start : start + chunk_size].astype(self.dtype, copy=False)
            h = xc
            for i in range(1, self.n_affine + 1):
                h = h @ self.params[f"W{i}"]
                h += self.params[f"b{i}"]
                if i < self.n_affine:
                    _activate_inplace(h, self.activation)
            correct += int(np.count_nonzero(np.argmax(h, axis=1) == labels[start : start + chunk_size]))
        return correct

    def _fast_loss_and_gradient(self, x, t, scale: float = 1.0):
        """The same ``(loss, grads)`` as :meth:`loss_and_gradient`, from preallocated buffers.

        The fast path of training: every intermediate array is reused from one step to the next,
        operations work in place, and the gradient with respect to the input is not computed.
        ``grads`` are buffers that the next call overwrites, multiplied by ``scale``. ``x`` must
        already have the network's dtype and ``t`` be valid labels or targets (no checks here).
        """
        with np.errstate(over="ignore"):
            return self._fast_workspace(x.shape[0]).loss_and_gradient(self, x, t, scale)

    def _fast_sgd_step(self, x, t, lr: float) -> float:
        """One SGD step on the fast path: ``W -= lr * dW`` in place; returns the loss before it.

        Same requirements as :meth:`_fast_loss_and_gradient`; the caller silences overflow
        (``np.errstate(over="ignore")``; ``Trainer.train`` does), which a large ``-a`` in the
        sigmoid's ``exp`` causes harmlessly.
        """
        return self._fast_workspace(x.shape[0]).sgd_step(self, x, t, lr)

    def _fast_workspace(self, batch_size: int) -> "_Workspace":
        ws = self._workspace
        if ws is None or ws.batch_size != batch_size or ws.shapes != self._param_shapes():
            ws = self._workspace = _Workspace(self, batch_size)
        return ws

    def _param_shapes(self):
        return tuple(p.shape for p in self.params.values())


class TwoLayerNet(MultiLayerNet):
    """The chapter's two-layer network: ``Affine -> Sigmoid -> Affine -> Softmax``.

    ``TwoLayerNet(input_size, hidden_size, output_size, weight_init_std=0.01)`` as in the book; the
    weights are drawn from a normal distribution with standard deviation ``weight_init_std``.

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

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, seed=None, dtype=np.float64):
        super().__init__(
            input_size,
            [hidden_size],
            output_size,
            activation="sigmoid",
            weight_init_std=weight_init_std,
            loss="cross_entropy",
            seed=seed,
            dtype=dtype,
        )

    def config(self) -> dict:
        cfg = super().config()
        cfg["hidden_size"] = cfg["hidden_size_list"][0]
        return cfg


def build_network(config: dict, seed=None, dtype=None) -> MultiLayerNet:
    """Build the network a :meth:`MultiLayerNet.config` dict describes (fresh weights)."""
    dtype = np.dtype(dtype or config.get("dtype", "float64"))
    if config.get("class") == "TwoLayerNet":
        return TwoLayerNet(
            config["input_size"], config["hidden_size_list"][0], config["output_size"],
            weight_init_std=config["weight_init_std"], seed=seed, dtype=dtype,
        )
    return MultiLayerNet(
        config["input_size"], config["hidden_size_list"], config["output_size"],
        activation=config["activation"], weight_init_std=config["weight_init_std"],
        loss=config.get("loss", "cross_entropy"), seed=seed, dtype=dtype,
    )


def load_network(path) -> MultiLayerNet:
    """Load a network saved by :meth:`MultiLayerNet.save`."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            config = json.loads(str(data["config"]))
            params = {k[len("param_"):]: data[k] for k in data.files if k.startswith("param_")}
    except FileNotFoundError:
        raise
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a network saved by nnlearn ({exc}); train one with `nnlearn train`") from exc
    net = build_network(config, seed=0)
    net.set_params(params)
    return net


def gradient_check(network, x, t, method="auto", sample=None, seed=0) -> dict:
    """Compare backpropagation with the numerical gradient, parameter by parameter.

    Parameters
    ----------
    network : MultiLayerNet
        Use a float64 network: the central difference with h = 1e-4 is then good to about 1e-10.
    x, t : ndarray
        The batch.
    method : {"auto", "loop"}
        How the numerical gradient is computed (see :meth:`MultiLayerNet.numerical_gradient`).
    sample : int, optional
        Check only this many randomly chosen elements of each parameter, each by the plain
        central difference (two forward passes); ``None`` checks every element.
    seed : int
        Chooses the sampled elements.

    Returns
    -------
    dict
        ``{key: {"max_abs": ..., "relative": ..., "checked": n}}``: ``max_abs`` is the largest
        ``|backprop - numerical|`` over the checked elements, ``relative`` is
        ``||backprop - numerical|| / (||backprop|| + ||numerical||)`` (Euclidean norms; 0 when both
        are zero) -- a per-element relative error would blow up on the many gradients that are
        exactly zero, such as the weights of MNIST's blank border pixels.

    Examples
    --------
    >>> net = TwoLayerNet(4, 3, 2, weight_init_std=0.5, seed=0)
    >>> x = np.random.default_rng(1).random((3, 4))
    >>> report = gradient_check(net, x, np.array([0, 1, 1]))
    >>> sorted(report)
    ['W1', 'W2', 'b1', 'b2']
    >>> max(r["relative"] for r in report.values()) < 1e-7
    True
    >>> gradient_check(net, x, np.array([0, 1, 1]), sample=2)["W1"]["checked"]
    2
    """
    bp = network.gradient(x, t)
    if sample is None:
        num = network.numerical_gradient(x, t, method=method)
        picks = {key: np.arange(p.size) for key, p in network.params.items()}
    else:
        x, t = network._check_batch(x, t)
        rng = np.random.default_rng(seed)
        picks = {key: np.sort(rng.choice(p.size, min(sample, p.size), replace=False))
                 for key, p in network.params.items()}
        num = {key: _sampled_central_differences(lambda: network._loss(x, t), network.params[key], picks[key])
               for key in network.params}
    report = {}
    for key in network.params:
        a = np.asarray(bp[key], dtype=np.float64).reshape(-1)[picks[key]]
        b = np.asarray(num[key], dtype=np.float64).reshape(-1)[picks[key]]
        denom = float(np.linalg.norm(a) + np.linalg.norm(b))
        report[key] = {
            "max_abs": float(np.max(np.abs(a - b))) if a.size else 0.0,
            "relative": float(np.linalg.norm(a - b)) / denom if denom > 0 else 0.0,
            "checked": int(a.size),
        }
    return report


def _sampled_central_differences(loss, param, flat_indices, h=1e-4):
    """The book's central difference for the chosen elements of ``param`` (others left 0)."""
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


# -- helpers -----------------------------------------------------------------------------------


def _check_init(weight_init_std):
    if isinstance(weight_init_std, str):
        key = weight_init_std.lower()
        if key not in INITS:
            raise ValueError(
                f"unknown weight_init_std {weight_init_std!r}; give a positive number such as 0.01, "
                "or 'xavier' or 'he'"
            )
        return INITS[key]
    return check_positive_number(weight_init_std, "weight_init_std", "or 'xavier' or 'he'")


def _init_scale(init, n_in: int) -> float:
    if init == "xavier":
        return float(np.sqrt(1.0 / n_in))
    if init == "he":
        return float(np.sqrt(2.0 / n_in))
    return float(init)


def _activate_inplace(h, activation: str) -> None:
    if activation == "relu":
        np.maximum(h, 0, out=h)
    else:
        # 1 / (1 + exp(-h)): exp overflows to inf for very negative h, and 1 / inf = 0 is the
        # right answer, so the warning is silenced rather than the input clipped.
        with np.errstate(over="ignore"):
            np.negative(h, out=h)
            np.exp(h, out=h)
            h += 1
            np.reciprocal(h, out=h)


class _Workspace:
    """Buffers for :meth:`MultiLayerNet._fast_loss_and_gradient` at one batch size, and that pass.

    The plain path (:meth:`MultiLayerNet.loss_and_gradient`) goes layer by layer and is the
    reference; this one computes the same numbers -- the same operations on the same values, up to
    the order in which some sums are added -- and is tested against it. For the book's network
    (784-50-10, batch 100, float32, 2 cores) a training step costs about 150 us, of which the two
    large matrix products take about 80 us, gathering the batch about 25 us and the update of W1
    about 6 us; everything below is about the rest, some 35 small NumPy calls of 0.4-2 us each:

    - every intermediate array is preallocated and every operation writes into it (``out=``);
    - ``np.dot`` rather than ``np.matmul``: about 0.3 us less per call on these sizes;
    - the output layer is kept transposed, one column per sample (``out_t``, ``dy_t``): softmax's
      maximum then reduces over the rows of a C-ordered array, which NumPy vectorises, instead of
      along 100 separate rows of 10 numbers (about 3 us less per step);
    - sums over the samples (bias gradients, softmax's denominator) are products with a vector of
      ones, which BLAS does in 0.4-0.6 us where ``np.add.reduce`` takes 0.9-2 us -- the same sums,
      added in another order;
    - the label entries are read and changed through flat indices into the flattened arrays, a
      simpler kind of fancy indexing than ``a[t, samples]`` (about 1 us less);
    - the caller silences overflow (``Trainer.train`` does), so there is no ``np.errstate`` here.

    Measured and left out, as slower: gathering the next batch in a background thread (the
    hand-offs cost more than the copy they hide, and the copy competes with BLAS's two threads);
    folding the biases into the products with a column of ones (the batch is then gathered into a
    strided buffer, 9 us slower); skipping the input columns that are zero in every sample (it needs
    a second copy of the training set, or a per-step gather of columns dearer than the arithmetic
    it saves).
    """

    def __init__(self, net: MultiLayerNet, batch_size: int):
        dt = net.dtype
        self.batch_size = n = batch_size
        self.shapes = net._param_shapes()
        self.n_layers = L = net.n_affine
        self.sigmoid = net.activation == "sigmoid"
        self.cross_entropy = net.loss_type == "cross_entropy"
        self.keys = [None] + [(f"W{i}", f"b{i}") for i in range(1, L + 1)]
        hidden = net.sizes[1:-1]
        # h[i]: activation of hidden layer i (pre-activation turned into activation in place);
        # d[i]: dL/d(pre-activation of hidden layer i).
        self.h = [None] + [np.empty((n, s), dtype=dt) for s in hidden]
        self.d = [None] + [np.empty((n, s), dtype=dt) for s in hidden]
        self.tmp = [None] + [np.empty((n, s), dtype=dt) for s in hidden]
        self.mask = [None] + [np.empty((n, s), dtype=bool) for s in hidden]
        n_out = net.sizes[-1]
        self.out_t = np.empty((n_out, n), dtype=dt)  # the output layer, transposed
        self.dy_t = np.empty((n_out, n), dtype=dt)  # dL/d(its pre-activation), transposed
        self.row = np.empty((1, n), dtype=dt)
        self.ones = np.ones(n, dtype=dt)
        self.ones_out = np.ones(n_out, dtype=dt)
        self.samples = np.arange(n)
        self.flat = np.empty(n, dtype=np.intp)  # flat index of each sample's label in out_t
        self.grads = {k: np.empty_like(v) for k, v in net.params.items()}

    def loss_and_gradient(self, net: MultiLayerNet, x, t, scale: float = 1.0):
        """``(loss, grads)``, the gradients multiplied by ``scale`` (buffers the next call reuses)."""
        p, g, h, d, keys = net.params, self.grads, self.h, self.d, self.keys
        add, mul, dot = np.add, np.multiply, np.dot
        L = self.n_layers
        below = x
        for i in range(1, L):
            W, b = keys[i]
            hi = h[i]
            dot(below, p[W], out=hi)
            add(hi, p[b], out=hi)
            if self.sigmoid:
                # 1 / (1 + exp(-a)); exp overflowing to inf gives the right 0.
                np.negative(hi, out=hi)
                np.exp(hi, out=hi)
                add(hi, 1, out=hi)
                np.reciprocal(hi, out=hi)
            else:
                np.maximum(hi, 0, out=hi)
            below = hi
        W, b = keys[L]
        out_t = self.out_t
        dot(p[W].T, below.T, out=out_t)
        add(out_t, p[b][:, None], out=out_t)
        loss = self._loss_and_delta(t, scale)
        delta = self.dy_t.T  # dL/d(pre-activation) of the layer being differentiated, (n, size)
        for i in range(L, 0, -1):
            W, b = keys[i]
            below = x if i == 1 else h[i - 1]
            dot(below.T, delta, out=g[W])
            dot(self.ones, delta, out=g[b])
            if i > 1:
                dh = d[i - 1]
                dot(delta, p[W].T, out=dh)
                if self.sigmoid:
                    # sigmoid'(a) = s * (1 - s), with s the activation kept in h[i-1].
                    tmp = self.tmp[i - 1]
                    np.subtract(1, below, out=tmp)
                    mul(tmp, below, out=tmp)
                    mul(dh, tmp, out=dh)
                else:
                    mask = self.mask[i - 1]
                    np.greater(below, 0, out=mask)
                    mul(dh, mask, out=dh)
                delta = dh
        return loss, g

    def sgd_step(self, net: MultiLayerNet, x, t, lr: float) -> float:
        """One SGD update in place, ``W -= lr * dW``; returns the loss before it.

        The gradients come out of :meth:`loss_and_gradient` already multiplied by ``lr``, so the
        update is one subtraction per parameter.
        """
        loss, g = self.loss_and_gradient(net, x, t, lr)
        p = net.params
        for key, step in g.items():
            np.subtract(p[key], step, out=p[key])
        return loss

    def _loss_and_delta(self, t, scale: float) -> float:
        """The loss of ``out_t`` (logits, transposed), and ``dy_t`` = scale * dL/dlogits, transposed."""
        out_t, dy_t, n = self.out_t, self.dy_t, self.batch_size
        add, mul, sub = np.add, np.multiply, np.subtract
        if self.cross_entropy:
            # Softmax in place: the operations of nnlearn.functions.softmax, in the same order.
            row = self.row
            np.maximum.reduce(out_t, axis=0, keepdims=True, out=row)
            sub(out_t, row, out=out_t)
            np.exp(out_t, out=out_t)
            np.dot(self.ones_out, out_t, out=row[0])
            np.divide(out_t, row, out=out_t)
            if t.ndim == 1:
                flat = self.flat
                mul(t, n, out=flat, dtype=np.intp)
                add(flat, self.samples, out=flat)
                y_c = out_t.reshape(-1)[flat]  # each sample's probability of its label
                shifted = y_c + CEE_DELTA
                loss = float(-add.reduce(np.log(shifted)) / n)
                # The gradient of -log(y_c + 1e-7) through softmax is r * (y - onehot) with
                # r = y_c / (y_c + 1e-7); the 1/n of the mean and the scale are folded into r.
                r = np.divide(y_c, shifted, out=y_c)
                r *= scale / n
                mul(out_t, r, out=dy_t)
                dy_t.reshape(-1)[flat] -= r
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
