"""Callbacks: what a training run does besides learning and judging -- save, show, watch (Keras's model:
the loop evaluates, callbacks observe). The trainer gives each callback itself once
(:meth:`Callback.set_trainer`), then calls the hooks:

- ``on_train_begin(logs)``: before the first iteration (of this call to ``train``);
- ``on_step_end(iteration, loss)``: after every iteration (epoch ends included), with its loss;
  a ``KeyboardInterrupt`` raised here stops like Ctrl-C;
- ``on_step_progress(done, total)``: about every second inside a step that takes long (the
  numerical gradient by the book's loop), ``done`` of ``total`` loss evaluations;
- ``on_epoch_end(epoch, logs)``: after every ``iter_per_epoch`` iterations and after the last one,
  once the epoch is judged: ``logs`` holds ``epoch``, ``iteration``, ``loss`` (the mean loss of the
  epoch), ``train_accuracy``, ``validation_accuracy``, ``test_accuracy`` (``None`` where a set was not
  judged), ``lr`` and ``seconds``;
- ``on_interrupt(logs)``: on Ctrl-C, when the state is consistent (a whole iteration done);
- ``on_train_end(logs)``: always, last (also after an error).

``logs`` are read-only; a callback reads ``trainer.history`` and never changes it, so the order of
callbacks does not matter.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nnlearn.base.constraints import FLAG
from nnlearn.base.i18n import _


class Callback:
    """Base class: every hook does nothing; :attr:`trainer` is the trainer being watched."""

    trainer = None

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs) -> None: ...
    def on_step_end(self, iteration: int, loss: float) -> None: ...
    def on_step_progress(self, done: int, total: int) -> None: ...
    def on_epoch_end(self, epoch: float, logs) -> None: ...
    def on_interrupt(self, logs) -> None: ...
    def on_train_end(self, logs) -> None: ...


class Checkpoint(Callback):
    """Write the trainer's state to ``path`` at the start, after every epoch and on Ctrl-C (for
    ``Trainer.load_checkpoint``)."""

    def __init__(self, path):
        self.path = Path(path)

    def on_train_begin(self, logs) -> None:
        if self.trainer.last_checkpoint is None:
            self.trainer.save_checkpoint(self.path)

    def on_epoch_end(self, epoch, logs) -> None:
        self.trainer.save_checkpoint(self.path)

    def on_interrupt(self, logs) -> None:
        self.trainer.save_checkpoint(self.path)


class ProgressBar(Callback):
    """A tqdm bar with the live loss and accuracy (``show=None``: when stderr is a terminal)."""

    #: The loss shown is the mean over this many iterations, refreshed as often.
    EVERY = 50

    def __init__(self, show: bool | None = None):
        self.show = show
        self.bar = None
        self.accuracy = {}

    def on_train_begin(self, logs) -> None:
        from tqdm import tqdm

        show = sys.stderr.isatty() if self.show is None else bool(self.show)
        self.bar = tqdm(
            # With the numerical gradient the rate shown is gradients per second.
            total=self.trainer.max_iter,
            initial=self.trainer.iteration,
            disable=not show,
            unit="grad" if self.trainer.settings.grad == "numerical" else "it",
            desc=_("training"),
            dynamic_ncols=True,
            leave=True,
        )

    def on_step_end(self, iteration, loss) -> None:
        self.bar.update(1)
        if not self.bar.disable and iteration % self.EVERY == 0:
            self.bar.set_postfix(self.postfix(), refresh=False)

    def on_step_progress(self, done, total) -> None:
        if not self.bar.disable:
            self.bar.set_postfix(self.postfix() | {"gradient": f"{done / total:.0%}"})

    def on_epoch_end(self, epoch, logs) -> None:
        for key in ("validation_accuracy", "test_accuracy", "train_accuracy"):
            if logs[key] is not None:  # the accuracy that says most: validation, else test, else train
                self.accuracy = {key.replace("accuracy", "acc").replace("validation", "val"): f"{logs[key]:.4f}"}
                break
        if not self.bar.disable:
            self.bar.set_postfix(self.postfix(), refresh=False)

    def on_train_end(self, logs) -> None:
        if self.bar is not None:
            self.bar.close()

    def postfix(self) -> dict:
        loss = self.trainer.history.mean_loss(self.EVERY)
        return ({"loss": f"{loss:.4f}"} if loss is not None else {}) | self.accuracy


def standard_callbacks(progress: bool | None = None, checkpoint=None) -> list:
    """What a training run does by default besides learning: [checkpoint], progress bar."""
    if progress is not None:
        FLAG.check(progress, "progress")
    return ([Checkpoint(checkpoint)] if checkpoint is not None else []) + [ProgressBar(progress)]
