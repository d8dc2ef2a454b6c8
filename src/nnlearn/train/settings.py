"""Training settings, each declared once: one frozen dataclass, and the named recipes as instances of it.

Every field of :class:`TrainSettings` is declared with :func:`~nnlearn.base.constraints.declared`: its
default, its constraint, help, label and unit, whether a sweep may tune it, and whether the optimizer
takes it. The flags of ``nnlearn train`` and ``nnlearn sweep``, the checks, ``config.json``,
the report's labels and the optimizer's arguments all come from that declaration: a new setting is one
new field.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass

import numpy as np

from nnlearn.base.constraints import (
    COUNT,
    POSITIVE_WHOLE,
    RULES,
    Optional,
    Options,
    ShareOrCount,
    check_declared,
    declarations,
    declared,
)
from nnlearn.base.errors import InputError
from nnlearn.base.i18n import N_, _
from nnlearn.common import engines
from nnlearn.common.multi_layer_net import ACTIVATIONS, DTYPES, LOSSES
from nnlearn.common.optimizer import OPTIMIZERS

SAMPLINGS = ("replacement", "shuffle")
#: The names settings had before they took the book's (config.json and checkpoints of older runs hold them).
RENAMED = {"hidden": "hidden_size", "weight_decay": "weight_decay_lambda", "dropout": "dropout_ratio"}
GRADS = ("backprop", "numerical")
LR_SCHEDULES = ("constant", "cosine")
#: The group of the settings that are the optimizer's arguments.
OPTIMIZER = "optimizer"


def optimizer_arguments(name: str) -> tuple:
    """The names of the arguments optimizer ``name``'s constructor takes (``lr``, ``momentum``, ...)."""
    return tuple(inspect.signature(OPTIMIZERS[name]).parameters)


def applies(name: str, optimizer: str) -> bool:
    """Whether setting ``name`` means something with ``optimizer``: ``momentum`` only with the Momentum
    optimizer, ``beta1`` only with Adam; a setting outside the optimizer's group always.

    Examples
    --------
    >>> applies("momentum", "momentum"), applies("momentum", "adam"), applies("dropout_ratio", "adam")
    (True, False, True)
    """
    return specs()[name].group != OPTIMIZER or name in optimizer_arguments(optimizer)


def specs() -> dict:
    """``{name: Declared}`` of every setting, in declaration order."""
    return declarations(TrainSettings)


def check_known(names) -> None:
    """Refuse names that are no setting."""
    unknown = sorted(set(names) - set(specs()))
    if unknown:
        raise InputError(
            _("unknown setting(s) {names}; known: {known}", names=", ".join(unknown), known=", ".join(specs()))
        )


@dataclass(frozen=True)
class TrainSettings:
    """Everything that decides a training run, network included; the default is the book's recipe.

    Each field is checked and normalised by its declaration, then the rules that tie fields together are
    checked. Exactly one of ``iters`` and ``epochs`` is set (an epoch is the book's ``iter_per_epoch``,
    ``max(train_size // batch_size, 1)`` iterations).

    Examples
    --------
    >>> s = RECIPES["book"]
    >>> s.hidden_size, s.lr, s.iters
    ((50,), 0.1, 10000)
    >>> s.replace(epochs=3).iters is None
    True
    >>> TrainSettings(dropout_ratio=1.0)
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.InputError: dropout_ratio must be a number in [0, 1), got 1.0; the book uses 0.2 (ch. 6.4); 0 for none
    """

    hidden_size: tuple = declared(
        (50,), RULES["hidden_size"], "hidden layer sizes, e.g. --hidden-size 100 50", label=N_("hidden layers")
    )
    activation: str = declared(
        "sigmoid", Options(tuple(ACTIVATIONS)), "the hidden layers' activation", label=N_("activation")
    )
    weight_init_std: object = declared(
        0.01,
        RULES["weight_init_std"],
        "weight initialisation: a standard deviation (the book's 0.01), xavier or he",
        label=N_("weight init"),
    )
    loss: str = declared(
        "cross_entropy",
        Options(tuple(LOSSES)),
        "the loss: the book's cross-entropy error or mean squared error",
        label=N_("loss"),
    )
    optimizer: str = declared("sgd", Options(tuple(OPTIMIZERS)), "the update rule (ch. 6.1)", label=N_("optimizer"))
    lr: float = declared(
        0.1,
        RULES["lr"],
        "learning rate (the start of the schedule)",
        label=N_("learning rate"),
        group=OPTIMIZER,
        metavar="LR",
    )
    momentum: float | None = declared(
        None,
        Optional(RULES["momentum"]),
        "the Momentum optimizer's momentum (ch. 6.1.4); not set: the book's 0.9",
        label=N_("momentum"),
        group=OPTIMIZER,
    )
    beta1: float | None = declared(
        None,
        Optional(RULES["beta1"]),
        "Adam's decay of its mean gradient (ch. 6.1.6); not set: the book's 0.9",
        label="beta1",
        group=OPTIMIZER,
    )
    beta2: float | None = declared(
        None,
        Optional(RULES["beta2"]),
        "Adam's decay of its mean squared gradient; not set: the book's 0.999",
        label="beta2",
        group=OPTIMIZER,
    )
    eps: float | None = declared(
        None,
        Optional(RULES["eps"]),
        "what AdaGrad and Adam add to the root of their squared gradients, against division by 0; not set: the "
        "book's 1e-7",
        label="eps",
        group=OPTIMIZER,
    )
    batch_size: int = declared(
        100, RULES["batch_size"], "samples per mini-batch", label=N_("batch size"), unit=N_("samples")
    )
    iters: int | None = declared(
        10000,
        Optional(POSITIVE_WHOLE),
        "number of iterations (updates)",
        label=N_("iterations"),
        exclusive="length",
        tunable=False,
    )
    epochs: int | None = declared(
        None,
        Optional(POSITIVE_WHOLE),
        "number of epochs of train_size / batch_size iterations",
        label=N_("epochs"),
        exclusive="length",
    )
    sampling: str = declared(
        "replacement",
        Options(SAMPLINGS),
        "replacement: the book's random batches; shuffle: every sample once per epoch",
        label=N_("sampling"),
    )
    lr_schedule: str = declared(
        "constant",
        Options(LR_SCHEDULES),
        "cosine lowers the learning rate from lr to 0 along half a cosine over the run",
        label=N_("learning-rate schedule"),
    )
    dtype: str = declared(
        "float32",
        Options(DTYPES),
        "float32 trains about twice as fast; the numerical gradient wants float64",
        label="dtype",
        tunable=False,
    )
    train_eval_samples: int | None = declared(
        None,
        Optional(POSITIVE_WHOLE),
        "judge training accuracy per epoch on the first N training samples only "
        "(the book's evaluate_sample_num_per_epoch); the final accuracy uses all",
        label=N_("train samples judged per epoch"),
        tunable=False,
    )
    grad: str = declared(
        "backprop",
        Options(GRADS),
        "the gradient by backpropagation or by the chapter's numerical differentiation",
        label=N_("gradient"),
        tunable=False,
    )
    engine: str | None = declared(
        None,
        Optional(Options(engines.engine_names)),
        "how the gradient is computed: fused (default) or reference "
        "for backprop; fast (default), rows or loop for --grad numerical",
        label=N_("engine"),
        tunable=False,
    )
    seed: int = declared(
        0, COUNT, "seed of the weights, the batches and the dropout masks", label=N_("seed"), tunable=False
    )
    divergence_window: int = declared(
        100,
        POSITIVE_WHOLE,
        "the loss has diverged when its mean over this many iterations exceeds three times "
        "its start (or at once when NaN/inf)",
        label=N_("divergence window"),
        unit=N_("iterations"),
        tunable=False,
    )
    weight_decay_lambda: float = declared(
        0.0,
        RULES["weight_decay_lambda"],
        "the book's weight decay lambda: lambda/2 * sum ||W||^2 added to the loss (biases excluded)",
        label=N_("weight decay"),
        metavar="LAMBDA",
    )
    dropout_ratio: float = declared(
        0.0,
        RULES["dropout_ratio"],
        "the book's Dropout after each hidden activation: drop this share of units while training",
        label=N_("dropout"),
        metavar="RATE",
    )
    validation: float | int | None = declared(
        None,
        Optional(ShareOrCount()),
        "hold back the last SHARE (e.g. 0.1) or N samples of the training set and "
        "judge each epoch on them; the test set is then judged once, at the end",
        label=N_("validation"),
        tunable=False,
    )

    def __post_init__(self):
        check_declared(self)
        if (self.iters is None) == (self.epochs is None):
            raise InputError(_("give iters or epochs (exactly one of them)"))
        engines.get_engine(self.engine_name, engines.BACKPROP if self.grad == "backprop" else engines.NUMERICAL)
        if self.grad == "numerical" and self.dtype == "float32":
            raise InputError(
                _("the numerical gradient computes in float64 (float32 rounds the step h=1e-4); use dtype float64")
            )
        for name in self.group(OPTIMIZER):
            if getattr(self, name) is not None and not applies(name, self.optimizer):
                raise InputError(
                    _(
                        "{name} is a setting of the {optimizers} optimizer, not of {optimizer}; drop it or "
                        "choose that optimizer",
                        name=name,
                        optimizers=_(" or ").join(o for o in OPTIMIZERS if name in optimizer_arguments(o)),
                        optimizer=self.optimizer,
                    )
                )
        if self.eps is not None and np.dtype(self.dtype).type(self.eps) == 0:
            # The update would divide 0 by 0 where a gradient is 0 (MNIST's border pixels): a NaN the
            # divergence check then blamed on the learning rate.
            tiny = np.finfo(self.dtype).smallest_subnormal
            raise InputError(
                _(
                    "eps {eps} is 0 in {dtype} (its smallest number above 0 is {tiny}), so {optimizer} would "
                    "divide 0 by 0; choose eps of at least {least} (the book uses 1e-7) or dtype float64",
                    eps=format(self.eps, "g"),
                    dtype=self.dtype,
                    tiny=format(tiny, ".1e"),
                    optimizer=self.optimizer,
                    least=format(tiny, ".0e"),
                )
            )

    @staticmethod
    def group(group: str) -> tuple:
        """The names of the settings declared with ``group`` (:data:`OPTIMIZER`)."""
        return tuple(name for name, spec in specs().items() if spec.group == group)

    def optimizer_options(self) -> dict:
        """The optimizer's constructor arguments: the optimizer settings that are set."""
        return {name: getattr(self, name) for name in self.group(OPTIMIZER) if getattr(self, name) is not None}

    @property
    def engine_name(self) -> str:
        """The engine used: ``engine``, or the default for ``grad`` (``fused``, ``fast``)."""
        if self.engine is not None:
            return self.engine
        return engines.default_engine(engines.BACKPROP if self.grad == "backprop" else engines.NUMERICAL, training=True)

    def replace(self, **changes) -> "TrainSettings":
        """These settings with ``changes`` (``None`` values ignored). Setting ``epochs`` clears
        ``iters`` and the other way round; ``grad="numerical"`` brings float64 unless ``dtype`` is given."""
        changes = {k: v for k, v in changes.items() if v is not None}
        check_known(changes)
        if "epochs" in changes and "iters" not in changes:
            changes["iters"] = None
        elif "iters" in changes and "epochs" not in changes:
            changes["epochs"] = None
        if changes.get("grad") == "numerical" and "dtype" not in changes:
            changes["dtype"] = "float64"  # the chapter's numerical gradient is a float64 method
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain JSON values (``hidden_size`` as a list)."""
        d = dataclasses.asdict(self)
        d["hidden_size"] = list(self.hidden_size)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainSettings":
        """The settings :meth:`to_dict` wrote, also before the settings took the book's names (keys it does not
        know are refused).

        Examples
        --------
        >>> TrainSettings.from_dict({"hidden": [8], "dropout": 0.1}).hidden_size
        (8,)
        """
        d = {RENAMED.get(key, key): value for key, value in d.items()}
        check_known(d)
        return cls(**d)

    def describe(self, input_size: int | None = None, output_size: int | None = None) -> str:
        """One line naming the network and its training, e.g. for a table or a log.

        Examples
        --------
        >>> RECIPES["book"].describe(784, 10)
        '784-50-10 sigmoid, std 0.01, sgd lr 0.1, batch 100, 10000 iterations, float32'
        >>> RECIPES["book"].replace(weight_decay_lambda=1e-6, dropout_ratio=0.2, validation=10000).describe(784, 10)
        '784-50-10 sigmoid, std 0.01, sgd lr 0.1, batch 100, 10000 iterations, float32, weight decay 1e-06, dropout 0.2, validation 10000'
        """
        sizes = "-".join(str(s) for s in [input_size or "in", *self.hidden_size, output_size or "out"])
        length = f"{self.epochs} epochs" if self.epochs else f"{self.iters} iterations"
        init = self.weight_init_std
        init = f"std {init:g}" if isinstance(init, (int, float)) else f"{init} init"
        sched = ", cosine lr decay" if self.lr_schedule == "cosine" else ""
        regular = (
            (f", weight decay {self.weight_decay_lambda:g}" if self.weight_decay_lambda else "")
            + (f", dropout {self.dropout_ratio:g}" if self.dropout_ratio else "")
            + (f", validation {self.validation:g}" if self.validation is not None else "")
        )
        declared = specs()
        options = "".join(f" {declared[k].label} {v:g}" for k, v in self.optimizer_options().items() if k != "lr")
        return (
            f"{sizes} {self.activation}, {init}, {self.optimizer} lr {self.lr:g}{options}{sched}, "
            f"batch {self.batch_size}, {length}, {self.dtype}"
            + (", numerical gradient" if self.grad == "numerical" else "")
            + regular
        )


#: Named settings for :func:`nnlearn.train_arrays` and ``nnlearn train --recipe``.
RECIPES = {
    # The chapter's recipe (ch. 4.5, train_neuralnet.py).
    "book": TrainSettings(),
    # Beyond the chapter: ReLU, He initialisation, Adam with a cosine-decayed learning rate, and
    # epochs that see every sample once. On MNIST: 98.4-98.5% test accuracy (seeds 0-2) in about
    # 11 s on 2 cores, data loading included.
    "strong": TrainSettings(
        hidden_size=(512, 256),
        activation="relu",
        weight_init_std="he",
        optimizer="adam",
        lr=0.001,
        batch_size=128,
        iters=None,
        epochs=8,
        sampling="shuffle",
        lr_schedule="cosine",
        train_eval_samples=10000,
    ),
}


def recipe_settings(recipe: str = "book", **overrides) -> TrainSettings:
    """The settings of a named recipe, with ``overrides`` (``None`` values are ignored).

    Examples
    --------
    >>> s = recipe_settings("book", lr=0.5)
    >>> s.hidden_size, s.lr, s.iters
    ((50,), 0.5, 10000)
    """
    Options(tuple(RECIPES)).check(recipe, "recipe")
    return RECIPES[recipe].replace(**overrides)
