"""Training settings: one frozen dataclass, and the named recipes as instances of it."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields

import numpy as np

from nnlearn import engines
from nnlearn._validation import check_positive_int
from nnlearn.errors import InputError
from nnlearn.multi_layer_net import ACTIVATIONS, DTYPES, LOSSES, check_init
from nnlearn.optimizer import OPTIMIZERS

SAMPLINGS = ("replacement", "shuffle")
GRADS = ("backprop", "numerical")
LR_SCHEDULES = ("constant", "cosine")


def _number(value, name: str, ok, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not ok(value):
        raise InputError(f"{name} must be {what}, got {value!r}")
    return float(value)


def check_validation(value):
    """``None``, a share in (0, 1) (a float) or a count of samples >= 1 (an int), as given.

    Examples
    --------
    >>> check_validation(0.1), check_validation(10000), check_validation(None)
    (0.1, 10000, None)
    """
    if value is None:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1:
        return int(value)
    if isinstance(value, (float, np.floating)) and 0 < value < 1:
        return float(value)
    raise InputError(
        f"validation must be a share of the training samples in (0, 1), such as 0.1, or a whole number "
        f"of samples, such as 10000; got {value!r}"
    )


def _choice(value, name: str, choices) -> None:
    if value not in choices:
        raise InputError(f"unknown {name} {value!r}; choose one of {', '.join(map(str, choices))}")


@dataclass(frozen=True)
class TrainSettings:
    """Everything that decides a training run, network included; the default is the book's recipe.

    Parameters
    ----------
    hidden : tuple of int
        Units per hidden layer.
    activation : {"sigmoid", "relu"}
    weight_init_std : float or {"xavier", "he"}
    loss : {"cross_entropy", "mse"}
    optimizer : {"sgd", "momentum", "adagrad", "adam"}
    lr : float
        Learning rate (the start of the schedule).
    batch_size : int
    iters, epochs : int or None
        How long to train: iterations (updates) or epochs of ``max(train_size // batch_size, 1)``
        iterations (the book's ``iter_per_epoch``); exactly one of them is set.
    sampling : {"replacement", "shuffle"}
        ``"replacement"``: the book's ``rng.choice(train_size, batch_size)`` at every iteration;
        ``"shuffle"``: each epoch walks a fresh permutation, every sample once.
    lr_schedule : {"constant", "cosine"}
        ``"cosine"`` lowers the learning rate from ``lr`` to 0 along half a cosine over the run.
    dtype : {"float32", "float64"}
        float32 trains about twice as fast; the numerical gradient wants float64.
    train_eval_samples : int or None
        Judge training accuracy per epoch on the first this many training samples only (the
        book's ``evaluate_sample_num_per_epoch``); the final accuracy always uses all of them.
    grad : {"backprop", "numerical"}
        How each mini-batch's gradient is computed.
    engine : str or None
        The engine for ``grad``; ``None``: ``fused`` for backprop, ``fast`` for numerical.
    seed : int
        Seed of the ``numpy.random.Generator`` behind the weights and the batches.
    divergence_window : int
        The loss is judged diverged when its mean over this many iterations exceeds three times
        its starting value (or chance level), or at once when it is NaN/inf.
    weight_decay : float
        The book's weight decay ``lambda`` (ch. 6.4): ``lambda / 2 * sum ||W||**2`` over the weights
        (not the biases) is added to the loss, ``lambda * W`` to each weight's gradient. 0: none.
    dropout : float
        The book's Dropout ratio in [0, 1) (ch. 6.4): while training, each hidden unit's output is
        dropped with this probability; at test time every output is scaled by ``1 - dropout``. 0: none.
    validation : float or int or None
        Hold back training samples to judge the network on while it trains: a share in (0, 1) of
        the training set or a count of samples (the *last* ones; see
        :class:`~nnlearn.trainer.Trainer`). With it the test set is judged once, at the end.

    Examples
    --------
    >>> s = RECIPES["book"]
    >>> s.hidden, s.lr, s.iters
    ((50,), 0.1, 10000)
    >>> s.replace(epochs=3).iters is None
    True
    """

    hidden: tuple = (50,)
    activation: str = "sigmoid"
    weight_init_std: object = 0.01
    loss: str = "cross_entropy"
    optimizer: str = "sgd"
    lr: float = 0.1
    batch_size: int = 100
    iters: int | None = 10000
    epochs: int | None = None
    sampling: str = "replacement"
    lr_schedule: str = "constant"
    dtype: str = "float32"
    train_eval_samples: int | None = None
    grad: str = "backprop"
    engine: str | None = None
    seed: int = 0
    divergence_window: int = 100
    weight_decay: float = 0.0
    dropout: float = 0.0
    validation: float | int | None = None

    def __post_init__(self):
        hidden = (self.hidden,) if isinstance(self.hidden, int) else tuple(self.hidden)
        for h in hidden:
            check_positive_int(h, "hidden size")
        object.__setattr__(self, "hidden", tuple(int(h) for h in hidden))
        _choice(self.activation, "activation", tuple(ACTIVATIONS))
        object.__setattr__(self, "weight_init_std", check_init(self.weight_init_std))
        _choice(self.loss, "loss", tuple(LOSSES))
        _choice(self.optimizer, "optimizer", tuple(OPTIMIZERS))
        OPTIMIZERS[self.optimizer](lr=self.lr)  # checks lr
        check_positive_int(self.batch_size, "batch_size")
        if (self.iters is None) == (self.epochs is None):
            raise InputError("give iters or epochs (exactly one of them)")
        if self.iters is not None:
            check_positive_int(self.iters, "iters")
        if self.epochs is not None:
            check_positive_int(self.epochs, "epochs")
        _choice(self.sampling, "sampling", SAMPLINGS)
        _choice(self.lr_schedule, "lr_schedule", LR_SCHEDULES)
        _choice(self.dtype, "dtype", DTYPES)
        if self.train_eval_samples is not None:
            check_positive_int(self.train_eval_samples, "train_eval_samples")
        _choice(self.grad, "grad", GRADS)
        engines.get_engine(self.engine_name, engines.BACKPROP if self.grad == "backprop" else engines.NUMERICAL)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"seed must be a non-negative integer, got {self.seed!r}")
        check_positive_int(self.divergence_window, "divergence_window")
        object.__setattr__(self, "weight_decay", _number(
            self.weight_decay, "weight_decay", lambda v: v >= 0,
            "a number >= 0 (the book's lambda, e.g. 0.1; 0 for none)"))
        object.__setattr__(self, "dropout", _number(
            self.dropout, "dropout", lambda v: 0 <= v < 1, "a ratio in [0, 1) (the book uses 0.2; 0 for none)"))
        object.__setattr__(self, "validation", check_validation(self.validation))

    @property
    def engine_name(self) -> str:
        """The engine used: ``engine``, or the default for ``grad`` (``fused``, ``fast``)."""
        if self.engine is not None:
            return self.engine
        return "fused" if self.grad == "backprop" else engines.DEFAULTS[engines.NUMERICAL]

    def replace(self, **changes) -> "TrainSettings":
        """These settings with ``changes`` (``None`` values ignored). Setting ``epochs`` clears
        ``iters`` and the other way round; ``grad="numerical"`` brings float64 unless ``dtype`` is given."""
        changes = {k: v for k, v in changes.items() if v is not None}
        unknown = sorted(set(changes) - {f.name for f in fields(self)})
        if unknown:
            raise InputError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(f.name for f in fields(self))}")
        if "epochs" in changes and "iters" not in changes:
            changes["iters"] = None
        elif "iters" in changes and "epochs" not in changes:
            changes["epochs"] = None
        if changes.get("grad") == "numerical" and "dtype" not in changes:
            changes["dtype"] = "float64"  # the chapter's numerical gradient is a float64 method
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain JSON values (``hidden`` as a list)."""
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainSettings":
        """The settings :meth:`to_dict` wrote (keys it does not know are refused)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise InputError(f"unknown setting(s) {', '.join(unknown)}")
        return cls(**d)

    def describe(self, input_size: int | None = None, output_size: int | None = None) -> str:
        """One line naming the network and its training, e.g. for a table or a log.

        Examples
        --------
        >>> RECIPES["book"].describe(784, 10)
        '784-50-10 sigmoid, std 0.01, sgd lr 0.1, batch 100, 10000 iterations, float32'
        >>> RECIPES["book"].replace(weight_decay=1e-6, dropout=0.2, validation=10000).describe(784, 10)
        '784-50-10 sigmoid, std 0.01, sgd lr 0.1, batch 100, 10000 iterations, float32, weight decay 1e-06, dropout 0.2, validation 10000'
        """
        sizes = "-".join(str(s) for s in [input_size or "in", *self.hidden, output_size or "out"])
        length = f"{self.epochs} epochs" if self.epochs else f"{self.iters} iterations"
        init = self.weight_init_std
        init = f"std {init:g}" if isinstance(init, (int, float)) else f"{init} init"
        sched = ", cosine lr decay" if self.lr_schedule == "cosine" else ""
        regular = (f", weight decay {self.weight_decay:g}" if self.weight_decay else "") + (
            f", dropout {self.dropout:g}" if self.dropout else "") + (
            f", validation {self.validation:g}" if self.validation is not None else "")
        return (
            f"{sizes} {self.activation}, {init}, {self.optimizer} lr {self.lr:g}{sched}, "
            f"batch {self.batch_size}, {length}, {self.dtype}"
            + (", numerical gradient" if self.grad == "numerical" else "") + regular
        )


#: Named settings for :func:`nnlearn.train_arrays` and ``nnlearn train --recipe``.
RECIPES = {
    # The chapter's recipe (ch. 4.5, train_neuralnet.py).
    "book": TrainSettings(),
    # Beyond the chapter: ReLU, He initialisation, Adam with a cosine-decayed learning rate, and
    # epochs that see every sample once. On MNIST: 98.4-98.5% test accuracy (seeds 0-2) in about
    # 11 s on 2 cores, data loading included.
    "strong": TrainSettings(
        hidden=(512, 256), activation="relu", weight_init_std="he", optimizer="adam", lr=0.001,
        batch_size=128, iters=None, epochs=8, sampling="shuffle", lr_schedule="cosine",
        train_eval_samples=10000,
    ),
}


def recipe_settings(recipe: str = "book", **overrides) -> TrainSettings:
    """The settings of a named recipe, with ``overrides`` (``None`` values are ignored).

    Examples
    --------
    >>> s = recipe_settings("book", lr=0.5)
    >>> s.hidden, s.lr, s.iters
    ((50,), 0.5, 10000)
    """
    _choice(recipe, "recipe", tuple(RECIPES))
    return RECIPES[recipe].replace(**overrides)
