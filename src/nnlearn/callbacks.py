"""Callbacks: what a training run does besides learning -- judge, save, watch, stop.

The :class:`~nnlearn.trainer.Trainer` runs the chapter's loop and calls each callback's hooks in
list order:

- ``on_train_begin(trainer)``: before the first iteration (of this call to ``train``);
- ``on_epoch_end(trainer)``: after every ``iter_per_epoch`` iterations and after the last one;
- ``on_step_end(trainer)``: after every iteration, its epoch end included (the loss is
  ``trainer.train_loss_list[-1]``); a ``KeyboardInterrupt`` raised here stops like Ctrl-C;
- ``on_interrupt(trainer)``: on Ctrl-C, when the state is consistent (a whole iteration done);
- ``on_train_end(trainer)``: always, last (also after an error).

:func:`standard_callbacks` gives the ones ``nnlearn train`` uses; order matters: the loss is judged
before the epoch is evaluated, and both before a checkpoint is written, so a checkpoint is good.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from nnlearn.errors import DivergenceError


class Callback:
    """Base class: every hook does nothing."""

    def on_train_begin(self, trainer) -> None:
        pass

    def on_step_end(self, trainer) -> None:
        pass

    def on_epoch_end(self, trainer) -> None:
        pass

    def on_interrupt(self, trainer) -> None:
        pass

    def on_train_end(self, trainer) -> None:
        pass


class DivergenceStop(Callback):
    """Stop with :class:`~nnlearn.errors.DivergenceError` when the loss becomes NaN/inf or explodes.

    Exploding: the mean loss over ``settings.divergence_window`` iterations exceeds three times its
    starting value (or chance level, whichever is larger); judged every window and at every epoch end.
    """

    def on_step_end(self, trainer) -> None:
        w = trainer.settings.divergence_window
        if not math.isfinite(trainer.train_loss_list[-1]) or (trainer.iteration % w == 0 and trainer.iteration >= w):
            self.check(trainer, w)

    def on_epoch_end(self, trainer) -> None:
        self.check(trainer, min(trainer.settings.divergence_window, trainer.iteration))

    @staticmethod
    def check(trainer, w: int) -> None:
        losses = trainer.train_loss_list
        loss = losses[-1]
        if math.isfinite(loss):
            recent = math.fsum(losses[-w:]) / w
            limit = 3.0 * max(losses[0], trainer.chance_loss())
            if recent <= limit:
                return
            what = (
                f"the loss exploded: its mean over iterations {trainer.iteration - w + 1}-{trainer.iteration} is "
                f"{recent:.4g}, up from {losses[0]:.4g} at the start"
            )
        else:
            what = f"the loss became {loss} at iteration {trainer.iteration}"
        kept = ""
        if trainer.last_checkpoint is not None:
            iteration, path = trainer.last_checkpoint
            kept = f"; the last good checkpoint (iteration {iteration}) is kept in {path}"
        raise DivergenceError(
            f"training diverged: {what}. The learning rate (lr={trainer.settings.lr:g}) is likely too high -- "
            f"lower it (the book uses 0.1 with SGD), or scale the inputs to [0, 1]{kept}"
        )


class Evaluation(Callback):
    """At every epoch end: training accuracy (on ``train_eval_samples`` rows, all of them at the
    end), validation accuracy and test accuracy, appended to the trainer's ``train_acc_list``,
    ``val_acc_list`` and ``test_acc_list``.

    With a validation set the test set is judged once only, after the last iteration, into
    ``trainer.final["test_accuracy"]`` (``test_acc_list`` then holds ``None``): choosing
    hyperparameters by the validation accuracy keeps the test accuracy an honest estimate.
    """

    def on_epoch_end(self, trainer) -> None:
        final = trainer.iteration == trainer.max_iter
        n = trainer.train_size
        if not final and trainer.settings.train_eval_samples is not None:
            n = min(trainer.settings.train_eval_samples, n)
        train_acc = trainer.accuracy(trainer.x_train[:n], trainer.t_train_labels[:n])
        val_acc = None if trainer.x_val is None else trainer.accuracy(trainer.x_val, trainer.t_val_labels)
        test_acc = None
        if trainer.x_test is not None and (final or trainer.x_val is None):
            test_acc = trainer.accuracy(trainer.x_test, trainer.t_test_labels)
        trainer.epoch_iterations.append(trainer.iteration)
        trainer.train_acc_list.append(train_acc)
        trainer.val_acc_list.append(val_acc)
        trainer.test_acc_list.append(None if trainer.x_val is not None else test_acc)
        if final:
            trainer.final = {"train_accuracy": train_acc, "test_accuracy": test_acc, "validation_accuracy": val_acc}


class Checkpoint(Callback):
    """Write the trainer's state to ``path`` at the start, after every epoch and on Ctrl-C.

    ``Trainer.load_checkpoint(path)`` then resumes the run bit for bit.
    """

    def __init__(self, path):
        self.path = Path(path)

    def on_train_begin(self, trainer) -> None:
        if trainer.last_checkpoint is None:
            trainer.save_checkpoint(self.path)

    def on_epoch_end(self, trainer) -> None:
        trainer.save_checkpoint(self.path)

    def on_interrupt(self, trainer) -> None:
        trainer.save_checkpoint(self.path)


class ProgressBar(Callback):
    """A tqdm bar with the live loss and accuracy (``show=None``: when stderr is a terminal)."""

    def __init__(self, show: bool | None = None):
        self.show = show
        self.bar = None

    def on_train_begin(self, trainer) -> None:
        from tqdm import tqdm

        show = sys.stderr.isatty() if self.show is None else bool(self.show)
        self.bar = tqdm(
            # With the numerical gradient the rate shown is gradients per second.
            total=trainer.max_iter, initial=trainer.iteration, disable=not show,
            unit="grad" if trainer.settings.grad == "numerical" else "it",
            desc="training", dynamic_ncols=True, leave=True,
        )

    def on_step_end(self, trainer) -> None:
        self.bar.update(1)
        if not self.bar.disable and trainer.iteration % 50 == 0:
            self.bar.set_postfix(self.postfix(trainer), refresh=False)

    def on_epoch_end(self, trainer) -> None:
        if not self.bar.disable:
            self.bar.set_postfix(self.postfix(trainer), refresh=False)

    def on_train_end(self, trainer) -> None:
        if self.bar is not None:
            self.bar.close()

    @staticmethod
    def postfix(trainer) -> dict:
        recent = trainer.train_loss_list[-50:]
        post = {"loss": f"{sum(recent) / len(recent):.4f}"}
        if trainer.val_acc_list and trainer.val_acc_list[-1] is not None:
            post["val_acc"] = f"{trainer.val_acc_list[-1]:.4f}"
        elif trainer.test_acc_list and trainer.test_acc_list[-1] is not None:
            post["test_acc"] = f"{trainer.test_acc_list[-1]:.4f}"
        elif trainer.train_acc_list:
            post["train_acc"] = f"{trainer.train_acc_list[-1]:.4f}"
        return post


def standard_callbacks(progress: bool | None = None, checkpoint=None) -> list:
    """What a training run does by default: divergence stop, evaluation, [checkpoint], progress bar."""
    callbacks = [DivergenceStop(), Evaluation()]
    if checkpoint is not None:
        callbacks.append(Checkpoint(checkpoint))
    callbacks.append(ProgressBar(progress))
    return callbacks
