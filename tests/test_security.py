"""Safe to open, safe to serve: hostile text in every field of a run, a sweep and a gradient check
is shown as text -- by ``nnlearn report`` and by every page of ``nnlearn board`` -- in a real
browser that counts dialogs and console errors; and every page carries its Content-Security-Policy.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nnlearn.cli import main
from nnlearn.see.templating import BOARD_CSP, REPORT_CSP, header_csp

#: Script tags, event handlers, javascript: URLs, closing tags, quotes, template syntax, Unicode tricks.
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    '"><svg onload=alert(3)>',
    "'><svg/onload=alert(4)>",
    "javascript:alert(5)",
    "</title><script>alert(6)</script>",
    "</style><script>alert(7)</script>",
    "</textarea><script>alert(8)</script>",
    '<iframe src="javascript:alert(9)"></iframe>',
    '<a href="javascript:alert(10)" id="x10">click</a>',
    '" onmouseover="alert(11)" x="',
    "' onfocus='alert(12)' autofocus='",
    "<body onload=alert(13)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(14)>",
    "{{7*7}}{% raw %}<script>alert(15)</script>",
    "${alert(16)}<svg><script>alert(16)</script></svg>",
    "\u2028\u2029<script>alert(17)</script>",
    "\uff1cscript\uff1ealert(18)\uff1c/script\uff1e",
    "\u202e<img src=x onerror=alert(19)>",
    "]]><script>alert(20)</script>",
    "<!--<script>alert(21)</script>-->",
    "&lt;script&gt;alert(22)&lt;/script&gt;",
    '<object data="data:text/html,<script>alert(23)</script>"></object>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(24)">',
    '<base href="javascript:alert(25)//">',
    "<details open ontoggle=alert(26)>",
    "<video><source onerror=alert(27)></video>",
]


def _name(k: int, text: str) -> str:
    """A folder or file name made of a hostile string (no slash, no NUL, short enough)."""
    return f"r{k}-" + "".join(c for c in text if c not in "/\x00")[:60]


def hostile_run(folder: Path, k: int, *, gradcheck: bool = True) -> Path:
    """A run whose every field holds hostile text: scalar fields ``HOSTILE[k]``, every collection all of them."""
    bad = HOSTILE[k % len(HOSTILE)]
    folder.mkdir(parents=True)
    settings = {h: h for h in HOSTILE} | {"hidden_size": HOSTILE, "lr": bad, "optimizer": bad, "activation": bad}
    (folder / "config.json").write_text(
        json.dumps(
            {
                "recipe": bad,
                "dataset": bad,
                "seed": bad,
                "nnlearn_version": bad,
                "data_dir": bad,
                "settings": settings,
                "network": {"input_size": bad, "output_size": bad},
                "trainer": {},
            }
        )
    )
    (folder / "summary.json").write_text(
        json.dumps(
            {"description": bad, "recipe": bad, "dataset": bad, "seed": bad, "test_accuracy": 0.5, "iterations": 3}
        )
    )
    (folder / "state.json").write_text(json.dumps({"state": "diverged", "pid": 1, "reason": bad}))
    columns = ["epoch", "train_accuracy", *HOSTILE]
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(columns)
    w.writerow([1, 0.5] + [0.4] * len(HOSTILE))
    w.writerow([bad, bad] + HOSTILE)
    (folder / "epochs.csv").write_text(out.getvalue())
    (folder / "metrics.csv").write_text("iteration,loss\n1,2.3\n2,2.0\n" + "".join(f'3,"{h}"\n' for h in HOSTILE[:3]))
    if gradcheck:
        (folder / "gradcheck.json").write_text(
            json.dumps(
                {
                    "params": {h: {"shape": [h, 1], "checked": h, "max_abs": h, "relative": h} for h in HOSTILE},
                    "limit": bad,
                    "batch": bad,
                    "seconds": bad,
                }
            )
        )
    (folder / "evil.html").write_text(bad)
    (folder / "evil.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(99)</script></svg>')
    return folder


def hostile_sweep(folder: Path) -> Path:
    import csv
    import io

    from nnlearn.see.images import png_bytes

    folder.mkdir(parents=True)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["number", "state", "validation_accuracy", *HOSTILE])
    for k, h in enumerate(HOSTILE):
        w.writerow([k, h, 0.5 + k / 100, *HOSTILE])
    (folder / "trials.csv").write_text(out.getvalue())
    (folder / "best.json").write_text(json.dumps({h: {h: [h]} for h in HOSTILE} | {"description": HOSTILE}))
    for k, h in enumerate(HOSTILE[:5]):
        (folder / f"{_name(k, h)}.png").write_bytes(png_bytes(np.eye(4)))
    hostile_run(folder / "final", 1)
    return folder


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile") / "runs"
    runs = [hostile_run(root / _name(k, h), k) for k, h in enumerate(HOSTILE)]
    sweep = hostile_sweep(root / ("sweep-" + _name(0, HOSTILE[1])))
    return root, runs, sweep


class Watch:
    """A browser tab that counts dialogs (alert, confirm, prompt) and records console errors."""

    def __init__(self, tab):
        self.tab, self.page, self.dialogs = tab, tab.page, []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def open(self, url: str):
        response = self.page.goto(url)
        self.page.wait_for_load_state("load")
        # Script injected anywhere would have run by now; give timers and handlers a moment too.
        self.page.wait_for_timeout(50)
        return response

    def meta_csp(self) -> str:
        return self.page.eval_on_selector('meta[http-equiv="Content-Security-Policy"]', "m => m.content")


@pytest.mark.slow
@pytest.mark.browser
def test_hostile_text_in_reports_is_only_text(hostile_folder, tab, tmp_path):
    root, runs, sweep = hostile_folder
    watch = Watch(tab)
    pages = []
    for run in runs:
        assert main(["report", str(run), "--out", str(tmp_path / f"{len(pages)}.html")]) == 0
        pages.append(tmp_path / f"{len(pages)}.html")
    assert main(["report", str(sweep), "--out", str(tmp_path / "sweep.html")]) == 0
    assert main(["report", *map(str, runs[:10]), "--out", str(tmp_path / "compare.html")]) == 0
    pages += [tmp_path / "sweep.html", tmp_path / "compare.html"]
    for k, page in enumerate(pages):
        watch.open(page.as_uri())
        assert watch.meta_csp() == REPORT_CSP, page
        text = watch.page.inner_text("body")
        if k < len(runs):
            assert HOSTILE[k].strip() in text  # shown, as text
            assert watch.page.title() == f"nnlearn run {_name(k, HOSTILE[k])}"
        assert "<img src=x onerror=alert(2)>" in text
        assert (
            watch.page.eval_on_selector_all(
                "script, iframe, object, embed, base, img[onerror], svg[onload]", "es => es.length"
            )
            == 0
        ), page
    assert watch.dialogs == []
    assert tab.errors == []


@pytest.mark.slow
@pytest.mark.browser
def test_hostile_text_on_every_board_page_is_only_text(hostile_folder, tab, serve_board):
    import http.client
    from urllib.parse import quote, urlsplit

    root, runs, sweep = hostile_folder
    base = serve_board(root)
    watch = Watch(tab)
    response = watch.open(base + "/?poll=300")
    assert response.headers["content-security-policy"] == header_csp(BOARD_CSP)
    assert watch.meta_csp() == BOARD_CSP
    watch.page.wait_for_function(f"() => document.querySelectorAll('tr.entry').length === {len(runs) + 1}")
    watch.page.wait_for_timeout(700)  # two more polls: the curves of the ticked runs are drawn
    assert "<img src=x onerror=alert(2)>" in watch.page.inner_text("#runs")
    urls = [f"/draw?path={quote(runs[0].name)}"]
    urls += [f"/report?path={quote(p.relative_to(root).as_posix())}" for p in [*runs, sweep]]
    urls += ["/lessons", "/lessons/diff", "/lessons/gradient", "/lessons/descent", "/lessons/numgrad"]
    for url in urls:
        response = watch.open(base + url)
        assert response.status == 200, url
        policy = REPORT_CSP if url.startswith("/report") else BOARD_CSP
        assert response.headers["content-security-policy"] == header_csp(policy), url
        assert watch.meta_csp() == policy, url
        if url.startswith("/lessons"):  # a lesson's first requests finish before the next page cuts them short
            watch.page.wait_for_load_state("networkidle")
    assert watch.dialogs == []
    # Leaving the runs list cuts its polls short (aborted requests); nothing else may fail.
    assert [
        e
        for e in tab.errors
        if not e.startswith((f"request failed: {base}/api/runs", f"request failed: {base}/api/chart"))
    ] == []
    # A run folder's own HTML or SVG file is never a page of the board: a download, sandboxed.
    u = urlsplit(base)
    for name in ("evil.html", "evil.svg"):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        conn.request("GET", f"/files/{quote(runs[0].name)}/{name}")
        r = conn.getresponse()
        r.read()
        conn.close()
        assert (r.status, r.getheader("content-type"), r.getheader("content-disposition")) == (
            200,
            "application/octet-stream",
            "attachment",
        )
        assert r.getheader("content-security-policy") == "default-src 'none'; sandbox"
        assert r.getheader("x-content-type-options") == "nosniff"


@pytest.mark.slow
@pytest.mark.browser
def test_hostile_formulas_typed_into_the_lessons_are_only_text(tmp_path, tab, serve_board):
    """Each lesson's formula box: what the parser refuses comes back as its one-line message, shown as text."""
    from nnlearn.common.derivatives.expr import ExpressionError, parse_expression

    base = serve_board(tmp_path)
    watch = Watch(tab)
    for page, variables, texts in (
        ("diff", ("x",), HOSTILE),
        ("gradient", ("x0", "x1"), HOSTILE[:3]),
        ("descent", ("x0", "x1"), HOSTILE[:3]),
    ):
        response = watch.open(f"{base}/lessons/{page}")
        assert response.headers["content-security-policy"] == header_csp(BOARD_CSP)
        assert watch.meta_csp() == BOARD_CSP
        watch.page.select_option("#fn", "formula")
        for text in texts:
            with pytest.raises(ExpressionError) as refused:
                parse_expression(text, variables=variables)
            watch.page.fill("#formula", text)
            watch.page.dispatch_event("#formula", "change")
            watch.page.wait_for_function(
                "m => document.getElementById('message').textContent === m", arg=str(refused.value)
            )
    assert watch.dialogs == []
    assert watch.page.eval_on_selector_all("script:not([src]), iframe, object, embed", "es => es.length") == 0
    assert [e for e in tab.errors if "status of 400" not in e] == []


def test_the_quick_suite_checks_escaping_without_a_browser(tmp_path):
    """The same corpus, as HTML parsed by the standard library (the browser tests above are marked slow):
    in the report of a run whose every field is hostile, no element is a script, no attribute is an event
    handler or a javascript: URL, every hostile string is text, and the CSP is there."""
    from html.parser import HTMLParser

    from nnlearn.see.report import build_report

    class Elements(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.tags, self.attributes, self.text = [], [], []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            self.attributes += attrs

        def handle_data(self, data):
            self.text.append(data)

    run = hostile_run(tmp_path / "hostile", 1)
    page = Elements()
    page.feed(build_report([run], download=False))
    assert ("content", REPORT_CSP) in page.attributes and ("http-equiv", "Content-Security-Policy") in page.attributes
    assert not {"script", "iframe", "object", "base", "video", "details", "math"} & set(page.tags)
    assert [name for name, _ in page.attributes if name.startswith("on")] == []
    assert [v for _, v in page.attributes if v and v.strip().lower().startswith("javascript:")] == []
    text = "".join(page.text)
    for hostile in ("<img src=x onerror=alert(2)>", "<script>alert(1)</script>", '"><svg onload=alert(3)>'):
        assert hostile in text  # shown, as text
