"""The sweep's Optuna study: its journal, checked before it is trusted, and the sampler of each trial.

The study lives in one file, ``study.journal`` (Optuna's ``JournalStorage``): one appended line per
change, a fraction of a millisecond where SQLite takes tens, readable by Optuna's tools
(``optuna.load_study(study_name="nnlearn-sweep", storage=...)``). Before a sweep is resumed every
line is checked (:func:`nnlearn.sweep.journal.check_journal`): a cut, foreign or out-of-range line is
one error naming the line and the fix, never an exception from inside Optuna.

Trial ``n`` is asked with a sampler of its own (:func:`sampler`), seeded from ``(seed, n)``:

- ``random``: trial n's settings are fixed by (seed, n), whatever the number of workers and the
  order in which trials finish;
- ``grid``: trial n takes the grid point a seeded shuffle puts at place n (the points are drawn
  without replacement, so a grid cut short by ``--trials`` is a random part of it), also fixed by
  (seed, n);
- ``tpe``: trial n's sampler is seeded the same way, but it models the trials finished when it
  asks, which depends on how many workers ran which trials when: reproducible on one worker only.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from nnlearn.base.errors import FileFormatError
from nnlearn.base.i18n import _

STUDY_NAME = "nnlearn-sweep"
#: What Optuna's replay of a journal raises on a line it cannot use.
_REPLAY_ERRORS = (KeyError, ValueError, TypeError, IndexError, AssertionError)


def _quiet():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _replayed(journal, replay):
    """``replay()``, in which Optuna replays the journal: a line :func:`nnlearn.sweep.journal.check_journal`
    let through but Optuna cannot use is one error, never a traceback."""
    try:
        return replay()
    except _REPLAY_ERRORS as exc:
        raise FileFormatError(
            _(
                "{journal} is damaged: Optuna cannot replay it ({kind}: {reason}); start a new sweep with --out",
                journal=journal,
                kind=type(exc).__name__,
                reason=exc,
            )
        ) from None


def journal_storage(journal, lock):
    """The Optuna storage on the journal file ``journal``, locked by ``lock`` (:mod:`.lock`)."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return _replayed(journal, lambda: JournalStorage(JournalFileBackend(str(journal), lock_obj=lock)))


def create_study(storage):
    return _quiet().create_study(study_name=STUDY_NAME, storage=storage, direction="maximize")


def load_study(storage, journal):
    """The sweep's study in ``storage``, or one error saying the journal is not a sweep's."""
    optuna = _quiet()
    if STUDY_NAME not in _replayed(journal, lambda: optuna.get_all_study_names(storage)):
        raise FileFormatError(
            _("{journal} holds no nnlearn sweep study; start a new sweep with --out", journal=journal)
        )
    return optuna.load_study(study_name=STUDY_NAME, storage=storage)


def trial_seed(seed: int, number: int) -> int:
    """The sampler seed of trial ``number``: fixed by (seed, number), whatever finished before."""
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def grid_point(spec, number: int) -> dict:
    """The values of trial ``number`` of a grid sweep: the point a seeded draw puts at place ``number``."""
    sizes = [p.grid_size() for p in spec.params]
    index = int(np.random.default_rng(spec.seed).choice(math.prod(sizes), size=spec.n_trials(), replace=False)[number])
    values = {}
    for p, size in reversed(list(zip(spec.params, sizes))):
        index, place = divmod(index, size)
        values[p.name] = p.grid_value(place)
    return {p.name: values[p.name] for p in spec.params}


def sampler(spec, number: int):
    """The sampler that draws trial ``number`` of ``spec``'s sweep (see the module's docstring)."""
    samplers = _quiet().samplers
    seed = trial_seed(spec.seed, number)
    if spec.sampler == "tpe":
        return samplers.TPESampler(seed=seed)
    if spec.sampler == "grid":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", _quiet().exceptions.ExperimentalWarning)
            return samplers.PartialFixedSampler(grid_point(spec, number), samplers.RandomSampler(seed=seed))
    return samplers.RandomSampler(seed=seed)


def distributions(spec) -> dict:
    return {p.name: p.distribution() for p in spec.params}


def ask(study, spec):
    """A new trial of ``study``, drawn by the sampler of its number."""
    study.sampler = sampler(spec, len(study.get_trials(deepcopy=False)))
    return study.ask(distributions(spec))


def draw_again(spec, number: int) -> dict:
    """The values of trial ``number`` drawn again, for a trial the study holds without them (a driver
    killed between creating it and storing them): the very values, but for ``tpe``."""
    scratch = _quiet().create_study(sampler=sampler(spec, number), direction="maximize")
    return dict(scratch.ask(distributions(spec)).params)


def tell(study, rec: dict) -> None:
    """Tell ``study`` a trial's result (its record); a trial told before is left as it is."""
    from optuna.trial import TrialState

    if rec["state"] == "COMPLETE":
        study.tell(rec["number"], rec["value"], skip_if_finished=True)
    else:
        study.tell(rec["number"], state=TrialState.FAIL, skip_if_finished=True)
