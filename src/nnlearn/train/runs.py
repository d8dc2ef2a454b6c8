"""Run directories: what ``nnlearn train`` writes, so that a run can be watched, resumed and judged.

A run directory holds::

    config.json      what was trained, how, on what (enough to resume or evaluate it)
    state.json       running, finished, stopped or diverged; the process id; when last written
    checkpoint.npz   the state at the last epoch (or Ctrl-C): weights, optimizer, RNG, metrics
    metrics.csv      the loss at every iteration (rewritten every epoch, and every few seconds)
    epochs.csv       train, test and validation accuracy after every epoch (empty where not judged)
    model.npz        the trained network
    loss.png         the loss curve
    accuracy.png     the book's figure: train vs test (or validation) accuracy per epoch
    summary.json     train_accuracy, test_accuracy, iterations, seconds, ...
    trajectory.npz   the weights at the start and every epoch end (nnlearn.train.trajectory; not with --no-trajectory)
    landscape.npz    written later by `nnlearn landscape`, with landscape.png (nnlearn.see.landscape)

Every file is written atomically, and a trainer holds a ``flock`` on the folder (:func:`claim_run_dir`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from nnlearn.base.errors import DivergenceError, FileFormatError, InputError, NnlearnError, OutputError
from nnlearn.base.files import (
    atomic_write,
    check_output_folder,
    make_folder,
    managed_folder,
    read_json,
    remove_stale_temp_files,
)
from nnlearn.base.i18n import N_, _
from nnlearn.common.networks import load_network
from nnlearn.common.saving import save_network
from nnlearn.train.callbacks import Callback, standard_callbacks
from nnlearn.train.settings import TrainSettings
from nnlearn.train.training import build_trainer
from nnlearn.train.trajectory import TRAJECTORY_FILE, Trajectory

STATES = ("running", "finished", "stopped", "diverged")
#: How a stopped run goes on (:func:`resume_hint`).
RESUME = N_("resume with: nnlearn train --resume {run}")
#: The figures of a run (:meth:`~nnlearn.train.history.History.figures`).
FIGURES = ("loss.png", "accuracy.png")
#: metrics.csv is rewritten at least this often (seconds) while a run trains, for live views.
LIVE_INTERVAL = 2.0


def write_text(path, text: str) -> None:
    """Write one of a run folder's own files (this module is the run folder's writer)."""
    with atomic_write(path, "w", in_run_folder=True) as fh:
        fh.write(text)


def write_json(path, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def default_run_dir(recipe: str, root="runs") -> Path:
    """``runs/RECIPE-DATE-TIME`` (with ``-2``, ``-3``, ... if taken)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{recipe}-{stamp}"
    path, n = base, 2
    while path.exists():
        path = base.with_name(f"{base.name}-{n}")
        n += 1
    return path


def check_run_dir(run, *, in_run_folder: bool = False) -> Path:
    """Refuse, with one :class:`~nnlearn.base.errors.OutputError` line, a run folder that is not ours to make:
    something other than a folder, or -- unless ``in_run_folder`` (a sweep's own final run) -- a folder
    inside another run or sweep folder, whose files nnlearn keeps (the run's own folder may hold a run)."""
    run = check_output_folder(run, in_run_folder=True)
    outer = None if in_run_folder else managed_folder(run)
    if outer is not None:
        raise OutputError(
            _(
                "refusing to make a run in {run}: it is inside the run or sweep folder {outer}, whose "
                "files nnlearn keeps; choose a folder outside it",
                run=run,
                outer=outer,
            )
        )
    return run


def new_run_dir(out=None, recipe: str = "book") -> Path:
    """The folder of a new run: ``out``, else ``runs/RECIPE-DATE-TIME`` (:func:`check_run_dir`). A folder
    that already holds a run is an :class:`~nnlearn.base.errors.InputError` naming ``--resume``."""
    run = Path(out) if out else default_run_dir(recipe)
    check_run_dir(run)
    if (run / "config.json").exists() or (run / "checkpoint.npz").exists():
        raise InputError(
            _("{run} already holds a training run; continue it with --resume {run} or choose another --out", run=run)
        )
    return run


def run_to_resume(run, data_dir=None) -> tuple:
    """``(settings, recipe, dataset, data folder)`` of the run in the folder ``run``, as it was started;
    ``data_dir``: the data folder given instead of the one it trained from."""
    config = read_config(run)
    settings = TrainSettings.from_dict(config["settings"] | {"seed": config.get("seed", 0)})
    return settings, config["recipe"], config["dataset"], data_dir_of(config, data_dir)


def claim_run_dir(run, *, in_run_folder: bool = False) -> int | None:
    """Make the run directory (:func:`check_run_dir`), lock it for this process's training and remove the
    temporary files a killed process left in it; the descriptor holding the lock.

    A ``flock`` on the folder itself leaves no lock file behind: the end of the process, however it ends,
    releases it. A folder another process trains into is one line naming its pid. None where the file
    system cannot lock a folder (an NFS mount may refuse): the run goes on unlocked.
    """
    run = check_run_dir(run, in_run_folder=in_run_folder)
    make_folder(run)
    lock = None
    try:
        lock = os.open(run, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        try:
            pid = read_json(run / "state.json").get("pid")
        except (OSError, NnlearnError, AttributeError):
            pid = None
        who = (
            _("another process (pid {pid})", pid=pid)
            if isinstance(pid, int) and pid != os.getpid()
            else _("another process")
        )
        raise NnlearnError(
            _(
                "{run} is being trained by {who}; wait for it to finish, or stop it and then {resume}",
                run=run,
                who=who,
                resume=_(RESUME, run=run),
            )
        ) from None
    except OSError:  # EBADF, ENOLCK, EOPNOTSUPP: no folder locks here
        if lock is not None:
            os.close(lock)
        lock = None
    except BaseException:
        if lock is not None:
            os.close(lock)
        raise
    remove_stale_temp_files(run)  # under the lock: no other trainer is writing here
    return lock


def read_config(run) -> dict:
    """The ``config.json`` of a run directory, or a one-line error saying what is wrong."""
    run = Path(run)
    if not run.is_dir():
        raise NnlearnError(_("{run} is not a directory; give the run directory that `nnlearn train` wrote", run=run))
    path = run / "config.json"
    try:
        config = read_json(path)
    except FileNotFoundError:
        raise NnlearnError(_("{run} holds no config.json, so it is not an nnlearn run directory", run=run)) from None
    except OSError as exc:
        raise FileFormatError(_("{path} cannot be read ({reason})", path=path, reason=exc.strerror or exc)) from None
    if not isinstance(config, dict) or not {"recipe", "dataset", "settings"} <= set(config):
        raise FileFormatError(
            _("{path} is not an nnlearn run configuration (recipe, dataset, settings missing)", path=path)
        )
    if not isinstance(config["settings"], dict):
        raise FileFormatError(_("{path} is damaged: its settings are not an object; the run cannot be used", path=path))
    return config


def data_dir_of(config: dict, given=None):
    """The data folder for a run: the one the user ``given`` (``--data-dir``), else the one it trained from."""
    return given or config.get("data_dir")


def load_model(run):
    """``(config, network)`` of a finished run."""

    run = Path(run)
    config = read_config(run)
    if not os.path.lexists(run / "model.npz"):  # a link loop is there, and read_npz says what it is
        raise NnlearnError(
            _(
                "{run} holds no model.npz: the run has not finished; continue it with: nnlearn train --resume {run}",
                run=run,
            )
        )
    return config, load_network(run / "model.npz")


def write_state(run, state: str, reason: str | None = None) -> None:
    """Record the run's state (one of :data:`STATES`) with this process's id and the time."""
    write_json(Path(run) / "state.json", {"state": state, "pid": os.getpid(), "updated": time.time(), "reason": reason})


def write_metrics(run, trainer) -> None:
    """``metrics.csv`` (loss per iteration) and ``epochs.csv`` (accuracies per epoch)."""
    run = Path(run)
    write_text(run / "metrics.csv", trainer.history.metrics_csv())
    write_text(run / "epochs.csv", trainer.history.epochs_csv(trainer.iter_per_epoch))


def peak_rss_mb() -> float | None:
    """This process's peak resident memory in MiB (Linux's ``VmHWM`` first: ``ru_maxrss`` can carry over the
    parent's peak across fork + exec)."""
    with contextlib.suppress(OSError), open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kilobytes on Linux
    except (ImportError, OSError):  # pragma: no cover - not on Linux
        return None


class RunWriter(Callback):
    """Keep a run directory up to date: metrics at every epoch end (and every few seconds, for
    live views), the state, and one log line per epoch on ``stream`` (default stdout)."""

    def __init__(self, run, stream=None, log: bool = True):
        self.run = Path(run)
        self.stream = stream
        self.log = log
        self.last_write = 0.0

    def on_train_begin(self, logs) -> None:
        write_state(self.run, "running")
        self.last_write = time.monotonic()

    def on_step_end(self, iteration, loss) -> None:
        if iteration % 50 == 0 and time.monotonic() - self.last_write > LIVE_INTERVAL:
            self._write()

    def on_epoch_end(self, epoch, logs) -> None:
        self._write()
        if self.log:
            from tqdm import tqdm

            test = "".join(
                _("  {name} acc {value:.4f}", name=_(name), value=logs[key])
                for name, key in ((N_("validation"), "validation_accuracy"), (N_("test"), "test_accuracy"))
                if logs[key] is not None
            )
            tqdm.write(
                _(
                    "epoch {epoch:5.2f}  iteration {iteration:>6}  mean loss of the epoch {loss:.4f}  train acc {train:.4f}",
                    epoch=epoch,
                    iteration=logs["iteration"],
                    loss=logs["loss"],
                    train=logs["train_accuracy"],
                )
                + test,
                file=self.stream or sys.stdout,
            )

    def _write(self) -> None:
        write_metrics(self.run, self.trainer)
        self.last_write = time.monotonic()


def resume_hint(run) -> str:
    return _(RESUME, run=run)


@dataclass
class Run:
    """A run folder and the trainer that trains into it (see :func:`open_run`).

    ``how`` says what :func:`open_run` found: ``"new"`` (nothing: a new run), ``"resumed"`` (its
    checkpoint, continued), ``"restarted"`` (a run killed before its first checkpoint, or another
    run's folder when allowed, started again) or ``"finished"`` (nothing left to train).
    """

    path: Path
    trainer: object
    recipe: str
    dataset: str
    how: str
    #: The descriptor of the folder's lock (:func:`claim_run_dir`), held until :meth:`finish` ends.
    lock: int | None = field(default=None, repr=False)

    def finish(self, load_seconds: float = 0.0) -> dict:
        """Train to the end (:func:`finish_run`); the summary. The folder's lock goes with it."""
        try:
            return finish_run(
                self.path, self.trainer, recipe=self.recipe, dataset=self.dataset, load_seconds=load_seconds
            )
        finally:
            self.release()

    def release(self) -> None:
        """Let another process train into the folder (also done when the Run is dropped unfinished)."""
        fd, self.lock = self.lock, None
        if fd is not None:
            os.close(fd)

    def __del__(self):
        self.release()


def open_run(
    run,
    settings,
    data,
    *,
    recipe: str,
    dataset: str,
    data_dir=None,
    n_classes=None,
    progress=None,
    log: bool = True,
    other_run: str = "refuse",
    in_run_folder: bool = False,
    threads=None,
    trajectory: bool = True,
) -> Run:
    """The one lifecycle of a run folder, for ``nnlearn train`` and a sweep's final run: build the
    trainer for ``settings`` on ``data`` (``(x_train, t_train), (x_test, t_test)``) before the folder is
    made (bad settings leave no folder behind), then continue the folder's run from its checkpoint, or
    start it. A checkpoint of other settings is refused (``other_run="refuse"``) or started again
    (``"restart"``: a sweep's final run after the best trial changed); ``in_run_folder``: the run may lie
    inside a sweep folder.
    """

    run = Path(run)
    (x_train, t_train), (x_test, t_test) = data

    trainer = build_trainer(
        settings,
        x_train,
        t_train,
        x_test,
        t_test,
        n_classes=n_classes,
        callbacks=[
            *standard_callbacks(progress, checkpoint=run / "checkpoint.npz"),
            *([Trajectory(run / TRAJECTORY_FILE)] if trajectory else []),
            RunWriter(run, log=log),
        ],
        threads=threads,
    )
    lock = claim_run_dir(run, in_run_folder=in_run_folder)
    try:
        how = "restarted" if (run / "config.json").exists() else "new"
        if how == "restarted" and os.path.lexists(run / "checkpoint.npz"):
            try:
                trainer.load_checkpoint(run / "checkpoint.npz")
                finished = trainer.iteration >= trainer.max_iter and (run / "summary.json").exists()
                how = "finished" if finished else "resumed"
            except FileFormatError:
                if other_run != "restart":
                    raise
                trainer = build_trainer(
                    settings,
                    x_train,
                    t_train,
                    x_test,
                    t_test,
                    n_classes=n_classes,
                    callbacks=trainer.callbacks,
                    threads=threads,
                )
        if how in ("new", "restarted"):
            (run / "checkpoint.npz").unlink(missing_ok=True)
            start_run(run, trainer, recipe=recipe, dataset=dataset, data_dir=data_dir)
    except BaseException:
        if lock is not None:
            os.close(lock)
        raise
    return Run(run, trainer, recipe, dataset, how, lock)


def start_run(run, trainer, *, recipe: str, dataset: str, data_dir=None) -> None:
    """Write a new run's ``config.json`` into its folder (made by :func:`claim_run_dir`)."""
    from importlib.metadata import version

    run = Path(run)
    write_json(
        run / "config.json",
        {
            "recipe": recipe,
            "dataset": dataset,
            "seed": trainer.settings.seed,
            "settings": trainer.settings.to_dict(),
            "data_dir": None if data_dir is None else str(Path(data_dir).resolve()),
            "network": trainer.network.config(),
            "trainer": trainer.config(),
            "nnlearn_version": version("nnlearn"),
            "threads": trainer.choose_threads().record(),
        },
    )


def finish_run(run, trainer, *, recipe: str, dataset: str, load_seconds: float = 0.0) -> dict:
    """Train to the end with ``trainer``, then write the model, the figures, ``summary.json`` and the final
    state; the summary. Whatever stops it (Ctrl-C, a divergence, a full disk, a bug) is recorded
    (:func:`stopped`) and raised on.
    """

    run, when = Path(run), ""
    try:
        if trainer.iteration < trainer.max_iter:
            trainer.train()
        when = N_("{cause} while writing its final files")
        write_metrics(run, trainer)
        save_network(trainer.network, run / "model.npz", in_run_folder=True)
        from nnlearn.common.plots import save_figure  # matplotlib: the board and a sweep's workers read runs without it

        for figure, name in zip(trainer.history.figures(trainer.iter_per_epoch, f"{recipe} recipe"), FIGURES):
            save_figure(figure, run / name, in_run_folder=True)
        summary = trainer.summary() | {
            "recipe": recipe,
            "dataset": dataset,
            "seed": trainer.settings.seed,
            "description": trainer.description,
            "run_dir": str(run),
            "load_seconds": load_seconds,
            "peak_rss_mb": peak_rss_mb(),
            "threads": trainer.choose_threads().record(),
        }
        write_json(run / "summary.json", summary)
    except BaseException as exc:
        stopped(run, trainer, exc, when)
        if isinstance(exc, OutputError):  # a full disk, say: nothing is lost, the run continues from its checkpoint
            raise OutputError(
                _("{reason} -- the run is stopped; {hint} once that is fixed", reason=exc, hint=resume_hint(run))
            ) from None
        raise
    write_state(run, "finished")
    return summary


def stopped(run, trainer, exc: BaseException, when: str = "") -> None:
    """Record, as far as the disk allows, the metrics so far and why the run ended on ``exc``: diverged, or
    stopped and how to continue it (``when``: a message, marked N_, that says ``{cause}`` at a moment)."""

    with contextlib.suppress(OSError, NnlearnError):  # the disk may be full: the state below matters more
        write_metrics(run, trainer)
    if isinstance(exc, DivergenceError):
        state, reason = "diverged", str(exc)
    else:
        cause = _("interrupted (Ctrl-C)") if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
        state, reason = "stopped", (_(when, cause=cause) if when else cause) + "; " + resume_hint(run)
    with contextlib.suppress(OSError, NnlearnError):
        write_state(run, state, reason)
