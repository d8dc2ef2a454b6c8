"""One attempt to download one data file from one mirror, bounded in time, speed and size.

:func:`fetch` streams the answer into a temporary file beside the destination, checks it, and
moves it into place only when the SHA-256 of its decompressed content is the known one. A mirror
is hostile until its file checks out:

- its ``Content-Length`` must be one a copy of the file can have (:func:`wire_bounds`: at most the
  decompressed size plus deflate's and gzip's overhead, at least the decompressed size over
  deflate's best ratio); any other is refused at once, and so is a body that runs past that size;
- the digest is computed while decompressing, which stops one byte past the file's known size
  plus a small margin (:attr:`~nnlearn.datasets.sources.DataFile.payload_cap`): a gzip bomb is
  refused after that many bytes, in a block of memory;
- every connection and every read has a time-out, and a :class:`Watchdog` shuts the sockets of
  a transfer that falls below the low-speed limit (curl's ``--speed-limit``/``--speed-time``).

Each failure is one of the exceptions below, which tell the caller (:mod:`nnlearn.datasets.download`)
whether to retry the mirror, go to the next one, or give the mirror up for the other files too.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path

from nnlearn.base.files import make_temp_file
from nnlearn.datasets.errors import DatasetError, OversizeDataError, TruncatedDataError
from nnlearn.datasets.sources import DataFile
from nnlearn.base.i18n import N_, _

_BLOCK = 1 << 16
#: Deflate's best compression: 258 bytes in 2 bits. No copy of a file is smaller than this share of it.
_MAX_RATIO = 1032
_USER_AGENT = "nnlearn-datasets/1 (+python urllib)"


class Retry(Exception):
    """A failure worth another attempt on the same mirror."""


class Skip(Exception):
    """A failure that another attempt on the same mirror would repeat: go to the next mirror."""


class GiveUp(Skip):
    """A failure that rules the mirror out for the other files too; ``why`` says it in a few words."""

    why = N_("failed")


class Unreachable(GiveUp):
    """The mirror did not answer at all: no other file will come from it either."""

    why = N_("did not answer")


class TooSlow(GiveUp):
    """The mirror delivered less than the low-speed limit: the other files would take as long."""

    why = N_("too slow")


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
    from nnlearn.datasets.idx import MAX_PAYLOAD_BYTES, compressed_bound

    size = datafile.payload_size
    if size is None:
        return 0, compressed_bound(MAX_PAYLOAD_BYTES)
    return size // _MAX_RATIO, compressed_bound(size)


def _digest_of(path: Path, datafile: DataFile) -> str:
    """SHA-256 of the decompressed content (at most its known size), or Retry if the compressed data is cut short."""
    from nnlearn.datasets.idx import payload_sha256

    try:
        return payload_sha256(path, datafile.payload_cap)
    except TruncatedDataError:
        raise Retry(_("the file arrived truncated")) from None
    except OversizeDataError:
        raise Skip(_("wrong content (decompresses to more than {n} bytes, more than {name} holds: a wrong file or a "
                     "decompression bomb)", n=datafile.payload_cap, name=datafile.name)) from None
    except DatasetError:
        raise Skip(_("not a valid gzip/IDX file")) from None


class Watchdog:
    """Abandons one download that falls below the low-speed limit, by shutting its sockets.

    Every ``window`` seconds from the start it checks that at least ``limit * window`` bytes of
    the body arrived since the previous check (the reader adds to :attr:`got`); if not, it shuts
    the sockets, so that a read blocked in any stage of the transfer (connection, headers, body)
    returns at once. A per-read time-out alone cannot stop a server that sends one byte just
    before each time-out; this can.
    """

    def __init__(self, limit: float, window: float):
        self.limit, self.window = limit, window
        self.got, self.slow_got, self.expired, self.sockets = 0, 0, False, []
        self.lock = threading.Lock()
        self.done = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        last = 0
        while not self.done.wait(self.window):
            got = self.got
            if got - last < self.limit * self.window:
                self.slow_got = got - last
                self.expire()
                return
            last = got

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
        self.done.set()


def _opener(watchdog: Watchdog):
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


def _announced_length(response, datafile: DataFile) -> int | None:
    """The ``Content-Length`` of ``response``; Skip when it is not a number or no copy of the file has it."""
    length = response.headers.get("Content-Length")
    if length is None:
        return None
    length = length.strip()
    if not (length.isascii() and length.isdigit()):
        raise Skip(_("a broken answer (Content-Length {length!r} is not a number)", length=length[:20]))
    total = int(length)
    low, high = wire_bounds(datafile)
    if not low <= total <= high:
        raise Skip(_("wrong content ({total} bytes announced; a copy of {name} takes {low} to {high} bytes)", total=total,
                     name=datafile.name, low=low, high=high))
    return total


def _open(url: str, watchdog: Watchdog, timeout: float, too_slow):
    """The response to a GET of ``url``; Retry, Skip or Unreachable for every way it can fail."""
    # Imported here: http.client and urllib cost ~15 ms that a load from local files never needs.
    import http.client
    import socket
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        return _opener(watchdog).open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        reason = f"HTTP {exc.code} {exc.reason}"
        raise (Retry if exc.code >= 500 else Skip)(reason) from None
    except urllib.error.URLError as exc:
        if watchdog.expired:
            raise too_slow() from None
        r = exc.reason
        if isinstance(r, (TimeoutError, socket.timeout)):
            raise Unreachable(_("no answer within {seconds} s", seconds=format(timeout, "g"))) from None
        reason = r.strerror if isinstance(r, OSError) and r.strerror else r
        raise Unreachable(_("cannot connect ({reason})", reason=reason)) from None
    except (TimeoutError, socket.timeout):
        raise Unreachable(_("no answer within {seconds} s", seconds=format(timeout, "g"))) from None
    except (http.client.HTTPException, OSError) as exc:
        if watchdog.expired:
            raise too_slow() from None
        raise Retry(_("connection failed ({kind}: {reason})", kind=exc.__class__.__name__, reason=exc)) from None


def _receive(response, out, datafile: DataFile, watchdog: Watchdog, timeout: float, progress: bool, too_slow) -> None:
    """Copy the body of ``response`` into ``out``, refusing more than any copy of the file can take."""
    import http.client
    import socket

    total = _announced_length(response, datafile)
    high = wire_bounds(datafile)[1] if total is None else total
    from tqdm import tqdm

    with tqdm(
        total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=datafile.name,
        disable=not progress, leave=False, file=sys.stderr,
    ) as bar:
        try:
            # read1: what has arrived, at most one system call, so the watchdog sees the bytes as they come.
            while block := response.read1(_BLOCK):
                out.write(block)
                watchdog.got += len(block)
                bar.update(len(block))
                if watchdog.got > high:
                    raise Skip(_("wrong content (over {high} bytes, more than any copy of {name})", high=high,
                                     name=datafile.name))
        except (TimeoutError, socket.timeout):
            raise TooSlow(_("stalled: no data for {seconds} s after {n} bytes; not tried for the other files",
                            seconds=format(timeout, "g"), n=watchdog.got)) from None
        except (http.client.HTTPException, OSError) as exc:
            if watchdog.expired:
                raise too_slow() from None
            raise Retry(_("transfer failed after {n} bytes ({kind})", n=watchdog.got, kind=exc.__class__.__name__)) from None
    if watchdog.expired and watchdog.got != total:  # (a transfer complete as the watchdog fired is kept)
        raise too_slow()
    if total is not None and watchdog.got != total:
        raise Retry(_("transfer cut short: {n} of {total} bytes", n=watchdog.got, total=total))


def fetch(url: str, datafile: DataFile, dest: Path, *, timeout: float, speed: tuple[float, float],
          progress: bool) -> None:
    """One attempt: stream ``url`` into a temporary file, verify it, move it onto ``dest``.

    ``timeout``: seconds to wait for a connection or the next block; ``speed``: the low-speed
    limit, ``(bytes per second, seconds)``; ``progress``: show a tqdm bar on standard error.
    Raises :class:`Retry`, :class:`Skip` or :class:`GiveUp` (with a few words saying what happened).
    """
    limit, window = speed
    watchdog = Watchdog(limit, window)

    def too_slow():
        return TooSlow(_("too slow: {n} bytes in {seconds} s, less than {limit} bytes/s (NNLEARN_SPEED_LIMIT, "
                         "NNLEARN_SPEED_TIME); not tried for the other files", n=watchdog.slow_got,
                         seconds=format(window, "g"), limit=format(limit, "g")))

    fd, tmp = make_temp_file(dest.parent, dest.name, ".part")
    try:
        with os.fdopen(fd, "wb") as out:
            with _open(url, watchdog, timeout, too_slow) as response:
                _receive(response, out, datafile, watchdog, timeout, progress, too_slow)
            out.flush()
            os.fsync(out.fileno())
        watchdog.cancel()
        digest = _digest_of(Path(tmp), datafile)
        if datafile.sha256 is not None and digest != datafile.sha256:
            raise Skip(_("wrong content (SHA-256 {digest}..., expected {expected}...)", digest=digest[:12],
                         expected=datafile.sha256[:12]))
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        watchdog.cancel()
