"""Where the trials run: a Dask client of a given client, of a running cluster, or of a local one."""

from __future__ import annotations

import logging
import os
import signal
import threading

from nnlearn.base.errors import NnlearnError
from nnlearn.base.i18n import _

INSTALL = 'pip install "nnlearn[sweep]"'


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
        raise NnlearnError(
            _(
                "nnlearn sweep needs {names}; install them with: {command}",
                names=_(" and ").join(missing),
                command=INSTALL,
            )
        )
    return tuple(modules)


def connect(client=None, workers=None, scheduler=None):
    """``(client, things to close)``: ``client`` itself, a client of the cluster at ``scheduler``
    (``tcp://HOST:PORT``), or of a new local cluster of ``workers`` processes (default: the cores)."""
    import distributed

    if client is not None:
        return client, []
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise NnlearnError(
                _(
                    "cannot reach the Dask scheduler at {scheduler} ({reason}); start it with `dask "
                    "scheduler` and give its tcp://HOST:PORT",
                    scheduler=scheduler,
                    reason=exc,
                )
            ) from None
        return client, [client]
    cluster = local_cluster(workers or os.cpu_count() or 1)
    client = distributed.Client(cluster)
    return client, [client, cluster]


def local_cluster(workers: int):
    """A local Dask cluster of ``workers`` processes, one thread and one BLAS thread each."""
    import dask
    import distributed

    # One BLAS thread per worker process: K processes share the cores instead of fighting for them.
    # (This replaces Dask's default, whose MALLOC_TRIM_THRESHOLD_ made training ~30 % slower here.)
    one = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    # Ctrl-C in a terminal reaches every process of the group: the workers ignore it (they inherit
    # SIG_IGN) and the driver alone stops the sweep, cleanly.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": one}):
            # No dashboard; the scheduler's small HTTP server on a free port of 127.0.0.1.
            return distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
                scheduler_kwargs={"dashboard": False},
                silence_logs=logging.ERROR,
            )
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
