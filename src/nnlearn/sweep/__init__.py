"""Hyperparameter sweeps: many training runs, chosen by validation accuracy, on one machine or many.

A sweep trains the same recipe with different settings (the *trials*), judges each on validation
data held back from the end of the training set -- never on the test set -- and finally retrains
the best settings on the whole training set and judges them once on the test data. The search is
an Optuna study; the trials run as Dask tasks on a local cluster or on a running one. A sweep
folder holds::

    sweep.json          what the sweep searches and how (enough to resume it)
    study.journal       the Optuna study (a JournalStorage file): inspect it with Optuna's tools
    trials/NNNN.json    each finished trial's record: validation curve, seconds, worker, reason
    trials.csv          one row per trial: number, state, the parameters, validation accuracy, ...
    best.json           the best trial's settings and validation accuracy, and the final test accuracy
    validation_curves.png   validation accuracy per epoch of the best trials, labelled by settings
    search_space.png    the first two parameters of every trial, coloured by validation accuracy
    final/              a normal run directory (``nnlearn evaluate DIR/final``, ``nnlearn report``)

Only the driver (:mod:`.driver`) talks to Optuna and writes files; a trial (:mod:`.trial`) is a pure
function, so Dask may run it again when a worker dies. The study is Optuna's journal file locked by
``flock`` (:mod:`.lock`), not Optuna's Dask integration (``optuna_integration.DaskStorage``): that
serves a study from the scheduler so that *workers* can ask and tell; here only the driver does, so
it would add a package and move the study into the scheduler's memory (lost with it) without adding a
guarantee. The journal stays beside the trial records and survives the driver and the scheduler.
Sampling is reproducible per trial (:mod:`.study`); a resume keeps finished trials and runs again
those a dead driver left running, and a damaged ``sweep.json``, journal or record is found before
anything runs (:mod:`.journal`).

Optional: ``pip install "nnlearn[sweep]"`` brings ``optuna`` and ``dask[distributed]``.
"""

from nnlearn.sweep.driver import INSTALL, require_sweep_packages
from nnlearn.sweep.folder import Sweep, SweepInterrupted, read_spec
from nnlearn.sweep.results import CURVES, plot_search_space, plot_validation_curves
from nnlearn.sweep.space import KINDS, Param, check_space, parse_param
from nnlearn.sweep.spec import SAMPLERS, SweepSpec
from nnlearn.sweep.study import STUDY_NAME
from nnlearn.sweep.trial import run_trial

__all__ = [
    "CURVES",
    "INSTALL",
    "KINDS",
    "SAMPLERS",
    "STUDY_NAME",
    "Param",
    "Sweep",
    "SweepInterrupted",
    "SweepSpec",
    "check_space",
    "parse_param",
    "plot_search_space",
    "plot_validation_curves",
    "read_spec",
    "require_sweep_packages",
    "run_trial",
]
