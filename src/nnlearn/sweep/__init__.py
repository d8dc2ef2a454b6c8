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

The modules, in the order a sweep uses them:

- :mod:`.space`: ``--param NAME=KIND:ARGS``, allowed and parsed as the settings' declarations say;
- :mod:`.spec`: :class:`SweepSpec`, what is searched and how (``sweep.json``, the command's flags);
- :mod:`.study`: the Optuna study in its journal, and the sampler of each trial;
- :mod:`.lock`: the journal's lock;
- :mod:`.cluster`: a Dask client (given, a running cluster's, or a local cluster's);
- :mod:`.trial`: one trial, a pure function run as a Dask task, and its record;
- :mod:`.driver`: the loop that keeps the workers busy (ask, submit, tell) and Ctrl-C's critical sections;
- :mod:`.results` and :mod:`.figures`: ``trials.csv``, ``best.json`` and the figures;
- :mod:`.folder`: :class:`Sweep`, which ties them together, and the final run (the run lifecycle of
  ``nnlearn train``, :func:`nnlearn.train.runs.open_run`).

Design
------
- Only the driver (this process) talks to Optuna and writes files: ask/tell. A trial is a pure
  function of its arguments (:func:`run_trial`), so Dask may run it again elsewhere when a worker
  dies. The training arrays reach each worker once (scattered, broadcast).
- **Storage: Optuna's journal file, locked by ``flock``** (:mod:`.lock`), rather than Optuna's
  Dask integration (``optuna_integration.DaskStorage``, once ``optuna.integration.DaskStorage``).
  DaskStorage serves a study from the Dask scheduler so that *workers* can ask and tell; here only
  the driver does, so it would add a package and move the study onto the scheduler (into memory,
  lost with it, or into a file on the scheduler's machine) without adding a guarantee. The journal
  stays beside the trial records in the sweep folder and survives the driver and the scheduler; a
  ``flock`` -- released by the kernel when its process dies -- both guards each append and keeps a
  second driver off the folder, so a killed driver leaves no lock to clean up.
- Reproducible sampling: trial n of the random and grid samplers is fixed by ``(seed, n)``,
  whatever the number of workers; TPE depends on the trials finished when it asks (:mod:`.study`).
- Resuming: finished trials are kept; a trial the dead driver left running is run again under its
  own number and settings (or only told, when its record was written before the driver died). A
  damaged ``sweep.json``, journal or record is found before anything runs: one line naming the file
  and the fix, or (a record) the trial is run again.

Optional: ``pip install "nnlearn[sweep]"`` brings ``optuna`` and ``dask[distributed]``.
"""

from nnlearn.sweep.cluster import INSTALL, require_sweep_packages
from nnlearn.sweep.figures import plot_search_space, plot_validation_curves
from nnlearn.sweep.folder import Sweep, SweepInterrupted, read_spec
from nnlearn.sweep.results import CURVES
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
