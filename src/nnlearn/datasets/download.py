"""Verified downloads over a list of mirrors: pooch moves the bytes, this module decides what to keep.

What pooch cannot do is done here, each shown by a test against a mirror on 127.0.0.1
(``tests/test_download.py``): the *content's* SHA-256 (MNIST's digests are of the decompressed
files, and mirrors serve other compressions of them), decompression that stops at the file's known
size, ``Content-Length`` and body size caps, and the slow-mirror cut -- requests' time-out bounds
each read, not the transfer (a 28 KB file fed at 1 byte/s ran for hours), so a :class:`Watchdog`
applies curl's ``--speed-limit``/``--speed-time`` model. A mirror that is too slow or does not
answer is skipped for the other files.

Settings: ``NNLEARN_MIRRORS`` (base URLs separated by spaces or commas; ``{dataset}`` becomes the
data set's name; an entry that is not an http(s) URL is skipped with a warning), ``NNLEARN_TIMEOUT``
(seconds to wait for a connection or the next block, default 10), ``NNLEARN_SPEED_LIMIT`` and
``NNLEARN_SPEED_TIME`` (default 1024 bytes/s over 20 s), ``NNLEARN_OFFLINE=1`` (never download).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Self

from nnlearn.base.constraints import POSITIVE
from nnlearn.base.errors import InputError
from nnlearn.base.files import exit_on_sigterm, make_temp_file, remove_stale_temp_files
from nnlearn.base.i18n import N_, _
from nnlearn.datasets.errors import (
    DatasetError,
    DatasetWarning,
    OversizeDataError,
    TruncatedDataError,
)
from nnlearn.datasets.idx import compressed_bound, payload_sha256
from nnlearn.datasets.sources import (
    DataFile,
    DatasetSpec,
    check_data_dir,
    download_dir,
    find_files,
    make_data_folder,
    missing_message,
    verified_copy,
)

# Seconds to wait for a connection or the next block; the low-speed limit: bytes/s over each window of seconds.
DEFAULT_TIMEOUT = 10.0
DEFAULT_SPEED_LIMIT = 1024
DEFAULT_SPEED_TIME = 20.0
#: Further attempts on the same mirror after a cut-short transfer or a server error (5xx).
DEFAULT_RETRIES = 1
#: Deflate's best compression: 258 bytes in 2 bits. No copy of a file is smaller than this share of it.
_MAX_RATIO = 1032
_HEADERS = {"User-Agent": "nnlearn-datasets/2 (+pooch)", "Accept-Encoding": "identity"}  # identity: no hidden gunzip


class DownloadError(DatasetError):
    """No mirror delivered a file with the right content."""


class Retry(Exception):
    """A failure worth another attempt on the same mirror."""


class Skip(Exception):
    """A failure that another attempt on the same mirror would repeat: go to the next mirror."""


class GiveUp(Skip):
    """A failure that rules the mirror out for the other files too; ``why`` says it in a few words."""

    def __init__(self, message: str, why: str):
        super().__init__(message)
        self.why = why


def wire_bounds(datafile: DataFile) -> tuple[int, int]:
    """The fewest and the most bytes a copy of ``datafile`` (gzip or plain) can take on the wire.

    At most the decompressed size plus deflate's and gzip's overhead; at least the decompressed
    size over deflate's best ratio, 1032:1. A ``Content-Length`` outside is a lie.

    Examples
    --------
    >>> from nnlearn.datasets import MNIST
    >>> wire_bounds(MNIST.file("train-labels"))  # 60,008 bytes decompressed; the original gzip is 28,881
    (58, 64111)
    """
    return datafile.payload_size // _MAX_RATIO, compressed_bound(datafile.payload_size)


_watched = threading.local()


def _on_connect(event: str, args) -> None:
    """An audit hook: hands each socket this thread connects during a watched transfer to its watchdog.

    requests and urllib3 expose no connection hook, and the headers can trickle as slowly as the
    body; the ``socket.connect`` audit event is the one place that sees every socket in time.
    """
    if event == "socket.connect" and (dog := getattr(_watched, "dog", None)) is not None:
        dog.add(args[0].fileno())


class Watchdog:
    """Abandons one transfer that falls below the low-speed limit, by shutting its sockets.

    Every ``window`` seconds from the start it checks that at least ``limit * window`` bytes of
    the body arrived since the previous check (the writer adds to :attr:`got`); if not, it shuts
    the sockets, so that a read blocked in any stage (connection, headers, body) returns at once.
    Use it as a context manager around the transfer, in the thread that makes it.
    """

    hooked = False

    def __init__(self, limit: float, window: float):
        self.limit, self.window = limit, window
        self.got, self.slow_got, self.expired, self.fds = 0, 0, False, []
        self.lock = threading.Lock()
        self.done = threading.Event()

    def __enter__(self) -> Self:
        if not Watchdog.hooked:
            sys.addaudithook(_on_connect)
            Watchdog.hooked = True
        _watched.dog = self
        threading.Thread(target=self._watch, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        _watched.dog = None
        with self.lock:
            self.done.set()
            self.fds.clear()

    def _watch(self) -> None:
        last = 0
        while not self.done.wait(self.window):
            got = self.got
            if got - last < self.limit * self.window:
                self.slow_got = got - last
                with self.lock:
                    self.expired = not self.done.is_set()
                    for fd in self.fds:
                        self._shut(fd)
                return
            last = got

    def add(self, fd: int) -> None:
        with self.lock:
            self.fds.append(fd)
            if self.expired:
                self._shut(fd)

    @staticmethod
    def _shut(fd: int) -> None:
        # By descriptor: ssl wraps (and detaches) the socket object after connecting. Shutting
        # the plain socket wakes the reader, also under TLS; detach() leaves the fd to its owner.
        with contextlib.suppress(OSError):
            sock = socket.socket(fileno=fd)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            finally:
                sock.detach()


class _CappedFile:
    """The file pooch writes into: counts the bytes for the watchdog, refuses more than ``high``."""

    def __init__(self, out, datafile: DataFile, dog: Watchdog):
        self.out, self.datafile, self.dog = out, datafile, dog
        self.high = wire_bounds(datafile)[1]
        self.response = None  # requests' answer, once its headers are in

    def write(self, block: bytes) -> None:
        self.dog.got += len(block)
        if self.dog.got > self.high:
            raise Skip(
                _(
                    "wrong content (over {high} bytes, more than any copy of {name})",
                    high=self.high,
                    name=self.datafile.name,
                )
            )
        self.out.write(block)

    def flush(self) -> None:
        pass  # pooch flushes after each KiB; the file is flushed and synced once, when complete

    def announced(self, response, **_kw) -> None:
        """requests' response hook: refuse at once a ``Content-Length`` that no copy of the file can have."""
        self.response = response
        length = response.headers.get("Content-Length")
        if response.status_code != 200 or length is None:
            return
        length = length.strip()
        if not (length.isascii() and length.isdigit()):
            raise Skip(_("a broken answer (Content-Length {length!r} is not a number)", length=length[:20]))
        low, high = wire_bounds(self.datafile)
        if not low <= int(length) <= high:
            raise Skip(
                _(
                    "wrong content ({total} bytes announced; a copy of {name} takes {low} to {high} bytes)",
                    total=int(length),
                    name=self.datafile.name,
                    low=low,
                    high=high,
                )
            )
        self.high = int(length)


def _reason(exc: BaseException) -> str:
    """The operating system's words for a connection failure wrapped by requests and urllib3, else the message."""
    seen = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
        seen = seen.__cause__ or seen.__context__ or getattr(seen, "reason", None)
    return str(exc)


def _failure(exc, dog: Watchdog, out: _CappedFile, timeout: float) -> Exception:
    """What a requests exception (None: a transfer ended early) means for this mirror: Retry, Skip or GiveUp."""
    import requests

    seconds = format(timeout, "g")
    if dog.expired:
        return GiveUp(
            _(
                "too slow: {n} bytes in {seconds} s, less than {limit} bytes/s (NNLEARN_SPEED_LIMIT, "
                "NNLEARN_SPEED_TIME); not tried for the other files",
                n=dog.slow_got,
                seconds=format(dog.window, "g"),
                limit=format(dog.limit, "g"),
            ),
            N_("too slow"),
        )
    if isinstance(exc, requests.HTTPError):
        reason = f"HTTP {exc.response.status_code} {exc.response.reason}"
        return (Retry if exc.response.status_code >= 500 else Skip)(reason)
    from urllib3.exceptions import TimeoutError as Urllib3Timeout

    answered = out.response
    # A read that times out in the body arrives as a ConnectionError around urllib3's time-out.
    timed_out = isinstance(exc, requests.Timeout) or any(isinstance(a, Urllib3Timeout) for a in exc.args)
    if answered is None and timed_out:
        return GiveUp(_("no answer within {seconds} s", seconds=seconds), N_("did not answer"))
    if answered is None and isinstance(exc, requests.ConnectionError):
        return GiveUp(_("cannot connect ({reason})", reason=_reason(exc)), N_("did not answer"))
    if timed_out:
        return GiveUp(
            _(
                "stalled: no data for {seconds} s after {n} bytes; not tried for the other files",
                seconds=seconds,
                n=answered.raw.tell(),
            ),
            N_("too slow"),
        )
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return Retry(_("transfer cut short: {n} of {total} bytes", n=answered.raw.tell(), total=out.high))
    return Retry(_("transfer failed after {n} bytes ({kind})", n=dog.got, kind=exc.__class__.__name__))


def _digest_of(path: Path, datafile: DataFile) -> str:
    """SHA-256 of the decompressed content (at most its known size), or Retry if the compressed data is cut short."""
    try:
        return payload_sha256(path, datafile.payload_cap)
    except TruncatedDataError:
        raise Retry(_("the file arrived truncated")) from None
    except OversizeDataError:
        raise Skip(
            _(
                "wrong content (decompresses to more than {n} bytes, more than {name} holds: a wrong file or a "
                "decompression bomb)",
                n=datafile.payload_cap,
                name=datafile.name,
            )
        ) from None
    except DatasetError:
        raise Skip(_("not a valid gzip/IDX file")) from None


def fetch(
    url: str, datafile: DataFile, dest: Path, *, timeout: float, speed: tuple[float, float], progress: bool
) -> None:
    """One attempt: stream ``url`` into a temporary file, verify it, move it onto ``dest``; else raise
    :class:`Retry`, :class:`Skip` or :class:`GiveUp`. ``speed`` is ``(bytes per second, seconds)``."""
    # Imported here: a load from local files never needs requests (~40 ms).
    import pooch
    import requests
    from tqdm import tqdm

    fd, tmp = make_temp_file(dest.parent, dest.name, ".part")
    try:
        with os.fdopen(fd, "wb") as raw, Watchdog(*speed) as dog:
            out = _CappedFile(raw, datafile, dog)
            # total=1: pooch tests the bar's truth, which tqdm refuses to tell while the total is unknown.
            bar = progress and tqdm(
                total=1, unit="B", unit_scale=True, unit_divisor=1024, desc=datafile.name, leave=False, file=sys.stderr
            )
            downloader = pooch.HTTPDownloader(
                progressbar=bar, timeout=timeout, headers=_HEADERS, hooks={"response": out.announced}
            )
            try:
                downloader(url, out, None)
            except requests.RequestException as exc:
                raise _failure(exc, dog, out, timeout) from None
            finally:
                if progress:
                    bar.close()
                if out.response is not None:  # pooch leaves it open when the body fails or is refused
                    out.response.close()
            if dog.expired and dog.got != out.high:  # a shut socket may end a body of unknown length quietly
                raise _failure(None, dog, out, timeout)
            raw.flush()
            os.fsync(raw.fileno())
        digest = _digest_of(Path(tmp), datafile)
        if digest != datafile.sha256:
            raise Skip(
                _(
                    "wrong content (SHA-256 {digest}..., expected {expected}...)",
                    digest=digest[:12],
                    expected=datafile.sha256[:12],
                )
            )
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a mirror, or None."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError as exc:
        return _("not a valid URL ({reason})", reason=exc)
    if parts.scheme not in ("http", "https"):
        return _("not an http:// or https:// URL")
    if not parts.hostname:
        return _("no host name")
    return None


def mirrors_for(spec: DatasetSpec, mirrors=None) -> list[str]:
    """The base URLs to try for ``spec``: ``mirrors``, else ``NNLEARN_MIRRORS``, else the built-in list.

    An entry that is not an http(s) URL is skipped with a :class:`DatasetWarning` naming it.
    """
    setting = "mirrors"
    if mirrors is None:
        env = os.environ.get("NNLEARN_MIRRORS")
        if env is not None:
            mirrors, setting = env.replace(",", " ").split(), "NNLEARN_MIRRORS"
        else:
            mirrors = spec.mirrors
    usable = []
    for entry in mirrors:
        url = entry.replace("{dataset}", spec.name)
        problem = _url_problem(url)
        if problem:
            warnings.warn(
                _("{setting}: skipped the entry {entry!r}: {problem}", setting=setting, entry=entry, problem=problem),
                DatasetWarning,
                stacklevel=2,
            )
        else:
            usable.append(url)
    return usable


def _positive_setting(name: str, default: float) -> float:
    """The environment variable ``name`` as a number > 0, else ``default``."""
    env = os.environ.get(name)
    if not env:
        return default
    try:
        return POSITIVE.check(POSITIVE.parse(env), name)
    except InputError as exc:
        raise DatasetError(str(exc)) from None


def default_timeout() -> float:
    """``NNLEARN_TIMEOUT`` as a number of seconds, else :data:`DEFAULT_TIMEOUT`."""
    return _positive_setting("NNLEARN_TIMEOUT", DEFAULT_TIMEOUT)


def speed_limit() -> tuple[float, float]:
    """``(bytes per second, seconds)``: ``NNLEARN_SPEED_LIMIT`` and ``NNLEARN_SPEED_TIME``, else the defaults."""
    return (
        _positive_setting("NNLEARN_SPEED_LIMIT", DEFAULT_SPEED_LIMIT),
        _positive_setting("NNLEARN_SPEED_TIME", DEFAULT_SPEED_TIME),
    )


def offline() -> bool:
    """True when ``NNLEARN_OFFLINE`` asks never to download."""
    return os.environ.get("NNLEARN_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def download_file(
    datafile: DataFile,
    dest_dir: Path,
    mirrors: list[str],
    *,
    timeout: float | None = None,
    retries: int = DEFAULT_RETRIES,
    backoff: float = 0.5,
    progress: bool | None = None,
    given_up: dict | None = None,
) -> Path:
    """Download ``datafile`` into ``dest_dir`` from the first mirror (a base URL) that delivers the right
    content, else raise :class:`DownloadError` saying what each mirror did.

    ``retries``: further attempts on one mirror after a cut-short transfer or a 5xx answer, ``backoff``
    seconds later, doubled each time; ``progress``: a bar (default: when standard error is a terminal).
    ``given_up`` (``{mirror: why}``) holds the mirrors ruled out for this command, skipped and added
    to, so that a dead or trickling mirror costs its time-out once per command, not per file.
    :func:`fetch_dataset` calls it with ``dest_dir`` made and cleaned, and at least one mirror.
    """
    dest = Path(dest_dir) / datafile.name
    timeout = default_timeout() if timeout is None else float(timeout)
    speed = speed_limit()
    progress = sys.stderr.isatty() if progress is None else progress
    failures = []
    given_up = {} if given_up is None else given_up
    with exit_on_sigterm():  # so that `kill` removes the temporary file too
        for base in mirrors:
            url = base.rstrip("/") + "/" + datafile.name
            if base in given_up:
                failures.append(_("{url}: skipped ({why} for an earlier file)", url=url, why=given_up[base]))
                continue
            for attempt in range(retries + 1):
                try:
                    fetch(url, datafile, dest, timeout=timeout, speed=speed, progress=progress)
                    return dest
                except Skip as exc:
                    if isinstance(exc, GiveUp):
                        given_up[base] = _(exc.why)
                    failures.append(f"{url}: {exc}")
                    break
                except Retry as exc:
                    if attempt == retries:
                        failures.append(f"{url}: {exc}")
                    else:
                        time.sleep(backoff * 2**attempt)
    raise DownloadError(
        _("{name}: no mirror delivered it", name=datafile.name) + "\n" + "\n".join("  " + f for f in failures)
    )


def fetch_dataset(
    spec: DatasetSpec, dest_dir: str | os.PathLike | None = None, *, mirrors=None, timeout: float | None = None
) -> dict[str, Path]:
    """Make sure ``dest_dir`` (default: the cache folder) holds every file of ``spec``, verified, downloading
    what is missing from ``mirrors``; else :class:`DownloadError` naming each file and what each mirror did."""
    dest_dir = Path(dest_dir) if dest_dir is not None else download_dir(spec)
    urls = mirrors_for(spec, mirrors)
    paths = {f.role: have for f in spec.files if (have := verified_copy(dest_dir, f)) is not None}
    wanted = [f for f in spec.files if f.role not in paths]
    if not wanted:
        return paths
    names = ", ".join(f.name for f in wanted)
    if offline():
        raise DownloadError(
            _("{title}: not downloading {names}: NNLEARN_OFFLINE is set", title=spec.title, names=names)
        )
    if not urls:
        raise DownloadError(
            _(
                "{title}: no mirror to download {names} from (NNLEARN_MIRRORS is empty, or none of its "
                "entries is a URL)",
                title=spec.title,
                names=names,
            )
        )
    make_data_folder(
        dest_dir, N_("cannot create the download folder {folder} ({reason}); pass --data-dir with a writable folder")
    )
    remove_stale_temp_files(dest_dir)
    failures = []
    given_up: dict = {}
    for f in wanted:
        if given_up.keys() >= set(urls):
            failures.append(
                _("{name}: not tried, every mirror failed for an earlier file (no answer, or too slow)", name=f.name)
            )
            continue
        try:
            paths[f.role] = download_file(f, dest_dir, urls, timeout=timeout, given_up=given_up)
        except DownloadError as exc:
            failures.append(str(exc))
    if failures:
        detail = "\n".join("  " + line for failure in failures for line in failure.splitlines())
        raise DownloadError(
            _(
                "{title}: {failed} of {n} files could not be downloaded into {folder}",
                title=spec.title,
                failed=len(failures),
                n=len(spec.files),
                folder=dest_dir,
            )
            + f"\n{detail}"
        )
    return paths


def ensure_files(spec: DatasetSpec, data_dir=None, *, download: bool = True) -> dict[str, Path]:
    """The paths of ``spec``'s four files: found in the searched folders, else downloaded into the cache.

    A ``data_dir`` that is not a folder is refused (a typo must not start a download); a failure names
    the missing files, where they were looked for, why the download failed, and how to provide them.
    """
    check_data_dir(data_dir)
    passed_over: list = []
    paths = find_files(spec, data_dir, passed_over=passed_over)
    if paths is not None:
        return paths
    if not download:
        raise DatasetError(missing_message(spec, data_dir, passed_over=passed_over))
    try:
        return fetch_dataset(spec)
    except DownloadError as exc:
        raise DatasetError(missing_message(spec, data_dir, reasons=str(exc), passed_over=passed_over)) from None
