"""The path the weights took: every parameter at the start of a run and at every epoch end.

:class:`Trajectory` is a callback (:mod:`nnlearn.train.callbacks`) that ``nnlearn train`` adds to a run
unless told ``--no-trajectory``. It keeps the snapshots in memory and rewrites ``trajectory.npz``
in the run folder, atomically, after each one::

    iterations   (K,) int64     0, then each epoch end; the last is the run's last iteration
    weights      (K, P)         every parameter flattened in the network's order (W1, b1, W2, ...),
                                in the network's dtype; row K-1 is the trained network, model.npz
    meta         {"format": 1, "params": [[key, shape], ...], "dtype": ...}

:mod:`nnlearn.see.landscape` projects this path onto a plane through the trained weights. The book's
recipe keeps 18 snapshots of 39,760 float32 parameters (2.9 MB); the strong recipe 9 snapshots of
535,818 (19.3 MB; BENCHMARKS.md has the time it costs).

A resumed run keeps the snapshots up to its checkpoint and ends with the same file as one run straight
through; one resumed without a ``trajectory.npz`` keeps none (a path with a hole would be a wrong picture).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from nnlearn.base.errors import FileFormatError
from nnlearn.base.files import atomic_write
from nnlearn.base.i18n import N_, _
from nnlearn.common.saving import read_npz
from nnlearn.train.callbacks import Callback

TRAJECTORY_FILE = "trajectory.npz"
FORMAT = 1
#: The largest trajectory file read (a 1.3-million-parameter float32 network, 100 epochs, is 520 MB).
MAX_TRAJECTORY_BYTES = 1 << 30
_FIX = N_("train the run again to record it, or drop the file (the landscape's random directions need no trajectory)")


def param_layout(net) -> list:
    """``[[key, shape], ...]`` of a network's parameters in order: how a flat vector is cut up."""
    return [[key, list(value.shape)] for key, value in net.params.items()]


def flatten_params(params: dict, dtype=None) -> np.ndarray:
    """All parameters as one vector, in the dict's order (``W1``, ``b1``, ``W2``, ...).

    Examples
    --------
    >>> flatten_params({"W1": np.ones((2, 2)), "b1": np.zeros(2)})
    array([1., 1., 1., 1., 0., 0.])
    """
    return np.concatenate([np.asarray(v, dtype=dtype).reshape(-1) for v in params.values()])


def unflatten_params(vector, layout) -> dict:
    """The inverse of :func:`flatten_params` for a :func:`param_layout`: ``{key: array view}``.

    Examples
    --------
    >>> unflatten_params(np.arange(6.0), [["W1", [2, 2]], ["b1", [2]]])["b1"]
    array([4., 5.])
    """
    out, start = {}, 0
    for key, shape in layout:
        size = int(np.prod(shape, dtype=np.int64))
        out[key] = vector[start : start + size].reshape(shape)
        start += size
    return out


def is_snapshot_iteration(iteration: int, iter_per_epoch: int, max_iter: int) -> bool:
    """Whether a run keeps a snapshot after ``iteration``: the start, each epoch end, the last iteration."""
    return iteration == 0 or iteration % iter_per_epoch == 0 or iteration == max_iter


class Trajectory(Callback):
    """Record the network's parameters at the start and after every epoch into ``path`` (``trajectory.npz``).

    After the Checkpoint callback: a process killed between the two writes resumes from a checkpoint the
    trajectory has not reached, and the snapshot is taken again from the same weights.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.iterations: list[int] = []
        self.weights: list[np.ndarray] = []
        self.active = True

    def on_train_begin(self, logs) -> None:
        trainer = self.trainer
        snapshot = lambda it: is_snapshot_iteration(it, trainer.iter_per_epoch, trainer.max_iter)
        if trainer.iteration == 0:
            self.iterations, self.weights = [], []
        elif not os.path.lexists(self.path):
            self.active = False  # started without a trajectory: keep none rather than half of one
            return
        else:
            iterations, weights, _meta = read_trajectory(self.path, trainer.network)
            keep = [k for k, it in enumerate(iterations) if it <= trainer.iteration and snapshot(it)]
            self.iterations = [int(iterations[k]) for k in keep]
            self.weights = [weights[k] for k in keep]
        if snapshot(trainer.iteration) and (not self.iterations or self.iterations[-1] != trainer.iteration):
            self.record()

    def on_epoch_end(self, epoch, logs) -> None:
        if self.active:
            self.record()

    def record(self) -> None:
        """Append the network's parameters now and rewrite the file."""
        trainer, net = self.trainer, self.trainer.network
        self.iterations.append(int(trainer.iteration))
        self.weights.append(flatten_params(net.params, net.dtype))
        meta = {"format": FORMAT, "params": param_layout(net), "dtype": net.dtype.name}
        # The layout of nnlearn.common.saving.write_npz, written straight into the file: through a BytesIO
        # first, as write_npz does, the strong recipe's 19 MB took twice as long.
        with atomic_write(self.path, in_run_folder=True) as fh:
            np.savez(
                fh,
                meta=np.array(json.dumps(meta)),
                iterations=np.array(self.iterations, dtype=np.int64),
                weights=np.stack(self.weights),
            )


def read_trajectory(path, net=None, max_bytes: int = MAX_TRAJECTORY_BYTES):
    """``(iterations, weights, meta)`` from a ``trajectory.npz`` (its size checked first), of ``net``'s
    parameters where given; anything wrong is one :class:`~nnlearn.base.errors.FileFormatError`."""

    def damaged(message: str, **fields) -> FileFormatError:
        return FileFormatError(_(message, path=path, fix=_(_FIX), **fields))

    try:
        size = os.stat(path).st_size
    except OSError:
        size = 0  # missing or unreadable: read_npz says which
    if size > max_bytes:
        raise damaged(
            N_("{path} is {size:,} bytes, more than a trajectory may have ({most:,}); {fix}"), size=size, most=max_bytes
        )
    arrays, meta = read_npz(
        path,
        N_("a trajectory written by nnlearn"),
        _FIX,
        expect=lambda meta: {"iterations": (None, np.int64), "weights": (None, None)},
    )
    if meta.get("format") != FORMAT:
        raise damaged(N_("{path} is not a trajectory of format {format}; {fix}"), format=FORMAT)
    iterations, weights = arrays["iterations"], arrays["weights"]
    layout = meta.get("params")
    try:
        n_params = sum(int(np.prod(shape, dtype=np.int64)) for _name, shape in layout)
    except (TypeError, ValueError):
        raise damaged(N_("{path} has no readable parameter layout; {fix}")) from None
    if iterations.ndim != 1 or not len(iterations) or np.any(np.diff(iterations) <= 0) or iterations[0] < 0:
        raise damaged(N_("{path}: its iterations are not an increasing list of whole numbers; {fix}"))
    k = len(iterations)
    if weights.dtype.kind != "f" or weights.shape != (k, n_params) or not np.isfinite(weights).all():
        raise damaged(N_("{path}: its weights are not {k} finite rows of {n} numbers; {fix}"), k=k, n=n_params)
    if net is not None and (layout != param_layout(net) or weights.dtype != net.dtype):
        raise damaged(N_("{path} was recorded for another network than this run's model; {fix}"))
    return iterations, weights, meta
