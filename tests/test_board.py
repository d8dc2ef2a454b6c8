"""``nnlearn board``: a read-only local web page of the runs in a folder, tested over HTTP and in Chromium."""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import subprocess
import sys
from urllib.parse import urlsplit

import numpy as np
import pytest
from browser import CHART_SVG, chart_points


def _request(base, method, path, body=None, headers=None):
    """``(status, body bytes)`` of one raw request: the path is sent exactly as given (no normalising)."""
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


@pytest.fixture
def board_folder(tmp_path, make_run):
    root = tmp_path / "runs"
    make_run(root / "alpha", test_accuracy=0.88)
    make_run(root / "beta", test_accuracy=0.91)
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET")
    (root / "escape").symlink_to(outside)
    return root


def test_nothing_outside_the_folder_is_served(board_folder, serve_board):
    base = serve_board(board_folder)
    status, body = _request(base, "GET", "/files/alpha/epochs.csv")
    assert (status, body) == (200, (board_folder / "alpha" / "epochs.csv").read_bytes())
    for path in (
        "/../private/secret.txt",
        "/files/../private/secret.txt",
        "/files/%2e%2e/private/secret.txt",
        "/files/%2E%2E%2Fprivate%2Fsecret.txt",
        "/files//etc/passwd",
        "/files/%2Fetc%2Fpasswd",
        "/files/escape/secret.txt",
        "/report?path=..%2Fprivate",
        "/report?path=/etc",
        "/report?path=escape",
        "/api/run?path=escape",
        "/api/chart?path=alpha&path=escape",
    ):
        status, body = _request(base, "GET", path)
        assert status == 403, path
        assert b"SECRET" not in body and b"root:" not in body
        assert json.loads(body)["error"].startswith("the path "), path


def test_the_chart_of_the_ticked_runs_is_the_reports_figure_in_svg(board_folder, serve_board):
    """/api/chart draws what /api/run reads, with matplotlib: each run's smoothed loss and accuracy, in its colour."""
    from nnlearn.base.i18n import translate

    base = serve_board(board_folder)
    status, body = _request(base, "GET", "/api/chart?path=beta&path=alpha")
    svg = body.decode("utf-8")
    assert status == 200 and svg.startswith("<svg") and "<script" not in svg
    smoothed = sum(p[2] is not None for p in json.loads(_request(base, "GET", "/api/run?path=alpha")[1])["loss"])
    assert smoothed > 500
    assert [chart_points(svg, g) for g in ("loss-0", "loss-1", "acc-0", "acc-1")] == [smoothed, smoothed, 2, 2]
    assert ">beta (test accuracy)</text>" in svg and "stroke: #ff7f0e" in svg  # alpha, second: matplotlib's C1
    # The same curves, the same bytes (kept, or drawn again); in the request's language.
    assert _request(base, "GET", "/api/chart?path=beta&path=alpha")[1] == body
    ja = _request(base, "GET", "/api/chart?path=alpha", headers={"Accept-Language": "ja"})[1].decode("utf-8")
    assert translate("Loss (smoothed)", "ja") in ja and "Loss (smoothed)" in svg
    # The legend names the accuracy in the reader's words too (it showed the CSV's column name).
    test_accuracy = translate("{which} accuracy", "ja", which=translate("test", "ja"))
    assert f">alpha ({test_accuracy})</text>" in ja and "test accuracy" not in ja
    # Bounded: at most ten runs, at least one; every path checked as /api/run checks it.
    status, body = _request(base, "GET", "/api/chart?" + "&".join(["path=alpha"] * 11))
    assert status == 400 and "at most 10 runs" in json.loads(body)["error"]
    assert _request(base, "GET", "/api/chart")[0] == 400
    assert _request(base, "GET", "/api/chart?path=alpha&path=nowhere")[0] == 404


def test_only_reading_is_allowed(board_folder, serve_board):
    base = serve_board(board_folder)
    before = sorted(p.name for p in board_folder.rglob("*"))
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"):
        status, body = _request(base, method, "/files/alpha/epochs.csv", body=b"x")
        assert status == 405, method
        assert json.loads(body) == {"error": f"{method} is not allowed: the board only reads (GET, HEAD)"}
    status, body = _request(base, "HEAD", "/api/runs")
    assert (status, body) == (200, b"")
    assert sorted(p.name for p in board_folder.rglob("*")) == before
    status, body = _request(base, "GET", "/api/runs")
    entries = json.loads(body)["entries"]
    assert sorted((e["path"], e["state"], e["test_accuracy"]) for e in entries) == [
        ("alpha", "finished", 0.88),
        ("beta", "finished", 0.91),
    ]


def test_state_json_decides_the_state(tmp_path, make_run, serve_board):
    root = tmp_path / "runs"
    make_run(root / "gone", state={"state": "running", "pid": 2**22 + 12345, "updated": 0, "reason": None})
    make_run(root / "nan", state={"state": "diverged", "pid": 1, "updated": 0, "reason": "loss became nan"})
    make_run(root / "here", state={"state": "running", "pid": os.getpid(), "updated": 0, "reason": None})
    status, body = _request(serve_board(root), "GET", "/api/runs")
    got = {e["path"]: (e["state"], e["reason"]) for e in json.loads(body)["entries"]}
    assert got == {
        "gone": ("stopped", "its process is no longer running"),
        "nan": ("diverged", "loss became nan"),
        "here": ("running", None),
    }


def test_board_command_prints_its_url_and_stops_on_ctrl_c(board_folder):
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnlearn", "board", str(board_folder), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"nnlearn board: the runs in {board_folder.resolve()} at http://127.0.0.1:")
        url = line.split(" at ")[1].split()[0]
        status, body = _request(url, "GET", "/")
        assert status == 200 and b"<title>nnlearn board</title>" in body
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill() if proc.poll() is None else None
    assert (proc.returncode, out, err) == (0, "nnlearn board: stopped\n", "")


@pytest.mark.slow  # a real training process and Chromium: 5 s
@pytest.mark.realdata
@pytest.mark.browser
def test_board_lists_runs_and_a_training_curve_grows_without_reload(board_folder, serve_board, tab, mnist_dir):
    base = serve_board(board_folder)
    page = tab.page
    page.goto(base + "/?poll=300")
    page.wait_for_function("() => document.querySelectorAll('tr.entry').length === 2")
    names = page.eval_on_selector_all("tr.entry", "rows => rows.map(r => r.dataset.path + ' ' + r.dataset.state)")
    assert sorted(names) == ["alpha finished", "beta finished"]
    assert sorted(page.eval_on_selector_all("tr.entry td.accuracy", "cs => cs.map(c => c.textContent)")) == [
        "88.00% test",
        "91.00% test",
    ]
    page.evaluate("window.notReloaded = true")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nnlearn",
            "train",
            "--iters",
            "200000",
            "--batch-size",
            "600",
            "--no-progress",
            "--out",
            str(board_folder / "live"),
            "--data-dir",
            str(mnist_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        page.wait_for_selector('tr.entry[data-path="live"][data-state="running"]', timeout=20000)
        if not page.is_checked('tr.entry[data-path="live"] input'):
            page.check('tr.entry[data-path="live"] input')
        for other in ("alpha", "beta"):  # the live run alone: the first line of the chart
            page.uncheck(f'tr.entry[data-path="{other}"] input')

        def live_points(enough):  # the live run's accuracy points, once there are ``enough``
            for _ in range(100):
                svg = page.evaluate(CHART_SVG)
                n = chart_points(svg, "acc-0") if "live (" in svg and "alpha" not in svg else 0
                if enough(n):
                    return n
                page.wait_for_timeout(200)
            raise AssertionError(f"the chart of the live run did not grow: {n} points")

        first = live_points(lambda n: n >= 1)
        assert live_points(lambda n: n > first) > first
        assert page.evaluate("window.notReloaded") is True
    finally:
        proc.kill()
        proc.wait()
    assert tab.errors == []


# -- draw a digit ----------------------------------------------------------------------------------

#: What the draw page declares its drawing to be (a cross-site form cannot).
PNG = {"Content-Type": "image/png"}


def _png(pixels) -> bytes:
    from nnlearn.see.images import png_bytes

    return png_bytes(pixels)


@pytest.mark.slow
@pytest.mark.realdata
def test_predict_endpoint_refuses_what_is_not_a_finished_run_or_a_drawing(short_run, make_run, serve_board):
    root = short_run.parent
    make_run(root / "unfinished")
    base = serve_board(root)
    digit = np.ones((100, 100))
    digit[20:80, 45:55] = 0.0
    ok = _png(digit)
    status, body = _request(base, "POST", "/api/predict?path=short", body=ok, headers=PNG)
    assert status == 200 and len(json.loads(body)["probabilities"]) == 10
    cases = [
        ("/api/predict?path=unfinished", ok, 409, "the run 'unfinished' is running; drawing needs a finished run"),
        ("/api/predict?path=..%2Fshort", ok, 403, "the path '../short' leaves the board's folder"),
        ("/api/predict?path=nowhere", ok, 404, "'nowhere' is not a run directory under the board's folder"),
        ("/api/predict?path=short", b"GIF89a not a png", 400, "the drawing must be a PNG image (image/png)"),
        ("/api/predict?path=short", b"\x89PNG\r\n\x1a\n" + b"\0" * 50, 400, "the drawing is not a readable PNG"),
        ("/api/predict?path=short", _png(np.ones((50, 50))), 400, "the drawing is empty: draw a digit"),
        ("/api/predict?path=short", _png(np.ones((1, 3000))), 413, "the drawing is 3000x1 pixels; at most 2048"),
        ("/api/other", ok, 405, "POST is not allowed"),
    ]
    for path, data, want, message in cases:
        status, body = _request(base, "POST", path, body=data, headers=PNG)
        assert (status, json.loads(body)["error"][: len(message)]) == (want, message), path
    status, body = _request(
        base, "POST", "/api/predict?path=short", body=b"x" * 10, headers={"Content-Length": "5000000"} | PNG
    )
    assert (status, json.loads(body)["error"]) == (413, "the drawing is 5000000 bytes; at most 1000000 are accepted")
    status, _ = _request(base, "GET", "/api/runs")
    assert status == 200  # still serving


def _stroke(page, points):
    box = page.locator("#pad").bounding_box()
    xy = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=6)
    page.mouse.up()


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.browser
def test_drawn_digits_get_the_probabilities_of_nnlearn_predict(short_run, serve_board, tab, tmp_path):
    from nnlearn import load_network
    from nnlearn.see.images import image_to_input

    net = load_network(short_run / "model.npz")
    base = serve_board(short_run.parent)
    page = tab.page
    page.goto(base + "/draw?path=short")
    previews = []
    for name, strokes in (("one", [[(0.5, 0.15), (0.5, 0.85)]]), ("seven", [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]])):
        page.click("#clear")
        done = page.evaluate("window.nnlearnDraw.predictions")
        for s in strokes:
            _stroke(page, s)
        # Wait for the prediction of the finished drawing (not of a stroke half drawn).
        page.wait_for_function("() => window.nnlearnDraw.shown === window.nnlearnDraw.strokes")
        assert page.evaluate("window.nnlearnDraw.predictions") >= done + 2  # updated while drawing, too
        answer = page.evaluate("window.nnlearnDraw.last")
        shown = [float(p) for p in page.eval_on_selector_all("#bars td.p", "cs => cs.map(c => c.dataset.p)")]
        preview = np.array(answer["preview"])
        # The displayed probabilities are the network's on the 28x28 image it shows.
        np.testing.assert_allclose(shown, net.predict(preview), rtol=0, atol=1e-6)
        assert page.inner_text("#predicted") == str(int(np.argmax(shown)))
        assert int(np.argmax(shown)) == {"one": 1, "seven": 7}[name]  # the strong recipe's net reads them
        # The preview canvas shows that image ...
        pixels = page.evaluate(
            "Array.from(document.getElementById('preview').getContext('2d')"
            ".getImageData(0, 0, 28, 28).data.filter((v, i) => i % 4 === 0))"
        )
        assert pixels == [round(255 * v) for v in preview]
        # ... which is what `nnlearn predict` makes of the drawing saved as an image file.
        png = tmp_path / f"{name}.png"
        uri = page.evaluate("document.getElementById('pad').toDataURL('image/png')")
        png.write_bytes(base64.b64decode(uri.split(",", 1)[1]))
        from_file, inverted = image_to_input(png)
        assert inverted is True  # dark ink on white paper, turned into MNIST's white on black
        np.testing.assert_array_equal(from_file.astype(np.float64), preview)
        previews.append(preview)
        if name == "seven":
            page.screenshot(path=str(tmp_path / "draw.png"))
    assert np.abs(previews[0] - previews[1]).max() > 0.5  # a 1 and a 7, not the same picture
    page.select_option("#klass", "3")
    page.click("#sample")
    page.wait_for_function("() => /true class 3/.test(document.querySelector('#source').textContent)")
    assert tab.errors == []


# -- safe to serve ---------------------------------------------------------------------------------


def test_a_foreign_host_name_is_refused(board_folder, serve_board):
    """DNS rebinding: a page on another site that points its name at 127.0.0.1 gets nothing."""
    base = serve_board(board_folder)
    for host in ("evil.example", "evil.example:8765", "127.0.0.1.evil.example", "localhost.evil.example", ""):
        status, body = _request(base, "GET", "/api/runs", headers={"Host": host})
        assert (status, body) == (400, b"Invalid host header"), host
    for host in ("127.0.0.1", "localhost:1234", "LOCALHOST"):
        status, body = _request(base, "GET", "/api/runs", headers={"Host": host})
        assert status == 200 and b'"entries"' in body, host


def test_every_folder_is_read_on_its_own(tmp_path, make_run, serve_board):
    """50 good runs and one of each kind of damage: all 50 listed, each damaged one marked with its reason."""
    root = tmp_path / "runs"
    for k in range(50):
        make_run(root / f"good-{k:02d}", test_accuracy=0.9)
    bad = {
        name: make_run(root / name, test_accuracy=0.5)
        for name in ("huge-pid", "settings-text", "nan-summary", "nan-config", "nan-epochs", "text-epochs", "not-json")
    }
    (bad["huge-pid"] / "state.json").write_text('{"state": "running", "pid": 1000000000000000000000000000000}')
    config = json.loads((bad["settings-text"] / "config.json").read_text())
    (bad["settings-text"] / "config.json").write_text(json.dumps(config | {"settings": "abc"}))
    (bad["nan-summary"] / "summary.json").write_text('{"test_accuracy": NaN, "seconds": Infinity}')
    (bad["nan-config"] / "config.json").write_text(json.dumps(config | {"seed": float("nan")}))
    (bad["nan-epochs"] / "epochs.csv").write_text("epoch,test_accuracy\n1,nan\n2,0.5\n3,inf\n")
    (bad["text-epochs"] / "epochs.csv").write_text("epoch,test_accuracy\n1,\n2,abc\nx,0.5\n")
    (bad["not-json"] / "summary.json").write_text("{")
    sweep = root / "sweep"
    sweep.mkdir()
    (sweep / "trials.csv").write_text("number,state,validation_accuracy\n0,COMPLETE,nan\n1,COMPLETE,0.9\n2,RUNNING,\n")
    os.mkfifo(root / "good-00" / "metrics.csv.fifo")
    (root / "fifo-run").mkdir()
    os.mkfifo(root / "fifo-run" / "config.json")
    base = serve_board(root)
    status, body = _request(base, "GET", "/api/runs")
    assert status == 200
    entries = {e["path"]: e for e in json.loads(body)["entries"]}
    assert sorted(p for p in entries if p.startswith("good-")) == [f"good-{k:02d}" for k in range(50)]
    assert all(entries[f"good-{k:02d}"]["state"] == "finished" for k in range(50))
    marked = {p: e["reason"] for p, e in entries.items() if e["state"] == "unreadable"}
    assert marked == {
        "huge-pid": "state.json: the pid is not a process id",
        "settings-text": "config.json: settings is not an object",
        "not-json": "summary.json is not valid JSON (Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1))",
        "fifo-run": "config.json is a FIFO (named pipe), not a regular file; nnlearn reads only regular files",
    }
    # NaN is no value: the run lists with what can be read (the last epoch's test accuracy).
    assert (entries["nan-summary"]["test_accuracy"], entries["nan-summary"]["seconds"]) == (0.88, None)
    assert entries["nan-config"]["seed"] is None
    # The accuracy says which it is: a sweep's best validation accuracy, a run's test accuracy.
    assert (entries["sweep"]["state"], entries["sweep"]["test_accuracy"], entries["sweep"]["accuracy_name"]) == (
        "running",
        0.9,
        "best validation",
    )
    assert entries["good-00"]["accuracy_name"] == "test"
    for name, accuracies in (("nan-epochs", [None, 0.5, None]), ("text-epochs", [None, None, 0.5])):
        status, body = _request(base, "GET", f"/api/run?path={name}")
        assert status == 200, name
        assert [r["test_accuracy"] for r in json.loads(body)["epochs"]] == accuracies
    status, body = _request(base, "GET", "/api/run?path=settings-text")
    assert (status, json.loads(body)) == (
        409,
        {"error": "the run 'settings-text' is unreadable: config.json: settings is not an object"},
    )
    for name in ("nan-epochs", "text-epochs", "huge-pid", "settings-text", "fifo-run", "sweep"):
        status, body = _request(base, "GET", f"/report?path={name}")
        assert status == 200 and b"<h1>" in body, name


def test_errors_name_no_path_and_never_fail_the_server(board_folder, serve_board, tmp_path):
    (board_folder / "loop").symlink_to(board_folder / "loop")
    base = serve_board(board_folder)
    secret = str(tmp_path).encode()
    cases = [
        ("/files/loop/x", 404),
        ("/report?path=loop", 404),
        ("/files/" + "n" * 300, 404),
        ("/report?path=" + "n" * 300, 404),
        ("/api/run?path=" + "a/" * 2000, 404),
    ]
    for path, want in cases:
        status, body = _request(base, "GET", path)
        assert status == want, path
        assert secret not in body and b"Traceback" not in body, path
        json.loads(body)
    # A malformed Content-Length is refused by the HTTP parser itself.
    u = urlsplit(base)
    import socket

    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(b"POST /api/predict?path=alpha HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \xb2\r\n\r\n")
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400 ") and secret not in reply
    status, _ = _request(base, "GET", "/api/runs")
    assert status == 200


def test_listening_on_every_interface_warns(board_folder):
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnlearn", "board", str(board_folder), "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"nnlearn board: the runs in {board_folder.resolve()} at http://0.0.0.0:")
        port = int(line.split(" at ")[1].split()[0].rstrip("/").rsplit(":", 1)[1])
        status, _ = _request(f"http://127.0.0.1:{port}", "GET", "/api/runs")
        assert status == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill() if proc.poll() is None else None
    assert err == (
        f"warning: listening on every network interface (0.0.0.0): anyone on the network who can reach "
        f"this computer can read every file under {board_folder.resolve()}; use --host 127.0.0.1 unless "
        "that is what you want\n"
    )


@pytest.mark.slow
@pytest.mark.realdata
def test_idle_connections_and_concurrent_large_drawings_are_all_answered(short_run, serve_board, monkeypatch):
    """A smaller version of bench/board_load.py's load: every request answered, none refused or reset;
    and a connection that sends nothing is closed by the server after its head timeout."""
    import socket
    import time
    from concurrent.futures import ThreadPoolExecutor

    import nnlearn.see.board.server

    monkeypatch.setattr(nnlearn.see.board.server, "HEAD_SECONDS", 2)
    base = serve_board(short_run.parent)
    u = urlsplit(base)
    started = time.monotonic()
    idle = [socket.create_connection((u.hostname, u.port), timeout=10) for _ in range(50)]
    try:
        drawing = np.ones((2048, 2048))
        drawing[300:1700, 900:1150] = 0.0
        big = _png(drawing)

        def draw(_):
            return _request(base, "POST", "/api/predict?path=short", body=big, headers=PNG)

        def page(_):
            return [_request(base, "GET", "/")[0] for _ in range(20)]

        with ThreadPoolExecutor(10) as pool:
            draws = pool.map(draw, range(4))
            pages = pool.map(page, range(6))
            answers = [(status, json.loads(body)["predicted"]) for status, body in draws]
            statuses = [s for p in pages for s in p]
        time.sleep(max(0.0, started + 2.5 - time.monotonic()))
        closed = [s.recv(1) for s in idle]  # b"": the server closed it
    finally:
        for s in idle:
            s.close()
    assert answers == [(200, 1)] * 4
    assert statuses == [200] * 120
    assert closed == [b""] * 50


def test_a_runs_loss_landscape_is_linked_from_its_row(board_folder, serve_board):
    """``nnlearn landscape`` writes landscape.png into the run folder; the runs list says so, /files serves it."""
    from nnlearn.see.board.app import LANDSCAPE_FIGURE
    from nnlearn.see.images import png_bytes
    from nnlearn.see.landscape import FIGURE_FILE

    assert LANDSCAPE_FIGURE == FIGURE_FILE
    picture = png_bytes(np.eye(4))
    (board_folder / "alpha" / FIGURE_FILE).write_bytes(picture)
    base = serve_board(board_folder)
    status, body = _request(base, "GET", "/api/runs")
    assert {e["path"]: e["has_landscape"] for e in json.loads(body)["entries"]} == {"alpha": True, "beta": False}
    assert _request(base, "GET", f"/files/alpha/{FIGURE_FILE}") == (200, picture)
    board_js = _request(base, "GET", "/static/board.js")[1].decode()
    assert (
        'if (e.has_landscape) link(pages, "/files/"' in board_js
        and '"/landscape.png", _("loss landscape"))' in board_js
    )


# -- every answer, errors included -----------------------------------------------------------------


def _answer(base, method, path, body=None, headers=None):
    """``(status, headers, body)`` of one raw request (header names in lower case)."""
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def test_every_answer_errors_included_carries_the_security_headers(board_folder, serve_board, monkeypatch):
    """An unhandled exception's 500 carried no CSP, nosniff or X-Frame-Options: an injected inline script ran."""
    import socket

    from nnlearn.see.board.app import Board
    from nnlearn.see.board.guards import SECURITY_HEADERS

    monkeypatch.setattr(Board, "listing", lambda self: 1 / 0)
    base = serve_board(board_folder)
    cases = [
        ("GET", "/api/runs", {}, 500),
        ("GET", "/nowhere", {}, 404),
        ("GET", "/api/run", {}, 400),
        ("GET", "/api/run?path=escape", {}, 403),
        ("DELETE", "/api/runs", {}, 405),
        ("GET", "/", {"Host": "evil.example"}, 400),
        ("GET", "/api/sample?path=alpha&class=%C2%B2", {}, 400),
    ]
    for method, path, headers, want in cases:
        status, got, _ = _answer(base, method, path, headers=headers)
        assert status == want, path
        assert {k: got.get(k) for k in SECURITY_HEADERS} == SECURITY_HEADERS, path
    u = urlsplit(base)
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:  # uvicorn's own 400
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n")
        reply = s.recv(4096).decode("latin-1").lower()
    assert reply.startswith("http/1.1 400 ")
    assert all(f"\r\n{k}: {v.lower()}\r\n" in reply for k, v in SECURITY_HEADERS.items())


def test_numbers_in_query_strings_are_ascii_digits_only(board_folder, serve_board):
    """'²'.isdigit() is true and int('²') fails: a 500; int('١٢') is 12."""
    from urllib.parse import quote

    base = serve_board(board_folder)
    for name, value in (
        ("class", "²"),
        ("seed", "²"),
        ("class", "١"),
        ("seed", "1e3"),
        ("seed", "-1"),
        ("class", "1" * 6),
        ("seed", "9" * 20),
    ):
        status, body = _request(base, "GET", f"/api/sample?path=alpha&{name}={quote(value)}")
        most = "99999" if name == "class" else "9" * 19
        assert (status, json.loads(body)["error"]) == (400, f"{name} must be a whole number from 0 to {most}"), value
    for query, message in (
        ("steps=%D9%A1%D9%A2", "steps must be a whole number from 0 to 1000"),
        ("steps=%C2%B2", "steps must be a whole number from 0 to 1000"),
        ("x0=%D9%A1", "x0 must be a number from -10000 to 10000"),
    ):
        status, body = _request(base, "GET", f"/api/lessons/descent?{query}")
        assert (status, json.loads(body)["error"]) == (400, message), query


def test_a_drawing_from_another_site_is_refused(board_folder, serve_board):
    """A cross-site POST (Origin: http://evil.com or null, text/plain) was computed."""
    base = serve_board(board_folder)
    own = "http://" + urlsplit(base).netloc
    cases = [
        ({"Origin": "http://evil.com", "Content-Type": "text/plain"}, 403),
        ({"Origin": "null", "Content-Type": "text/plain"}, 403),
        ({"Origin": "http://evil.com"} | PNG, 403),
        ({"Origin": own + ".evil.com"} | PNG, 403),
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({"Content-Type": "multipart/form-data; boundary=x"}, 415),
        ({}, 415),
    ]
    for headers, want in cases:
        status, body = _request(base, "POST", "/api/predict?path=alpha", body=b"\x89PNG\r\n\x1a\n", headers=headers)
        message = (
            "a drawing is accepted only from the board's own page"
            if want == 403
            else "send the drawing as a PNG body with Content-Type: image/png"
        )
        assert (status, json.loads(body)["error"][: len(message)]) == (want, message), headers
    for headers in ({"Origin": own} | PNG, PNG):  # the board's own page; a script that says what it sends
        status, body = _request(base, "POST", "/api/predict?path=alpha", body=b"\x89PNG\r\n\x1a\n", headers=headers)
        assert (status, json.loads(body)["error"]) == (
            409,
            "the run 'alpha' is finished; drawing needs a finished run with its model.npz",
        ), headers


def test_listening_on_every_interface_answers_this_computers_own_addresses(board_folder):
    """--host 0.0.0.0 refused its own LAN address as Host; 127.0.0.2 and .3 stand for such addresses
    here (none of the names allowed_hosts lists; no traffic leaves 127.0.0.0/8)."""
    from nnlearn.see.board.guards import allowed_hosts
    from nnlearn.see.board.server import BoardServer

    server = BoardServer(board_folder, "0.0.0.0", 0).start()
    try:
        port = server.socket.getsockname()[1]
        for address in ("127.0.0.2", "127.0.0.3"):
            assert address not in allowed_hosts("0.0.0.0")
            base = f"http://{address}:{port}"
            status, body = _request(base, "GET", "/api/runs")  # Host: the address connected to
            assert status == 200 and b'"entries"' in body, address
            for host in ("127.0.0.9", "evil.example", f"evil.example:{port}", f"{address}.evil.example"):
                assert _request(base, "GET", "/api/runs", headers={"Host": host}) == (400, b"Invalid host header")
    finally:
        server.stop()


# -- connections that send nothing -----------------------------------------------------------------


def _digit_png() -> bytes:
    digit = np.ones((100, 100))
    digit[20:80, 45:55] = 0.0
    return _png(digit)


@pytest.mark.slow  # seconds of waiting or training: with the long tests (the quick suite keeps 60 s)
def test_connections_that_declare_a_body_and_send_nothing_hold_nothing(fast_run, tmp_path, serve_board, monkeypatch):
    """24 such connections held the 8 body slots, 10 s each: a real drawing waited 29.5 s (here the
    deadline is 30 s, past the client's 10 s timeout); they are closed at their deadline."""
    import shutil
    import socket

    import nnlearn.see.board.app

    shutil.copytree(fast_run, tmp_path / "runs" / "run")
    monkeypatch.setattr(nnlearn.see.board.app, "BODY_SECONDS", 30.0)
    base = serve_board(tmp_path / "runs")
    u = urlsplit(base)
    head = (
        b"POST /api/predict?path=run HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    stalled = [socket.create_connection((u.hostname, u.port), timeout=10) for _ in range(24)]
    try:
        for s in stalled:
            s.sendall(head)
        status, body = _request(base, "POST", "/api/predict?path=run", body=_digit_png(), headers=PNG)
        assert status == 200 and len(json.loads(body)["probabilities"]) == 10
    finally:
        for s in stalled:
            s.close()
    monkeypatch.setattr(nnlearn.see.board.app, "BODY_SECONDS", 1.0)
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(head)
        reply = b""
        while chunk := s.recv(4096):  # until the server closes it
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 408 ") and reply.endswith(b'{"error": "the drawing did not arrive within 1 s"}')


def test_idle_connections_cannot_starve_real_requests(board_folder, serve_board, monkeypatch):
    """1,100 idle connections made 18 of 19 real requests get 503: past the limit (40 here), a new
    connection closes the one idle longest instead."""
    import select
    import socket

    import nnlearn.see.board.server

    monkeypatch.setattr(nnlearn.see.board.server, "MAX_CONNECTIONS", 40)
    monkeypatch.setattr(nnlearn.see.board.server, "HEAD_SECONDS", 60)  # none closed for idling meanwhile
    base = serve_board(board_folder)
    u = urlsplit(base)
    idle = [socket.create_connection((u.hostname, u.port), timeout=10) for _ in range(60)]
    try:
        statuses = [_request(base, "GET", "/api/runs")[0] for _ in range(19)]
        closed, _, _ = select.select(idle, [], [], 0.5)
        assert statuses == [200] * 19
        # Closed, the oldest first: one for each idle connection past the 40th, one for the first real
        # request, and one for each later one that came before the server saw the one before it close.
        n = len(closed)
        assert 21 <= n <= 39 and [s in closed for s in idle] == [True] * n + [False] * (60 - n)
        assert all(s.recv(1) == b"" for s in closed)
    finally:
        for s in idle:
            s.close()


@pytest.mark.slow  # writes a 2 M-row metrics.csv (30 MB)
def test_four_polls_of_a_two_million_row_run_and_the_runs_list_are_all_answered(tmp_path, make_run, serve_board):
    """One /api/run on such a file took 11.8 s, four at once 54 s each, and held up /api/runs for 53 s
    (here each request has the client's 10 s)."""
    from concurrent.futures import ThreadPoolExecutor

    root = tmp_path / "runs"
    run = make_run(root / "long", test_accuracy=0.9)
    rows = 2_000_000
    with open(run / "metrics.csv", "w") as fh:
        fh.write("iteration,loss\n")
        for start in range(1, rows + 1, 100_000):
            fh.write("".join(f"{i},{2.3 * 0.999999**i:.6f}\n" for i in range(start, start + 100_000)))
    base = serve_board(root)
    with ThreadPoolExecutor(5) as pool:
        polls = [pool.submit(_request, base, "GET", "/api/run?path=long") for _ in range(4)]
        listing = pool.submit(_request, base, "GET", "/api/runs")
        status, body = listing.result()
        assert status == 200 and [e["path"] for e in json.loads(body)["entries"]] == ["long"]
        for poll in polls:
            status, body = poll.result()
            curves = json.loads(body)
            assert status == 200 and curves["iterations"] == rows
            assert 900 <= len(curves["loss"]) <= 1001 and curves["loss"][-1][:2] == [
                rows,
                float(f"{2.3 * 0.999999**rows:.6f}"),
            ]


def test_past_the_limit_with_no_idle_connection_a_new_one_gets_503_with_the_headers(board_folder, monkeypatch):
    import socket
    import time

    import nnlearn.see.board.app
    import nnlearn.see.board.server
    from nnlearn.see.board.guards import SECURITY_HEADERS

    monkeypatch.setattr(nnlearn.see.board.server, "MAX_CONNECTIONS", 20)
    monkeypatch.setattr(nnlearn.see.board.app, "BODY_SECONDS", 30.0)
    server = nnlearn.see.board.server.BoardServer(board_folder, "127.0.0.1", 0).start()
    busy = [socket.create_connection(server.socket.getsockname()[:2], timeout=10) for _ in range(20)]
    try:
        for s in busy:  # each a request in progress: its head in, its body awaited
            s.sendall(
                b"POST /api/predict?path=alpha HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                b"Content-Length: 1000\r\n\r\n"
            )
        connections = server.server.server_state.connections
        for _ in range(1000):  # until the server has read every head (bounded: 10 s)
            if len(connections) == 20 and not any(c.idle() for c in connections):
                break
            time.sleep(0.01)
        status, headers, body = _answer(server.url, "GET", "/api/runs")
        assert (status, body) == (503, b"the board is busy: too many requests at once; try again in a moment\n")
        assert {k: headers.get(k) for k in SECURITY_HEADERS} == SECURITY_HEADERS
    finally:
        for s in busy:
            s.close()
        server.stop()
