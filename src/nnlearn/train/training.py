"""Training by recipe from Python: :func:`build_trainer`, :func:`train_arrays` and the :class:`TrainedModel` it returns.

``nnlearn train`` does the same from the command line, into a run folder (:mod:`nnlearn.train.runs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnlearn.base.errors import InputError
from nnlearn.base.i18n import _
from nnlearn.common.multi_layer_net import MultiLayerNet
from nnlearn.common.networks import network_for
from nnlearn.train.callbacks import standard_callbacks
from nnlearn.train.settings import TrainSettings, recipe_settings
from nnlearn.train.trainer import Trainer


def infer_classes(t) -> int:
    """The number of classes that labels (0..C-1) or one-hot rows ``t`` imply."""
    t = np.asarray(t)
    if t.ndim == 2:
        return int(t.shape[1])
    if t.size == 0:
        raise InputError(_("t_train is empty; pass at least one labelled sample"))
    if t.dtype.kind not in "iuf":
        raise InputError(_("t_train must hold integer class labels 0..C-1, got an array of {dtype}", dtype=t.dtype))
    if t.dtype.kind == "f" and not np.isfinite(t).all():
        raise InputError(_("t_train holds NaN or inf; labels are whole numbers 0..C-1"))
    low, high = np.min(t), np.max(t)
    if low >= 1:
        raise InputError(
            _(
                "t_train's labels run from {low:g} to {high:g}, but class labels start at 0; subtract {low:g} "
                "from them",
                low=low,
                high=high,
            )
        )
    return int(high) + 1


def build_trainer(
    settings: TrainSettings, x_train, t_train, x_test=None, t_test=None, *, n_classes=None, callbacks=None, threads=None
) -> Trainer:
    """A fresh network and its :class:`Trainer` from ``settings``."""
    x = np.asarray(x_train)
    if x.ndim < 2 or x.shape[0] == 0 or x[0].size == 0:
        raise InputError(_("x_train must hold at least one sample per row, got shape {shape}", shape=x.shape))
    net = network_for(settings, int(np.prod(x.shape[1:])), n_classes or infer_classes(t_train))
    return Trainer(net, x_train, t_train, x_test, t_test, settings=settings, callbacks=callbacks, threads=threads)


@dataclass
class TrainedModel:
    """A trained network with its trainer's record (the result of :func:`train_arrays`)."""

    network: MultiLayerNet
    trainer: Trainer
    settings: TrainSettings
    summary: dict = field(default_factory=dict)

    @property
    def description(self) -> str:
        return self.trainer.description

    def predict(self, x) -> np.ndarray:
        """The softmax probabilities of each row of ``x``."""
        return self.network.predict(x)

    def classify(self, x) -> np.ndarray:
        """The predicted class of each row of ``x``."""
        return self.network.classify(x)


def train_arrays(
    x_train, t_train, x_test=None, t_test=None, *, recipe="book", progress=None, callbacks=(), live=False, **overrides
) -> TrainedModel:
    """Train a recipe's network on arrays and return the :class:`TrainedModel`.

    ``overrides`` are :class:`~nnlearn.train.settings.TrainSettings` fields (``lr=0.5``, ``epochs=3``,
    ``seed=1``, ...); ``callbacks`` are added to the standard ones. ``live=True`` adds a
    :class:`~nnlearn.train.live.LivePlot`: in a notebook, the curves redrawn in place every epoch.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((300, 4)); t = (x[:, 0] + x[:, 1] > 1).astype(int)
    >>> model = train_arrays(x, t, recipe="strong", hidden_size=[16], epochs=100, batch_size=30, lr=0.01,
    ...                      progress=False)
    >>> model.description
    '4-16-2 relu, he init, adam lr 0.01, cosine lr decay, batch 30, 100 epochs, float32'
    >>> float(np.mean(model.classify(x) == t))
    0.9933333333333333
    """
    settings = recipe_settings(recipe, **overrides)
    if live:
        from nnlearn.train.live import LivePlot  # matplotlib and IPython, for a notebook only

        callbacks = [*callbacks, LivePlot()]
    trainer = build_trainer(
        settings, x_train, t_train, x_test, t_test, callbacks=[*standard_callbacks(progress), *callbacks]
    )
    summary = trainer.train()
    return TrainedModel(trainer.network, trainer, settings, summary)
