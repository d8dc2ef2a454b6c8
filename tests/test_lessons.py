"""The board's lessons (``/lessons``): their JSON against nnlearn's functions and independent oracles,
their bounds, and the pages in Chromium (issue 21, item 1)."""

from __future__ import annotations

import http.client
import json
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlencode, urlsplit

import numpy as np
import pytest

from nnlearn import SimpleNet, gradient_descent, numerical_diff, numerical_gradient
from nnlearn.common.derivatives.expr import ExpressionError, parse_expression
from nnlearn.common.plots import function_1, function_2

#: The book's simpleNet (its random W written out), input and label, typed here rather than imported.
BOOK_W = [[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]]
PAGES = ["/lessons", "/lessons/diff", "/lessons/gradient", "/lessons/descent", "/lessons/numgrad"]


def _get(base, path, method="GET", body=None):
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request(method, path, body=body)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def _api(base, kind, **query):
    status, body = _get(base, f"/api/lessons/{kind}?{urlencode(query)}")
    return status, json.loads(body)


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """One board for the module: the lessons do not depend on its folder (an empty one)."""
    from nnlearn.see.board.server import BoardServer

    root = tmp_path_factory.mktemp("lessons") / "runs"
    root.mkdir()
    server = BoardServer(root, "127.0.0.1", 0).start()
    yield server.url.rstrip("/"), root
    server.stop()


def test_the_numbers_are_nnlearns(board):
    base, _ = board
    status, d = _api(base, "diff", f="function_1", x="5", h="1e-4")
    assert status == 200
    assert (
        d["at_h"]["methods"]["central"]["repr"] == repr(numerical_diff(function_1, 5.0, 1e-4)) == "0.1999999999990898"
    )
    assert d["at_h"]["methods"]["forward"]["repr"] == repr(numerical_diff(function_1, 5.0, 1e-4, method="forward"))
    # The book's bad step: 5 + 1e-50 == 5, so the forward difference is exactly 0; float32's 1e-50 is 0: 0/0.
    bad = d["book_bad_step"]["methods"]["forward"]
    assert (bad["repr"], bad["error"]["float64"], bad["error"]["float32"]) == ("0.0", 0.2, None)
    # The error curves: the forward difference's V in float64 (truncation ~h on the right, rounding on the left).
    hs, fwd = np.array(d["curves"]["h"]), np.array(d["curves"]["float64"]["forward"], dtype=float)
    assert hs[0] == 1e-20 and hs[-1] == 1.0
    at = lambda h: fwd[np.argmin(abs(np.log10(hs / h)))]  # noqa: E731
    assert at(1e-1) > at(1e-4) > at(1e-8) < at(1e-12) < at(1e-16)
    assert abs(at(1e-2) - 0.01 * 1e-2) < 1e-12  # f''/2 * h: the secant's truncation error, exactly
    # A typed formula, read by nnlearn diff's parser: the slope of exp at 1 by the complex step.
    status, d = _api(base, "diff", f="formula", formula="exp(x)", x="1", h="1e-3")
    assert status == 200 and d["at_h"]["methods"]["complex"]["value"] == pytest.approx(np.e, rel=1e-6)
    status, d = _api(base, "gradient", f="function_2", x0="3", x1="4")
    assert d["gradient_repr"] == [repr(float(g)) for g in numerical_gradient(function_2, np.array([3.0, 4.0]))]
    for lr in ("10", "1e-10", "0.1"):
        status, d = _api(base, "descent", f="function_2", x0="-3", x1="4", lr=lr, steps="100")
        end = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=float(lr), step_num=100)
        assert d["end_repr"] == [repr(float(v)) for v in end] and len(d["path"]) == 101
    assert d["verdict"] == "descended" and d["path"][0] == [-3.0, 4.0]


@pytest.mark.parametrize(
    ("lr", "steps", "want"),
    [
        ("0.1", 5, "descended"),
        ("0.1", 100, "descended"),
        ("0.99", 5, "descended"),
        ("0.99", 100, "descended"),  # zig-zags across the minimum, but f goes down
        ("1.0", 5, "oscillated"),
        ("1.0", 100, "oscillated"),  # x -> -x: jumps 10 units a step, f stays 25
        ("1.01", 5, "diverged"),
        ("1.01", 100, "diverged"),  # |x| grows 2% a step: f 25 -> 30.5, 25 -> 1312
        ("10", 5, "diverged"),
        ("10", 100, "diverged"),
        ("1e-10", 5, "stayed"),
        ("1e-10", 100, "stayed"),
    ],
)
def test_the_descent_verdict_tells_descent_divergence_oscillation_and_standing_still_apart(board, lr, steps, want):
    base, _ = board
    status, d = _api(base, "descent", f="function_2", x0="-3", x1="4", lr=lr, steps=str(steps))
    assert status == 200 and d["verdict"] == want
    # The oracle, apart from the verdict's rule: on x0² + x1² each step multiplies x by 1 - 2 lr (until, at
    # lr 10, x is so large that x ± 1e-4 rounds to x and the numerical gradient is 0).
    if float(lr) * steps < 100:
        assert d["f_end"] == pytest.approx(25.0 * abs(1 - 2 * float(lr)) ** (2 * steps), rel=1e-6)
    if lr == "1.0":  # the end is the start after an even number of steps, but the path is 10 units a step
        assert d["travelled"] == pytest.approx(10.0 * steps, rel=1e-9)


def test_the_optimizers_race_as_the_books_code_does(board):
    """Figure 6-8 against the book's own optimizers and analytic gradient, typed out here."""
    base, _ = board
    status, d = _api(base, "race", steps="30")
    assert status == 200 and [p["optimizer"] for p in d["paths"]] == ["SGD", "Momentum", "AdaGrad", "Adam"]
    x, y, v, h, m, s = -7.0, 2.0, np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2)
    book = {name: [np.array([x, y])] for name in ("SGD", "Momentum", "AdaGrad", "Adam")}
    for k in range(1, 31):
        for name, p in book.items():
            p = p[-1].copy()
            g = np.array([p[0] / 10.0, 2.0 * p[1]])
            if name == "SGD":
                p -= 0.95 * g
            elif name == "Momentum":
                v = 0.9 * v - 0.1 * g
                p += v
            elif name == "AdaGrad":
                h += g * g
                p -= 1.5 * g / (np.sqrt(h) + 1e-7)
            else:
                lr_t = 0.3 * np.sqrt(1.0 - 0.999**k) / (1.0 - 0.9**k)
                m += (1 - 0.9) * (g - m)
                s += (1 - 0.999) * (g**2 - s)
                p -= lr_t * m / (np.sqrt(s) + 1e-7)
            book[name].append(p)
    for path in d["paths"]:
        np.testing.assert_allclose(path["path"], book[path["optimizer"]], atol=1e-8)


def test_the_numerical_gradient_trace_is_what_numerical_gradient_does(board):
    base, _ = board
    status, d = _api(base, "numgrad")
    net = SimpleNet(W=BOOK_W)
    x, t = np.array([0.6, 0.9]), np.array([0, 0, 1])
    want = numerical_gradient(lambda W: net.loss(x, t), net.W)
    assert d["gradient"] == want.tolist() and d["restored"] is True and d["calls"] == 12
    for step, idx in zip(d["steps"], np.ndindex(2, 3)):
        plus, minus = np.array(BOOK_W), np.array(BOOK_W)
        plus[idx] += 1e-4
        minus[idx] -= 1e-4
        assert step["index"] == list(idx)
        assert step["plus"]["W"] == [[repr(float(v)) for v in row] for row in plus]
        assert step["minus"]["W"] == [[repr(float(v)) for v in row] for row in minus]
        assert step["plus"]["loss"] == SimpleNet(W=plus).loss(x, t)
        assert step["partial"] == want[idx]
    assert d["gradient_of_a_copy"] == [["0.0"] * 3] * 2


def _error(body) -> str:
    data = json.loads(body)
    assert list(data) == ["error"] and "\n" not in data["error"] and "Traceback" not in data["error"]
    return data["error"]


def test_every_endpoint_refuses_what_is_too_large_and_writes_nothing(board):
    base, root = board
    (root / "run").mkdir(exist_ok=True)
    (root / "run" / "config.json").write_text("{}")
    before = sorted((p.name, p.stat().st_mtime_ns) for p in root.parent.rglob("*"))
    cases = {
        "/api/lessons/diff?f=formula&formula=" + "x%2B" * 200 + "x": (
            413,
            "the formula is longer than 200 characters; write a shorter one",
        ),
        "/api/lessons/field?f=formula&formula=" + "x0" * 101: (
            413,
            "the formula is longer than 200 characters; write a shorter one",
        ),
        "/api/lessons/diff?h=" + "1" * 41: (413, "h is longer than 40 characters; give a number"),
        "/api/lessons/descent?x0=1&" + "y=1&" * 300: (414, "the request's query is longer than 1024 bytes"),
        "/api/lessons/numgrad?" + "y=1&" * 300: (414, "the request's query is longer than 1024 bytes"),
        "/api/lessons/diff?f=formula&formula=abs(x)&x=0": (
            400,
            "no derivative of f at x = 0.0 to compare with: f "
            "does not look differentiable at x=0 (the slopes on either "
            "side differ by about 2); the value returned is the average "
            "of the one-sided slopes; choose another x",
        ),
        "/api/lessons/diff?h=1e-21": (400, "h must be a number from 1e-20 to 1"),
        "/api/lessons/diff?h=nan": (400, "h must be a number from 1e-20 to 1"),
        "/api/lessons/diff?x=1e5": (400, "x must be a number from -10000 to 10000"),
        "/api/lessons/field?n=42": (400, "n must be a whole number from 2 to 41"),
        "/api/lessons/field?lim=1000": (400, "lim must be a number from 0.1 to 100"),
        "/api/lessons/gradient?x0=inf": (400, "x0 must be a number from -10000 to 10000"),
        "/api/lessons/descent?steps=1001": (400, "steps must be a whole number from 0 to 1000"),
        "/api/lessons/descent?steps=1.5": (400, "steps must be a whole number from 0 to 1000"),
        "/api/lessons/descent?lr=11": (400, "lr must be a number from 1e-10 to 10"),
        "/api/lessons/race?steps=301": (400, "steps must be a whole number from 1 to 300"),
        "/api/lessons/diff?f=os.system": (400, "f must be one of function_1, exp, sin, formula"),
        "/api/lessons/descent?f=function_1": (400, "f must be one of function_2, formula"),
        "/api/lessons/nothing": (404, "no such lesson endpoint"),
        "/lessons/nothing": (404, "no such lesson; the lessons are listed at /lessons"),
    }
    for path, (status, message) in cases.items():
        got, body = _get(base, path)
        assert (got, _error(body)) == (status, message), path
    # A formula the parser refuses: its one-line message; nothing reaches eval.
    for formula in ("__import__('os').system('touch x')", "2x", "9**9**9**9", "exp(x", ""):
        status, body = _get(base, "/api/lessons/diff?" + urlencode({"f": "formula", "formula": formula}))
        with pytest.raises(ExpressionError) as refused:
            parse_expression(formula, variables=("x",))
        assert (status, _error(body)) == (400, str(refused.value)), formula
    status, body = _get(base, "/api/lessons/diff?f=formula&formula=log(x)&x=-1")
    assert (status, _error(body)) == (
        400,
        "f is nan at x = -1.0: the point is outside the formula's domain; choose another x",
    )
    status, body = _get(base, "/api/lessons/numgrad", method="POST", body=b"x")
    assert status == 405
    assert sorted((p.name, p.stat().st_mtime_ns) for p in root.parent.rglob("*")) == before


def test_a_burst_of_lesson_requests_is_all_answered(board):
    """A small version of bench/lessons_load.py: 60 requests at once, every one answered 200."""
    base, _ = board
    paths = [f"/api/lessons/diff?f=sin&x={k / 7}&h=1e-{k % 20}" for k in range(20)]
    paths += [f"/api/lessons/descent?lr={k / 100 + 0.01}&steps=200" for k in range(15)]
    paths += [f"/api/lessons/field?n={k + 10}" for k in range(10)]
    paths += ["/api/lessons/race?steps=100", "/api/lessons/numgrad"] * 5 + PAGES
    with ThreadPoolExecutor(30) as pool:
        statuses = list(pool.map(lambda p: _get(base, p)[0], paths))
    assert statuses == [200] * len(paths)


def test_board_open_names_a_page(capsys):
    from nnlearn.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["board", "--open", "lesson"])
    assert exit_.value.code == 2 and "argument --open: invalid choice: 'lesson'" in capsys.readouterr().err


def test_the_runs_list_links_to_the_lessons(board):
    base, _ = board
    status, body = _get(base, "/")
    assert status == 200 and b'<a href="/lessons">lessons</a>' in body


def test_board_open_opens_the_page_once_the_board_listens(tmp_path, monkeypatch, capsys):
    """``nnlearn board --open lessons``: the address of /lessons goes to the web browser while the board
    listens (here the browser records it, and the board stops at once instead of serving)."""
    import threading
    import webbrowser

    from nnlearn.cli import main
    from nnlearn.see.board.server import BoardServer

    opened, listening = [], []
    done = threading.Event()
    monkeypatch.setattr(webbrowser, "open", lambda url: (opened.append(url), done.set()))
    monkeypatch.setattr(
        BoardServer, "serve_forever", lambda self: (listening.append(self.socket.fileno() >= 0), done.wait(10))
    )
    assert main(["board", str(tmp_path), "--port", "0", "--open", "lessons"]) == 0
    out = capsys.readouterr().out.splitlines()
    url = out[0].split(" at ")[1].split()[0]
    assert out[1:] == [f"nnlearn board: opening {url}lessons in your web browser", "nnlearn board: stopped"]
    assert (opened, listening) == ([url + "lessons"], [True])


# -- in Chromium ---------------------------------------------------------------------------------------------------


def _cell(page, table, method):
    return page.inner_text(f"#{table} tr[data-method={method}] td.value")


@pytest.mark.browser
def test_the_h_slider_moves_the_errors_and_the_value_is_numerical_diffs(board, tab):
    base, _ = board
    page = tab.page
    page.goto(base + "/lessons/diff")
    page.wait_for_selector('#values[data-h="0.0001"]')
    assert _cell(page, "values", "central") == repr(numerical_diff(function_1, 5.0, 1e-4))
    dots = "es => es.map(e => [e.dataset.method, +e.dataset.error, +e.getAttribute('cx')])"
    before = page.eval_on_selector_all("#err64 .error-at-h, #err32 .error-at-h", dots)
    page.focus("#hslider")
    for _ in range(40):  # 0.1 a press: from 1e-4 to 1e-8
        page.keyboard.press("ArrowLeft")
    page.wait_for_selector('#values[data-h="1e-08"]')
    after = page.eval_on_selector_all("#err64 .error-at-h, #err32 .error-at-h", dots)
    # Each method's error at h, float64 then float32: all move left; all but the complex step's change.
    assert [(m, cx < cx0) for (m, _, cx), (_, _, cx0) in zip(after, before)] == [
        (m, True) for m in ("forward", "central", "complex") * 2
    ]
    # The complex step subtracts nothing: its error is the same at both steps (0 in float64).
    changed = [e != e0 for (_, e, _), (_, e0, _) in zip(after, before)]
    assert changed == [True, True, False, True, True, False]
    assert page.input_value("#h") == "1e-8"
    for method in ("central", "forward"):
        assert _cell(page, "values", method) == repr(numerical_diff(function_1, 5.0, 1e-8, method=method))
    # Another function and point, h typed in: still numerical_diff's value to the last digit.
    page.select_option("#fn", "sin")
    page.fill("#x", "0.7")
    page.dispatch_event("#x", "change")
    page.fill("#h", "3e-6")
    page.dispatch_event("#h", "change")
    page.wait_for_selector('#values[data-h="3e-06"][data-x="0.7"]')
    assert _cell(page, "values", "central") == repr(float(numerical_diff(np.sin, 0.7, 3e-6)))
    # A formula the parser refuses: its one-line message on the page.
    page.select_option("#fn", "formula")
    page.fill("#formula", "2x + 1")
    page.dispatch_event("#formula", "change")
    page.wait_for_selector('#values[data-h="error"]')
    with pytest.raises(ExpressionError) as refused:
        parse_expression("2x + 1", variables=("x",))
    assert page.inner_text("#message") == str(refused.value)
    assert [e for e in tab.errors if "status of 400" not in e] == []


#: In the page: the error curves' points (sampled along each drawn path) that fall inside the legend's or
#: an h label's box, per chart.
_COVERED = """svg => {
  const boxes = [...svg.querySelectorAll("g.legend, text.vline-label")].map(e => e.getBoundingClientRect());
  const m = svg.getScreenCTM(), hits = [];
  for (const p of svg.querySelectorAll("path.error-curve")) {
    const n = p.getTotalLength();
    for (let k = 0; k <= 600; k++) {
      const q = p.getPointAtLength(n * k / 600), x = m.a * q.x + m.e, y = m.d * q.y + m.f;
      if (boxes.some(b => x >= b.left && x <= b.right && y >= b.top && y <= b.bottom)) hits.push([p.dataset.method, x, y]);
    }
  }
  return {hits: hits, boxes: boxes.length};
}"""


@pytest.mark.browser
@pytest.mark.parametrize(("fn", "h"), [("function_1", "1e-18"), ("exp", "1e-18"), ("exp", "1e-05"), ("sin", "0.3")])
def test_the_legend_and_the_h_labels_cover_no_error_curve(board, tab, fn, h):
    """The plateau below h = 1e-16 (forward and central error = the whole slope) is the top of the curves:
    the legend used to sit on it, and the book's h label on the complex step's floor."""
    base, _ = board
    page = tab.page
    page.goto(base + "/lessons/diff")
    page.wait_for_selector('#values[data-h="0.0001"]')
    page.select_option("#fn", fn)
    page.fill("#h", h)
    page.dispatch_event("#h", "change")
    page.wait_for_selector(f'#values[data-h="{repr(float(h))}"]')
    for chart in ("#err64", "#err32"):
        covered = page.eval_on_selector(chart, _COVERED)
        assert covered["boxes"] == 3 and covered["hits"] == [], chart
    assert tab.errors == []


@pytest.mark.browser
def test_the_books_learning_rates_diverge_and_stay(board, tab):
    base, _ = board
    page = tab.page
    page.goto(base + "/lessons/descent")
    page.wait_for_selector('#result[data-lr="0.1"]')
    start = np.array([-3.0, 4.0])
    for lr, shown, verdict in (("10", "10.0", "diverged"), ("1e-10", "1e-10", "stayed"), ("0.1", "0.1", "descended")):
        page.click(f'button.preset[data-lr="{lr}"]')
        page.wait_for_selector(f'#result[data-lr="{shown}"]')
        assert page.get_attribute("#result", "data-verdict") == verdict
        end = gradient_descent(function_2, start, lr=float(lr), step_num=100)
        assert page.inner_text("#res-end") == f"(-3, 4) → [{repr(float(end[0]))}, {repr(float(end[1]))}]"
    # lr = 10 runs away (the book: [-2.58983747e+13, -1.29524862e+12]); 1e-10 hardly moves.
    assert gradient_descent(function_2, start, lr=10.0, step_num=100)[0] < -2.5e13
    page.wait_for_selector('#race-0[data-steps="30"]')
    assert page.eval_on_selector_all(".panels path.descent-path", "es => es.map(e => +e.dataset.points)") == [31] * 4
    assert tab.errors == []


@pytest.mark.browser
def test_stepping_through_all_six_elements_gives_numerical_gradients_gradient(board, tab):
    base, _ = board
    page = tab.page
    page.goto(base + "/lessons/numgrad")
    page.wait_for_selector("#W td")
    net = SimpleNet(W=BOOK_W)
    x, t = np.array([0.6, 0.9]), np.array([0, 0, 1])
    want = numerical_gradient(lambda W: net.loss(x, t), net.W)
    assert page.is_hidden("#why")
    page.click("#next")
    assert page.inner_text("#W td.moved") == repr(BOOK_W[0][0] + 1e-4)
    for _ in range(17):
        page.click("#next")
    cells = page.eval_on_selector_all("#grad td", "es => es.map(e => e.textContent)")
    assert cells == [repr(float(v)) for v in want.ravel()]
    assert page.eval_on_selector_all("#W td", "es => es.map(e => +e.textContent)") == [v for row in BOOK_W for v in row]
    assert page.is_visible("#why") and page.is_disabled("#next")
    assert page.inner_text("#restored") == "unchanged (the same bits)"
    assert tab.errors == []


@pytest.mark.browser
def test_a_click_on_the_field_shows_the_gradient_there(board, tab):
    base, _ = board
    page = tab.page
    page.goto(base + "/lessons/gradient")
    page.wait_for_selector('#field[data-arrows="289"]')
    page.click("#field", position={"x": 380, "y": 160})
    page.wait_for_selector("#at[data-point]")
    x0, x1 = map(float, page.get_attribute("#at", "data-point").split(","))
    assert 0 < x0 < 2 and 0 < x1 < 2
    want = numerical_gradient(function_2, np.array([x0, x1]))
    assert [page.inner_text("#at-g0"), page.inner_text("#at-g1")] == [repr(float(g)) for g in want]
    assert tab.errors == []


def test_lesson_pages_are_served_with_their_scripts(board):
    base, _ = board
    for path in PAGES:
        status, body = _get(base, path)
        assert status == 200 and b'<script src="/static/lesson-plot.js"></script>' in body, path
        for script in body.decode().split('<script src="')[1:]:
            assert _get(base, quote(script.split('"')[0]))[0] == 200
