"""Verified downloads over a list of mirrors.

Each file is fetched from the first mirror that delivers the right content: the download streams
into a temporary file beside its destination (with a tqdm progress bar on a terminal), every
network operation has a time-out, a cut-short transfer or a server error is retried, and the file
is moved into place (atomically) only after the SHA-256 of its **decompressed** content matches
the known digest. So a re-compressed copy is accepted, a wrong or truncated one is refused, and
nothing partial or wrong is ever left under the final name.

Settings, for tests and for readers behind a proxy or without network:

``NNLEARN_MIRRORS``
    Base URLs separated by spaces or commas, replacing the built-in list; ``{dataset}`` in a URL
    becomes the data set's name (``mnist``, ``fashion-mnist``). An entry that is not an http(s)
    URL is skipped with a warning.
``NNLEARN_TIMEOUT``
    Seconds to wait for a connection or for the next block of data (default 10). It also bounds
    each file as a whole: a file of ``size`` bytes must arrive within
    ``NNLEARN_TIMEOUT * (2 + size / 160 KiB)`` seconds (at the default, 20 s plus one second per
    16 KiB), else the next mirror is tried -- so a server that trickles a byte at a time cannot
    hold a download forever.
``NNLEARN_OFFLINE=1``
    Never download.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
import warnings
from pathlib import Path

from nnlearn._io import exit_on_sigterm, make_temp_file, remove_stale_temp_files
from nnlearn.datasets.errors import DatasetError, DatasetWarning
from nnlearn.datasets.sources import DataFile, DatasetSpec

#: Seconds to wait for a connection, or for the next block of data, before giving up on a mirror.
DEFAULT_TIMEOUT = 10.0
#: Further attempts on the same mirror after a cut-short transfer or a server error (5xx).
DEFAULT_RETRIES = 1
_BLOCK = 1 << 16
#: No file of an MNIST-format data set comes near this; a mirror sending more is sending something else.
MAX_BYTES = 256 << 20
_USER_AGENT = "nnlearn-datasets/1 (+python urllib)"
#: Bytes a whole file may take per time-out period (160 KiB: 16 KiB/s at the default 10 s).
PATIENCE_BYTES = 160 * 1024


class DownloadError(DatasetError):
    """No mirror delivered a file with the right content."""


class _Retry(Exception):
    """A failure worth another attempt on the same mirror."""


class _Skip(Exception):
    """A failure that another attempt on the same mirror would repeat: go to the next mirror."""


class _Unreachable(_Skip):
    """The mirror did not answer at all: no other file will come from it either."""


def _url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a mirror, or None."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "not an http:// or https:// URL"
    if not parts.hostname:
        return "no host name"
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
            warnings.warn(f"{setting}: skipped the entry {entry!r}: {problem}", DatasetWarning, stacklevel=2)
        else:
            usable.append(url)
    return usable


def default_timeout() -> float:
    """``NNLEARN_TIMEOUT`` as a number of seconds, else :data:`DEFAULT_TIMEOUT`."""
    env = os.environ.get("NNLEARN_TIMEOUT")
    if not env:
        return DEFAULT_TIMEOUT
    try:
        value = float(env)
    except ValueError:
        raise DatasetError(f"NNLEARN_TIMEOUT={env!r} is not a number of seconds") from None
    if not value > 0:
        raise DatasetError(f"NNLEARN_TIMEOUT={env!r} must be positive")
    return value


def offline() -> bool:
    """True when ``NNLEARN_OFFLINE`` asks never to download."""
    return os.environ.get("NNLEARN_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def _digest_of(path: Path) -> str:
    """SHA-256 of the decompressed content, or _Retry if the compressed data is cut short."""
    from nnlearn.datasets.idx import payload_sha256

    try:
        return payload_sha256(path)
    except DatasetError as exc:
        # A gzip stream that ends early is a transfer cut short; anything else is a wrong file.
        if "truncated" in str(exc):
            raise _Retry("the file arrived truncated") from None
        raise _Skip("not a valid gzip/IDX file") from None


def file_deadline(timeout: float, size: int) -> float:
    """Seconds a whole file of ``size`` bytes may take: ``timeout * (2 + size / PATIENCE_BYTES)``.

    One time-out to connect, one for the answer to start, one per :data:`PATIENCE_BYTES` of data.

    Examples
    --------
    >>> round(file_deadline(10.0, 9912422))  # MNIST's training images, 9.5 MiB: ten minutes at 16 KiB/s
    625
    """
    return timeout * (2 + size / PATIENCE_BYTES)


class _Watchdog:
    """Shuts down the sockets of one download when its deadline passes, so a blocked read returns.

    A per-read time-out cannot stop a server that sends one byte just before each time-out; this
    can, whatever stage the transfer is in (connection, headers, body).
    """

    def __init__(self, seconds: float):
        self.start, self.expired, self.sockets = time.monotonic(), False, []
        self.lock = threading.Lock()
        self.timer = None
        self.extend_to(seconds)

    def extend_to(self, seconds: float) -> None:
        """Move the deadline to ``seconds`` after the start."""
        with self.lock:
            if self.timer is not None:
                self.timer.cancel()
            self.seconds = seconds
            self.timer = threading.Timer(max(0.0, self.start + seconds - time.monotonic()), self.expire)
            self.timer.daemon = True
            self.timer.start()

    def add(self, sock) -> None:
        with self.lock:
            self.sockets.append(sock)
            if self.expired:
                self._shut(sock)

    def expire(self) -> None:
        with self.lock:
            self.expired = True
            for sock in self.sockets:
                self._shut(sock)

    @staticmethod
    def _shut(sock) -> None:
        import socket

        with contextlib.suppress(OSError):
            # The plain socket's shutdown, also for TLS: it only has to wake the reader.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def cancel(self) -> None:
        self.timer.cancel()


def _opener(watchdog: _Watchdog):
    """A urllib opener whose connections register their sockets with ``watchdog``."""
    import http.client
    import urllib.request

    class HTTPConnection(http.client.HTTPConnection):
        def connect(self):
            super().connect()
            watchdog.add(self.sock)

    class HTTPSConnection(http.client.HTTPSConnection):
        def connect(self):
            super().connect()
            watchdog.add(self.sock)

    class HTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(HTTPConnection, req)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(HTTPSConnection, req, context=self._context)

    return urllib.request.build_opener(HTTPHandler, HTTPSHandler)


def _size_bound(datafile: DataFile) -> int:
    """The most bytes ``datafile`` can take on the wire before its length is announced: its decompressed size."""
    if any(s is None for s in datafile.shape):
        return MAX_BYTES
    return 4 + 4 * len(datafile.shape) + math.prod(datafile.shape)


def _fetch(url: str, datafile: DataFile, dest: Path, timeout: float, progress: bool) -> None:
    """One attempt: stream ``url`` into a temporary file, verify it, move it onto ``dest``."""
    # Imported here: http.client and urllib cost ~15 ms that a load from local files never needs.
    import http.client
    import socket
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    watchdog = _Watchdog(file_deadline(timeout, _size_bound(datafile)))
    got, total = 0, None

    def too_slow():
        of = f" of {total}" if total is not None else ""
        return _Skip(f"too slow: {got}{of} bytes in {watchdog.seconds:.3g} s, the limit for this file "
                     f"(NNLEARN_TIMEOUT={timeout:g}; a larger value allows more)")

    fd, tmp = make_temp_file(dest.parent, dest.name, ".part")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = _opener(watchdog).open(request, timeout=timeout)
            except urllib.error.HTTPError as exc:
                exc.close()
                reason = f"HTTP {exc.code} {exc.reason}"
                raise (_Retry if exc.code >= 500 else _Skip)(reason) from None
            except urllib.error.URLError as exc:
                if watchdog.expired:
                    raise too_slow() from None
                r = exc.reason
                if isinstance(r, (TimeoutError, socket.timeout)):
                    raise _Unreachable(f"no answer within {timeout:g} s") from None
                reason = r.strerror if isinstance(r, OSError) and r.strerror else r
                raise _Unreachable(f"cannot connect ({reason})") from None
            except (TimeoutError, socket.timeout):
                raise _Unreachable(f"no answer within {timeout:g} s") from None
            except (http.client.HTTPException, OSError) as exc:
                if watchdog.expired:
                    raise too_slow() from None
                raise _Retry(f"connection failed ({exc.__class__.__name__}: {exc})") from None
            with response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                if total is not None and total > MAX_BYTES:
                    raise _Skip(f"wrong content ({total} bytes announced, more than any {datafile.name})")
                if total is not None:
                    watchdog.extend_to(file_deadline(timeout, total))
                from tqdm import tqdm

                with tqdm(
                    total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=datafile.name,
                    disable=not progress, leave=False, file=sys.stderr,
                ) as bar:
                    try:
                        while block := response.read(_BLOCK):
                            out.write(block)
                            got += len(block)
                            bar.update(len(block))
                            if got > MAX_BYTES:
                                raise _Skip(f"wrong content (over {MAX_BYTES} bytes, more than any {datafile.name})")
                    except (TimeoutError, socket.timeout):
                        raise _Skip(f"stalled: no data for {timeout:g} s after {got} bytes") from None
                    except http.client.IncompleteRead as exc:
                        if watchdog.expired:
                            got += len(exc.partial)
                            raise too_slow() from None
                        raise _Retry(f"transfer cut short after {got + len(exc.partial)} of {total} bytes") from None
                    except (http.client.HTTPException, OSError) as exc:
                        if watchdog.expired:
                            raise too_slow() from None
                        raise _Retry(f"transfer failed after {got} bytes ({exc.__class__.__name__})") from None
            if watchdog.expired:
                raise too_slow()
            if total is not None and got != total:
                raise _Retry(f"transfer cut short: {got} of {total} bytes")
            out.flush()
            os.fsync(out.fileno())
        digest = _digest_of(Path(tmp))
        if datafile.sha256 is not None and digest != datafile.sha256:
            raise _Skip(f"wrong content (SHA-256 {digest[:12]}..., expected {datafile.sha256[:12]}...)")
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        watchdog.cancel()


def download_file(
    datafile: DataFile,
    dest_dir: str | os.PathLike,
    mirrors: list[str],
    *,
    timeout: float | None = None,
    retries: int = DEFAULT_RETRIES,
    backoff: float = 0.5,
    progress: bool | None = None,
    unreachable: set | None = None,
) -> Path:
    """Download ``datafile`` into ``dest_dir`` from the first mirror that delivers the right content.

    Parameters
    ----------
    datafile : DataFile
        The file's name on the mirrors and the SHA-256 of its decompressed content.
    dest_dir : path-like
        Where the file goes (created if needed); only a verified file appears there.
    mirrors : list of str
        Base URLs; the file's URL is the base URL, a ``/``, and the file name.
    timeout : float, optional
        Seconds to wait for a connection or for the next block of data (default ``NNLEARN_TIMEOUT`` or 10).
    retries : int
        Further attempts on one mirror after a cut-short transfer or a 5xx answer.
    backoff : float
        Seconds before the first retry, doubled for each further one.
    progress : bool, optional
        Show a progress bar; by default only when standard error is a terminal.
    unreachable : set, optional
        Mirrors that did not answer: they are skipped, and mirrors that do not answer now are
        added, so that a dead mirror costs one time-out per data set, not one per file.

    Raises
    ------
    DownloadError
        When no mirror delivered the right file; the message says what each mirror did.
    """
    dest_dir = Path(dest_dir)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create the download folder {dest_dir} ({exc.strerror or exc}); "
                           "pass --data-dir with a writable folder") from None
    remove_stale_temp_files(dest_dir)
    dest = dest_dir / datafile.name
    timeout = default_timeout() if timeout is None else float(timeout)
    if progress is None:
        progress = sys.stderr.isatty()
    failures = []
    unreachable = set() if unreachable is None else unreachable
    with exit_on_sigterm():  # so that `kill` removes the temporary file too
        for base in mirrors:
            url = base.rstrip("/") + "/" + datafile.name
            if base in unreachable:
                failures.append(f"{url}: skipped (did not answer for an earlier file)")
                continue
            for attempt in range(retries + 1):
                try:
                    _fetch(url, datafile, dest, timeout, progress)
                    return dest
                except _Skip as exc:
                    if isinstance(exc, _Unreachable):
                        unreachable.add(base)
                    failures.append(f"{url}: {exc}")
                    break
                except _Retry as exc:
                    if attempt == retries:
                        failures.append(f"{url}: {exc}")
                    else:
                        time.sleep(backoff * 2**attempt)
    if not mirrors:
        raise DownloadError(f"{datafile.name}: no mirror to download from "
                            "(NNLEARN_MIRRORS is empty, or none of its entries is a URL)")
    raise DownloadError(f"{datafile.name}: no mirror delivered it\n" + "\n".join("  " + f for f in failures))


def fetch_dataset(
    spec: DatasetSpec,
    dest_dir: str | os.PathLike | None = None,
    *,
    mirrors=None,
    timeout: float | None = None,
    retries: int = DEFAULT_RETRIES,
    backoff: float = 0.5,
    progress: bool | None = None,
) -> dict[str, Path]:
    """Make sure ``dest_dir`` (default: the cache folder) holds every file of ``spec``, downloading what is missing.

    A file already there is kept when its content verifies, and downloaded again otherwise.

    Raises
    ------
    DownloadError
        Naming every file that could not be obtained and what each mirror did (one detail line each).
    """
    from nnlearn.datasets.idx import payload_sha256
    from nnlearn.datasets.sources import download_dir, file_in

    dest_dir = Path(dest_dir) if dest_dir is not None else download_dir(spec)
    remove_stale_temp_files(dest_dir)
    urls = mirrors_for(spec, mirrors)
    paths: dict[str, Path] = {}
    failures = []
    unreachable: set = set()
    wanted = []
    for f in spec.files:
        have = file_in(dest_dir, f) if dest_dir.is_dir() else None
        try:
            if have is not None and (f.sha256 is None or payload_sha256(have) == f.sha256):
                paths[f.role] = have
                continue
        except DatasetError:
            pass
        wanted.append(f)
    names = ", ".join(f.name for f in wanted)
    if wanted and offline():
        raise DownloadError(f"{spec.title}: not downloading {names}: NNLEARN_OFFLINE is set")
    if wanted and not urls:
        raise DownloadError(f"{spec.title}: no mirror to download {names} from "
                            "(NNLEARN_MIRRORS is empty, or none of its entries is a URL)")
    with exit_on_sigterm():
        for f in wanted:
            if unreachable.issuperset(urls):
                failures.append(f"{f.name}: not tried, no mirror answered")
                continue
            try:
                paths[f.role] = download_file(
                    f, dest_dir, urls, timeout=timeout, retries=retries, backoff=backoff, progress=progress,
                    unreachable=unreachable,
                )
            except DownloadError as exc:
                failures.append(str(exc))
    if failures:
        detail = "\n".join("  " + line for failure in failures for line in failure.splitlines())
        raise DownloadError(f"{spec.title}: {len(failures)} of {len(spec.files)} files could not be downloaded "
                            f"into {dest_dir}\n{detail}")
    return paths


def ensure_files(spec: DatasetSpec, data_dir=None, *, download: bool = True, **download_options) -> dict[str, Path]:
    """The paths of ``spec``'s four files: found in the searched folders, else downloaded into the cache.

    Raises
    ------
    DatasetError
        When ``data_dir`` is given but is not a folder (a typo must not start a download), or
        naming the missing files, where they were looked for, why the download failed, and how to
        provide them.
    """
    from nnlearn.datasets.sources import check_data_dir, find_files, missing_message

    check_data_dir(data_dir)
    passed_over: list = []
    paths = find_files(spec, data_dir, passed_over=passed_over)
    if paths is not None:
        return paths
    if not download:
        raise DatasetError(missing_message(spec, data_dir, passed_over=passed_over))
    try:
        return fetch_dataset(spec, **download_options)
    except DownloadError as exc:
        raise DatasetError(missing_message(spec, data_dir, reasons=str(exc), passed_over=passed_over)) from None
