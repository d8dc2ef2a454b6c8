"""Checkpoints: a trainer's whole state in one file, so that a run resumes bit for bit.

A checkpoint (an ``.npz`` written by :func:`nnlearn.common.saving.write_npz`) holds the weights, the
optimizer's state, the loss and accuracy record, the shuffling permutation, and as metadata the
iteration, the random generator's state, the seconds trained and the run's configuration. A
checkpoint only resumes a trainer built with the same configuration; anything incomplete, damaged
or written by another run is one :class:`~nnlearn.base.errors.FileFormatError` line.
"""

from __future__ import annotations

import numpy as np

from nnlearn.train import threads
from nnlearn.base.errors import FileFormatError, InputError
from nnlearn.base.i18n import N_, _
from nnlearn.common.saving import check_arrays, check_checkpoint_meta, read_npz, write_npz
from nnlearn.train.settings import TrainSettings

FORMAT = 2
RESUME_FIX = N_("start the run again without --resume, or give the run folder it belongs to")


def state_of(trainer) -> dict:
    """Everything the rest of ``trainer``'s run depends on: ``{"arrays": {...}, "meta": {...}}``."""
    arrays = {f"param_{k}": v for k, v in trainer.network.params.items()}
    opt = trainer.optimizer.state_dict()
    arrays.update({f"opt_{k}": v for k, v in opt["arrays"].items()})
    arrays["train_loss"] = np.array(trainer.train_loss_list, dtype=np.float64)
    arrays["epoch_iterations"] = np.array(trainer.epoch_iterations, dtype=np.int64)
    arrays["train_acc"] = np.array(trainer.train_acc_list, dtype=np.float64)
    # No test set: -1 (a NaN would not pass the check that a checkpoint holds finite numbers).
    arrays["test_acc"] = np.array([-1.0 if a is None else a for a in trainer.test_acc_list], dtype=np.float64)
    if trainer.x_val is not None:
        arrays["val_acc"] = np.array(trainer.val_acc_list, dtype=np.float64)
    if trainer.perm is not None:
        arrays["perm"] = trainer.perm
    meta = {
        "format": FORMAT,
        "iteration": trainer.iteration,
        "rng": trainer.rng.bit_generator.state,
        "optimizer_scalars": opt["scalars"],
        "optimizer_lr": trainer.optimizer.lr,
        "threads": trainer.choose_threads().record(),
        "seconds": trainer.seconds,
        "final": trainer.final,
        "config": trainer.config(),
    }
    return {"arrays": arrays, "meta": meta}


def save(trainer, path):
    """Write :func:`state_of` ``trainer`` to ``path``, atomically; returns the path."""
    state = state_of(trainer)
    # A checkpoint is a run folder's own file wherever it is kept.
    return write_npz(path, state["arrays"], state["meta"], in_run_folder=True)


def expected_arrays(trainer, iteration: int, n_epochs: int) -> dict:
    """``{name: (shape, dtype)}`` of the arrays a checkpoint of ``trainer`` at ``iteration`` holds."""
    params = trainer.network.params
    expected = {f"param_{k}": (v.shape, v.dtype) for k, v in params.items()}
    if iteration > 0:
        expected.update({f"opt_{name}/{k}": (v.shape, v.dtype) for name in trainer.optimizer.state_names
                         for k, v in params.items()})
    expected.update({
        "train_loss": ((iteration,), np.float64), "epoch_iterations": ((n_epochs,), np.int64),
        "train_acc": ((n_epochs,), np.float64), "test_acc": ((n_epochs,), np.float64),
    })
    if trainer.settings.sampling == "shuffle" and iteration > 0:
        expected["perm"] = ((trainer.train_size,), None)
    if trainer.x_val is not None:
        expected["val_acc"] = ((n_epochs,), np.float64)
    return expected


def check_config(trainer, path, meta: dict) -> None:
    """Refuse a checkpoint of another format or of a run with other settings."""
    if meta.get("format") != FORMAT:
        raise FileFormatError(_("{path} has checkpoint format {format!r}; this nnlearn reads {ours} -- finish the run "
                                "with the nnlearn version that started it, or start it again", path=path,
                                format=meta.get("format"), ours=FORMAT))
    check_checkpoint_meta(path, meta, RESUME_FIX)
    mine, theirs = trainer.config(), with_defaults(meta.get("config"))
    if mine != theirs:
        diff = sorted(k for k in set(mine) | set(theirs or {}) if mine.get(k) != (theirs or {}).get(k))
        raise FileFormatError(_("{path} was written by a run with different settings ({names} differ); resume it "
                                "with the settings it was started with", path=path, names=", ".join(diff)))


def restore(trainer, path) -> None:
    """Restore into ``trainer`` the state :func:`save` wrote; training then continues bit for bit."""
    arrays, meta = read_npz(path, "an nnlearn checkpoint", RESUME_FIX)
    check_config(trainer, path, meta)
    try:
        iteration = int(meta["iteration"])
        check_arrays(path, arrays, expected_arrays(trainer, iteration, len(arrays.get("epoch_iterations", ()))),
                     RESUME_FIX)
        trainer.network.set_params({k[len("param_"):]: v for k, v in arrays.items() if k.startswith("param_")})
        trainer.optimizer.load_state_dict(
            {"arrays": {k[len("opt_"):]: v for k, v in arrays.items() if k.startswith("opt_")},
             "scalars": meta["optimizer_scalars"]}
        )
        trainer.optimizer.lr = float(meta["optimizer_lr"])
        trainer.threads = threads.choose(trainer.threads_asked, recorded=recorded_threads(meta.get("threads")))
        trainer.rng.bit_generator.state = meta["rng"]
        trainer.seconds = float(meta["seconds"])
        trainer.final = meta["final"]
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, FileFormatError):
            raise
        raise FileFormatError(_("{path} is a damaged nnlearn checkpoint ({reason!r}); {fix}", path=path, reason=exc,
                                fix=_(RESUME_FIX))) from None
    trainer.iteration = iteration
    trainer.train_loss_list = arrays["train_loss"].tolist()
    trainer.epoch_iterations = arrays["epoch_iterations"].tolist()
    trainer.train_acc_list = arrays["train_acc"].tolist()
    trainer.test_acc_list = [None if a < 0 else a for a in arrays["test_acc"].tolist()]
    trainer.val_acc_list = (arrays["val_acc"].tolist() if trainer.x_val is not None
                            else [None] * len(trainer.train_acc_list))
    trainer.perm = arrays.get("perm")
    trainer.last_checkpoint = (trainer.iteration, path)


def recorded_threads(saved) -> int | None:
    """The thread count a checkpoint's run was on (``None``: not recorded, as in a run that had no BLAS)."""
    if not isinstance(saved, dict):
        return None
    count = saved.get("threads", saved.get("count"))  # "count": checkpoints of nnlearn before 2026-12
    if isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= threads.MOST:
        return count
    return None


def with_defaults(config):
    """A checkpoint's config with what older files lack filled in (settings added since, no validation)."""
    if not isinstance(config, dict):
        return config
    config = {"validation_size": None, **config}
    try:
        config["settings"] = TrainSettings.from_dict(config["settings"]).to_dict()
        config["network"] = {"weight_decay_lambda": 0.0, "dropout_ratio": 0.0, **config["network"]}
    except (KeyError, TypeError, InputError):
        pass  # left as it is: the comparison then names what differs
    return config
