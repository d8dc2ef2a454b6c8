"""One trial (a Dask task) and its record, ``trials/NNNN.json``.

A trial is a pure function of its arguments (:func:`run_trial`): no files, no global state, so
that Dask may run it again on another worker when one dies. Its result is a record -- the trial's
number, state, validation accuracy and curve, seconds, worker and reason -- which the driver writes
into the sweep folder. A record read back is checked (:func:`read_record`): a sweep folder is data
that may come from anywhere.
"""

from __future__ import annotations

import time

import numpy as np

from nnlearn.base.errors import FileFormatError, NnlearnError
from nnlearn.base.files import read_json
from nnlearn.train.settings import TrainSettings
from nnlearn.train.tables import finite
from nnlearn.train.training import build_trainer

#: The states a finished trial's record holds (Optuna's names).
STATES = ("COMPLETE", "FAIL")


def record(number: int, state: str = "COMPLETE", reason: str | None = None, worker: str | None = None) -> dict:
    """A trial's record with nothing measured yet."""
    return {
        "number": number,
        "state": state,
        "value": None,
        "curve": [],
        "epochs": [],
        "seconds": None,
        "worker": worker,
        "reason": reason,
    }


def run_trial(data: dict, settings: dict, n_val: int, number: int) -> dict:
    """Train ``settings`` on ``data``'s training part and judge it on its last ``n_val`` samples.

    A divergence or a refused setting is a failed trial with its reason, not an error.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((120, 4)).astype(np.float32); t = (x[:, 0] > x[:, 1]).astype(int)
    >>> s = {"hidden_size": [8], "activation": "relu", "weight_init_std": "he", "optimizer": "adam", "lr": 0.01,
    ...      "batch_size": 10, "iters": None, "epochs": 2}
    >>> r = run_trial({"x": x, "t": t, "n_classes": 2}, s, 20, 7)
    >>> r["number"], r["state"], len(r["curve"]), r["epochs"]
    (7, 'COMPLETE', 2, [1.0, 2.0])
    >>> run_trial({"x": x, "t": t, "n_classes": 2}, s | {"lr": 1e9, "optimizer": "sgd"}, 20, 8)["state"]
    'FAIL'
    """
    started = time.perf_counter()
    rec = record(number, worker=worker_name())
    x, t = data["x"], data["t"]
    if x.ctypes.data % 64:
        # Dask hands the scattered array over inside its message buffer, at any byte offset; a
        # misaligned float32 matrix trains about 2x slower (measured), so it is copied (~0.1 s for MNIST).
        x = np.array(x)
    try:
        # The trainer holds the last n_val samples back itself (its validation setting): no test set here.
        trainer = build_trainer(
            TrainSettings.from_dict(settings | {"validation": n_val}), x, t, n_classes=data["n_classes"], callbacks=[]
        )
        trainer.train()
    except NnlearnError as exc:  # DivergenceError included: a failed trial, and the sweep goes on
        rec.update(state="FAIL", reason=str(exc))
    else:
        rec.update(
            value=trainer.history.val_acc_list[-1],
            curve=list(trainer.history.val_acc_list),
            epochs=trainer.history.epochs(trainer.iter_per_epoch),
        )
    rec["seconds"] = time.perf_counter() - started
    return rec


def worker_name() -> str:
    """The address of the Dask worker running this, or ``local``."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):  # not inside a Dask worker
        return "local"


def check_record(rec, number: int) -> dict:
    """``rec`` if it is a record of trial ``number`` as :func:`run_trial` and the driver write it,
    else one :class:`~nnlearn.base.errors.FileFormatError` saying what is wrong."""
    if not isinstance(rec, dict) or rec.get("number") != number or rec.get("state") not in STATES:
        raise FileFormatError(f"not the record of trial {number} (number and state COMPLETE or FAIL)")
    if rec["state"] == "COMPLETE" and not finite(rec.get("value")):
        raise FileFormatError("a complete trial's record without its validation accuracy (value)")
    curve, epochs = rec.get("curve", []), rec.get("epochs", [])
    if not (
        isinstance(curve, list)
        and isinstance(epochs, list)
        and len(curve) == len(epochs)
        and all(finite(v) for v in curve + epochs)
    ):
        raise FileFormatError("curve and epochs must be lists of numbers of the same length")
    if not isinstance(rec.get("params", {}), dict):
        raise FileFormatError("params must be an object")
    for key in ("worker", "reason"):
        if not isinstance(rec.get(key), (str, type(None))):
            raise FileFormatError(f"{key} must be a text")
    if rec.get("seconds") is not None and not finite(rec["seconds"]):
        raise FileFormatError("seconds must be a number")
    return rec


def read_record(path, number: int) -> dict | None:
    """The checked record of trial ``number`` in ``path``; None when it is missing or damaged (the
    trial then counts as not recorded: a resume runs it again)."""
    try:
        return check_record(read_json(path), number)
    except (OSError, FileFormatError):
        return None
