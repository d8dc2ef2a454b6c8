"""Checkpoints: a trainer's whole state (:meth:`~nnlearn.train.trainer.Trainer.state`) in one ``.npz``, so
that a run resumes bit for bit. A checkpoint only resumes a trainer of the same configuration; anything
incomplete, damaged or written by another run is one :class:`~nnlearn.base.errors.FileFormatError` line.
"""

from __future__ import annotations

import contextlib

from nnlearn.base.errors import FileFormatError, InputError
from nnlearn.base.i18n import N_, _
from nnlearn.common.saving import check_arrays, check_checkpoint_meta, read_npz, write_npz
from nnlearn.train import threads
from nnlearn.train.settings import TrainSettings

FORMAT = 2
RESUME_FIX = N_("start the run again without --resume, or give the run folder it belongs to")


def save(trainer, path):
    """Write ``trainer``'s :meth:`~nnlearn.train.trainer.Trainer.state` to ``path``, atomically; returns the path."""
    state = trainer.state()
    # A checkpoint is a run folder's own file wherever it is kept.
    return write_npz(path, state["arrays"], {"format": FORMAT, **state["meta"]}, in_run_folder=True)


def check_config(trainer, path, meta: dict) -> None:
    """Refuse a checkpoint of another format or of a run with other settings."""
    if meta.get("format") != FORMAT:
        raise FileFormatError(
            _(
                "{path} has checkpoint format {format!r}; this nnlearn reads {ours} -- finish the run "
                "with the nnlearn version that started it, or start it again",
                path=path,
                format=meta.get("format"),
                ours=FORMAT,
            )
        )
    check_checkpoint_meta(path, meta, RESUME_FIX)
    mine, theirs = trainer.config(), with_defaults(meta.get("config"))
    if mine != theirs:
        diff = sorted(k for k in set(mine) | set(theirs or {}) if mine.get(k) != (theirs or {}).get(k))
        raise FileFormatError(
            _(
                "{path} was written by a run with different settings ({names} differ); resume it "
                "with the settings it was started with",
                path=path,
                names=", ".join(diff),
            )
        )


def restore(trainer, path) -> None:
    """Restore into ``trainer`` the state :func:`save` wrote; training then continues bit for bit."""
    arrays, meta = read_npz(path, "an nnlearn checkpoint", RESUME_FIX)
    check_config(trainer, path, meta)
    try:
        n_epochs = len(arrays.get("epoch_iterations", ()))
        check_arrays(path, arrays, trainer.state_layout(int(meta["iteration"]), n_epochs), RESUME_FIX)
        trainer.load_state({"arrays": arrays, "meta": meta})
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, FileFormatError):
            raise
        raise FileFormatError(
            _("{path} is a damaged nnlearn checkpoint ({reason!r}); {fix}", path=path, reason=exc, fix=_(RESUME_FIX))
        ) from None


def recorded_threads(saved) -> int | None:
    """The thread count a checkpoint's run was on (``None``: not recorded, as in a run that had no BLAS)."""
    # "count": checkpoints of nnlearn before 2026-12
    count = saved.get("threads", saved.get("count")) if isinstance(saved, dict) else None
    if isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= threads.MOST:
        return count
    return None


def with_defaults(config):
    """A checkpoint's config with what older files lack filled in (settings added since, no validation)."""
    if not isinstance(config, dict):
        return config
    config = {"validation_size": None, **config}
    with contextlib.suppress(KeyError, TypeError, InputError):  # else left as it is: the comparison names it
        config["settings"] = TrainSettings.from_dict(config["settings"]).to_dict()
        config["network"] = {"weight_decay_lambda": 0.0, "dropout_ratio": 0.0, **config["network"]}
    return config
