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

Design
------
- The driver (this process) asks Optuna for as many trials as the cluster has threads, submits
  each as a Dask task and tells Optuna each result as it arrives (ask/tell). Only the driver
  writes files; a task is a pure function of its arguments (:func:`run_trial`), so Dask may run
  it again elsewhere when a worker dies.
- The training arrays reach each worker once: the driver scatters them (broadcast) and every task
  takes that one future. Nodes need no data files of their own.
- Sampling does not depend on the order trials finish in: trial ``n``'s sampler is seeded from
  ``(seed, n)``, so the random sampler gives the same settings whatever the number of workers.
- Resuming: finished trials are kept; a trial the dead driver left running is run again under its
  own number and parameters (or only told, when its record was written before the driver died).

Optional: ``pip install "nnlearn[sweep]"`` brings ``optuna`` and ``dask[distributed]``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import signal
import socket
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnlearn._io import atomic_write
from nnlearn.errors import InputError, NnlearnError

KINDS = ("loguniform", "uniform", "int", "choice")
SAMPLERS = ("random", "tpe", "grid")
INSTALL = 'pip install "nnlearn[sweep]"'
STUDY_NAME = "nnlearn-sweep"
#: Settings a sweep decides itself and a parameter may not change.
RESERVED = ("seed", "validation")
#: How many of the best trials the validation-curve figure shows.
CURVES = 5


def require_sweep_packages():
    """Import ``optuna`` and ``distributed``, or say in one line how to install them.

    Examples
    --------
    >>> optuna, distributed = require_sweep_packages()
    >>> optuna.__name__, distributed.__name__
    ('optuna', 'distributed')
    """
    missing = []
    modules = []
    for name in ("optuna", "distributed"):
        try:
            modules.append(__import__(name))
        except ImportError:
            missing.append("dask[distributed]" if name == "distributed" else name)
    if missing:
        raise NnlearnError(f"nnlearn sweep needs {' and '.join(missing)}; install them with: {INSTALL}")
    return tuple(modules)


# -- the search space ----------------------------------------------------------------------------


def _setting_names() -> tuple:
    from nnlearn.settings import TrainSettings

    return tuple(f.name for f in dataclasses.fields(TrainSettings))


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value):
        raise InputError(f"{what}: {text!r} is not a finite number")
    return value


def _choice_value(name: str, text: str):
    """A choice as Optuna stores it: hidden sizes stay text (``512-256``), numbers become numbers."""
    text = text.strip()
    if not text:
        raise InputError(f"--param {name}: an empty choice; separate choices with commas, e.g. choice:a,b")
    if name == "hidden":
        parts = text.split("-")
        if not all(p.isdigit() and int(p) > 0 for p in parts):
            raise InputError(f"--param hidden: {text!r} is not a list of layer sizes; write them like 512-256")
        return "-".join(str(int(p)) for p in parts)
    for convert in (int, float):
        try:
            value = convert(text)
        except ValueError:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            break
        return value
    return text


@dataclass(frozen=True)
class Param:
    """One searched setting: ``NAME=KIND:ARGS`` parsed (see :func:`parse_param`)."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()

    @property
    def spec(self) -> str:
        """The text this parameter was parsed from (normalised).

        Examples
        --------
        >>> parse_param("lr=loguniform:1e-4:0.1").spec
        'lr=loguniform:0.0001:0.1'
        """
        if self.kind == "choice":
            return f"{self.name}=choice:{','.join(str(c) for c in self.choices)}"
        return f"{self.name}={self.kind}:{self.low:g}:{self.high:g}"

    def distribution(self):
        """The Optuna distribution of this parameter."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.kind == "choice":
            return CategoricalDistribution(self.choices)
        if self.kind == "int":
            return IntDistribution(int(self.low), int(self.high))
        return FloatDistribution(self.low, self.high, log=self.kind == "loguniform")

    def grid(self) -> list:
        """The values a grid search tries (choices, or every integer of an ``int`` range)."""
        if self.kind == "choice":
            return list(self.choices)
        if self.kind == "int":
            return list(range(int(self.low), int(self.high) + 1))
        raise InputError(f"--sampler grid tries listed values; --param {self.spec} is a continuous range -- "
                         f"write it as choice:A,B,... or int:LOW:HIGH")

    def setting(self, value):
        """The TrainSettings value of a sampled ``value`` (``'512-256'`` -> ``(512, 256)``)."""
        if self.name == "hidden":
            return tuple(int(p) for p in str(value).split("-"))
        return value

    def edges(self) -> list:
        """The values that decide whether the whole range is valid: both ends, or every choice."""
        if self.kind == "choice":
            return list(self.choices)
        if self.kind == "int":
            return [int(self.low), int(self.high)]
        return [self.low, self.high]


def parse_param(text: str) -> Param:
    """Parse ``NAME=KIND:ARGS``: ``loguniform:LOW:HIGH``, ``uniform:LOW:HIGH``, ``int:LOW:HIGH``
    or ``choice:A,B,...`` (hidden sizes written ``512-256``). Nothing is evaluated.

    Examples
    --------
    >>> parse_param("hidden=choice:256,512-256")
    Param(name='hidden', kind='choice', low=None, high=None, choices=('256', '512-256'))
    >>> parse_param("batch_size=int:32:256")
    Param(name='batch_size', kind='int', low=32, high=256, choices=())
    >>> parse_param("lr=loguniform:0:1")
    Traceback (most recent call last):
    nnlearn.errors.InputError: --param lr=loguniform:0:1: loguniform needs 0 < LOW < HIGH
    """
    name, eq, rest = str(text).partition("=")
    name = name.strip()
    kind, colon, args = rest.partition(":")
    kind = kind.strip()
    if not eq or not name or not colon:
        raise InputError(f"--param {text!r} is not NAME=KIND:ARGS, e.g. lr=loguniform:1e-4:1e-1")
    if name in RESERVED:
        raise InputError(f"--param {text}: the sweep sets {name} itself (use --{name})")
    known = _setting_names()
    if name not in known:
        raise InputError(f"--param {text}: unknown setting {name!r}; a parameter is one of: {', '.join(known)}")
    if kind not in KINDS:
        raise InputError(f"--param {text}: unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    if kind == "choice":
        choices = tuple(_choice_value(name, c) for c in args.split(","))
        if len(set(choices)) != len(choices):
            raise InputError(f"--param {text}: a choice is listed twice")
        return Param(name, kind, choices=choices)
    bounds = args.split(":")
    if len(bounds) != 2:
        raise InputError(f"--param {text}: {kind} takes LOW:HIGH, e.g. {name}={kind}:1:10")
    low, high = (_number(b, f"--param {text}") for b in bounds)
    if kind == "int":
        if low != int(low) or high != int(high):
            raise InputError(f"--param {text}: int takes whole numbers LOW:HIGH")
        low, high = int(low), int(high)
    if not low < high:
        raise InputError(f"--param {text}: {kind} needs LOW < HIGH")
    if kind == "loguniform" and low <= 0:
        raise InputError(f"--param {text}: loguniform needs 0 < LOW < HIGH")
    return Param(name, kind, low, high)


def check_space(params, base) -> None:
    """Refuse a search space with a value the training settings ``base`` would refuse (one line)."""
    names = [p.name for p in params]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"--param {twice[0]} is given twice; give each setting once")
    if not params:
        raise InputError("give at least one --param NAME=KIND:ARGS to search, e.g. --param lr=loguniform:1e-4:1e-1")
    for p in params:
        for value in p.edges():
            try:
                base.replace(**{p.name: p.setting(value)})
            except (NnlearnError, TypeError) as exc:
                raise InputError(f"--param {p.spec}: the value {value!r} is refused: {exc}") from None


def validation_count(n: int, validation) -> int:
    """How many of ``n`` training samples a ``validation`` share (0-1) or count holds back.

    Examples
    --------
    >>> validation_count(60000, 1 / 6), validation_count(60000, 0.2), validation_count(500, 100)
    (10000, 12000, 100)
    """
    if isinstance(validation, bool) or not isinstance(validation, (int, float)):
        raise InputError(f"validation must be a share in (0, 1) or a number of samples, got {validation!r}")
    if isinstance(validation, float):
        if not 0 < validation < 1:
            raise InputError(f"validation {validation!r} must be a share in (0, 1) or a whole number of samples")
        count = int(round(n * validation))
    else:
        count = validation
    if not 0 < count < n:
        raise InputError(f"validation {validation!r} holds back {count} of {n} training samples; both the "
                         "training and the validation part need at least one -- change --validation")
    return count


# -- one trial (a Dask task) ------------------------------------------------------------------------


def run_trial(data: dict, settings: dict, n_val: int, number: int) -> dict:
    """Train ``settings`` on ``data``'s training part and judge it on its last ``n_val`` samples.

    A pure function (no files, no global state), so that Dask may run it again on another worker.
    A divergence or a refused setting is a failed trial with its reason, not an error.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((120, 4)).astype(np.float32); t = (x[:, 0] > x[:, 1]).astype(int)
    >>> s = {"hidden": [8], "activation": "relu", "weight_init_std": "he", "optimizer": "adam", "lr": 0.01,
    ...      "batch_size": 10, "iters": None, "epochs": 2}
    >>> r = run_trial({"x": x, "t": t, "n_classes": 2}, s, 20, 7)
    >>> r["number"], r["state"], len(r["curve"]), r["epochs"]
    (7, 'COMPLETE', 2, [1.0, 2.0])
    >>> run_trial({"x": x, "t": t, "n_classes": 2}, s | {"lr": 1e9, "optimizer": "sgd"}, 20, 8)["state"]
    'FAIL'
    """
    from nnlearn.settings import TrainSettings
    from nnlearn.trainer import build_trainer

    started = time.perf_counter()
    record = {"number": number, "state": "COMPLETE", "value": None, "curve": [], "epochs": [],
              "seconds": None, "worker": _worker_name(), "reason": None}
    x, t = data["x"], data["t"]
    if x.ctypes.data % 64:
        # Dask hands the scattered array over inside its message buffer, at any byte offset; a
        # misaligned float32 matrix trains about 2x slower (measured), so it is copied (~0.1 s for MNIST).
        x = np.array(x)
    try:
        # The trainer holds the last n_val samples back itself (its validation setting): no test set here.
        trainer = build_trainer(TrainSettings.from_dict(settings | {"validation": n_val}), x, t,
                                n_classes=data["n_classes"], callbacks=[])
        trainer.train()
        record["value"] = trainer.val_acc_list[-1]
    except NnlearnError as exc:  # DivergenceError included: a failed trial, and the sweep goes on
        record["state"], record["reason"] = "FAIL", str(exc)
        trainer = None
    if trainer is not None:
        record["curve"] = list(trainer.val_acc_list)
        record["epochs"] = [it / trainer.iter_per_epoch for it in trainer.epoch_iterations]
    record["seconds"] = time.perf_counter() - started
    return record


class _CriticalSections:
    """Ctrl-C while the driver writes the study waits until the write is done.

    Optuna's journal storage takes a file lock around every write; a ``KeyboardInterrupt`` raised
    inside it leaves the lock half-taken. Between writes -- while waiting for trials -- Ctrl-C
    stops at once, as before.
    """

    def __init__(self):
        self.inside = False
        self.pending = False
        self.previous = None

    def handler(self, signum, frame):
        if self.inside:
            self.pending = True
        else:
            raise KeyboardInterrupt

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self.handler)

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None

    @contextlib.contextmanager
    def section(self):
        self.inside = True
        try:
            yield
        finally:
            self.inside = False
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt


def _ignore_sigint():
    """Ignore SIGINT (in the main thread); the handler it replaced, or None."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):  # not inside a Dask worker
        return "local"


# -- the sweep's description -------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep searches and how; saved as ``sweep.json`` so that ``--resume`` needs nothing else."""

    params: tuple
    recipe: str = "strong"
    trials: int = 30
    sampler: str = "random"
    seed: int = 0
    epochs: int | None = None
    train_size: int | None = None
    validation: float | int = 1 / 6
    dataset: str = "mnist"
    data_dir: str | None = None

    def __post_init__(self):
        from nnlearn.settings import RECIPES

        params = tuple(p if isinstance(p, Param) else parse_param(p) for p in self.params)
        object.__setattr__(self, "params", params)
        if self.recipe not in RECIPES:
            raise InputError(f"unknown recipe {self.recipe!r}; choose one of {', '.join(RECIPES)}")
        if self.sampler not in SAMPLERS:
            raise InputError(f"unknown sampler {self.sampler!r}; choose one of {', '.join(SAMPLERS)}")
        for name in ("trials", "epochs", "train_size"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise InputError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"seed must be a non-negative integer, got {self.seed!r}")
        check_space(params, self.base_settings())
        if self.sampler == "grid":
            for p in params:
                p.grid()

    def base_settings(self):
        """The recipe's settings with the sweep's epochs and seed (every trial starts from these)."""
        from nnlearn.settings import recipe_settings

        return recipe_settings(self.recipe, epochs=self.epochs, seed=self.seed)

    def settings(self, values: dict):
        """The TrainSettings of a trial whose sampled parameters are ``values``."""
        by_name = {p.name: p for p in self.params}
        return self.base_settings().replace(**{k: by_name[k].setting(v) for k, v in values.items()})

    def grid_size(self) -> int:
        return math.prod(len(p.grid()) for p in self.params)

    def n_trials(self) -> int:
        """``trials``, or the grid's size when a grid search has fewer points."""
        return min(self.trials, self.grid_size()) if self.sampler == "grid" else self.trials

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["params"] = [p.spec for p in self.params]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SweepSpec":
        known = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(d, dict) or set(d) - known or "params" not in d:
            raise InputError("not a sweep description (sweep.json)")
        return cls(**d)


def _write_json(path, obj) -> None:
    with atomic_write(path, "w", in_run_folder=True) as fh:
        fh.write(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def _trial_seed(seed: int, number: int) -> int:
    """The sampler seed of trial ``number``: fixed by (seed, number), whatever finished before."""
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


# -- the sweep ------------------------------------------------------------------------------------


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the sweep; every finished trial is kept and ``--resume`` continues it."""

    def __init__(self, finished: int, total: int, out):
        self.finished, self.total, self.out = finished, total, Path(out)
        super().__init__(f"sweep interrupted after {finished} of {total} trials; continue it with: "
                         f"nnlearn sweep --resume {out}")


class Sweep:
    """A sweep folder: its :class:`SweepSpec`, its Optuna study and its trial records.

    Use :meth:`create` for a new folder and :meth:`open` to resume one; :meth:`run` does the rest.
    """

    def __init__(self, out, spec: SweepSpec):
        self.out = Path(out)
        self.spec = spec
        self.optuna, self.distributed = require_sweep_packages()
        self.records_dir = self.out / "trials"

    @classmethod
    def create(cls, out, spec: SweepSpec) -> "Sweep":
        out = Path(out)
        if (out / "sweep.json").exists():
            raise NnlearnError(f"{out} already holds a sweep; continue it with --resume {out} or choose another --out")
        if out.exists() and not out.is_dir():
            raise NnlearnError(f"--out {out} is a file, not a directory")
        sweep = cls(out, spec)
        out.mkdir(parents=True, exist_ok=True)
        sweep.study(create=True)
        _write_json(out / "sweep.json", spec.to_dict())
        return sweep

    @classmethod
    def open(cls, out) -> "Sweep":
        out = Path(out)
        try:
            d = json.loads((out / "sweep.json").read_text())
        except FileNotFoundError:
            raise NnlearnError(f"{out} holds no sweep.json, so it is not a sweep folder; start one with --out") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise NnlearnError(f"{out / 'sweep.json'} is damaged ({exc}); it cannot be resumed") from None
        return cls(out, SweepSpec.from_dict(d))

    # -- the study --

    @property
    def journal(self) -> Path:
        return self.out / "study.journal"

    def storage(self):
        """The study's Optuna storage: a journal file (``optuna.storages.JournalStorage``).

        One appended line per change -- a fraction of a millisecond where SQLite takes tens -- and
        readable by Optuna's tools: ``optuna.load_study(study_name="nnlearn-sweep", storage=...)``.
        """
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        return JournalStorage(JournalFileBackend(str(self.journal)))

    def study(self, create: bool = False):
        optuna = self.optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if create:
            return optuna.create_study(study_name=STUDY_NAME, storage=self.storage(), direction="maximize")
        try:
            return optuna.load_study(study_name=STUDY_NAME, storage=self.storage())
        except KeyError:
            raise NnlearnError(f"{self.journal} holds no nnlearn sweep study; the folder is damaged") from None

    def sampler(self, number: int):
        samplers = self.optuna.samplers
        seed = _trial_seed(self.spec.seed, number)
        if self.spec.sampler == "random":
            return samplers.RandomSampler(seed=seed)
        if self.spec.sampler == "tpe":
            return samplers.TPESampler(seed=seed)
        return samplers.GridSampler({p.name: p.grid() for p in self.spec.params}, seed=self.spec.seed)

    def settings_of(self, trial) -> dict:
        """The sampled values of a study's trial. A driver killed between creating a trial and storing
        its values leaves it without them: they are drawn again by the sampler seeded for its number
        (the very values for the random sampler)."""
        values = dict(trial.params)
        if set(values) == {p.name for p in self.spec.params}:
            return values
        scratch = self.optuna.create_study(sampler=self.sampler(trial.number), direction="maximize")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", self.optuna.exceptions.ExperimentalWarning)
            return dict(scratch.ask(self.distributions()).params)

    def distributions(self) -> dict:
        return {p.name: p.distribution() for p in self.spec.params}

    def record(self, number: int) -> dict | None:
        path = self.records_dir / f"{number:04d}.json"
        try:
            return json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    # -- running --

    def run(self, x_train, t_train, x_test=None, t_test=None, *, n_classes=None, client=None, workers=None,
            scheduler=None, progress=None, final=True, log=print) -> dict:
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
        dict
            ``best.json``'s content.
        """
        from nnlearn.trainer import infer_classes

        spec = self.spec
        x_train, t_train = np.asarray(x_train), np.asarray(t_train)
        if spec.train_size is not None:
            if spec.train_size > len(x_train):
                raise InputError(f"train_size {spec.train_size} is more than the {len(x_train)} training samples")
            x_train, t_train = x_train[: spec.train_size], t_train[: spec.train_size]
        n_classes = n_classes or infer_classes(t_train)
        n_val = validation_count(len(x_train), spec.validation)
        self._lock()
        try:
            self._run_trials(x_train, t_train, n_classes, n_val, client, workers, scheduler, progress, log)
            best = self.write_results()
            if final and best is not None and x_test is not None:
                best["final"] = self.final_run(best, x_train, t_train, x_test, t_test, n_classes, progress, log)
                _write_json(self.out / "best.json", best)
            return best
        finally:
            (self.out / "driver.json").unlink(missing_ok=True)

    def _lock(self) -> None:
        # A second driver on the same folder would run trials twice and tell them twice.
        path = self.out / "driver.json"
        try:
            other = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            other = None
        if other and other.get("host") == socket.gethostname() and other.get("pid") != os.getpid():
            try:
                os.kill(int(other["pid"]), 0)
                alive = True
            except (OSError, ValueError, TypeError):
                alive = False
            if alive:
                raise NnlearnError(f"{self.out} is being swept by process {other['pid']}; wait for it or stop it first")
        _write_json(path, {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()})
        # A driver killed while appending to the journal leaves its lock behind; no driver runs now.
        Path(f"{self.journal}.lock").unlink(missing_ok=True)

    def _connect(self, client, workers, scheduler):
        """(client, things to close): the given client, a running cluster's, or a local cluster's."""
        distributed = self.distributed
        if client is not None:
            return client, []
        if scheduler is not None:
            try:
                client = distributed.Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise NnlearnError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); start it with "
                                   "`dask scheduler` and give its tcp://HOST:PORT") from None
            return client, [client]
        import dask
        import logging

        workers = workers or os.cpu_count() or 1
        # One BLAS thread per worker process: K processes share the cores instead of fighting for them.
        # (This replaces Dask's default, whose MALLOC_TRIM_THRESHOLD_ made training ~30 % slower here.)
        one = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        # Ctrl-C in a terminal reaches every process of the group: the workers ignore it (they
        # inherit SIG_IGN) and the driver alone stops the sweep, cleanly.
        previous = _ignore_sigint()
        try:
            with dask.config.set({"distributed.nanny.pre-spawn-environ": one}):
                # No dashboard; the scheduler's small HTTP server on a free port of 127.0.0.1.
                cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                   host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                                   scheduler_kwargs={"dashboard": False},
                                                   silence_logs=logging.ERROR)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        client = distributed.Client(cluster)
        return client, [client, cluster]

    def _run_trials(self, x, t, n_classes, n_val, client, workers, scheduler, progress, log) -> None:
        optuna = self.optuna
        TrialState = optuna.trial.TrialState
        study = self.study()
        target = self.spec.n_trials()
        trials = study.get_trials(deepcopy=False)
        finished = [tr for tr in trials if tr.state.is_finished()]
        orphans = [tr for tr in trials if tr.state == TrialState.RUNNING]
        # A trial whose record was written before the driver died only needs telling.
        for tr in list(orphans):
            rec = self.record(tr.number)
            if rec is not None:
                self._tell(study, rec)
                finished.append(tr)
                orphans.remove(tr)
        if len(finished) >= target and not orphans:
            return
        if finished or orphans:
            log(f"resuming: {len(finished)} of {target} trials finished, {len(orphans)} to run again")
        self.records_dir.mkdir(parents=True, exist_ok=True)
        client, to_close = self._connect(client, workers, scheduler)
        from tqdm import tqdm

        show = None if progress is None else bool(progress)
        bar = tqdm(total=target, initial=len(finished), unit="trial", desc="sweep", dynamic_ncols=True,
                   disable=(not sys.stderr.isatty()) if show is None else not show)
        best = [max((tr.value for tr in finished if tr.state == TrialState.COMPLETE), default=None)]
        inflight, running = {}, {}
        critical = _CriticalSections()
        critical.install()
        try:
            payload = {"x": np.ascontiguousarray(x), "t": np.ascontiguousarray(t), "n_classes": n_classes}
            data = client.scatter([payload], broadcast=True, hash=False)[0]
            ac = self.distributed.as_completed()
            queue = [(tr.number, self.settings_of(tr)) for tr in orphans]
            asked = len(finished) + len(orphans)

            def submit(number, values, attempt=0):
                settings = self.spec.settings(values).to_dict()
                # run_trial is looked up here (not bound at import) so that it can be wrapped.
                fut = client.submit(globals()["run_trial"], data, settings, n_val, number, pure=False, retries=1)
                inflight[fut.key] = (number, values, attempt)
                running[fut.key] = fut
                ac.add(fut)

            def fill():
                nonlocal asked
                capacity = max(1, sum(client.nthreads().values()))
                while len(inflight) < capacity and (queue or asked < target):
                    if queue:
                        submit(*queue.pop(0))
                        continue
                    study.sampler = self.sampler(len(study.get_trials(deepcopy=False)))
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                        trial = study.ask(self.distributions())
                    asked += 1
                    submit(trial.number, dict(trial.params))

            with critical.section():
                fill()
            for fut in ac:
                with critical.section():
                    number, values, attempt = inflight.pop(fut.key)
                    running.pop(fut.key)
                    if fut.status == "finished":
                        rec = fut.result()
                    else:
                        if data.status != "finished" and attempt < 3:
                            # Every worker holding the scattered data died: send it again, run again.
                            data = client.scatter([payload], broadcast=True, hash=False)[0]
                            submit(number, values, attempt + 1)
                            continue
                        exc = fut.exception() if fut.status == "error" else None
                        reason = f"{type(exc).__name__}: {exc}" if exc is not None else f"the task was {fut.status}"
                        rec = {"number": number, "state": "FAIL", "value": None, "curve": [], "epochs": [],
                               "seconds": None, "worker": None, "reason": reason}
                    rec["params"] = values
                    _write_json(self.records_dir / f"{number:04d}.json", rec)
                    self._tell(study, rec)
                    if rec["state"] == "COMPLETE" and (best[0] is None or rec["value"] > best[0]):
                        best[0] = rec["value"]
                    bar.update(1)
                    if best[0] is not None:
                        bar.set_postfix(best=f"{best[0]:.4f}", refresh=False)
                    self.write_trials_csv(study)
                    fill()
        except KeyboardInterrupt:
            # Trials still running stay RUNNING in the study: --resume runs them again.
            client.cancel(list(running.values()))
            self.write_results(study)
            done = sum(1 for tr in study.get_trials(deepcopy=False) if tr.state.is_finished())
            raise SweepInterrupted(done, target, self.out) from None
        finally:
            critical.restore()
            bar.close()
            for thing in to_close:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    thing.close()

    def _tell(self, study, rec) -> None:
        TrialState = self.optuna.trial.TrialState
        try:
            if rec["state"] == "COMPLETE":
                study.tell(rec["number"], rec["value"], skip_if_finished=True)
            else:
                study.tell(rec["number"], state=TrialState.FAIL, skip_if_finished=True)
        except RuntimeError as exc:
            # The grid sampler asks the study to stop once its grid is done, which Optuna allows only
            # inside optimize(); the trial has been stored by then (Optuna stores it in a finally).
            if "Study.stop" not in str(exc):
                raise

    # -- results --

    def rows(self, study=None) -> list[dict]:
        """One dict per trial: number, state, parameters, validation accuracy, epochs, seconds, worker, reason."""
        study = study or self.study()
        rows = []
        for tr in study.get_trials(deepcopy=False):
            rec = self.record(tr.number) or {}
            row = {"number": tr.number, "state": tr.state.name}
            for p in self.spec.params:
                # A trial drawn again after its driver died keeps its settings in its record only.
                row[p.name] = tr.params.get(p.name, rec.get("params", {}).get(p.name))
            row.update({
                "validation_accuracy": tr.value if tr.state.name == "COMPLETE" else None,
                "epochs": rec.get("epochs", [None])[-1] if rec.get("epochs") else None,
                "seconds": rec.get("seconds"), "worker": rec.get("worker"), "reason": rec.get("reason"),
                "curve": rec.get("curve", []), "curve_epochs": rec.get("epochs", []),
            })
            rows.append(row)
        return rows

    def write_trials_csv(self, study=None, rows=None) -> None:
        import csv
        import io

        rows = self.rows(study) if rows is None else rows
        columns = ["number", "state", *[p.name for p in self.spec.params], "validation_accuracy", "epochs",
                   "seconds", "worker", "reason"]
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else (repr(row[c]) if isinstance(row[c], float) else row[c])
                             for c in columns])
        with atomic_write(self.out / "trials.csv", "w", in_run_folder=True) as fh:
            fh.write(buf.getvalue())

    def write_results(self, study=None) -> dict | None:
        """``trials.csv``, ``best.json`` and the two figures from the trials so far; the best trial's
        entry (``None`` when no trial has completed)."""
        rows = self.rows(study)
        self.write_trials_csv(rows=rows)
        complete = sorted((r for r in rows if r["state"] == "COMPLETE"),
                          key=lambda r: (-r["validation_accuracy"], r["number"]))
        from nnlearn.plots import save_figure

        if rows:
            save_figure(plot_search_space(rows, self.spec.params), self.out / "search_space.png", in_run_folder=True)
        if complete:
            save_figure(plot_validation_curves(complete[:CURVES], self.spec.params), self.out / "validation_curves.png", in_run_folder=True)
        if not complete:
            return None
        top = complete[0]
        values = {p.name: top[p.name] for p in self.spec.params}
        settings = self.spec.settings(values)
        best = {
            "number": top["number"], "params": values, "validation_accuracy": top["validation_accuracy"],
            "settings": settings.to_dict(), "description": settings.describe(),
            "trials": {"complete": len(complete), "failed": sum(r["state"] == "FAIL" for r in rows),
                       "total": len(rows)},
        }
        previous = self.out / "best.json"
        try:
            old = json.loads(previous.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            old = {}
        if old.get("number") == best["number"] and "final" in old:
            best["final"] = old["final"]
        _write_json(previous, best)
        return best

    def final_run(self, best, x_train, t_train, x_test, t_test, n_classes, progress, log) -> dict:
        """Retrain ``best``'s settings on all training data into ``out/final``; judge it on the test data."""
        from nnlearn import runs
        from nnlearn.callbacks import standard_callbacks
        from nnlearn.settings import TrainSettings
        from nnlearn.trainer import build_trainer

        run = self.out / "final"
        settings = TrainSettings.from_dict(best["settings"])
        if (run / "summary.json").exists():
            summary = json.loads((run / "summary.json").read_text())
            if summary.get("description") == settings.describe(x_train.shape[1], n_classes):
                return _final_entry(summary, run)
        trainer = build_trainer(settings, x_train, t_train, x_test, t_test, n_classes=n_classes,
                                callbacks=[*standard_callbacks(progress, checkpoint=run / "checkpoint.npz"),
                                           runs.RunWriter(run, log=progress is not False)])
        if (run / "checkpoint.npz").exists() and (run / "config.json").exists():
            try:
                trainer.load_checkpoint(run / "checkpoint.npz")
            except NnlearnError:  # another best trial's run: start it again
                trainer = build_trainer(settings, x_train, t_train, x_test, t_test, n_classes=n_classes,
                                        callbacks=trainer.callbacks)
        if trainer.iteration == 0:
            (run / "checkpoint.npz").unlink(missing_ok=True)
            runs.start_run(run, trainer, recipe=self.spec.recipe, dataset=self.spec.dataset,
                           data_dir=self.spec.data_dir)
        log(f"final run: trial {best['number']}'s settings on all {len(x_train)} training samples, "
            f"judged once on the {len(x_test)} test samples -> {run}")
        summary = runs.finish_run(run, trainer, recipe=self.spec.recipe, dataset=self.spec.dataset)
        return _final_entry(summary, run)


def _final_entry(summary: dict, run) -> dict:
    return {"test_accuracy": summary["test_accuracy"], "train_accuracy": summary["train_accuracy"],
            "seconds": summary["seconds"], "run_dir": str(run)}


# -- figures ------------------------------------------------------------------------------------


def _label(row, params) -> str:
    parts = []
    for p in params:
        v = row[p.name]
        parts.append(f"{p.name}={v:.3g}" if isinstance(v, float) else f"{p.name}={v}")
    return f"#{row['number']} " + ", ".join(parts) + f" ({row['validation_accuracy']:.2%})"


def plot_validation_curves(rows, params):
    """The book's figure for a sweep: validation accuracy per epoch of the given trials, each
    labelled with its settings."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5))
    ax = fig.add_subplot()
    for row in rows:
        ax.plot(row["curve_epochs"], row["curve"], marker="o", markersize=3, label=_label(row, params))
    ax.set_xlabel("epochs")
    ax.set_ylabel("validation accuracy")
    ax.set_title(f"Validation accuracy per epoch, the best {len(rows)} trials")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def _axis(ax, which: str, p, rows):
    """Positions of ``p``'s values on an axis (choices at 0, 1, ...; a log axis for loguniform)."""
    values = [r[p.name] for r in rows]
    set_label = ax.set_xlabel if which == "x" else ax.set_ylabel
    set_label(p.name)
    if p.kind == "choice":
        index = {c: i for i, c in enumerate(p.choices)}
        (ax.set_xticks if which == "x" else ax.set_yticks)(range(len(p.choices)), [str(c) for c in p.choices])
        (ax.set_xlim if which == "x" else ax.set_ylim)(-0.5, len(p.choices) - 0.5)
        jitter = np.random.default_rng(0).uniform(-0.12, 0.12, len(values))
        return np.array([index.get(v, np.nan) for v in values], dtype=float) + jitter
    if p.kind == "loguniform":
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def plot_search_space(rows, params):
    """Every trial at its first two parameters, coloured by validation accuracy (failed: grey x).
    With one parameter, the validation accuracy against it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 5))
    ax = fig.add_subplot()
    done = [r for r in rows if r["state"] == "COMPLETE"]
    failed = [r for r in rows if r["state"] == "FAIL"]
    px = params[0]
    if len(params) >= 2:
        py = params[1]
        if done:
            sc = ax.scatter(_axis(ax, "x", px, done), _axis(ax, "y", py, done), c=[r["validation_accuracy"] for r in done],
                            cmap="viridis", s=40, edgecolors="k", linewidths=0.5)
            fig.colorbar(sc, ax=ax, label="validation accuracy")
        if failed:
            ax.scatter(_axis(ax, "x", px, failed), _axis(ax, "y", py, failed), marker="x", color="grey",
                       label="failed")
            ax.legend(loc="best", fontsize=8)
        ax.set_title(f"Search space: {px.name} and {py.name} ({len(rows)} trials)")
    else:
        if done:
            ax.scatter(_axis(ax, "x", px, done), [r["validation_accuracy"] for r in done], s=40)
        ax.set_ylabel("validation accuracy")
        ax.set_title(f"Search space: {px.name} ({len(rows)} trials)")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig
