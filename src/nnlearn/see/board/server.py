"""``nnlearn board``'s server: the board's application (:mod:`nnlearn.see.board.app`) under uvicorn.

uvicorn's connections cost no thread each, and it has a listen backlog, a keep-alive timeout, a limit on
header sizes and a graceful shutdown. What it lacks is the subclass below: a deadline for a request's head,
and a connection limit that idle connections cannot use up (uvicorn's ``limit_concurrency`` counts them:
1,100 idle connections made 18 of 19 real requests get 503). ``bench/board_load.py`` measures the limits.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
from pathlib import Path

import h11
from uvicorn import Config, Server
from uvicorn.protocols.http.h11_impl import H11Protocol

from nnlearn.base.errors import NnlearnError
from nnlearn.base.i18n import _
from nnlearn.see.board.app import make_app
from nnlearn.see.board.guards import SECURITY_HEADERS, WILDCARDS

#: Connections waiting to be accepted (the kernel caps it at net.core.somaxconn).
BACKLOG = 2048
#: Open connections at most (fewer where the process may open fewer files): past it, a new
#: connection closes the one idle longest (no request in progress), or gets 503 when none is idle.
MAX_CONNECTIONS = 1000
#: Seconds a connection may stay idle, or take to send a request's head (headers), before it is closed.
HEAD_SECONDS = 5
#: Largest request head, in bytes.
MAX_HEAD_BYTES = 16384


class HeadTimeoutProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, with its keep-alive timer armed from the first byte on.

    uvicorn arms the timer only after a response and cancels it on any data: a connection that sends
    nothing, or trickles its headers, would be kept for ever. Here only a complete request head cancels
    it. Past ``config.max_connections`` a new connection closes the one idle longest (:meth:`make_room`).
    """

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.opened = self.loop.time()
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)
        if len(self.connections) > self.config.max_connections:
            self.make_room()

    def idle(self) -> bool:
        """No request in progress: waiting for a request's head (the first, or the next one)."""
        return self.conn.their_state is h11.IDLE and (self.cycle is None or self.cycle.response_complete)

    def make_room(self) -> None:
        """Close the connection idle longest, this one excepted; none idle, answer this one 503."""
        idle = [c for c in self.connections if c is not self and isinstance(c, HeadTimeoutProtocol) and c.idle()]
        if idle:
            min(idle, key=lambda c: c.opened).timeout_keep_alive_handler()
            return
        # No request has been read: the board command's language, not a browser's.
        body = (_("the board is busy: too many requests at once; try again in a moment") + "\n").encode("utf-8")
        head = [
            b"HTTP/1.1 503 Service Unavailable",
            b"content-type: text/plain; charset=utf-8",
            b"content-length: %d" % len(body),
            b"connection: close",
            *(f"{k}: {v}".encode() for k, v in SECURITY_HEADERS.items()),
        ]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request it cannot parse, with the headers every answer carries."""
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"connection", b"close"),
            *((k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=msg.encode("ascii")),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event))
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.conn.receive_data(data)
        self.handle_events()
        task = self.timeout_keep_alive_task
        if task is not None and self.conn.their_state is not h11.IDLE:  # a whole request head is in
            task.cancel()
            self.timeout_keep_alive_task = None


def connection_limit(wanted: int) -> int:
    """``wanted`` connections, or as many as the files this process may open allow (raising its soft
    limit towards the hard one first: a desktop's 1,024 would fail to accept before the limit)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Linux or macOS
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = wanted + 256  # the board's own files, the worker threads' reads
    if soft != resource.RLIM_INFINITY and soft < need:
        raised = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (OSError, ValueError):
            pass
    return wanted if soft == resource.RLIM_INFINITY else max(16, min(wanted, soft - 256))


def _listen(host: str, port: int) -> socket.socket:
    try:
        family = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=BACKLOG)
    except (OSError, UnicodeError) as exc:
        raise NnlearnError(
            _(
                "cannot listen on {host}:{port} ({reason}); choose another --port (0 picks a free one)",
                host=host,
                port=port,
                reason=getattr(exc, "strerror", None) or exc,
            )
        ) from None


class BoardServer:
    """A board over the folder ``root``, listening on ``host:port`` as soon as it is made."""

    def __init__(self, root, host: str = "127.0.0.1", port: int = 0, data_dir=None):
        root = Path(root)
        if not root.is_dir():
            raise NnlearnError(
                _(
                    "{root} is not a folder; give the folder that holds your runs (`nnlearn train` writes "
                    "them under ./runs)",
                    root=root,
                )
            )
        self.root = root.resolve()
        self.socket = _listen(host, port)
        config = Config(
            make_app(root, host=host, data_dir=data_dir),
            http=HeadTimeoutProtocol,
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            server_header=False,
            backlog=BACKLOG,
            limit_concurrency=None,
            timeout_keep_alive=HEAD_SECONDS,
            timeout_graceful_shutdown=3,
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        )
        config.max_connections = connection_limit(MAX_CONNECTIONS)  # read by HeadTimeoutProtocol
        self.server = Server(config)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.socket.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def serve_forever(self) -> None:
        """Serve until :meth:`stop` (or Ctrl-C, in the main thread)."""
        self.server.run(sockets=[self.socket])

    def start(self) -> "BoardServer":
        """Serve in a background thread (tests, benchmarks); returns once it accepts connections."""
        self.thread = threading.Thread(target=self.serve_forever, name="nnlearn-board", daemon=True)
        self.thread.start()
        while not self.server.started and self.thread.is_alive():
            self.thread.join(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(10)
        self.socket.close()


def serve(root, host: str = "127.0.0.1", port: int = 8765, data_dir=None, open_page: str | None = None) -> None:
    """Serve the board until Ctrl-C; with ``open_page`` (a path such as ``"lessons"``, or ``""`` for
    the runs list), open that page in the web browser once it listens."""
    board = BoardServer(root, host, port, data_dir)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("nnlearn board: %(message)s"))
    for name in ("nnlearn.see.board", "uvicorn.error"):
        logging.getLogger(name).addHandler(handler)
    print(
        "nnlearn board: " + _("the runs in {root} at {url}  (Ctrl-C stops)", root=board.root, url=board.url), flush=True
    )
    if host in WILDCARDS:
        warning = _(
            "warning: listening on every network interface ({host}): anyone on the network who can reach this "
            "computer can read every file under {root}; use --host 127.0.0.1 unless that is what you want",
            host=host,
            root=board.root,
        )
        print(warning, file=sys.stderr, flush=True)
    elif host not in ("127.0.0.1", "localhost", "::1"):
        print(
            _("note: listening on {host}: other computers can read these runs", host=host), file=sys.stderr, flush=True
        )
    if open_page is not None:
        import webbrowser

        print("nnlearn board: " + _("opening {url} in your web browser", url=board.url + open_page), flush=True)
        # In a thread: a browser in the terminal (lynx) may take its time, and the board already listens.
        threading.Thread(target=webbrowser.open, args=(board.url + open_page,), daemon=True).start()
    try:
        board.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        board.socket.close()
    print("nnlearn board: " + _("stopped"), flush=True)
