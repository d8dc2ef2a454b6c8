"""Verified downloads over a list of mirrors.

Each file is fetched from the first mirror that delivers the right content: the download streams
into a temporary file beside its destination (with a tqdm progress bar on a terminal), every
network operation has a time-out, a cut-short transfer or a server error is retried, and the file
is moved into place (atomically) only after the SHA-256 of its **decompressed** content matches
the known digest. So a re-compressed copy is accepted, a wrong or truncated one is refused, and
nothing partial or wrong is ever left under the final name.

Each attempt (:func:`nnlearn.datasets.transfer.fetch`) is bounded in time, speed and size: a
``Content-Length`` that no copy of the file can have is refused at once, a gzip bomb after the
file's known size, and a mirror that delivers less than a low-speed limit over a window -- curl's
``--speed-limit``/``--speed-time`` model -- is abandoned, and skipped for the rest of the command,
as is one that does not answer.

Settings, for tests and for readers behind a proxy or without network:

``NNLEARN_MIRRORS``
    Base URLs separated by spaces or commas, replacing the built-in list; ``{dataset}`` in a URL
    becomes the data set's name (``mnist``, ``fashion-mnist``). An entry that is not an http(s)
    URL is skipped with a warning.
``NNLEARN_TIMEOUT``
    Seconds to wait for a connection or for the next block of data (default 10).
``NNLEARN_SPEED_LIMIT``, ``NNLEARN_SPEED_TIME``
    The low-speed limit: a transfer that receives fewer than ``SPEED_LIMIT`` bytes per second on
    average over any ``SPEED_TIME`` seconds (counted in consecutive windows from the request; the
    first window includes connecting and the answer's headers) is abandoned, and its mirror is
    not tried again for the other files. Defaults: 1024 bytes/s over 20 s, so a mirror that only
    trickles costs 20 s once, and the three built-in MNIST mirrors all trickling cost a minute.
``NNLEARN_OFFLINE=1``
    Never download.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

from nnlearn.base.files import exit_on_sigterm, remove_stale_temp_files
from nnlearn.datasets.errors import DatasetError, DatasetWarning
from nnlearn.base.i18n import _
from nnlearn.datasets.sources import DataFile, DatasetSpec
from nnlearn.datasets.transfer import GiveUp, Retry, Skip, fetch

#: Seconds to wait for a connection, or for the next block of data, before giving up on a mirror.
DEFAULT_TIMEOUT = 10.0
#: The low-speed limit: bytes per second a transfer must average over each :data:`DEFAULT_SPEED_TIME` seconds.
DEFAULT_SPEED_LIMIT = 1024
#: The low-speed window, in seconds.
DEFAULT_SPEED_TIME = 20.0
#: Further attempts on the same mirror after a cut-short transfer or a server error (5xx).
DEFAULT_RETRIES = 1


class DownloadError(DatasetError):
    """No mirror delivered a file with the right content."""


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
            warnings.warn(_("{setting}: skipped the entry {entry!r}: {problem}", setting=setting, entry=entry,
                            problem=problem), DatasetWarning, stacklevel=2)
        else:
            usable.append(url)
    return usable


def _positive_setting(name: str, default: float, unit: str) -> float:
    env = os.environ.get(name)
    if not env:
        return default
    try:
        value = float(env)
    except ValueError:
        raise DatasetError(_("{name}={value!r} is not a number of {unit}", name=name, value=env, unit=unit)) from None
    if not 0 < value < float("inf"):
        raise DatasetError(_("{name}={value!r} must be positive", name=name, value=env))
    return value


def default_timeout() -> float:
    """``NNLEARN_TIMEOUT`` as a number of seconds, else :data:`DEFAULT_TIMEOUT`."""
    return _positive_setting("NNLEARN_TIMEOUT", DEFAULT_TIMEOUT, "seconds")


def speed_limit() -> tuple[float, float]:
    """``(bytes per second, seconds)``: ``NNLEARN_SPEED_LIMIT`` and ``NNLEARN_SPEED_TIME``, else the defaults.

    Examples
    --------
    >>> speed_limit()  # doctest: +SKIP
    (1024.0, 20.0)
    """
    return (_positive_setting("NNLEARN_SPEED_LIMIT", DEFAULT_SPEED_LIMIT, "bytes per second"),
            _positive_setting("NNLEARN_SPEED_TIME", DEFAULT_SPEED_TIME, "seconds"))


def offline() -> bool:
    """True when ``NNLEARN_OFFLINE`` asks never to download."""
    return os.environ.get("NNLEARN_OFFLINE", "").strip().lower() in ("1", "true", "yes")

def download_file(
    datafile: DataFile,
    dest_dir: str | os.PathLike,
    mirrors: list[str],
    *,
    timeout: float | None = None,
    retries: int = DEFAULT_RETRIES,
    backoff: float = 0.5,
    progress: bool | None = None,
    given_up: dict | None = None,
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
    given_up : dict, optional
        ``{mirror: why}`` of the mirrors ruled out for this command (one that did not answer, or
        was too slow): they are skipped, and mirrors ruled out now are added, so that a dead or
        trickling mirror costs its time-out or its low-speed window once per command, not once per file.

    Raises
    ------
    DownloadError
        When no mirror delivered the right file; the message says what each mirror did.
    """
    dest_dir = Path(dest_dir)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(_("cannot create the download folder {folder} ({reason}); pass --data-dir with a writable "
                             "folder", folder=dest_dir, reason=exc.strerror or exc)) from None
    remove_stale_temp_files(dest_dir)
    dest = dest_dir / datafile.name
    timeout = default_timeout() if timeout is None else float(timeout)
    speed = speed_limit()
    if progress is None:
        progress = sys.stderr.isatty()
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
    if not mirrors:
        raise DownloadError(_("{name}: no mirror to download from (NNLEARN_MIRRORS is empty, or none of its entries is "
                              "a URL)", name=datafile.name))
    raise DownloadError(_("{name}: no mirror delivered it", name=datafile.name) + "\n"
                        + "\n".join("  " + f for f in failures))


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
    given_up: dict = {}
    wanted = []
    for f in spec.files:
        have = file_in(dest_dir, f) if dest_dir.is_dir() else None
        try:
            if have is not None and (f.sha256 is None or payload_sha256(have, f.payload_cap) == f.sha256):
                paths[f.role] = have
                continue
        except DatasetError:
            pass
        wanted.append(f)
    names = ", ".join(f.name for f in wanted)
    if wanted and offline():
        raise DownloadError(_("{title}: not downloading {names}: NNLEARN_OFFLINE is set", title=spec.title,
                              names=names))
    if wanted and not urls:
        raise DownloadError(_("{title}: no mirror to download {names} from (NNLEARN_MIRRORS is empty, or none of its "
                              "entries is a URL)", title=spec.title, names=names))
    with exit_on_sigterm():
        for f in wanted:
            if given_up.keys() >= set(urls):
                failures.append(_("{name}: not tried, every mirror failed for an earlier file (no answer, or too slow)",
                                  name=f.name))
                continue
            try:
                paths[f.role] = download_file(
                    f, dest_dir, urls, timeout=timeout, retries=retries, backoff=backoff, progress=progress,
                    given_up=given_up,
                )
            except DownloadError as exc:
                failures.append(str(exc))
    if failures:
        detail = "\n".join("  " + line for failure in failures for line in failure.splitlines())
        raise DownloadError(_("{title}: {failed} of {n} files could not be downloaded into {folder}", title=spec.title,
                              failed=len(failures), n=len(spec.files), folder=dest_dir) + f"\n{detail}")
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
