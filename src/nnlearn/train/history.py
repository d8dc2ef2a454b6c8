"""The run record: the book's ``train_loss_list``, ``train_acc_list`` and ``test_acc_list``, kept in one place.

As Keras's ``History``: the trainer appends to it, callbacks read it, and it writes itself once per
format: ``metrics.csv``, ``epochs.csv``, the two figures, the summary's fields and its part of a checkpoint.
"""

from __future__ import annotations

import math

import numpy as np

from nnlearn.base.i18n import _


class History:
    """The loss at every iteration (weight decay included) and the accuracies at every epoch end
    (``epoch_iterations``; ``None`` where a set was not judged) of one run; ``final``: the accuracies after
    the last iteration. ``validation``: the run holds back a validation set (``val_acc_list`` is kept)."""

    def __init__(self, validation: bool = False):
        self.validation = validation
        self.train_loss_list: list[float] = []
        self.epoch_iterations: list[int] = []
        self.train_acc_list: list[float] = []
        self.val_acc_list: list[float | None] = []
        self.test_acc_list: list[float | None] = []
        self.final: dict | None = None

    def add_epoch(self, iteration: int, train_acc: float, val_acc: float | None, test_acc: float | None) -> None:
        """The accuracies taken after ``iteration`` iterations (``None`` where a set was not judged)."""
        self.epoch_iterations.append(iteration)
        self.train_acc_list.append(train_acc)
        self.val_acc_list.append(val_acc)
        self.test_acc_list.append(test_acc)

    def mean_loss(self, last: int) -> float | None:
        """The mean loss of the ``last`` iterations (``None`` before the first)."""
        recent = self.train_loss_list[-last:]
        return math.fsum(recent) / len(recent) if recent else None

    def epochs(self, iter_per_epoch: int) -> list[float]:
        """The epoch (a fraction where the run ended inside one) of each entry of the accuracy lists."""
        return [it / iter_per_epoch for it in self.epoch_iterations]

    # -- written out, once per format ------------------------------------------------------------

    def metrics_csv(self) -> str:
        """``metrics.csv``: the loss at every iteration (``repr``: the very float, read back exactly)."""
        rows = ["iteration,loss"] + [f"{i},{loss!r}" for i, loss in enumerate(self.train_loss_list, 1)]
        return "\n".join(rows) + "\n"

    def epochs_csv(self, iter_per_epoch: int) -> str:
        """``epochs.csv``: the accuracies at every epoch end (empty where a set was not judged)."""
        rows = ["epoch,iteration,train_accuracy,test_accuracy,validation_accuracy"]
        for it, tr, te, va in zip(self.epoch_iterations, self.train_acc_list, self.test_acc_list, self.val_acc_list):
            rows.append(
                f"{it / iter_per_epoch:.6g},{it},{tr!r},{'' if te is None else repr(te)},"
                f"{'' if va is None else repr(va)}"
            )
        return "\n".join(rows) + "\n"

    def figures(self, iter_per_epoch: int, title: str) -> tuple:
        """The book's two figures of the run, titled in the reader's language: the loss per iteration
        (a moving average over an epoch at most) and the accuracies per epoch (train against test, or
        against validation where the test set is judged once only)."""
        # matplotlib, imported only when a run draws: the board and the sweep's workers read runs without it
        from nnlearn.base.figtext import figure_text
        from nnlearn.common.evaluation import plot_accuracy, plot_loss

        other, label = (self.val_acc_list, "validation acc") if self.validation else (self.test_acc_list, "test acc")
        with figure_text():
            loss = plot_loss(
                self.train_loss_list,
                window=min(100, iter_per_epoch),
                title=_("Training loss, {title}", title=title),
            )
            accuracy = plot_accuracy(
                self.epochs(iter_per_epoch),
                self.train_acc_list,
                other,
                test_label=label,
                title=_("Accuracy per epoch, {title}", title=title),
            )
        return loss, accuracy

    def summary(self) -> dict:
        """The record's part of a run's summary: the final accuracies (``validation_accuracy`` the last
        epoch's) and ``last_batch_loss``, the loss of the last mini-batch (``None`` where not yet known)."""
        final = self.final or {}
        return {
            "train_accuracy": final.get("train_accuracy"),
            "test_accuracy": final.get("test_accuracy"),
            "validation_accuracy": self.val_acc_list[-1] if self.val_acc_list else None,
            "last_batch_loss": self.train_loss_list[-1] if self.train_loss_list else None,
        }

    def state_dict(self) -> dict:
        """The record as a checkpoint holds it: ``{"arrays": {...}, "meta": {"final": ...}}``."""
        arrays = {
            "train_loss": np.array(self.train_loss_list, dtype=np.float64),
            "epoch_iterations": np.array(self.epoch_iterations, dtype=np.int64),
            "train_acc": np.array(self.train_acc_list, dtype=np.float64),
            # No test accuracy: -1 (a NaN would not pass the check that a checkpoint holds finite numbers).
            "test_acc": np.array([-1.0 if a is None else a for a in self.test_acc_list], dtype=np.float64),
        }
        if self.validation:
            arrays["val_acc"] = np.array(self.val_acc_list, dtype=np.float64)
        return {"arrays": arrays, "meta": {"final": self.final}}

    def layout(self, iterations: int, n_epochs: int) -> dict:
        """``{name: (shape, dtype)}`` of the arrays :meth:`state_dict` gives after ``iterations`` and ``n_epochs``."""
        arrays = self.state_dict()["arrays"]
        return {name: ((iterations if name == "train_loss" else n_epochs,), a.dtype) for name, a in arrays.items()}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` gave (its arrays checked against :meth:`layout`)."""
        arrays = state["arrays"]
        self.train_loss_list = arrays["train_loss"].tolist()
        self.epoch_iterations = arrays["epoch_iterations"].tolist()
        self.train_acc_list = arrays["train_acc"].tolist()
        self.test_acc_list = [None if a < 0 else a for a in arrays["test_acc"].tolist()]
        self.val_acc_list = arrays["val_acc"].tolist() if self.validation else [None] * len(self.train_acc_list)
        self.final = state["meta"]["final"]
