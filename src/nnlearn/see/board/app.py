"""The board as a web application (Starlette): its pages, its JSON, and what every answer carries.

The routes are listed in :func:`make_app`. ``?path=REL`` and ``/files/REL`` are relative to the folder and
must stay inside it after links are resolved (:func:`inside`; else 403). Every answer carries the security
headers (:mod:`nnlearn.see.board.guards`); only the board's own ``Host`` names are answered (DNS rebinding
gets 400); error bodies are one generic line, the details go to the server's log. Work that reads or
computes runs in worker threads under :data:`LIMITS`, so a burst of requests queues instead of
multiplying threads and memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from importlib import resources
from pathlib import Path, PurePosixPath

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nnlearn.base import i18n
from nnlearn.base.errors import NnlearnError
from nnlearn.base.i18n import _
from nnlearn.common.networks import load_network
from nnlearn.see.board import language, lessons
from nnlearn.see.board.draw import MAX_CLASS, MAX_DRAWING_BYTES, MAX_SEED, predict_drawing, sample
from nnlearn.see.board.guards import ByteBudget, HostCheck, SecurityHeaders, allowed_hosts, same_origin
from nnlearn.see.board.web import Refused, answer, query_number, work
from nnlearn.see.templating import REPORT_CSP, header_csp
from nnlearn.train import rundir, tables

log = logging.getLogger("nnlearn.see.board")

#: Largest file /files serves (a checkpoint of the strong recipe is about 7 MB).
MAX_FILE_BYTES = 32 << 20
#: Seconds a client may take to send a drawing once its headers are in.
BODY_SECONDS = 5.0
#: Bytes of drawings held in memory while they arrive and wait to be read, all requests together;
#: past it a drawing gets 503. Bytes, not requests: a connection that declares a body and sends
#: nothing holds nothing (24 such held 8 request slots and delayed a real drawing by 29.5 s).
BODY_BUDGET = 16 * MAX_DRAWING_BYTES
#: Worker threads per kind of work. A run's curves apart from reading folders, so that polls of long runs
#: never hold up the runs list; computing one at a time: each may hold a decoded 2048x2048 image, and
#: matplotlib's settings (the figures' fonts, nnlearn.base.figtext) are the whole process's.
LIMITS = {"read": 4, "curves": 2, "compute": 1, "lessons": 2}
#: Runs drawn in one chart at most (matplotlib's ten colours; bench/board_charts.py measures ten).
MAX_DRAWN = 10
#: The figure ``nnlearn landscape`` writes into a run folder (``nnlearn.see.landscape.FIGURE_FILE``, not
#: imported here: it brings matplotlib into the board's start).
LANDSCAPE_FIGURE = "landscape.png"

_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
#: What /files serves as what it is; everything else is a download.
_FILE_TYPES = {".png": "image/png"} | dict.fromkeys((".csv", ".json", ".txt", ".log"), "text/plain; charset=utf-8")


def inside(root: Path, rel: str) -> Path:
    """``root / rel`` resolved, when it lies inside ``root``; else :class:`Refused` (403; 404 for a
    name the system cannot look up: too long, a loop of links). ``root`` must already be resolved.
    """
    if "\x00" in rel or rel.startswith(("/", "\\")) or PurePosixPath(rel).is_absolute() or ":" in rel[:3]:
        raise Refused(403, _("the path {rel!r} is absolute; give a path inside the board's folder", rel=rel))
    if any(part == ".." for part in rel.replace("\\", "/").split("/")):
        raise Refused(403, _("the path {rel!r} leaves the board's folder", rel=rel))
    try:
        target = (root / rel).resolve()
    except (OSError, RuntimeError, ValueError):  # a loop of links, a name too long
        raise Refused(404, _("no such file or folder under the board's folder")) from None
    if target != root and root not in target.parents:
        raise Refused(403, _("the path {rel!r} leads outside the board's folder (a symbolic link)", rel=rel))
    return target


class Board:
    """What the requests share: the folder, the pages, loaded models, test sets and reports."""

    def __init__(self, root, data_dir=None):
        self.root = Path(root).resolve()
        self.data_dir = data_dir
        folder = resources.files("nnlearn.see.board") / "static"
        self.static = {f.name: f.read_bytes() for f in folder.iterdir() if f.is_file() and f.name[0] != "."}
        self.lock = threading.Lock()
        self.caches: dict[str, dict] = {"models": {}, "test sets": {}, "reports": {}, "charts": {}}

    def remembered(self, cache: str, key, make, keep: int = 8):
        """``make()``, kept under ``key`` among the ``keep`` newest of its ``cache``."""
        with self.lock:
            value = self.caches[cache].get(key)
        if value is None:
            value = make()
            with self.lock:
                kept = list(self.caches[cache].items())[: keep - 1]
                self.caches[cache] = {key: value} | {k: v for k, v in kept if k != key}
        return value

    def listing(self) -> dict:
        entries = rundir.find_entries(self.root)
        for e in entries:  # a run's loss landscape (nnlearn landscape), linked from its row
            e["has_landscape"] = e["kind"] == "run" and os.path.lexists(self.root / e["path"] / LANDSCAPE_FIGURE)
        return {"root": self.root.name, "entries": entries}

    def folder(self, rel: str) -> Path:
        target = inside(self.root, rel)
        try:
            ok = target.is_dir()
        except OSError:
            ok = False
        if not ok:
            raise Refused(404, _("no such folder under the board's folder: {rel!r}", rel=rel))
        return target

    def run(self, rel: str) -> Path:
        run = inside(self.root, rel)
        if not rundir.is_run_dir(run):
            raise Refused(404, _("{rel!r} is not a run directory under the board's folder", rel=rel))
        return run

    def curves(self, rel: str) -> dict:
        run = self.run(rel)
        info = rundir.entry(run, self.root)
        try:
            if info["state"] != "unreadable":
                return info | rundir.run_curves(run)
            reason = info["reason"]
        except NnlearnError as exc:
            reason = str(exc).splitlines()[0]
        raise Refused(409, _("the run {rel!r} is unreadable: {reason}", rel=rel, reason=reason))

    def chart(self, rels: list[str]) -> bytes:
        """The curves of the runs ``rels`` overlaid, as SVG in the current language (the report's figure of runs
        compared); kept until one of them changes."""
        from nnlearn.common.evaluation import figure_svg, plot_runs  # matplotlib: the board starts without it
        from nnlearn.see.report import overlaid

        if not rels:
            raise Refused(400, _("give the run with ?path=RUN (a folder relative to the board's folder)"))
        if len(rels) > MAX_DRAWN:
            raise Refused(400, _("at most {n} runs are drawn together; untick some", n=MAX_DRAWN))
        runs = []
        for rel in rels:
            c = self.curves(rel)
            runs.append(overlaid(rel, c["loss"], c["epoch_columns"], c["epochs"]))
        key = (i18n.current(), hashlib.sha256(json.dumps(runs).encode("utf-8")).hexdigest())
        return self.remembered("charts", key, lambda: figure_svg(plot_runs(runs), "board").encode("utf-8"))

    def finished_run(self, rel: str) -> Path:
        run = self.run(rel)
        try:
            state = rundir.run_state(run)[0]
        except NnlearnError:
            state = "unreadable"
        if state != "finished" or not os.path.lexists(run / "model.npz"):
            # The state's word, as the runs list shows it.
            message = _(
                "the run {rel!r} is {state}; drawing needs a finished run with its model.npz", rel=rel, state=_(state)
            )
            raise Refused(409, message)
        return run

    def model(self, run: Path):
        try:  # never through a link that leads out of the run folder (nnlearn.train.tables.open_file)
            path = tables.checked_path(run / "model.npz")
        except NnlearnError as exc:  # names the file, not the folder
            raise Refused(
                409, _("the run's model.npz cannot be read: {reason}", reason=str(exc).splitlines()[0])
            ) from None
        except OSError:
            raise Refused(409, _("the run's model.npz cannot be read")) from None
        try:
            stat = path.stat()
            key = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
            return self.remembered("models", key, lambda: load_network(path), keep=4)
        except (NnlearnError, OSError, ValueError) as exc:
            log.warning("cannot load %s: %s", run / "model.npz", exc)
            raise Refused(409, _("the run's model.npz cannot be read")) from None

    def test_set(self, config: dict):
        from nnlearn.see.report import load_test_set  # the report draws with matplotlib: the board starts without it

        key = (str(config.get("dataset")), str(config.get("data_dir")), str(self.data_dir))
        try:
            return self.remembered("test sets", key, lambda: load_test_set(config, self.data_dir, download=False))
        except (NnlearnError, OSError, ValueError) as exc:
            log.warning("cannot read the test set: %s", str(exc).splitlines()[0])
            raise Refused(503, _("the test set cannot be read; start the board with --data-dir FOLDER")) from None

    def sample(self, query: dict) -> dict:
        # A bad number is the request's fault, whatever the run.
        query_number(query, "seed", 0, MAX_SEED, whole=True)
        query_number(query, "class", 0, MAX_CLASS, whole=True)
        run = self.finished_run(query.get("path", ""))
        net = self.model(run)
        x_test, t_test = self.test_set(rundir.json_if_readable(run / "config.json") or {})
        return sample(net, x_test, t_test, query)

    def predict(self, rel: str, png: bytes) -> dict:
        return predict_drawing(self.model(self.finished_run(rel)), png)

    def report(self, rel: str, lang: str = i18n.SOURCE_LANGUAGE) -> bytes:
        """The report of a run or sweep folder in ``lang``, with links to it in the other languages, built in
        memory (kept until one of its files changes)."""
        from nnlearn.see.report import build_report  # matplotlib: the board starts without it

        target = self.folder(rel)

        def build() -> bytes:
            test_data = None
            if rundir.is_run_dir(target) and os.path.lexists(target / "model.npz"):
                try:
                    test_data = self.test_set(rundir.json_if_readable(target / "config.json") or {})
                except Refused:
                    pass  # the report says the test set is missing
            try:
                with i18n.use(lang):
                    page = build_report(
                        [target],
                        data_dir=self.data_dir,
                        download=False,
                        test_data=test_data,
                        where=rel or ".",
                        languages=language.switcher(lang, path=rel),
                    )
            except NnlearnError as exc:
                raise Refused(404, _("{rel!r} is neither a run nor a sweep folder", rel=rel)) from exc
            return page.encode("utf-8")

        return self.remembered("reports", (str(target), lang, _signature(target), _signature(target / "final")), build)

    def file(self, rel: str) -> tuple[bytes, str]:
        target = inside(self.root, rel)
        try:
            return tables.read_bytes(target, MAX_FILE_BYTES), target.suffix.lower()
        except (FileNotFoundError, NotADirectoryError):
            raise Refused(404, _("no such file under the board's folder: {rel!r}", rel=rel)) from None
        except (NnlearnError, OSError):
            raise Refused(
                404, _("{rel!r} is not a regular file of at most {mb} MB", rel=rel, mb=MAX_FILE_BYTES >> 20)
            ) from None


def _signature(folder: Path) -> tuple:
    """What changes when a file of ``folder`` does (its report aside): the names, times and sizes."""
    try:
        stats = [(e.name, e.stat(follow_symlinks=False)) for e in os.scandir(folder) if e.name != "report.html"]
    except OSError:
        return ()
    return tuple(sorted((name, s.st_mtime_ns, s.st_size) for name, s in stats))


def _board(request: Request) -> Board:
    return request.app.state.board


def _rel(request: Request) -> str:
    if "path" not in request.query_params:
        raise Refused(400, _("give the run with ?path=RUN (a folder relative to the board's folder)"))
    return request.query_params["path"]


async def page(request: Request) -> Response:
    return language.page_response(request, "board/draw.html" if request.url.path == "/draw" else "board/board.html")


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    data = _board(request).static.get(name)
    if data is None:
        raise Refused(404, _("no such file: /static/{name}", name=name))
    return Response(data, media_type=_TYPES.get(Path(name).suffix, "application/octet-stream"))


async def api_runs(request: Request) -> Response:
    return answer(await work(request, "read", _board(request).listing))


async def api_run(request: Request) -> Response:
    return answer(await work(request, "curves", _board(request).curves, _rel(request)))


async def api_chart(request: Request) -> Response:
    body = await work(request, "compute", _board(request).chart, request.query_params.getlist("path"))
    # Shown as a picture, where no script runs; opened by itself, its styles are all it may use.
    return Response(
        body,
        media_type="image/svg+xml",
        headers={"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"},
    )


async def api_sample(request: Request) -> Response:
    return answer(await work(request, "compute", _board(request).sample, dict(request.query_params)))


async def report(request: Request) -> Response:
    lang, chosen = language.choose(request)
    body = await work(request, "compute", _board(request).report, _rel(request), lang)
    response = Response(
        body, media_type="text/html; charset=utf-8", headers={"content-security-policy": header_csp(REPORT_CSP)}
    )
    return language.keep(response, lang) if chosen else response


async def files(request: Request) -> Response:
    body, suffix = await work(request, "read", _board(request).file, request.path_params["rel"])
    kind = _FILE_TYPES.get(suffix)
    headers = {"content-security-policy": "default-src 'none'; sandbox"}
    if kind is None:
        headers["content-disposition"] = "attachment"
    return Response(body, media_type=kind or "application/octet-stream", headers=headers)


async def api_predict(request: Request) -> Response:
    same_origin(request)
    length = request.headers.get("content-length", "")
    if not (length.isascii() and length.isdigit()):
        raise Refused(411, _("send the drawing as a PNG body with a Content-Length"))
    if int(length) > MAX_DRAWING_BYTES:
        return _closing(
            413, _("the drawing is {n} bytes; at most {most} are accepted", n=int(length), most=MAX_DRAWING_BYTES)
        )
    budget = request.app.state.body_budget
    body = bytearray()
    try:
        with anyio.fail_after(BODY_SECONDS):
            async for chunk in request.stream():
                if not budget.take(len(chunk)):
                    return _closing(503, _("the board is receiving many drawings at once; try again in a moment"))
                body += chunk
                if len(body) > MAX_DRAWING_BYTES:
                    return _closing(400, _("the drawing is larger than its Content-Length"))
        return answer(
            await work(request, "compute", _board(request).predict, request.query_params.get("path", ""), bytes(body))
        )
    except TimeoutError:
        return _closing(408, _("the drawing did not arrive within {seconds} s", seconds=format(BODY_SECONDS, "g")))
    finally:
        budget.give(len(body))


def _closing(status: int, message: str) -> Response:
    """A refusal that ends the connection: the rest of the drawing is never read."""
    return answer({"error": message}, status, headers={"connection": "close"})


async def refused(request: Request, exc: Refused) -> Response:
    return answer({"error": str(exc)}, exc.status)


async def http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code in (404, 405) and request.method not in ("GET", "HEAD"):
        return answer(
            {"error": _("{method} is not allowed: the board only reads (GET, HEAD)", method=request.method)},
            405,
            headers={"allow": "GET, HEAD"},
        )
    if exc.status_code == 404:
        if ".." in request.url.path:
            return answer({"error": _("the path leaves the board's folder")}, 403)
        return answer({"error": _("no such page")}, 404)
    return answer({"error": _("the request cannot be answered")}, exc.status_code)


async def internal_error(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    with i18n.use(language.choose(request)[0]):  # Starlette answers a 500 outside the other middleware
        return answer({"error": _("internal error: the board's log says more")}, 500)


class BoardApp(Starlette):
    """Starlette with :class:`~nnlearn.see.board.guards.SecurityHeaders` outside everything, its error handling included
    (``middleware=`` would put it inside Starlette's ``ServerErrorMiddleware``, which answers 500s)."""

    def build_middleware_stack(self):
        return SecurityHeaders(super().build_middleware_stack())


def make_app(root, *, host: str = "127.0.0.1", data_dir=None) -> Starlette:
    """The board's application over the folder ``root``, answering the ``Host`` names of :func:`allowed_hosts`."""
    app = BoardApp(
        routes=[
            Route("/", page),
            Route("/index.html", page),
            Route("/draw", page),
            Route("/static/{name}", static),
            Route("/api/runs", api_runs),
            Route("/api/run", api_run),
            Route("/api/chart", api_chart),
            Route("/api/sample", api_sample),
            Route("/report", report),
            Route("/files/{rel:path}", files),
            Route("/api/predict", api_predict, methods=["POST"]),
            *lessons.ROUTES,
        ],
        middleware=[Middleware(language.RequestLanguage), Middleware(HostCheck, allowed=allowed_hosts(host))],
        exception_handlers={Refused: refused, HTTPException: http_error, Exception: internal_error},
    )
    app.state.board = Board(root, data_dir)
    app.state.limiters = {kind: anyio.CapacityLimiter(n) for kind, n in LIMITS.items()}
    app.state.body_budget = ByteBudget(BODY_BUDGET)
    return app
