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
    becomes the data set's name (``mnist``, ``fashion-mnist``).
``NNLEARN_TIMEOUT``
    Seconds to wait for a connection or for the next block of data (default 10).
``NNLEARN_OFFLINE=1``
    Never download.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

from nnlearn.datasets.errors import DatasetError
from nnlearn.datasets.sources import DataFile, DatasetSpec

#: Seconds to wait for a connection, or for the next block of data, before giving up on a mirror.
DEFAULT_TIMEOUT = 10.0
#: Further attempts on the same mirror after a cut-short transfer or a server error (5xx).
DEFAULT_RETRIES = 1
_BLOCK = 1 << 16
#: No file of an MNIST-format data set comes near this; a mirror sending more is sending something else.
MAX_BYTES = 256 << 20
_USER_AGENT = "nnlearn-datasets/1 (+python urllib)"


class DownloadError(DatasetError):
    """No mirror delivered a file with the right content."""


class _Retry(Exception):
    """A failure worth another attempt on the same mirror."""


class _Skip(Exception):
    """A failure that another attempt on the same mirror would repeat: go to the next mirror."""


class _Unreachable(_Skip):
    """The mirror did not answer at all: no other file will come from it either."""


def mirrors_for(spec: DatasetSpec, mirrors=None) -> list[str]:
    """The base URLs to try for ``spec``: ``mirrors``, else ``NNLEARN_MIRRORS``, else the built-in list."""
    if mirrors is None:
        env = os.environ.get("NNLEARN_MIRRORS")
        mirrors = env.replace(",", " ").split() if env is not None else spec.mirrors
    return [m.replace("{dataset}", spec.name) for m in mirrors]


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


def _fetch(url: str, datafile: DataFile, dest: Path, timeout: float, progress: bool) -> None:
    """One attempt: stream ``url`` into a temporary file, verify it, move it onto ``dest``."""
    # Imported here: http.client and urllib cost ~15 ms that a load from local files never needs.
    import http.client
    import socket
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would make the data file private
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(request, timeout=timeout)
            except urllib.error.HTTPError as exc:
                exc.close()
                reason = f"HTTP {exc.code} {exc.reason}"
                raise (_Retry if exc.code >= 500 else _Skip)(reason) from None
            except urllib.error.URLError as exc:
                r = exc.reason
                if isinstance(r, (TimeoutError, socket.timeout)):
                    raise _Unreachable(f"no answer within {timeout:g} s") from None
                reason = r.strerror if isinstance(r, OSError) and r.strerror else r
                raise _Unreachable(f"cannot connect ({reason})") from None
            except (TimeoutError, socket.timeout):
                raise _Unreachable(f"no answer within {timeout:g} s") from None
            except (http.client.HTTPException, OSError) as exc:
                raise _Retry(f"connection failed ({exc.__class__.__name__}: {exc})") from None
            with response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                got = 0
                if total is not None and total > MAX_BYTES:
                    raise _Skip(f"wrong content ({total} bytes announced, more than any {datafile.name})")
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
                        raise _Retry(f"transfer cut short after {got + len(exc.partial)} of {total} bytes") from None
                    except (http.client.HTTPException, OSError) as exc:
                        raise _Retry(f"transfer failed after {got} bytes ({exc.__class__.__name__})") from None
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
    dest = dest_dir / datafile.name
    timeout = default_timeout() if timeout is None else float(timeout)
    if progress is None:
        progress = sys.stderr.isatty()
    failures = []
    unreachable = set() if unreachable is None else unreachable
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
        raise DownloadError(f"{datafile.name}: no mirror to download from (NNLEARN_MIRRORS is empty)")
    raise DownloadError(f"{datafile.name}: " + "; ".join(failures))


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
        Naming every file that could not be obtained and what each mirror did.
    """
    from nnlearn.datasets.idx import payload_sha256
    from nnlearn.datasets.sources import download_dir, file_in

    dest_dir = Path(dest_dir) if dest_dir is not None else download_dir(spec)
    urls = mirrors_for(spec, mirrors)
    paths: dict[str, Path] = {}
    failures = []
    unreachable: set = set()
    for f in spec.files:
        have = file_in(dest_dir, f) if dest_dir.is_dir() else None
        if have is not None:
            try:
                if f.sha256 is None or payload_sha256(have) == f.sha256:
                    paths[f.role] = have
                    continue
            except DatasetError:
                pass
        if offline():
            failures.append(f"{f.name}: NNLEARN_OFFLINE is set")
            continue
        if urls and unreachable.issuperset(urls):
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
        raise DownloadError("; ".join(failures))
    return paths


def ensure_files(spec: DatasetSpec, data_dir=None, *, download: bool = True, **download_options) -> dict[str, Path]:
    """The paths of ``spec``'s four files: found in the searched folders, else downloaded into the cache.

    Raises
    ------
    DatasetError
        One line naming the missing files, where they were looked for, why the download failed, and
        how to provide them.
    """
    from nnlearn.datasets.sources import find_files, missing_message

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
