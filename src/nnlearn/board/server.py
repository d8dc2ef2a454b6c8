"""``nnlearn board``: a read-only web server over a folder of runs.

Routes (all GET or HEAD; every other method is answered 405, except the one below)::

    /                      the board page (static/board.html)
    /static/NAME           the page's own script and style, shipped in this package
    /api/runs              the runs and sweeps under the folder: state, accuracy, ... (JSON)
    /api/run?path=REL      one run's curves: loss per iteration (thinned), the epochs table (JSON)
    /report?path=REL       the HTML report of a run or sweep: its report.html when newer than the
                           run's files, else built in memory (nothing is written)
    /files/REL             a file under the folder, as it is
    /draw?path=REL         draw a digit and watch a finished run's network decide
    /api/sample?path=REL&class=K | &mistake=1
                           a random test image (of class K, or one the network gets wrong) with
                           the network's probabilities (JSON)
    POST /api/predict?path=REL
                           the body is a PNG of a drawing; the answer is the 28x28 input the network
                           sees (``nnlearn predict``'s preparation) and its ten probabilities (JSON).
                           The exception to GET-only: a drawing is too large for a URL. It writes
                           nothing and runs nothing but the network's forward pass.

Paths: ``REL`` is relative to the folder; it may not be absolute or contain ``..``, and after
resolving symbolic links it must still lie inside the folder -- otherwise 403.
"""

from __future__ import annotations

import io
import json
import math
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np

from nnlearn.board import rundir
from nnlearn.errors import NnlearnError

#: Largest drawing accepted by /api/predict, in bytes and in pixels per side.
MAX_DRAWING_BYTES = 1_000_000
MAX_DRAWING_SIDE = 2048

_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".png": "image/png", ".json": "application/json",
          ".csv": "text/csv; charset=utf-8", ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8"}


class Refused(Exception):
    """A request that is answered with an error status and a one-line message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def inside(root: Path, rel: str) -> Path:
    """``root / rel`` resolved, when it lies inside ``root``; else :class:`Refused` (403).

    ``root`` must already be resolved.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()).resolve()
    >>> inside(root, "a/b") == root / "a" / "b"
    True
    >>> inside(root, "../etc")
    Traceback (most recent call last):
    ...
    nnlearn.board.server.Refused: the path '../etc' leaves the board's folder
    """
    if "\x00" in rel or rel.startswith(("/", "\\")) or PurePosixPath(rel).is_absolute() or ":" in rel[:3]:
        raise Refused(403, f"the path {rel!r} is absolute; give a path inside the board's folder")
    if any(part == ".." for part in rel.replace("\\", "/").split("/")):
        raise Refused(403, f"the path {rel!r} leaves the board's folder")
    target = (root / rel).resolve()
    if target != root and root not in target.parents:
        raise Refused(403, f"the path {rel!r} leads outside the board's folder (a symbolic link)")
    return target


def _static_files() -> dict[str, bytes]:
    folder = resources.files("nnlearn.board") / "static"
    return {f.name: f.read_bytes() for f in folder.iterdir() if f.is_file() and not f.name.startswith(".")}


class Board:
    """What the handlers share: the folder, the page's files, loaded models and test sets."""

    def __init__(self, root, data_dir=None):
        self.root = Path(root).resolve()
        self.data_dir = data_dir
        self.static = _static_files()
        self._lock = threading.Lock()
        self._models: dict = {}
        self._test_sets: dict = {}

    def entries(self) -> list[dict]:
        return rundir.find_entries(self.root)

    def finished_run(self, rel: str) -> Path:
        run = inside(self.root, rel)
        if not rundir.is_run_dir(run):
            raise Refused(404, f"{rel!r} is not a run directory under the board's folder")
        state, _ = rundir.run_state(run)
        if state != "finished" or not (run / "model.npz").is_file():
            raise Refused(409, f"the run {rel!r} is {state}; drawing needs a finished run with its model.npz")
        return run

    def model(self, run: Path):
        from nnlearn.networks import load_network

        stat = (run / "model.npz").stat()
        key = (str(run), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            net = self._models.get(key)
        if net is None:
            try:
                net = load_network(run / "model.npz")
            except (OSError, ValueError) as exc:
                raise Refused(409, str(exc).splitlines()[0]) from None
            with self._lock:
                self._models = {key: net} | {k: v for k, v in list(self._models.items())[:7]}
        return net

    def test_set(self, config: dict):
        from nnlearn.report import load_test_set

        key = (config.get("dataset"), config.get("data_dir"), self.data_dir)
        with self._lock:
            data = self._test_sets.get(key)
        if data is None:
            try:
                data = load_test_set(config, self.data_dir, download=False)
            except (NnlearnError, OSError, ValueError) as exc:
                raise Refused(503, f"the test set cannot be read: {str(exc).splitlines()[0]}") from None
            with self._lock:
                self._test_sets[key] = data
        return data

    def report(self, target: Path) -> bytes:
        from nnlearn.report import build_report

        ready = target / "report.html"
        if ready.is_file():
            newest = max((f.stat().st_mtime for f in target.iterdir() if f.is_file() and f.name != "report.html"),
                         default=0.0)
            if ready.stat().st_mtime >= newest:
                return ready.read_bytes()
        test_data = None
        if rundir.is_run_dir(target) and (target / "model.npz").is_file():
            try:
                test_data = self.test_set(rundir.read_json(target / "config.json") or {})
            except Refused:
                test_data = None  # the report says the test set is missing
        try:
            return build_report([target], data_dir=self.data_dir, download=False, test_data=test_data).encode("utf-8")
        except NnlearnError as exc:
            raise Refused(404, str(exc).splitlines()[0]) from None


class Handler(BaseHTTPRequestHandler):
    server_version = "nnlearn-board"
    board: Board  # set on the subclass made by make_server

    # -- plumbing ---------------------------------------------------------------------------------

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # quiet: the terminal shows the URL, not every poll

    def __getattr__(self, name):
        # Every method without a do_* below (PUT, DELETE, PATCH, OPTIONS, ...) is refused.
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def _not_allowed(self):
        self._send(405, {"error": f"{self.command} is not allowed: the board only reads (GET, HEAD)"},
                   extra={"Allow": "GET, HEAD"})

    def _send(self, status: int, body, content_type: str = "application/json", extra: dict | None = None) -> None:
        if isinstance(body, (dict, list)):
            body = json.dumps(body, allow_nan=False).encode("utf-8")
            content_type = "application/json"
        elif isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self, handler) -> None:
        try:
            handler()
        except Refused as exc:
            self._send(exc.status, {"error": str(exc)})
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # a bug must not stop the server; the page shows the message
            self._send(500, {"error": f"{type(exc).__name__}: {exc}"})

    def do_GET(self):
        self._route(self._get)

    def do_HEAD(self):
        self._route(self._get)

    def do_POST(self):
        self._route(self._post)

    # -- GET --------------------------------------------------------------------------------------

    def _get(self):
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        board = self.board
        if path in ("/", "/index.html"):
            return self._send(200, board.static["board.html"], _TYPES[".html"])
        if path == "/draw":
            return self._send(200, board.static["draw.html"], _TYPES[".html"])
        if path.startswith("/static/"):
            name = path[len("/static/"):]
            if name not in board.static:
                raise Refused(404, f"no such file: {path}")
            return self._send(200, board.static[name], _TYPES.get(Path(name).suffix, "application/octet-stream"))
        if path == "/api/runs":
            return self._send(200, {"root": str(board.root), "entries": board.entries(), "time": time.time()})
        if path == "/api/run":
            run = self._target(query)
            if not rundir.is_run_dir(run):
                raise Refused(404, f"{query['path']!r} is not a run directory")
            return self._send(200, rundir.run_info(run, board.root) | rundir.run_curves(run))
        if path == "/report":
            target = self._target(query)
            return self._send(200, board.report(target), _TYPES[".html"])
        if path == "/api/sample":
            return self._send(200, self._sample(query))
        if path.startswith("/files/"):
            target = inside(board.root, path[len("/files/"):])
            if not target.is_file():
                raise Refused(404, f"no such file: {path}")
            return self._send(200, target.read_bytes(), _TYPES.get(target.suffix, "application/octet-stream"))
        # Anything else -- /../etc/passwd included -- is no page of the board.
        inside(board.root, path.lstrip("/")) if ".." in path else None
        raise Refused(404, f"no such page: {path}")

    def _target(self, query) -> Path:
        if "path" not in query:
            raise Refused(400, "give the run with ?path=RUN (a folder relative to the board's folder)")
        target = inside(self.board.root, query["path"])
        if not target.is_dir():
            raise Refused(404, f"no such folder under the board's folder: {query['path']!r}")
        return target

    def _sample(self, query) -> dict:
        run = self.board.finished_run(query.get("path", ""))
        net = self.board.model(run)
        x_test, t_test = self.board.test_set(rundir.read_json(run / "config.json") or {})
        rng = np.random.default_rng(int(query["seed"]) if query.get("seed", "").isdigit() else None)
        if "class" in query:
            k = query["class"]
            if not k.isdigit() or int(k) >= net.sizes[-1]:
                raise Refused(400, f"class must be a whole number 0..{net.sizes[-1] - 1}, got {k!r}")
            pool = np.flatnonzero(np.asarray(t_test) == int(k))
        else:
            pred = np.concatenate([np.argmax(net.predict(x_test[i : i + 2000]), axis=1)
                                   for i in range(0, len(x_test), 2000)])
            pool = np.flatnonzero(pred != np.asarray(t_test))
        if pool.size == 0:
            raise Refused(404, "no test image of that kind")
        i = int(rng.choice(pool))
        x = np.asarray(x_test[i], dtype=np.float64)
        probs = net.predict(x)
        return {"index": i, "true": int(t_test[i]), "preview": [round(float(v), 6) for v in x],
                "probabilities": [float(p) for p in probs], "predicted": int(np.argmax(probs))}

    # -- POST: the drawing's prediction only ------------------------------------------------------

    def _post(self):
        parts = urlsplit(self.path)
        if unquote(parts.path) != "/api/predict":
            return self._not_allowed()
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise Refused(411, "send the drawing as a PNG body with a Content-Length")
        if int(length) > MAX_DRAWING_BYTES:
            self.close_connection = True  # the body is not read
            raise Refused(413, f"the drawing is {int(length)} bytes; at most {MAX_DRAWING_BYTES} are accepted")
        body = self.rfile.read(int(length))
        run = self.board.finished_run(query.get("path", ""))
        net = self.board.model(run)
        self._send(200, predict_drawing(net, body))


def predict_drawing(net, png: bytes) -> dict:
    """The input ``nnlearn predict`` would make of the PNG ``png``, and the network's probabilities.

    Raises :class:`Refused` (400/413) for anything that is not a PNG drawing of a sensible size.
    """
    from PIL import Image, UnidentifiedImageError

    from nnlearn.images import image_to_input

    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise Refused(400, "the drawing must be a PNG image (image/png)")
    try:
        with Image.open(io.BytesIO(png)) as img:
            w, h = img.size
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise Refused(400, f"the drawing is not a readable PNG ({exc})") from None
    if max(w, h) > MAX_DRAWING_SIDE:
        raise Refused(413, f"the drawing is {w}x{h} pixels; at most {MAX_DRAWING_SIDE} per side")
    side = int(round(math.sqrt(net.sizes[0])))
    if side * side != net.sizes[0]:
        raise Refused(409, f"this model takes {net.sizes[0]} inputs, not a square image")
    try:
        x, inverted = image_to_input(io.BytesIO(png), side)
    except NnlearnError as exc:
        if "one colour" in str(exc):
            raise Refused(400, "the drawing is empty: draw a digit") from None
        raise Refused(400, "the drawing cannot be read as an image") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise Refused(400, f"the drawing cannot be read as an image ({type(exc).__name__})") from None
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    probs = net.predict(x)
    return {"preview": [float(v) for v in x], "probabilities": [float(p) for p in probs],
            "predicted": int(np.argmax(probs)), "inverted": bool(inverted)}


def make_server(root, host: str = "127.0.0.1", port: int = 0, data_dir=None) -> ThreadingHTTPServer:
    """A board server over ``root`` (not yet serving; call ``serve_forever``)."""
    root = Path(root)
    if not root.is_dir():
        raise NnlearnError(f"{root} is not a folder; give the folder that holds your runs "
                           "(`nnlearn train` writes them under ./runs)")
    board = Board(root, data_dir)
    handler = type("BoardHandler", (Handler,), {"board": board})
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise NnlearnError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port "
                           "(0 picks a free one)") from None
    server.daemon_threads = True
    return server


def url_of(server) -> str:
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(root, host: str = "127.0.0.1", port: int = 8765, data_dir=None) -> None:
    """Serve the board until Ctrl-C."""
    server = make_server(root, host, port, data_dir)
    print(f"nnlearn board: the runs in {Path(root).resolve()} at {url_of(server)}  (Ctrl-C stops)", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"note: listening on {host}: other computers can read these runs", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        print("nnlearn board: stopped", flush=True)
    finally:
        server.server_close()
