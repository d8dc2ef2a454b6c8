"""A sweep folder (:class:`Sweep`): made or opened, its trials run, its results and its final run written."""

from __future__ import annotations

import contextlib
import functools
import sys
import warnings
from pathlib import Path

import numpy as np

import nnlearn.sweep.results as results
from nnlearn.base.errors import FileFormatError, InputError, NnlearnError
from nnlearn.base.files import check_output_folder, make_folder, read_json
from nnlearn.base.i18n import _
from nnlearn.sweep.driver import CriticalSections, Task, TrialLoop, connect, require_sweep_packages
from nnlearn.sweep.journal import check_journal
from nnlearn.sweep.spec import SweepSpec
from nnlearn.sweep.study import create_study, draw_again, journal_storage, load_study, tell
from nnlearn.sweep.trial import read_record
from nnlearn.train.runs import open_run, write_json
from nnlearn.train.settings import TrainSettings
from nnlearn.train.training import infer_classes


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the sweep; every finished trial is kept and ``--resume`` continues it."""

    def __init__(self, finished: int, total: int, out):
        self.finished, self.total, self.out = finished, total, Path(out)
        super().__init__(
            _(
                "sweep interrupted after {finished} of {total} trials; continue it with: nnlearn sweep --resume {out}",
                finished=finished,
                total=total,
                out=out,
            )
        )


def read_spec(out) -> SweepSpec:
    """The :class:`SweepSpec` in ``out/sweep.json``, or one line saying what is wrong and what to do."""
    path = Path(out) / "sweep.json"
    try:
        return SweepSpec.from_dict(read_json(path))
    except FileNotFoundError:
        raise NnlearnError(
            _("{out} holds no sweep.json, so it is not a sweep folder; start one with --out", out=out)
        ) from None
    except OSError as exc:
        raise FileFormatError(_("{path} cannot be read ({reason})", path=path, reason=exc.strerror or exc)) from None
    except NnlearnError as exc:
        raise FileFormatError(
            _(
                "{path} is not a sweep description nnlearn can resume ({reason}); start a new sweep with --out",
                path=path,
                reason=exc,
            )
        ) from None


def check_new_sweep(out) -> Path:
    """``out`` as a Path if a new sweep may be made there: not a sweep already (an
    :class:`~nnlearn.base.errors.InputError` naming ``--resume``), a folder, not inside a run or sweep folder."""
    out = Path(out)
    if (out / "sweep.json").exists():
        raise InputError(
            _("{out} already holds a sweep; continue it with --resume {out} or choose another --out", out=out)
        )
    return check_output_folder(out)


class Sweep:
    """A sweep folder: its :class:`SweepSpec`, its Optuna study and its trial records.

    Use :meth:`create` for a new folder and :meth:`open` to resume one; :meth:`run` does the rest.
    """

    def __init__(self, out, spec: SweepSpec):
        require_sweep_packages()
        from nnlearn.sweep.lock import JournalLock  # optuna (optional): only after require_sweep_packages() checked it

        self.out = Path(out)
        self.spec = spec
        self.journal = self.out / "study.journal"
        self.lock = JournalLock(self.journal)
        #: The network's input and output sizes, known once :meth:`run` has the data.
        self.sizes = (None, None)

    @classmethod
    def create(cls, out, spec: SweepSpec) -> "Sweep":
        out = check_new_sweep(out)
        sweep = cls(out, spec)
        make_folder(out)
        create_study(sweep.storage())
        write_json(out / "sweep.json", spec.to_dict())
        return sweep

    @classmethod
    def open(cls, out) -> "Sweep":
        """The sweep in ``out``, checked (its description, its journal) before any data is loaded."""
        sweep = cls(out, read_spec(out))
        with sweep.lock.hold(sweep.out):
            check_journal(sweep.journal, sweep.out, sweep.spec.params)
        return sweep

    def storage(self):
        return journal_storage(self.journal, self.lock)

    def study(self):
        return load_study(self.storage(), self.journal)

    def rows(self, study=None) -> list[dict]:
        """One dict per trial: number, state, parameters, validation accuracy, epochs, seconds, worker, reason."""
        return results.rows(self.out, self.spec, study or self.study())

    def write_results(self, study=None) -> dict | None:
        """``trials.csv``, ``best.json`` and the figures from the trials so far; the best trial's entry."""
        return results.write_results(self.out, self.spec, study or self.study(), self.sizes)

    def run(
        self,
        x_train,
        t_train,
        x_test=None,
        t_test=None,
        *,
        client=None,
        workers=None,
        scheduler=None,
        progress=None,
        final=True,
        log=print,
    ) -> dict | None:
        """Run the trials not yet finished, write the files, retrain the best on all training data.

        Parameters
        ----------
        x_train, t_train, x_test, t_test : ndarray
            The data set (the first ``spec.train_size`` training samples are used).
        client : distributed.Client, optional
            Run on this client's cluster. Otherwise ``scheduler`` (an address like
            ``tcp://host:8786``), or a local cluster of ``workers`` processes (default: the cores).
        final : bool
            Retrain the best settings into ``out/final`` (needs the test data).

        Returns
        -------
        dict or None
            ``best.json``'s content (None when no trial completed).
        """
        n, n_val = self.spec.data_sizes(len(x_train))
        x_train, t_train = np.asarray(x_train)[:n], np.asarray(t_train)[:n]
        n_classes = infer_classes(t_train)
        self.sizes = (int(np.prod(x_train.shape[1:])), n_classes)
        with self.lock.hold(self.out):
            check_journal(self.journal, self.out, self.spec.params)
            payload = {"x": np.ascontiguousarray(x_train), "t": np.ascontiguousarray(t_train), "n_classes": n_classes}
            self.run_trials(payload, n_val, (client, workers, scheduler), progress, log)
            best = self.write_results()
            if final and best is not None and x_test is not None:
                data = ((x_train, t_train), (x_test, t_test))
                best["final"] = self.final_run(best, data, n_classes, progress, log)
                write_json(self.out / "best.json", best)
            return best

    def run_trials(self, payload: dict, n_val: int, where: tuple, progress, log) -> None:
        """Run the trials not yet finished on the cluster ``where`` (client, workers, scheduler)."""
        study = self.study()
        target = self.spec.n_trials()
        pending, done = self.resume(study)
        if done >= target and not pending:
            return
        if done or pending:
            log(
                _(
                    "resuming: {done} of {target} trials finished, {n} to run again",
                    done=done,
                    target=target,
                    n=len(pending),
                )
            )
        from tqdm import tqdm

        make_folder(self.out / "trials")
        client, to_close = connect(*where)
        bar = tqdm(
            total=target,
            initial=done,
            unit="trial",
            desc=_("sweep"),
            dynamic_ncols=True,
            disable=(not sys.stderr.isatty()) if progress is None else not progress,
        )
        critical = CriticalSections()
        critical.install()
        loop = None
        try:
            loop = TrialLoop(client, study, self.spec, payload, n_val, target, pending=pending)
            loop.run(functools.partial(self.keep, study, bar), critical)
        except KeyboardInterrupt:
            if loop is not None:
                loop.cancel()
            self.write_results(study)
            finished = sum(tr.state.is_finished() for tr in study.get_trials(deepcopy=False))
            raise SweepInterrupted(finished, target, self.out) from None
        finally:
            critical.restore()
            bar.close()
            for thing in to_close:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    thing.close()

    def resume(self, study) -> tuple[list, int]:
        """Tell the trials a dead driver recorded but did not tell; ``(trials to run again, trials finished)``."""
        from optuna.trial import TrialState

        for tr in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            rec = read_record(results.record_path(self.out, tr.number), tr.number)
            if rec is not None:
                tell(study, rec)
        trials = study.get_trials(deepcopy=False)
        pending = [Task(tr.number, self.values_of(tr)) for tr in trials if tr.state == TrialState.RUNNING]
        return pending, sum(tr.state.is_finished() for tr in trials)

    def values_of(self, trial) -> dict:
        """The sampled values of a study's trial; drawn again when a driver killed between creating
        the trial and storing them left it without (the very values, but for ``tpe``)."""
        values = dict(trial.params)
        if set(values) == {p.name for p in self.spec.params}:
            return values
        return draw_again(self.spec, trial.number)

    def keep(self, study, bar, rec: dict) -> None:
        """Keep a trial's record: its file first (a resume tells it from there), then the study; the
        progress ``bar`` shows the best validation accuracy so far."""
        write_json(results.record_path(self.out, rec["number"]), rec)
        tell(study, rec)
        bar.update(1)
        with contextlib.suppress(ValueError):  # no trial has completed yet
            bar.set_postfix(best=f"{study.best_value:.4f}", refresh=False)
        results.write_trials_csv(self.out, self.spec, self.rows(study))

    def final_run(self, best: dict, data, n_classes: int, progress, log) -> dict:
        """Retrain ``best``'s settings on all training data into ``out/final`` (the run lifecycle of
        ``nnlearn train``: resumed from its checkpoint, or started again when the best trial changed);
        judge it once on the test data."""
        (x_train, _t_train), (x_test, _t_test) = data
        settings = TrainSettings.from_dict(best["settings"])
        run = open_run(
            self.out / "final",
            settings,
            data,
            recipe=self.spec.recipe,
            dataset=self.spec.dataset,
            data_dir=self.spec.data_dir,
            n_classes=n_classes,
            progress=progress,
            log=progress is not False,
            other_run="restart",
            in_run_folder=True,
        )
        if run.how != "finished":
            n_val = self.spec.data_sizes(len(x_train))[1]
            log(
                _(
                    "final run: trial {number}'s settings on all {n} training images (the {held} held back for "
                    "validation included), judged once on the {tests} test images -> {path}",
                    number=best["number"],
                    n=format(len(x_train), ","),
                    held=format(n_val, ","),
                    tests=format(len(x_test), ","),
                    path=run.path,
                )
            )
        try:
            summary = run.finish()
        except KeyboardInterrupt:
            raise SweepInterrupted(best["trials"]["total"], best["trials"]["total"], self.out) from None
        return {
            "test_accuracy": summary["test_accuracy"],
            "train_accuracy": summary["train_accuracy"],
            "seconds": summary["seconds"],
            "run_dir": str(run.path),
        }
