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

:class:`Trainer` runs that loop from :class:`~nnlearn.settings.TrainSettings` with a seeded
``numpy.random.Generator`` and any optimizer; evaluation, checkpoints, the progress bar and the
divergence stop are callbacks (:mod:`nnlearn.callbacks`). A run resumes from a checkpoint bit for
bit and stops cleanly on Ctrl-C.

Differences from the book, each deliberate:

- The loss recorded for an iteration is the loss of the forward pass that gave the gradient
  (before the update); the book runs a second forward pass after the update to get it.
- Accuracies are taken after every ``iter_per_epoch`` updates (the book takes them after updates
  1, 601, 1201, ...), and once more after the last update, which is the final result.
- The gradient comes from an engine (:mod:`nnlearn.engines`), by default the fused one: the
  reference engine's backpropagation from preallocated buffers.
- With dropout, each iteration's masks are drawn from the run's Generator right after its batch
  (``network.dropout_masks(rng, batch_size)``), so a resumed run draws the same masks.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from nnlearn import engines
from nnlearn._validation import as_float_array, check_finite, check_labels, is_one_hot
from nnlearn.callbacks import standard_callbacks
from nnlearn.errors import FileFormatError, InputError, InputTypeError
from nnlearn.multi_layer_net import MultiLayerNet, build_network
from nnlearn.optimizer import get_optimizer
from nnlearn.saving import check_arrays, read_npz, write_npz
from nnlearn.settings import RECIPES, TrainSettings, recipe_settings
from nnlearn.threads import ThreadPolicy

CHECKPOINT_FORMAT = 2
_RESUME_FIX = "start the run again without --resume, or give the run folder it belongs to"


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on Ctrl-C (or a callback's ``KeyboardInterrupt``).

    Attributes
    ----------
    iteration : int
        The iteration the saved checkpoint holds (the run resumes from there).
    checkpoint : pathlib.Path or None
        Where the checkpoint is, if a :class:`~nnlearn.callbacks.Checkpoint` callback wrote one.
    """

    def __init__(self, iteration: int, checkpoint):
        self.iteration = iteration
        self.checkpoint = checkpoint
        where = f"; checkpoint at iteration {iteration} in {checkpoint}" if checkpoint else ""
        super().__init__(f"training interrupted{where}")


class Trainer:
    """Train a network by mini-batch gradient descent and judge it on test data.

    Parameters
    ----------
    network : MultiLayerNet
        Trained in place (``network.params`` change). Its description must match ``settings``'s
        dtype; its sizes and activation are its own.
    x_train, t_train : ndarray
        Training images (one row per sample) and integer labels (or one-hot rows).
    x_test, t_test : ndarray, optional
        Test data, evaluated at every epoch end -- or, with ``settings.validation``, once, at the end.
        Without it only training accuracy is recorded.
    settings : TrainSettings, default the book's recipe
        Optimizer, learning rate, batch size, length, sampling, schedule, engine, seed.
    callbacks : list of Callback, optional
        Default :func:`~nnlearn.callbacks.standard_callbacks` (divergence stop, evaluation,
        progress bar). A given list is used as it is.
    threads : int, "auto" or None
        BLAS threads: a count for the whole run, or (default: ``NNLEARN_THREADS``, else ``"auto"``) the
        free cores at the start, changed when a step slows down (:class:`~nnlearn.threads.ThreadPolicy`).

    With ``settings.validation`` (a share or a count), the **last** ``N`` training samples are held
    back before anything else (``N = round(share * len(x_train))``): the network never trains on them,
    each epoch is judged on them (``val_acc_list``), and the test set is judged once, after the last
    iteration (``final["test_accuracy"]``; ``test_acc_list`` holds ``None``). The last samples, not
    a random draw: MNIST's training set is already in random order (the last 10000 hold every digit
    about 1000 times), a slice is a view (no copy of the images), and the split is the same whatever
    the seed -- the usual ``validation_split`` convention.

    Attributes
    ----------
    train_loss_list : list of float
        The loss at every iteration (the weight decay term included).
    epoch_iterations, train_acc_list, val_acc_list, test_acc_list : list
        After how many iterations the accuracies were taken, and the accuracies (``None`` where a
        set was not judged).
    x_val, t_val : ndarray or None
        The held-back validation samples.
    iteration : int
        Iterations done.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((200, 4)); t = (x[:, 0] > x[:, 1]).astype(int)
    >>> net = MultiLayerNet(4, [8], 2, activation="sigmoid", weight_init_std=0.5, seed=0, dtype=np.float32)
    >>> settings = TrainSettings(lr=1.0, batch_size=10, iters=None, epochs=20)
    >>> trainer = Trainer(net, x[:150], t[:150], x[150:], t[150:], settings=settings)
    >>> result = trainer.train()
    >>> trainer.iter_per_epoch, trainer.iteration, len(trainer.train_loss_list)
    (15, 300, 300)
    >>> round(result["test_accuracy"], 2), round(result["train_accuracy"], 2)
    (1.0, 0.99)
    """

    def __init__(self, network, x_train, t_train, x_test=None, t_test=None, *, settings=RECIPES["book"],
                 callbacks=None, threads=None):
        if not isinstance(network, MultiLayerNet):
            raise InputTypeError(f"Trainer trains a MultiLayerNet or TwoLayerNet, got {type(network).__name__}")
        if not isinstance(settings, TrainSettings):
            raise InputTypeError(f"settings must be a TrainSettings, got {type(settings).__name__}")
        if network.dtype.name != settings.dtype:
            raise InputError(f"the network is {network.dtype.name} but the settings say {settings.dtype}; "
                             "build the network with the settings' dtype")
        if (network.weight_decay_lambda, network.dropout_ratio) != (settings.weight_decay, settings.dropout):
            raise InputError(
                f"the network has weight_decay_lambda={network.weight_decay_lambda:g}, "
                f"dropout_ratio={network.dropout_ratio:g} but the settings say weight_decay={settings.weight_decay:g}, "
                f"dropout={settings.dropout:g}; build the network with the settings' values (build_trainer does)"
            )
        self.network = network
        self.settings = settings
        x_train, t_train = _check_data(network, x_train, t_train, "train")
        self.x_val = self.t_val = None
        if settings.validation is not None:
            n = x_train.shape[0]
            n_val = validation_size(settings.validation, n)
            self.x_val, self.t_val = x_train[n - n_val:], t_train[n - n_val:]
            x_train, t_train = x_train[: n - n_val], t_train[: n - n_val]
        self.x_train, self.t_train = x_train, t_train
        if (x_test is None) != (t_test is None):
            raise InputError("give both x_test and t_test, or neither")
        if x_test is not None:
            self.x_test, self.t_test = _check_data(network, x_test, t_test, "test")
        else:
            self.x_test = self.t_test = None
        self.train_size = self.x_train.shape[0]
        self.batch_size = settings.batch_size
        if settings.sampling == "shuffle" and self.batch_size > self.train_size:
            raise InputError(
                f"batch_size {self.batch_size} is larger than the {self.train_size} training samples; "
                "lower it or use sampling='replacement'"
            )
        # The book: iter_per_epoch = max(train_size / batch_size, 1), counted in whole iterations.
        self.iter_per_epoch = max(self.train_size // self.batch_size, 1)
        self.max_iter = settings.iters if settings.iters is not None else settings.epochs * self.iter_per_epoch
        self.optimizer = get_optimizer(settings.optimizer, lr=settings.lr)
        self.rng = np.random.default_rng(settings.seed)
        self.callbacks = standard_callbacks() if callbacks is None else list(callbacks)
        kind = engines.BACKPROP if settings.grad == "backprop" else engines.NUMERICAL
        self.engine = network.engine(settings.engine_name, kind)
        #: How many BLAS threads the run uses (``threads``, else NNLEARN_THREADS, else the free cores).
        check = engines.step_check(network, self.engine, self.x_train[: self.batch_size],
                                   self.t_train[: self.batch_size], self.batch_size)
        self.threads = ThreadPolicy(threads, check)

        self.iteration = 0
        self.train_loss_list: list[float] = []
        self.epoch_iterations: list[int] = []
        self.train_acc_list: list[float] = []
        self.val_acc_list: list[float | None] = []
        self.test_acc_list: list[float | None] = []
        self.seconds = 0.0
        self.final: dict | None = None
        #: ``(iteration, path)`` of the last checkpoint written or loaded.
        self.last_checkpoint = None
        self.perm = None
        self.batch_buffer = None
        self.stop_requested = False
        self.started = None

    # -- the loop ------------------------------------------------------------------------------

    def train(self) -> dict:
        """Train until ``max_iter`` iterations are done; return :meth:`summary`.

        Raises
        ------
        DivergenceError
            The loss became NaN/inf or exploded (the last good checkpoint is kept).
        TrainingInterrupted
            Ctrl-C, SIGTERM or a callback's ``KeyboardInterrupt``; checkpoint callbacks saved the
            last complete iteration.
        """
        self.started = time.perf_counter()
        previous_handler = self._install_sigint()
        consistent = True
        # Overflow on the way to divergence is expected; the divergence stop reports it clearly.
        errors = np.seterr(over="ignore", invalid="ignore")
        self.threads.start()
        try:
            for cb in self.callbacks:
                cb.on_train_begin(self)
            while self.iteration < self.max_iter:
                consistent = False
                loss = self.step()
                self.iteration += 1
                self.train_loss_list.append(loss)
                if self.iteration % self.iter_per_epoch == 0 or self.iteration == self.max_iter:
                    self.update_time()
                    for cb in self.callbacks:
                        cb.on_epoch_end(self)
                # The iteration is complete (its epoch evaluated and saved): a Ctrl-C from here on
                # saves this state.
                consistent = True
                for cb in self.callbacks:
                    cb.on_step_end(self)
                if self.stop_requested:
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            if consistent:
                self.update_time()
                for cb in self.callbacks:
                    cb.on_interrupt(self)
            checkpoint = self.last_checkpoint
            raise TrainingInterrupted(
                self.iteration if consistent else (checkpoint[0] if checkpoint else 0),
                checkpoint[1] if checkpoint else None,
            ) from None
        finally:
            self.threads.stop()
            np.seterr(**errors)
            self.update_time()
            self.started = None
            for cb in self.callbacks:
                cb.on_train_end(self)
            self._restore_sigint(previous_handler)
        return self.summary()

    def step(self) -> float:
        """One iteration: draw a batch, compute its gradient, update the weights; the loss before the update."""
        started = time.perf_counter()
        idx = self.next_indices()
        x, t = self.gather(idx), self.t_train[idx]
        masks = self.network.dropout_masks(self.rng, len(idx)) if self.network.dropout_ratio else None
        if self.settings.lr_schedule == "cosine":
            self.optimizer.lr = self.settings.lr * 0.5 * (1.0 + math.cos(math.pi * self.iteration / self.max_iter))
        if self.settings.grad == "numerical":
            grads = engines.numerical_gradient(self.network, x, t, self.engine.name, masks=masks)
            loss = self.network.engine().loss(x, t, masks)
            self.optimizer.update(self.network.params, grads)
        else:
            loss, scaled_grads = self.engine.loss_and_gradient(x, t, scale=self.optimizer.gradient_scale(), masks=masks)
            self.optimizer.apply(self.network.params, scaled_grads)
        self.threads.observe(time.perf_counter() - started)
        return loss

    def gather(self, idx) -> np.ndarray:
        """The rows ``idx`` of the training images, in the network's dtype.

        The result is a buffer that the next call overwrites (a step uses its batch and is done).
        """
        x = self.x_train
        if self.batch_buffer is None or self.batch_buffer.shape[0] != len(idx):
            self.batch_buffer = np.empty((len(idx), x.shape[1]), dtype=self.network.dtype)
        if x.dtype != self.network.dtype:
            self.batch_buffer[...] = x[idx]
            return self.batch_buffer
        # Copying the rows straight into a reused buffer is about 4 us (15%) quicker than
        # ``x[idx]``. mode="clip" because the default "raise" copies them twice (through a
        # temporary, to leave ``out`` intact on an error); the indices are always in range, so
        # nothing is ever clipped.
        return np.take(x, idx, axis=0, out=self.batch_buffer, mode="clip")

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

    # -- what callbacks use --------------------------------------------------------------------

    def accuracy(self, x, labels) -> float:
        """Fraction of rows of ``x`` the network classifies as ``labels`` (checked data, in chunks)."""
        return int(np.count_nonzero(self.network.classify(x) == labels)) / x.shape[0]

    @property
    def t_train_labels(self) -> np.ndarray:
        return self.t_train if self.t_train.ndim == 1 else np.argmax(self.t_train, axis=1)

    @property
    def t_val_labels(self) -> np.ndarray:
        return self.t_val if self.t_val.ndim == 1 else np.argmax(self.t_val, axis=1)

    @property
    def t_test_labels(self) -> np.ndarray:
        return self.t_test if self.t_test.ndim == 1 else np.argmax(self.t_test, axis=1)

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

    def summary(self) -> dict:
        """Final accuracies, iterations and seconds (``None`` where not yet known).

        ``validation_accuracy`` is the last epoch's (``None`` without ``settings.validation``).

        ``last_batch_loss`` is the loss of the last mini-batch; ``final_loss`` (the same number,
        kept for older readers) is deprecated in favour of it.
        """
        final = self.final or {}
        last = self.train_loss_list[-1] if self.train_loss_list else None
        return {
            "train_accuracy": final.get("train_accuracy"),
            "test_accuracy": final.get("test_accuracy"),
            "validation_accuracy": self.val_acc_list[-1] if self.val_acc_list else None,
            "iterations": self.iteration,
            "epochs": self.iteration / self.iter_per_epoch,
            "last_batch_loss": last,
            "final_loss": last,
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

    # -- Ctrl-C --------------------------------------------------------------------------------

    def _install_sigint(self):
        """Ctrl-C (SIGINT) and ``kill`` (SIGTERM) finish the current iteration, save and stop."""
        self.stop_requested = False
        if threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum, frame):
            # The first signal stops after this iteration; a second Ctrl-C stops at once.
            self.stop_requested = True
            signal.signal(signal.SIGINT, signal.default_int_handler)

        try:
            return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        except ValueError:  # pragma: no cover - not the main interpreter
            return None

    def _restore_sigint(self, previous) -> None:
        for sig, handler in (previous or {}).items():
            signal.signal(sig, handler)

    # -- checkpoints ---------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """Everything the rest of the run depends on: ``{"arrays": {...}, "meta": {...}}``."""
        arrays = {f"param_{k}": v for k, v in self.network.params.items()}
        opt = self.optimizer.state_dict()
        arrays.update({f"opt_{k}": v for k, v in opt["arrays"].items()})
        arrays["train_loss"] = np.array(self.train_loss_list, dtype=np.float64)
        arrays["epoch_iterations"] = np.array(self.epoch_iterations, dtype=np.int64)
        arrays["train_acc"] = np.array(self.train_acc_list, dtype=np.float64)
        # No test set: -1 (a NaN would not pass the check that a checkpoint holds finite numbers).
        arrays["test_acc"] = np.array([-1.0 if a is None else a for a in self.test_acc_list], dtype=np.float64)
        if self.x_val is not None:
            arrays["val_acc"] = np.array(self.val_acc_list, dtype=np.float64)
        if self.perm is not None:
            arrays["perm"] = self.perm
        meta = {
            "format": CHECKPOINT_FORMAT,
            "iteration": self.iteration,
            "rng": self.rng.bit_generator.state,
            "optimizer_scalars": opt["scalars"],
            "optimizer_lr": self.optimizer.lr,
            "threads": self.threads.state(),
            "seconds": self.seconds,
            "final": self.final,
            "config": self.config(),
        }
        return {"arrays": arrays, "meta": meta}

    def save_checkpoint(self, path):
        """Write :meth:`state_dict` to ``path``, atomically."""
        state = self.state_dict()
        # A checkpoint is a run folder's own file wherever it is kept.
        path = write_npz(path, state["arrays"], state["meta"], in_run_folder=True)
        self.last_checkpoint = (self.iteration, path)
        return path

    def load_checkpoint(self, path) -> None:
        """Restore the state saved by :meth:`save_checkpoint`; training then continues bit for bit.

        The trainer must have been built with the same settings and data sizes as the one that
        wrote the checkpoint; the file must hold exactly the arrays such a run has, all finite.
        """
        arrays, meta = read_npz(path, "an nnlearn checkpoint", _RESUME_FIX)
        if meta.get("format") != CHECKPOINT_FORMAT:
            raise FileFormatError(
                f"{path} has checkpoint format {meta.get('format')!r}; this nnlearn reads {CHECKPOINT_FORMAT} -- "
                "finish the run with the nnlearn version that started it, or start it again"
            )
        mine, theirs = self.config(), _with_defaults(meta.get("config"))
        if mine != theirs:
            diff = sorted(k for k in set(mine) | set(theirs or {}) if mine.get(k) != (theirs or {}).get(k))
            raise FileFormatError(
                f"{path} was written by a run with different settings ({', '.join(diff)} differ); "
                "resume it with the settings it was started with"
            )
        try:
            iteration = int(meta["iteration"])
            n_epochs = len(arrays.get("epoch_iterations", ()))
            expected = {f"param_{k}": (v.shape, v.dtype) for k, v in self.network.params.items()}
            if iteration > 0:
                expected.update({f"opt_{name}/{k}": (v.shape, v.dtype) for name in self.optimizer.state_names
                                 for k, v in self.network.params.items()})
            expected.update({
                "train_loss": ((iteration,), np.float64), "epoch_iterations": ((n_epochs,), np.int64),
                "train_acc": ((n_epochs,), np.float64), "test_acc": ((n_epochs,), np.float64),
            })
            if self.settings.sampling == "shuffle" and iteration > 0:
                expected["perm"] = ((self.train_size,), None)
            if self.x_val is not None:
                expected["val_acc"] = ((n_epochs,), np.float64)
            check_arrays(path, arrays, expected, _RESUME_FIX)
            self.network.set_params({k[len("param_"):]: v for k, v in arrays.items() if k.startswith("param_")})
            self.optimizer.load_state_dict(
                {"arrays": {k[len("opt_"):]: v for k, v in arrays.items() if k.startswith("opt_")},
                 "scalars": meta["optimizer_scalars"]}
            )
            self.optimizer.lr = float(meta["optimizer_lr"])
            self.threads.resume(meta.get("threads"))
            self.rng.bit_generator.state = meta["rng"]
            self.seconds = float(meta["seconds"])
            self.final = meta["final"]
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, FileFormatError):
                raise
            raise FileFormatError(f"{path} is a damaged nnlearn checkpoint ({exc!r}); {_RESUME_FIX}") from None
        self.iteration = iteration
        self.train_loss_list = arrays["train_loss"].tolist()
        self.epoch_iterations = arrays["epoch_iterations"].tolist()
        self.train_acc_list = arrays["train_acc"].tolist()
        self.test_acc_list = [None if a < 0 else a for a in arrays["test_acc"].tolist()]
        self.val_acc_list = arrays["val_acc"].tolist() if self.x_val is not None else [None] * len(self.train_acc_list)
        self.perm = arrays.get("perm")
        self.last_checkpoint = (self.iteration, path)


def validation_size(validation, train_size: int) -> int:
    """How many of ``train_size`` samples a validation share (or count) holds back.

    Examples
    --------
    >>> validation_size(0.1, 60000), validation_size(10000, 60000)
    (6000, 10000)
    """
    n_val = validation if isinstance(validation, int) else round(validation * train_size)
    if n_val < 1 or n_val >= train_size:
        what = f"{n_val} of the {train_size} training samples"
        raise InputError(
            f"validation={validation!r} holds back {what}, leaving "
            + ("no validation data" if n_val < 1 else "no training data")
            + "; give a share in (0, 1) or a count that leaves samples on both sides"
        )
    return n_val


def _with_defaults(config):
    """A checkpoint's config with what older files lack filled in (no validation, no regularisers)."""
    if not isinstance(config, dict):
        return config
    config = {"validation_size": None, **config}
    try:
        config["settings"] = TrainSettings.from_dict(config["settings"]).to_dict()
        config["network"] = {"weight_decay_lambda": 0.0, "dropout_ratio": 0.0, **config["network"]}
    except (KeyError, TypeError, InputError):
        pass  # left as it is: the comparison then names what differs
    return config


def _check_data(network, x, t, split: str):
    x = np.asarray(x)
    if x.ndim > 2:
        x = x.reshape(x.shape[0], -1)
    if x.ndim != 2 or x.shape[0] == 0:
        raise InputError(f"x_{split} must hold one sample per row, got shape {x.shape}")
    if x.shape[1] != network.sizes[0]:
        raise InputError(
            f"x_{split} has {x.shape[1]} values per sample but the network's input_size is {network.sizes[0]}"
        )
    x = as_float_array(x, f"x_{split}")
    check_finite(x, f"x_{split}")
    t = np.asarray(t)
    n_out = network.sizes[-1]
    if t.ndim == 2 and t.shape == (x.shape[0], n_out):
        if is_one_hot(t):
            t = check_labels(np.argmax(t, axis=1), n_out, f"t_{split}")
        else:
            t = as_float_array(t, f"t_{split}")
    elif t.shape == (x.shape[0],):
        t = check_labels(t, n_out, f"t_{split}")
    else:
        raise InputError(
            f"t_{split} has shape {t.shape} but x_{split} holds {x.shape[0]} samples; give one label per sample"
        )
    return x, t


# -- training by recipe --------------------------------------------------------------------------


def build_network_for(settings: TrainSettings, input_size: int, n_classes: int) -> MultiLayerNet:
    """A fresh network as ``settings`` describe it (a TwoLayerNet for one sigmoid hidden layer)."""
    two_layer = settings.activation == "sigmoid" and len(settings.hidden) == 1 and settings.loss == "cross_entropy"
    config = {
        "weight_decay_lambda": settings.weight_decay,
        "dropout_ratio": settings.dropout,
        "class": "TwoLayerNet" if two_layer else "MultiLayerNet",
        "input_size": input_size,
        "hidden_size_list": list(settings.hidden),
        "output_size": n_classes,
        "activation": settings.activation,
        "weight_init_std": settings.weight_init_std,
        "loss": settings.loss,
        "dtype": settings.dtype,
    }
    return build_network(config, seed=settings.seed)


def infer_classes(t) -> int:
    """The number of classes that labels (0..C-1) or one-hot rows ``t`` imply."""
    t = np.asarray(t)
    if t.ndim == 2:
        return int(t.shape[1])
    if t.size == 0:
        raise InputError("t_train is empty; pass at least one labelled sample")
    if t.dtype.kind not in "iuf":
        raise InputError(f"t_train must hold integer class labels 0..C-1, got an array of {t.dtype}")
    low, high = np.min(t), np.max(t)
    if low >= 1:
        raise InputError(
            f"t_train's labels run from {low:g} to {high:g}, but class labels start at 0; subtract {low:g} from them"
        )
    return int(high) + 1


def build_trainer(settings: TrainSettings, x_train, t_train, x_test=None, t_test=None, *, n_classes=None,
                  callbacks=None, threads=None) -> Trainer:
    """A fresh network and its :class:`Trainer` from ``settings``."""
    x = np.asarray(x_train)
    if x.ndim < 2 or x.shape[0] == 0 or x[0].size == 0:
        raise InputError(f"x_train must hold at least one sample per row, got shape {x.shape}")
    net = build_network_for(settings, int(np.prod(x.shape[1:])), n_classes or infer_classes(t_train))
    return Trainer(net, x_train, t_train, x_test, t_test, settings=settings, callbacks=callbacks, threads=threads)


@dataclass
class TrainedModel:
    """A trained network with its trainer's record (the result of :func:`train_arrays`).

    ``predict`` means what it means on a network: the output probabilities; ``classify`` gives labels.
    """

    network: MultiLayerNet
    trainer: Trainer
    settings: TrainSettings
    summary: dict = field(default_factory=dict)

    @property
    def description(self) -> str:
        return self.settings.describe(self.network.sizes[0], self.network.sizes[-1])

    def predict(self, x) -> np.ndarray:
        """The softmax probabilities of each row of ``x``."""
        return self.network.predict(x)

    def classify(self, x) -> np.ndarray:
        """The predicted class of each row of ``x``."""
        return self.network.classify(x)


def train_arrays(x_train, t_train, x_test=None, t_test=None, *, recipe="book", progress=None, callbacks=(),
                 live=False, **overrides) -> TrainedModel:
    """Train a recipe's network on arrays and return the :class:`TrainedModel`.

    ``overrides`` are :class:`~nnlearn.settings.TrainSettings` fields (``lr=0.5``, ``epochs=3``,
    ``seed=1``, ...); ``callbacks`` are added to the standard ones. ``live=True`` adds a
    :class:`~nnlearn.live.LivePlot`: in a notebook, the curves redrawn in place every epoch.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((300, 4)); t = (x[:, 0] + x[:, 1] > 1).astype(int)
    >>> model = train_arrays(x, t, recipe="strong", hidden=[16], epochs=100, batch_size=30, lr=0.01,
    ...                      progress=False)
    >>> model.description
    '4-16-2 relu, he init, adam lr 0.01, cosine lr decay, batch 30, 100 epochs, float32'
    >>> float(np.mean(model.classify(x) == t))
    0.9933333333333333
    """
    settings = recipe_settings(recipe, **overrides)
    if live:
        from nnlearn.live import LivePlot

        callbacks = [*callbacks, LivePlot()]
    trainer = build_trainer(settings, x_train, t_train, x_test, t_test,
                            callbacks=[*standard_callbacks(progress), *callbacks])
    summary = trainer.train()
    return TrainedModel(trainer.network, trainer, settings, summary)
