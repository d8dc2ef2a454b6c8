"""The board's pages, its lessons and the report in the reader's language (issue 29).

Quick: every user-visible string of a template or of a board script goes through the catalogue
(tests/test_i18n.py then checks each marked message has its zh and ja translation); the language of
a request is ``?lang=`` (kept in a cookie), the cookie, ``Accept-Language``, English; a written
report is in the language of the command. In Chromium: every page of the board, opened with
``Accept-Language: zh-CN`` and with ``ja``, shows that script in its headings, controls and
explanations.
"""

from __future__ import annotations

import html
import http.client
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from nnlearn.base.i18n import translate
from nnlearn.cli import main
from nnlearn.see.board import language

SRC = Path(__file__).resolve().parent.parent / "src" / "nnlearn"
TEMPLATES = sorted(p for p in (SRC / "see" / "templates").rglob("*") if p.suffix in (".html", ".svg"))
SCRIPTS = sorted((SRC / "see" / "board" / "static").glob("*.js"))
#: Chinese and Japanese characters (Han and kana), and the kana only Japanese writes.
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")
#: A word of prose: three letters or more (x0, lr, f(x), W, dW are symbols, the same in every language).
WORD = re.compile(r"[A-Za-z]{3,}")
#: Words that stay as they are in every language: names of code, of formats, of the book's functions.
NAMES = {
    "nnlearn",
    "float32",
    "float64",
    "repr",
    "NaN",
    "inf",
    "numerical_gradient",
    "function_1",
    "function_2",
    "simpleNet",
    "SGD",
    "Momentum",
    "AdaGrad",
    "Adam",
    "exp",
    "sin",
    "English",
}


def _prose(text: str) -> bool:
    """Words a reader reads (not code names, symbols or numbers)."""
    return any(w not in NAMES for w in WORD.findall(re.sub(r"\b\w*_\w*\b", "", text)))


class _Visible(HTMLParser):
    """The text and the user-visible attributes of an HTML fragment, outside <code>, <pre>, <script>, <style>."""

    ATTRIBUTES = ("title", "alt", "aria-label", "placeholder")
    HIDDEN = ("code", "pre", "script", "style")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.depth = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.depth += 1
        self.found += [v for k, v in attrs if k in self.ATTRIBUTES and v]

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth == 0 and data.strip():
            self.found.append(data.strip())


def untranslated_template_text(source: str) -> list[str]:
    """The prose of a template left outside ``{% trans %}`` and ``_()``."""
    source = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
    source = re.sub(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", "", source, flags=re.S)
    source = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", source, flags=re.S)
    parser = _Visible()
    parser.feed(source)
    return [t for t in parser.found if _prose(t)]


#: A string literal of a script (double or single quotes), and a message of the catalogue: _("...").
_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'')
_MARKED = re.compile(r'\b_\(\s*"(?:[^"\\]|\\.)*"\s*\)')
#: Literals of the scripts that are code, not words: a directive, SVG/CSS values, option names.
CODE = {
    "use strict",
    "lower right",
    "done now",
    "value mono",
    "l name",
    "Content-Type",
    "translate(13 ",
    "translate(14 ",
    ") rotate(-90)",
}


def untranslated_script_strings(source: str) -> list[str]:
    """The literals of a script that read as prose but are not ``_("...")`` messages."""
    source = re.sub(r"^\s*//.*$", "", source, flags=re.M)  # comments
    source = _MARKED.sub("_()", source)
    found = []
    for match in _LITERAL.finditer(source):
        text = match.group(1) if match.group(1) is not None else match.group(2)
        looks_like_words = " " in text.strip() or re.fullmatch(r"[A-Z][a-z]+[ .:!?]*", text)
        # CSS selectors and class lists ("#runs tbody", "state state-"), code ("f(W) = net.loss(x, t)").
        looks_like_code = re.search(r"[#\[]|\w\.\w|-$", text)
        if text not in CODE and looks_like_words and not looks_like_code and _prose(text):
            found.append(text)
    return found


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.relative_to(SRC / "see" / "templates").as_posix())
def test_every_words_of_a_template_go_through_the_catalogue(path):
    assert untranslated_template_text(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_every_words_of_a_script_go_through_the_catalogue(path):
    assert untranslated_script_strings(path.read_text(encoding="utf-8")) == []


def test_the_finders_find_what_is_left_in_english():
    """The two finders above are not blind: English left outside the catalogue is found."""
    template = (
        '<h1>{{ _("Runs") }}</h1><p>{% trans %}Tick runs{% endtrans %} to compare</p><code>net.loss(x, t)</code>'
        '<svg aria-label="the loss"></svg><label>lr <input></label>'
    )
    assert untranslated_template_text(template) == ["to compare", "the loss"]
    script = 'x.textContent = _("updated") + " just now"; b.title = "Clear"; el("text", {"text-anchor": "end"});'
    assert untranslated_script_strings(script) == [" just now", "Clear"]


def test_a_page_carries_its_own_scripts_messages():
    ids = language.script_message_ids()
    assert "descended: f went down" in ids and "report" in ids
    # In the page: an attribute of a <meta>, escaped as any other (no inline script), read back whole; the
    # messages of the scripts the page loads, and only those.
    page = language.page("lessons/descent.html", "ja").decode("utf-8")
    (content,) = re.findall(r'<meta name="nnlearn-messages" content="([^"]*)">', page)
    table = json.loads(html.unescape(content))
    assert table["descended: f went down"] == translate("descended: f went down", "ja") == "降下：f が減った"
    scripts = re.findall(r'<script src="/static/([\w.-]+)"></script>', page)
    assert scripts == ["i18n.js", "lesson-plot.js", "lesson-descent.js"]
    assert set(table) == set(language.script_message_ids(tuple(sorted(scripts))))
    assert "report" not in table and "Press Next: numerical_gradient starts with {element}." not in table


@pytest.mark.parametrize(
    ("header", "want"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("ja", "ja"),
        ("en-US,en;q=0.9", "en"),
        ("fr, de;q=0.5", None),
        ("fr;q=1, ja;q=0.2, zh;q=0.3", "zh"),
        ("zh;q=0, ja", "ja"),
        ("zh;q=abc, ja;q=0.1", "ja"),
        ("", None),
        ("x" * 10_000, None),
        (",".join(["fr"] * 100 + ["ja"]), None),  # read only so far: no work without bound
    ],
)
def test_accept_language_is_weighed_and_bounded(header, want):
    assert language.from_accept_language(header) == want


def _get(base, path, headers=None):
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode("utf-8")
    finally:
        conn.close()


@pytest.fixture
def board(tmp_path, make_run, serve_board):
    root = tmp_path / "runs"
    make_run(root / "alpha", test_accuracy=0.88)
    return serve_board(root)


def test_the_language_is_the_url_then_the_cookie_then_the_browser(board):
    status, headers, body = _get(board, "/lessons/diff", {"Accept-Language": "ja,en;q=0.5"})
    assert status == 200 and '<html lang="ja">' in body and "数値微分" in body and "set-cookie" not in headers
    # ?lang= wins over the browser and is kept in a cookie ...
    status, headers, body = _get(board, "/?lang=zh", {"Accept-Language": "ja"})
    assert '<html lang="zh">' in body and "nnlearn 看板" in body
    cookie = headers["set-cookie"].split(";")[0]
    assert cookie == f"{language.COOKIE}=zh"
    # ... which the next page and the lessons' JSON follow, whatever the browser says.
    status, _, body = _get(board, "/lessons/descent", {"Accept-Language": "ja", "Cookie": cookie})
    assert '<html lang="zh">' in body and "梯度下降法" in body
    status, _, body = _get(board, "/api/lessons/descent?lr=1.0&steps=5", {"Cookie": cookie})
    assert json.loads(body)["function"] == translate("x0² + x1² (the chapter's function_2)", "zh")
    # A refusal of the lessons' JSON is in the page's language too (and the same in English without one).
    status, _, body = _get(board, "/api/lessons/descent?lr=100", {"Cookie": cookie})
    assert status == 400 and json.loads(body)["error"] == "lr 必须是 1e-10 到 10 之间的数"
    assert json.loads(_get(board, "/api/lessons/descent?lr=100")[2])["error"] == "lr must be a number from 1e-10 to 10"
    # A value that names no language of nnlearn is English, never an error.
    for headers in ({"Cookie": f"{language.COOKIE}=klingon"}, {"Accept-Language": "tlh"}, {}):
        assert '<html lang="en">' in _get(board, "/lessons?lang=xx", headers)[2]
    # The switcher keeps the page's other parameters (the report's path).
    body = _get(board, "/report?path=alpha&lang=ja")[2]
    assert '<html lang="ja">' in body and 'href="?path=alpha&amp;lang=zh"' in body and "学習曲線" in body


def test_a_written_report_is_in_the_language_of_the_command(tmp_path, make_run):
    run = make_run(tmp_path / "run", test_accuracy=0.9)
    assert main(["report", str(run), "--out", str(tmp_path / "zh.html"), "--lang", "zh"]) == 0
    assert main(["report", str(run), "--out", str(tmp_path / "en.html")]) == 0
    zh, en = (tmp_path / "zh.html").read_text(encoding="utf-8"), (tmp_path / "en.html").read_text(encoding="utf-8")
    assert '<html lang="zh">' in zh and "学习曲线" in zh and "批大小" in zh and "Learning curves" not in zh
    assert '<html lang="en">' in en and "Learning curves" in en and "batch size" in en
    assert 'nav class="languages"' not in zh  # a file has no board to switch with


# -- in Chromium -------------------------------------------------------------------------------------

#: Each page of the board, what marks it as drawn, and the elements that must be in the language's
#: script: headings, controls (buttons, labels, options, table heads) and explanations.
PAGES = {
    "runs": ("/", "#runs tbody tr.entry", ["h1", "#runs th:nth-child(3)", "header a[href='/lessons']", "p.note"]),
    "a run": ("/", "#curves[src^='data:']", ["#runs td.state", "#runs td.l a"]),
    "draw": ("/draw?path=alpha", "#bars tr", ["h1", "#clear", "#mistake", "label", "p.note"]),
    "lessons": ("/lessons", "ul.lesson-list", ["h1", "ul.lesson-list li", "p.lead", "nav.lessons-nav"]),
    "diff": (
        "/lessons/diff",
        "#values[data-h]",
        ["h1", "#book-h", "#fn option", "#values th", "#err64 text", "p.lead", "#values td.l"],
    ),
    "gradient": ("/lessons/gradient", "#field[data-arrows]", ["h1", "label", "#fn option", "#picked p.note", "p.lead"]),
    "descent": (
        "/lessons/descent",
        "#result[data-lr]",
        ["h1", "#verdict", "#result th", "label", "h2", "p.lead", "#race-0 text"],
    ),
    "numgrad": ("/lessons/numgrad", "#W td", ["h1", "#next", "#finish", "#progress", "#stage", "p.lead"]),
    "report": ("/report?path=alpha", "h1", ["h1", "h2", "table th.l"]),
    "sweep report": ("/report?path=search", "h1", ["h1", "h2", "p.note"]),
}


@pytest.fixture(scope="module")
def board_with_a_sweep(tmp_path_factory):
    from browser import fake_run

    from nnlearn.see.board.server import BoardServer

    root = tmp_path_factory.mktemp("i18n") / "runs"
    fake_run(root / "alpha", test_accuracy=0.88)
    sweep = root / "search"
    sweep.mkdir()
    (sweep / "trials.csv").write_text("number,state,lr,validation_accuracy\n0,COMPLETE,0.1,0.9\n1,COMPLETE,0.5,0.8\n")
    (sweep / "best.json").write_text(json.dumps({"lr": 0.1}))
    fake_run(sweep / "final", test_accuracy=0.9)
    server = BoardServer(root, "127.0.0.1", 0).start()
    yield server.url.rstrip("/")
    server.stop()


@pytest.mark.browser
@pytest.mark.parametrize("lang, header", [("zh", "zh-CN,zh;q=0.9"), ("ja", "ja")])
@pytest.mark.parametrize("name", PAGES)
def test_every_page_speaks_the_browsers_language(board_with_a_sweep, chromium, name, lang, header):
    path, ready, parts = PAGES[name]
    context = chromium.new_context(
        extra_http_headers={"Accept-Language": header}, viewport={"width": 1200, "height": 900}
    )
    errors = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(board_with_a_sweep + path)
        page.wait_for_selector(ready, state="attached")
        assert page.get_attribute("html", "lang") == lang
        for selector in parts:
            texts = page.eval_on_selector_all(selector, "es => es.map(e => e.textContent)")
            assert texts and any(CJK.search(t) for t in texts), (selector, texts[:5])
        if name == "a run":  # the chart's words: drawn by the board, in the page's language
            from browser import CHART_SVG

            words = re.findall(r"<text [^>]*>([^<]*)</text>", page.evaluate(CHART_SVG))
            assert any(CJK.search(w) for w in words), words
        # Chinese, or Japanese: the page has kana only in Japanese.
        assert bool(KANA.search(page.inner_text("body"))) == (lang == "ja")
        # The switcher is on the page and keeps the choice in the other language.
        other = "ja" if lang == "zh" else "zh"
        page.click(f"nav.languages a[hreflang={other}]")
        page.wait_for_selector(f"html[lang={other}]")
        page.wait_for_selector(ready, state="attached")
        assert page.get_attribute("html", "lang") == other
    finally:
        context.close()
    assert errors == []
