"""Files that never exist half-written: atomic writes, temporary files that do not outlive their process.

Every temporary file or folder made here is named ``.NAME.HOST-PID.RANDOM.tmp`` (or ``.part``):
the process that made it can be told from the name, so :func:`remove_stale_temp_files` can remove
what a killed process left behind without touching the work of a live one. Inside
:func:`exit_on_sigterm`, SIGTERM raises :class:`SystemExit`, so the ``except``/``finally`` clean-ups
run on ``kill`` as they do on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
from pathlib import Path

from nnlearn.errors import OutputError

#: A temporary file or folder of this module: ``.NAME.HOST-PID.RANDOM.tmp`` / ``.part``.
_TEMP_NAME = re.compile(r"^\..+\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)\.[a-z0-9_]+\.(?:tmp|part)$")
#: Another machine's temporary files (a shared folder) are left alone until they are this old.
OTHER_HOST_AGE_S = 24 * 3600.0


def _host() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def temp_prefix(name: str) -> str:
    """The prefix for a temporary file or folder standing for ``name``: ``.NAME.HOST-PID.``.

    Pass it to :func:`tempfile.mkstemp` / :func:`tempfile.mkdtemp` with ``suffix=".tmp"`` (or
    ``".part"``) so that :func:`remove_stale_temp_files` recognises what is left if this process dies.

    Examples
    --------
    >>> temp_prefix("model.npz").startswith(".model.npz.")
    True
    """
    return f".{name}.{_host()}-{os.getpid()}."


def make_temp_file(folder, name: str, suffix: str = ".tmp") -> tuple[int, Path]:
    """Create a temporary file for ``name`` in ``folder``; returns ``(fd, path)``.

    Its permissions follow the umask like an ordinary new file (``mkstemp`` alone would make it
    private to the user).
    """
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=temp_prefix(name), suffix=suffix)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return fd, Path(tmp)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def remove_stale_temp_files(folder) -> list[Path]:
    """Remove, in ``folder``, the temporary files and folders (see :func:`temp_prefix`) of dead processes.

    Those of a live process on this machine are kept; those made on another machine (a shared
    folder) only go once older than :data:`OTHER_HOST_AGE_S`. Returns what was removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / f".data.gz.{_host()}-999999999.abc.part").write_bytes(b"x")  # no such process
    >>> fd, mine = make_temp_file(folder, "data.gz", ".part"); os.close(fd)
    >>> [p.name.endswith("abc.part") for p in remove_stale_temp_files(folder)]
    [True]
    >>> [p.name == mine.name for p in folder.iterdir()]
    [True]
    """
    removed = []
    host, now = _host(), time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if not m:
            continue
        try:
            if m["host"] == host:
                stale = not _alive(int(m["pid"]))
            else:
                stale = now - entry.stat(follow_symlinks=False).st_mtime > OTHER_HOST_AGE_S
            if not stale:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue  # removed meanwhile, or not ours to remove
        removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def exit_on_sigterm():
    """Within the block, SIGTERM raises ``SystemExit(143)`` so that clean-up code runs, then the process exits.

    Does nothing outside the main thread, or when a SIGTERM handler other than the default is
    already installed (an outer ``exit_on_sigterm``, or the application's own).
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def terminate(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb"):
    """Open a temporary file beside ``path``; on success fsync it and rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = make_temp_file(path.parent, path.name)
    except OSError as exc:
        raise OutputError(
            f"cannot write {path}: {exc.strerror or exc}; choose a path in a folder you can write to"
        ) from None
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
