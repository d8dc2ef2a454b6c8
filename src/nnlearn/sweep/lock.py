"""The study journal's lock: ``flock(2)`` on the journal file, so that no lock outlives its process.

Optuna's own journal locks are files (a symbolic link, or a file made with ``O_EXCL``) that a
process killed while appending leaves behind; the next process then waits for a grace period and
breaks the lock, whoever holds it. A ``flock`` is released by the kernel when its process dies, so a
killed driver leaves nothing to clean up. The same lock, taken without waiting (:meth:`JournalLock.hold`),
keeps a second driver off a sweep folder for the whole of a run (also from another machine, where
the file system passes ``flock`` on: Linux's NFS client does).

:class:`JournalLock` is one of Optuna's public lock classes (what ``JournalFileBackend``'s
``lock_obj`` takes) with its ``acquire`` and ``release`` done by ``flock``. Imported only where a
study is opened: Optuna is an optional dependency.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from optuna.storages.journal import JournalFileOpenLock

from nnlearn.base.errors import NnlearnError
from nnlearn.base.i18n import _


class JournalLock(JournalFileOpenLock):
    """An exclusive ``flock`` on ``path`` around every append to the journal, or for a whole run."""

    def __init__(self, path):
        super().__init__(str(path), grace_period=None)
        self.path = Path(path)
        self.fd = None
        self.held = False

    def _take(self, flags: int) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, flags)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd

    def _drop(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)  # closing the last descriptor releases the flock

    def acquire(self) -> bool:
        """Wait for the lock (Optuna's per-append call); at once while :meth:`hold` holds it."""
        if not self.held:
            self._take(fcntl.LOCK_EX)
        return True

    def release(self) -> None:
        if not self.held:
            self._drop()

    @contextlib.contextmanager
    def hold(self, folder):
        """Hold the lock for the block (a driver's run), or say that another process sweeps ``folder``."""
        try:
            self._take(fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise NnlearnError(
                _("{folder} is being swept by another process; wait for it or stop it first", folder=folder)
            ) from None
        self.held = True
        try:
            yield self
        finally:
            self.held = False
            self._drop()
