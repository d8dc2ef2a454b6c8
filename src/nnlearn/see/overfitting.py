"""Overfitting and two remedies (*Deep Learning from Scratch*, ch. 6.4): a deep net on a few samples,
plain, with weight decay and with dropout -- the experiment of ``nnlearn demo overfit``."""

from __future__ import annotations

import numpy as np

from nnlearn.train.callbacks import standard_callbacks
from nnlearn.train.settings import TrainSettings
from nnlearn.train.training import build_trainer


def overfitting_settings(train_size: int = 300, epochs: int = 200, seed: int = 0) -> TrainSettings:
    """The book's overfitting network: 6 x 100 ReLU (He init), SGD lr 0.01, batches of 100."""
    return TrainSettings(
        hidden_size=(100,) * 6,
        activation="relu",
        weight_init_std="he",
        optimizer="sgd",
        lr=0.01,
        batch_size=min(100, train_size),
        iters=None,
        epochs=epochs,
        seed=seed,
    )


def compare_remedies(
    x_train,
    t_train,
    x_test,
    t_test,
    *,
    train_size: int = 300,
    epochs: int = 200,
    weight_decay_lambda: float = 0.1,
    dropout_ratio: float = 0.2,
    seed: int = 0,
    n_classes=None,
    progress=None,
) -> dict:
    """Train the same network on the first ``train_size`` samples three ways, judged on the test data after
    every epoch: ``{name: (epochs, train_acc_list, test_acc_list)}`` for ``"plain"``, ``"weight decay LAMBDA"``
    and ``"dropout RATE"``, in that order."""
    base = overfitting_settings(train_size, epochs, seed)
    runs = {
        "plain": base,
        f"weight decay {weight_decay_lambda:g}": base.replace(weight_decay_lambda=weight_decay_lambda),
        f"dropout {dropout_ratio:g}": base.replace(dropout_ratio=dropout_ratio),
    }
    n_classes = n_classes or int(np.max(t_train)) + 1
    x, t = x_train[:train_size], t_train[:train_size]
    curves = {}
    for name, settings in runs.items():
        trainer = build_trainer(
            settings, x, t, x_test, t_test, n_classes=n_classes, callbacks=standard_callbacks(progress)
        )
        trainer.train()
        history = trainer.history
        curves[name] = (history.epochs(trainer.iter_per_epoch), history.train_acc_list, history.test_acc_list)
    return curves
