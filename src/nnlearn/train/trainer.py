"""Mini-batch training: the chapter's loop, with callbacks for everything else.

The book's loop (*Deep Learning from Scratch*, ch. 4.5) is::

    for i in range(iters_num):
        batch_mask = np.random.choice(train_size, batch_size)
        grad = network.gradient(x_train[batch_mask], t_train[batch_mask])
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= learning_rate * grad[key]
        train_loss_list.append(network.loss(x_batch, t_batch))
        if i % iter_per_epoch == 0:
            train_acc_list.append(network.accuracy(x_train, t_train))
            test_acc_list.append(network.accuracy(x_test, t_test))

:class:`Trainer` runs that loop from :class:`~nnlearn.train.settings.TrainSettings` with a seeded
``numpy.random.Generator``, into a :class:`~nnlearn.train.history.History` (the book's three lists); it
judges every epoch and stops on divergence, callbacks watch (:mod:`nnlearn.train.callbacks`), and a run
resumes from a checkpoint bit for bit. Differences from the book, each deliberate:

- The loss recorded for an iteration is the loss of the forward pass that gave the gradient
  (before the update); the book runs a second forward pass after the update to get it.
- Accuracies are taken after every ``iter_per_epoch`` updates (the book takes them after updates
  1, 601, 1201, ...), and once more after the last update, which is the final result.
- The gradient comes from an engine (:mod:`nnlearn.common.engines`), by default the fused one: the
  reference engine's backpropagation from preallocated buffers.
- With dropout, each iteration's masks are drawn from the run's Generator right after its batch
  (``network.dropout_masks(rng, batch_size)``), so a resumed run draws the same masks.
"""

from __future__ import annotations

import math
import time
from types import MappingProxyType

import numpy as np

from nnlearn.base.constraints import as_float_array, check_finite, is_one_hot
from nnlearn.base.errors import DivergenceError, InputError, InputTypeError
from nnlearn.base.files import StopRequest, stop_requests
from nnlearn.base.i18n import _
from nnlearn.common import engines
from nnlearn.common.multi_layer_net import MultiLayerNet
from nnlearn.common.networks import settings_mismatch
from nnlearn.common.optimizer import get_optimizer
from nnlearn.datasets.batches import validation_count
from nnlearn.train import checkpoints
from nnlearn.train import threads as blas_threads
from nnlearn.train.callbacks import standard_callbacks
from nnlearn.train.history import History
from nnlearn.train.settings import RECIPES, TrainSettings


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on Ctrl-C (or a callback's ``KeyboardInterrupt``): ``iteration``, the one the run
    resumes from, and ``checkpoint``, the file that holds it (None without a Checkpoint callback)."""

    def __init__(self, iteration: int, checkpoint):
        self.iteration, self.checkpoint = iteration, checkpoint
        super().__init__(
            _(
                "training interrupted; checkpoint at iteration {iteration} in {checkpoint}",
                iteration=iteration,
                checkpoint=checkpoint,
            )
            if checkpoint
            else _("training interrupted")
        )


class Trainer:
    """Train a network by mini-batch gradient descent and judge it on test data.

    ``network`` (a MultiLayerNet matching ``settings``) is trained in place on ``x_train`` and ``t_train``
    (labels or one-hot rows); ``x_test``/``t_test`` are judged at every epoch end. ``callbacks`` default to
    :func:`~nnlearn.train.callbacks.standard_callbacks`; ``threads`` are the run's BLAS threads
    (:func:`nnlearn.train.threads.choose`; a resumed run keeps the count it was on). :attr:`history` is the
    run's record, :attr:`iteration` the iterations done.

    With ``settings.validation`` the **last** ``N`` training samples are held back (``x_val``, ``t_val``):
    each epoch is judged on them, and the test set once, after the last iteration
    (``history.final["test_accuracy"]``). The last samples, not a random draw (Keras's
    ``validation_split``): MNIST's training set is in random order already, a slice copies nothing, and
    the split is the same whatever the seed.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((200, 4)); t = (x[:, 0] > x[:, 1]).astype(int)
    >>> net = MultiLayerNet(4, [8], 2, activation="sigmoid", weight_init_std=0.5, seed=0, dtype=np.float32)
    >>> settings = TrainSettings(lr=1.0, batch_size=10, iters=None, epochs=20)
    >>> trainer = Trainer(net, x[:150], t[:150], x[150:], t[150:], settings=settings)
    >>> result = trainer.train()
    >>> trainer.iter_per_epoch, trainer.iteration, len(trainer.history.train_loss_list)
    (15, 300, 300)
    >>> round(result["test_accuracy"], 2), round(result["train_accuracy"], 2)
    (1.0, 0.99)
    """

    def __init__(
        self,
        network,
        x_train,
        t_train,
        x_test=None,
        t_test=None,
        *,
        settings=RECIPES["book"],
        callbacks=None,
        threads=None,
    ):
        if not isinstance(network, MultiLayerNet):
            raise InputTypeError(
                _("Trainer trains a MultiLayerNet or TwoLayerNet, got {type}", type=type(network).__name__)
            )
        if not isinstance(settings, TrainSettings):
            raise InputTypeError(_("settings must be a TrainSettings, got {type}", type=type(settings).__name__))
        mismatch = settings_mismatch(settings, network)
        if mismatch:
            raise InputError(
                _(
                    "the network does not match the settings ({mismatch}); build it from the settings "
                    "(build_trainer does)",
                    mismatch="; ".join(mismatch),
                )
            )
        self.network = network
        self.settings = settings
        x_train, t_train = checked_data(network, x_train, t_train, "train")
        self.x_val = self.t_val = None
        if settings.validation is not None:
            n = x_train.shape[0]
            n_val = validation_count(settings.validation, n)
            self.x_val, self.t_val = x_train[n - n_val :], t_train[n - n_val :]
            x_train, t_train = x_train[: n - n_val], t_train[: n - n_val]
        self.x_train, self.t_train = x_train, t_train
        if (x_test is None) != (t_test is None):
            raise InputError(_("give both x_test and t_test, or neither"))
        self.x_test, self.t_test = (None, None) if x_test is None else checked_data(network, x_test, t_test, "test")
        self.train_size = self.x_train.shape[0]
        self.batch_size = settings.batch_size
        if settings.sampling == "shuffle" and self.batch_size > self.train_size:
            raise InputError(
                _(
                    "batch_size {batch_size} is larger than the {n} training samples; lower it or use sampling='replacement'",
                    batch_size=self.batch_size,
                    n=self.train_size,
                )
            )
        # The book: iter_per_epoch = max(train_size / batch_size, 1), counted in whole iterations.
        self.iter_per_epoch = max(self.train_size // self.batch_size, 1)
        self.max_iter = settings.iters if settings.iters is not None else settings.epochs * self.iter_per_epoch
        self.optimizer = get_optimizer(settings.optimizer, **settings.optimizer_options())
        self.rng = np.random.default_rng(settings.seed)
        self.callbacks = standard_callbacks() if callbacks is None else list(callbacks)
        for cb in self.callbacks:
            cb.set_trainer(self)
        kind = engines.BACKPROP if settings.grad == "backprop" else engines.NUMERICAL
        self.engine = network.engine(settings.engine_name, kind)
        self.threads_asked = threads
        blas_threads.asked(threads)  # a bad count (or NNLEARN_THREADS) is refused before any work
        self.threads = None  # chosen when training starts, or the count a resumed run was on

        self.iteration = 0
        self.history = History(validation=self.x_val is not None)
        self.seconds = 0.0
        #: ``(iteration, path)`` of the last checkpoint written or loaded.
        self.last_checkpoint = None
        self.perm = None
        #: The Generator's state before the batch of a numerical step (its draws are undone on Ctrl-C).
        self.rng_before_batch = None
        self.stop = StopRequest()
        self.started = None
        self.consistent = True

    # -- the loop ------------------------------------------------------------------------------

    def train(self) -> dict:
        """Train until ``max_iter`` iterations are done; return :meth:`summary`. Raises DivergenceError when
        the loss becomes NaN/inf or explodes, TrainingInterrupted on Ctrl-C or SIGTERM."""
        self.started = time.perf_counter()
        self.consistent = True
        try:
            # Ctrl-C and kill (SIGTERM) finish the current iteration, save and stop; overflow on the way
            # to divergence is expected (the divergence stop reports it clearly).
            with (
                stop_requests(self.stop),
                np.errstate(over="ignore", invalid="ignore"),
                blas_threads.using(self.choose_threads()),
            ):
                self.notify("on_train_begin", self.logs())
                self.run_iterations()
        except KeyboardInterrupt:
            raise self.interrupted() from None
        finally:
            self.update_time()
            self.started = None
            self.notify("on_train_end", self.logs())
        return self.summary()

    def run_iterations(self) -> None:
        """The chapter's loop: batch, gradient, update, record; every epoch, judge and tell the callbacks."""
        while self.iteration < self.max_iter:
            self.consistent = False  # until the iteration is recorded, judged and saved
            loss = self.step()
            self.iteration += 1
            self.history.train_loss_list.append(loss)
            self.check_divergence()  # before the epoch is judged or saved: no checkpoint holds a diverged network
            if self.epoch_end():
                self.update_time()
                self.evaluate()
                self.notify("on_epoch_end", self.iteration / self.iter_per_epoch, self.logs())  # checkpoint, run folder
            # The iteration is complete (its epoch judged and saved): a Ctrl-C from here on saves this state.
            self.consistent = True
            self.notify("on_step_end", self.iteration, loss)
            if self.stop.requested:
                raise KeyboardInterrupt

    def step(self) -> float:
        """One iteration of the book's loop: a batch, its gradient, the update; the loss before the update."""
        x_batch, t_batch, masks = self.next_batch()
        loss, grad = self.gradient(x_batch, t_batch, masks)
        self.optimizer.lr = self.learning_rate()
        self.optimizer.update(self.network.params, grad)
        return loss

    def next_batch(self):
        """``(x_batch, t_batch, masks)``: the next mini-batch and, with dropout, its masks, drawn from the run's
        Generator right after the batch (so that a resumed run draws the same)."""
        if self.settings.grad == "numerical":
            self.rng_before_batch = self.rng.bit_generator.state
        idx = self.next_indices()
        masks = self.network.dropout_masks(self.rng, len(idx)) if self.network.dropout_ratio else None
        return self.gather(idx), self.t_train[idx], masks

    def gradient(self, x_batch, t_batch, masks) -> tuple[float, dict]:
        """``(loss, grads)`` of the batch: by the engine's backpropagation, or by the book's numerical gradient."""
        if self.settings.grad == "backprop":
            return self.engine.loss_and_gradient(x_batch, t_batch, masks=masks)
        try:
            grad = engines.numerical_gradient(
                self.network, x_batch, t_batch, self.engine.name, masks=masks, progress=self.step_progress
            )
        except KeyboardInterrupt:
            if self.stop.requested:
                # Stopped inside a long numerical gradient (step_progress): the weights are restored and
                # unchanged, so with the batch's draws undone the state is the last iteration's.
                self.rng.bit_generator.state = self.rng_before_batch
                self.consistent = True
            raise
        return self.network.engine().loss(x_batch, t_batch, masks), grad

    def epoch_end(self) -> bool:
        """After every ``iter_per_epoch`` iterations, and after the last one: the accuracies are taken."""
        return self.iteration % self.iter_per_epoch == 0 or self.iteration == self.max_iter

    def step_progress(self, done: int, total: int) -> None:
        """A long gradient's progress (about every second): told to callbacks; a Ctrl-C stops it here."""
        self.notify("on_step_progress", done, total)
        if self.stop.requested:
            raise KeyboardInterrupt

    def interrupted(self) -> "TrainingInterrupted":
        """After Ctrl-C: tell the callbacks (when the state is whole) and say where the run can resume."""
        if self.consistent:
            self.update_time()
            self.notify("on_interrupt", self.logs())
        checkpoint = self.last_checkpoint
        return TrainingInterrupted(
            self.iteration if self.consistent else (checkpoint[0] if checkpoint else 0),
            checkpoint[1] if checkpoint else None,
        )

    def notify(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def learning_rate(self) -> float:
        """The learning rate of this iteration: the settings' own, or on the cosine schedule."""
        if self.settings.lr_schedule == "cosine":
            return self.settings.lr * 0.5 * (1.0 + math.cos(math.pi * self.iteration / self.max_iter))
        return self.settings.lr

    def choose_threads(self) -> "blas_threads.Choice":
        """The run's thread count (chosen once: a resumed run's comes from its checkpoint)."""
        if self.threads is None:
            self.threads = blas_threads.choose(self.threads_asked)
        return self.threads

    def gather(self, idx) -> np.ndarray:
        """The rows ``idx`` of the training images, in the network's dtype (the book's ``x_train[batch_mask]``)."""
        return self.x_train[idx].astype(self.network.dtype, copy=False)

    def next_indices(self) -> np.ndarray:
        """The sample indices of the next batch (this draws from the run's Generator)."""
        if self.settings.sampling == "replacement":
            # Exactly rng.choice(train_size, batch_size) -- the book's sampling; Generator.choice
            # draws these very integers -- without choice()'s argument handling.
            return self.rng.integers(0, self.train_size, size=self.batch_size, dtype=np.int64)
        pos = self.iteration % self.iter_per_epoch
        if pos == 0 or self.perm is None:
            self.perm = self.rng.permutation(self.train_size)
        return self.perm[pos * self.batch_size : (pos + 1) * self.batch_size]

    # -- judging: the loop's own work ------------------------------------------------------------

    def evaluate(self) -> None:
        """At an epoch end: the training (on ``train_eval_samples`` rows, all at the end), validation and test
        accuracies into :attr:`history`. With a validation set the test set is judged only after the last
        iteration: choosing settings by the validation accuracy keeps the test accuracy an honest estimate."""
        final = self.iteration == self.max_iter
        n = self.train_size
        if not final and self.settings.train_eval_samples is not None:
            n = min(self.settings.train_eval_samples, n)
        train_acc = self.accuracy(self.x_train[:n], self.t_train[:n])
        val_acc = None if self.x_val is None else self.accuracy(self.x_val, self.t_val)
        test_acc = None
        if self.x_test is not None and (final or self.x_val is None):
            test_acc = self.accuracy(self.x_test, self.t_test)
        self.history.add_epoch(self.iteration, train_acc, val_acc, None if self.x_val is not None else test_acc)
        if final:
            self.history.final = {
                "train_accuracy": train_acc,
                "test_accuracy": test_acc,
                "validation_accuracy": val_acc,
            }

    def check_divergence(self) -> None:
        """Stop with :class:`~nnlearn.base.errors.DivergenceError` when the loss is NaN/inf or its mean over
        ``settings.divergence_window`` iterations exceeds three times its start (or chance level)."""
        losses, w = self.history.train_loss_list, self.settings.divergence_window
        loss = losses[-1]
        if math.isfinite(loss):
            if self.epoch_end():
                w = min(w, self.iteration)
            elif self.iteration % w or self.iteration < w:
                return
            recent = math.fsum(losses[-w:]) / w
            if recent <= 3.0 * max(losses[0], self.chance_loss()):
                return
            what = _(
                "the loss exploded: its mean over iterations {first}-{last} is {recent:.4g}, up from {start:.4g} "
                "at the start",
                first=self.iteration - w + 1,
                last=self.iteration,
                recent=recent,
                start=losses[0],
            )
        else:
            what = _("the loss became {loss} at iteration {i}", loss=loss, i=self.iteration)
        kept = ""
        if self.last_checkpoint is not None:
            kept = _(
                "; the last good checkpoint (iteration {i}) is kept in {path}",
                i=self.last_checkpoint[0],
                path=self.last_checkpoint[1],
            )
        raise DivergenceError(
            _(
                "training diverged: {what}. The learning rate (lr={lr:g}) is likely too high -- lower it (the book uses "
                "0.1 with SGD), or scale the inputs to [0, 1]",
                what=what,
                lr=self.settings.lr,
            )
            + kept
        )

    def logs(self) -> MappingProxyType:
        """What callbacks are told: the last epoch's record, read-only (see :mod:`nnlearn.train.callbacks`)."""
        history = self.history
        last = lambda values: values[-1] if values else None
        return MappingProxyType(
            {
                "epoch": self.iteration / self.iter_per_epoch,
                "iteration": self.iteration,
                "loss": history.mean_loss(self.iter_per_epoch),
                "train_accuracy": last(history.train_acc_list),
                "validation_accuracy": last(history.val_acc_list),
                "test_accuracy": last(history.test_acc_list),
                "lr": self.optimizer.lr,
                "seconds": self.seconds,
            }
        )

    def accuracy(self, x, t) -> float:
        """Fraction of rows of ``x`` the network classifies as ``t`` says (labels, or soft targets' likeliest class)."""
        labels = t if t.ndim == 1 else np.argmax(t, axis=1)
        return int(np.count_nonzero(self.network.classify(x) == labels)) / x.shape[0]

    def chance_loss(self) -> float:
        """The loss of a network that knows nothing (uniform output)."""
        n_out = self.network.sizes[-1]
        if self.network.loss_type == "cross_entropy":
            return math.log(n_out)
        return 0.5 * (1.0 - 1.0 / n_out)

    def update_time(self) -> None:
        """Add the time since the last call to :attr:`seconds` (checkpoints record it)."""
        if self.started is not None:
            now = time.perf_counter()
            self.seconds += now - self.started
            self.started = now

    @property
    def description(self) -> str:
        """The network and settings in one line (:meth:`TrainSettings.describe`)."""
        return self.settings.describe(self.network.sizes[0], self.network.sizes[-1])

    def summary(self) -> dict:
        """Final accuracies and last batch loss (:meth:`History.summary`), iterations, epochs and seconds."""
        return self.history.summary() | {
            "iterations": self.iteration,
            "epochs": self.iteration / self.iter_per_epoch,
            "seconds": self.seconds,
        }

    def config(self) -> dict:
        """The settings that determine the run (a checkpoint only resumes under the same ones)."""
        return {
            "network": self.network.config(),
            "settings": self.settings.to_dict(),
            "iter_per_epoch": self.iter_per_epoch,
            "max_iter": self.max_iter,
            "train_size": self.train_size,
            "test_size": None if self.x_test is None else int(self.x_test.shape[0]),
            "validation_size": None if self.x_val is None else int(self.x_val.shape[0]),
        }

    # -- checkpoints (nnlearn.train.checkpoints writes and checks the file) ------------------------------

    def state(self) -> dict:
        """Everything the rest of the run depends on: ``{"arrays": {...}, "meta": {...}}`` (JSON-able meta)."""
        opt, record = self.optimizer.state_dict(), self.history.state_dict()
        arrays = {f"param_{k}": v for k, v in self.network.params.items()}
        arrays.update({f"opt_{k}": v for k, v in opt["arrays"].items()})
        arrays.update(record["arrays"])
        if self.perm is not None:
            arrays["perm"] = self.perm
        meta = {
            "iteration": self.iteration,
            "rng": self.rng.bit_generator.state,
            "optimizer_scalars": opt["scalars"],
            "optimizer_lr": self.optimizer.lr,
            "threads": self.choose_threads().record(),
            "seconds": self.seconds,
            **record["meta"],
            "config": self.config(),
        }
        return {"arrays": arrays, "meta": meta}

    def state_layout(self, iteration: int, n_epochs: int) -> dict:
        """``{name: (shape, dtype)}`` of the arrays of :meth:`state` after ``iteration`` iterations and ``n_epochs``."""
        params = {k: (v.shape, v.dtype) for k, v in self.network.params.items()}
        layout = {f"param_{k}": v for k, v in params.items()}
        if iteration > 0:  # the optimizer's state is made by its first update: one array per parameter
            for name in self.optimizer.state_names:
                layout.update({f"opt_{name}/{k}": v for k, v in params.items()})
        layout.update(self.history.layout(iteration, n_epochs))
        if self.settings.sampling == "shuffle" and iteration > 0:
            layout["perm"] = ((self.train_size,), None)
        return layout

    def load_state(self, state: dict) -> None:
        """Continue from what :meth:`state` gave (its arrays checked against :meth:`state_layout`); a missing
        or wrong entry of its meta raises ``KeyError``, ``TypeError`` or ``ValueError``."""
        arrays, meta = state["arrays"], state["meta"]
        part = lambda prefix: {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)}
        self.network.set_params(part("param_"))
        self.optimizer.load_state_dict({"arrays": part("opt_"), "scalars": meta["optimizer_scalars"]})
        self.optimizer.lr = float(meta["optimizer_lr"])
        recorded = checkpoints.recorded_threads(meta.get("threads"))
        self.threads = blas_threads.choose(self.threads_asked, recorded=recorded)
        self.rng.bit_generator.state = meta["rng"]
        self.seconds = float(meta["seconds"])
        self.history.load_state_dict(state)
        self.iteration = int(meta["iteration"])
        self.perm = arrays.get("perm")

    def save_checkpoint(self, path):
        """Write :meth:`state` to ``path``, atomically."""
        path = checkpoints.save(self, path)
        self.last_checkpoint = (self.iteration, path)
        return path

    def load_checkpoint(self, path) -> None:
        """Restore the state :meth:`save_checkpoint` saved (a run of the same settings and data sizes);
        training then continues bit for bit."""
        checkpoints.restore(self, path)
        self.last_checkpoint = (self.iteration, path)


def checked_data(network, x, t, split: str):
    """``x_SPLIT`` as rows of finite numbers for ``network`` (kept in their dtype: a batch is converted
    when drawn) and ``t_SPLIT`` as labels (one-hot rows become labels) or soft targets."""
    x = as_float_array(network.check_rows(x, f"x_{split}"), f"x_{split}")
    check_finite(x, f"x_{split}")
    t = network.check_t(t, x.shape[0], f"t_{split}", f"x_{split}")
    if t.ndim == 2 and is_one_hot(t):
        t = np.argmax(t, axis=1)
    return x, t
