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
import json
import os
import re
import shutil
import signal
import socket
import stat
import tempfile
import threading
import time
from pathlib import Path

from nnlearn.base.errors import FileFormatError, OutputError
from nnlearn.base.i18n import N_, _

#: A temporary file or folder of this module: ``.NAME.HOST-PID.RANDOM.tmp`` / ``.part``.
_TEMP_NAME = re.compile(r"^\..+\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)\.[a-z0-9_]+\.(?:tmp|part)$")
#: Another machine's temporary files (a shared folder) are left alone until they are this old.
OTHER_HOST_AGE_S = 24 * 3600.0
#: Process ids above this are no process of any host (Linux's largest pid_max is 2**22).
MAX_PID = 2**31 - 1


def _host() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def temp_prefix(name: str) -> str:
    """The prefix ``.NAME.HOST-PID.`` for ``tempfile.mkstemp``/``mkdtemp`` (with ``suffix=".tmp"`` or ``".part"``)."""
    return f".{name}.{_host()}-{os.getpid()}."


def make_temp_file(folder, name: str, suffix: str = ".tmp") -> tuple[int, Path]:
    """``(fd, path)`` of a new temporary file for ``name`` in ``folder``, with the permissions of an ordinary
    new file (``mkstemp`` alone would make it private to the user)."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=temp_prefix(name), suffix=suffix)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return fd, Path(tmp)


def pid_alive(pid) -> bool:
    """True when a process with this id exists on this host."""
    if not isinstance(pid, int) or isinstance(pid, bool) or not 0 < pid <= MAX_PID:
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:  # someone else's live process
        return True
    except (OSError, OverflowError):
        return False
    return True


def remove_stale_temp_files(folder) -> list[Path]:
    """Remove, in ``folder``, the temporary files and folders of dead processes; returns what was removed.

    Another machine's (a shared folder) go only once older than :data:`OTHER_HOST_AGE_S`.

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
                stale = not pid_alive(int(m["pid"]))
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
    """Within the block, SIGTERM raises ``SystemExit(143)`` so that clean-up code runs; nothing changes outside
    the main thread or where a SIGTERM handler is installed already (an outer block's, the application's)."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def terminate(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


#: The files that mark a folder as nnlearn's own: a run (``state.json``) or a sweep (``sweep.json``).
MANAGED_MARKERS = ("state.json", "sweep.json")

_KINDS = {
    stat.S_IFDIR: N_("a folder"),
    stat.S_IFCHR: N_("a device"),
    stat.S_IFBLK: N_("a device"),
    stat.S_IFIFO: N_("a FIFO (named pipe)"),
    stat.S_IFSOCK: N_("a socket"),
    stat.S_IFLNK: N_("a link"),
}


def file_kind(mode: int) -> str:
    """What a ``st_mode`` is, in words (the current language's): ``"a regular file"``, ``"a folder"``, ...

    Examples
    --------
    >>> file_kind(os.stat("/dev/null").st_mode), file_kind(os.stat("/").st_mode)
    ('a device', 'a folder')
    """
    if stat.S_ISREG(mode):
        return _("a regular file")
    kind = _KINDS.get(stat.S_IFMT(mode))
    return _(kind) if kind else _("not a regular file")


def managed_folder(path) -> Path | None:
    """The run or sweep folder (:data:`MANAGED_MARKERS`) that ``path`` lies in, or None.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> managed_folder(run / "config.json") is None
    True
    >>> _ = (run / "state.json").write_text("{}")
    >>> managed_folder(run / "sub" / "x.png") == run.resolve()
    True
    """
    for folder in Path(path).resolve().parents:
        if any((folder / marker).is_file() for marker in MANAGED_MARKERS):
            return folder
    return None


def check_output_path(path, *, in_run_folder: bool = False) -> Path:
    """``path`` as a Path, refused (:class:`~nnlearn.base.errors.OutputError`) where it is not ours to replace:
    something other than a regular file, or -- unless ``in_run_folder`` (that folder's own writer) --
    a path inside a run or sweep folder, whose files nnlearn keeps.

    Examples
    --------
    >>> check_output_path("/dev/full")
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.OutputError: refusing to write /dev/full: it is a device, not a regular file; give the name of a file to create or replace
    """
    return _check_target(Path(path), folder=False, in_run_folder=in_run_folder)


#: The refusals of :func:`_check_target` for a file (False) and a folder (True): cannot look, not a
#: regular file or folder, inside a run or sweep folder.
_REFUSALS = {
    False: (
        N_("cannot write {path}: {reason}; choose another path"),
        N_("refusing to write {path}: it is {kind}, not a regular file; give the name of a file to create or replace"),
        N_(
            "refusing to write {path}: it is inside the run or sweep folder {owner}, whose files "
            "nnlearn keeps; choose a path outside it"
        ),
    ),
    True: (
        N_("cannot write into {path}: {reason}; choose another folder"),
        N_("refusing to write into {path}: it is {kind}, not a folder; give a folder to create or fill"),
        N_(
            "refusing to write into {path}: it is inside the run or sweep folder {owner}, whose files "
            "nnlearn keeps; choose a folder outside it"
        ),
    ),
}


def _check_target(path: Path, *, folder: bool, in_run_folder: bool) -> Path:
    """The one rule behind :func:`check_output_path` (a file) and :func:`check_output_folder` (a folder)."""
    cannot, not_kind, inside = _REFUSALS[folder]
    try:
        mode = os.stat(path).st_mode  # follows a link: a link to a device is a device
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(_(cannot, path=path, reason=exc.strerror or exc)) from None
    if mode is not None and not (stat.S_ISDIR(mode) if folder else stat.S_ISREG(mode)):
        raise OutputError(_(not_kind, path=path, kind=file_kind(mode)))
    owner = None if in_run_folder else managed_folder(path / "_" if folder else path)
    if owner is not None:
        raise OutputError(_(inside, path=path, owner=owner))
    return path


def make_folder(path) -> Path:
    """Make the folder ``path`` (and its parents): one :class:`~nnlearn.base.errors.OutputError` line
    naming it when it cannot be made, before any work that would write into it."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(_(_REFUSALS[True][0], path=path, reason=exc.strerror or exc)) from None
    return path


class StopRequest:
    """Set by :func:`stop_requests`' signal handler: stop at the next safe point."""

    requested = False


@contextlib.contextmanager
def stop_requests(request: StopRequest):
    """Within the block, the first Ctrl-C or SIGTERM only sets ``request.requested`` (work stops at its next
    safe point); a second Ctrl-C interrupts at once. Outside the main thread the signals are left alone."""
    request.requested = False

    def handler(signum, frame):
        request.requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield request
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def check_output_folder(path, *, in_run_folder: bool = False) -> Path:
    """:func:`check_output_path` for a folder to write figures into, before any work (each file written
    into it is still checked by :func:`atomic_write`).

    Examples
    --------
    >>> check_output_folder("/dev/full")
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.OutputError: refusing to write into /dev/full: it is a device, not a folder; give a folder to create or fill
    """
    return _check_target(Path(path), folder=True, in_run_folder=in_run_folder)


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", *, in_run_folder: bool = False):
    """A temporary file beside ``path``, fsynced and renamed over ``path`` on success, removed on any exception;
    what is not ours to replace is refused first (:func:`check_output_path`)."""
    path = check_output_path(path, in_run_folder=in_run_folder)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = make_temp_file(path.parent, path.name)
    except OSError as exc:
        raise OutputError(
            _(
                "cannot write {path}: {reason}; choose a path in a folder you can write to",
                path=path,
                reason=exc.strerror or exc,
            )
        ) from None
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:  # a full disk, a quota, a vanished folder: the user's to fix, not a bug
        tmp.unlink(missing_ok=True)
        raise OutputError(
            _(
                "cannot write {path}: {reason}; free some space or choose another folder",
                path=path,
                reason=exc.strerror or exc,
            )
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


#: The largest JSON file nnlearn reads: configs, summaries, specs and records are a few KiB.
MAX_JSON_BYTES = 1 << 20


def open_regular_file(path, name=None) -> int:
    """A read-only descriptor of the regular file ``path`` (messages name it ``name``, the path by default).

    A FIFO is opened without blocking and refused, never read (it would wait for a writer forever); a
    device or a folder is a :class:`~nnlearn.base.errors.FileFormatError`; a missing file ``FileNotFoundError``.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise FileFormatError(
            _(
                "{path} is {kind}, not a regular file; nnlearn reads only regular files",
                path=path if name is None else name,
                kind=file_kind(mode),
            )
        )
    return fd


def read_at_most(fd: int, max_bytes: int, name) -> bytes:
    """The bytes of the open regular file ``fd`` (closed after), refused past ``max_bytes`` -- also
    when the file grows while it is read -- with a :class:`~nnlearn.base.errors.FileFormatError`
    naming ``name``. The one bounded read of nnlearn: nothing is allocated past the cap."""
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fd).st_size
        data = fh.read(max_bytes + 1) if size <= max_bytes else b""
    if size > max_bytes or len(data) > max_bytes:
        raise FileFormatError(_("{path} is more than the {most} bytes such a file may have", path=name, most=max_bytes))
    return data


def read_regular_file(path, max_bytes: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes`` (:func:`read_at_most`).

    Examples
    --------
    >>> read_regular_file("/dev/zero", 10)
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.FileFormatError: /dev/zero is a device, not a regular file; nnlearn reads only regular files
    """
    return read_at_most(open_regular_file(path), max_bytes, path)


def parse_json(text, what: str):
    """JSON ``text`` (str or bytes) as Python values, NaN and Infinity as None; damage (bad UTF-8 or syntax,
    too deep a nesting) is one :class:`~nnlearn.base.errors.FileFormatError` naming ``what``.

    Examples
    --------
    >>> parse_json('{"loss": NaN, "acc": 0.9461}', "summary.json")
    {'loss': None, 'acc': 0.9461}
    >>> parse_json("[" * 100000, "x.json")
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.FileFormatError: x.json is not valid JSON (nested too deeply)
    """
    try:
        # NaN, Infinity, -Infinity: no JSON file nnlearn writes means them; read as "no value".
        return json.loads(text, parse_constant=lambda constant: None)
    except RecursionError:
        raise FileFormatError(_("{what} is not valid JSON (nested too deeply)", what=what)) from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise FileFormatError(_("{what} is not valid JSON ({reason})", what=what, reason=exc)) from None


def read_json(path, max_bytes: int = MAX_JSON_BYTES):
    """The JSON value in the regular file ``path`` of at most ``max_bytes`` (:func:`parse_json`); ``OSError``
    as ``open`` raises it, :class:`~nnlearn.base.errors.FileFormatError` for anything else wrong."""
    return parse_json(read_regular_file(path, max_bytes), str(path))
