"""The board's language: which one a request is answered in, the switcher that keeps a choice, and
the messages of the board's scripts.

A request is answered (:class:`RequestLanguage`) in the language of ``?lang=`` (kept in a cookie), else
the cookie's, else the browser's ``Accept-Language`` (read up to :data:`MAX_HEADER` characters), else
English. The scripts (``static/*.js``) write ``_("...")`` into the one catalogue; a page carries their
translations as JSON in a ``<meta>`` (an escaped attribute: no inline script), which ``static/i18n.js`` reads.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from urllib.parse import urlencode

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response

from nnlearn.base import i18n
from nnlearn.base.errors import UsageError
from nnlearn.base.i18n import N_
from nnlearn.see.templating import render

#: The cookie that keeps a language chosen with ``?lang=`` (a year; the board's own pages only).
COOKIE = "nnlearn_lang"
COOKIE_SECONDS = 365 * 24 * 3600
#: Longest ``Accept-Language`` read, and most of its entries weighed.
MAX_HEADER = 512
MAX_ENTRIES = 16
#: Each language's name as its readers write it, for the switcher.
NAMES = {"en": "English", "zh": "中文", "ja": "日本語"}
#: A message of a script: ``_("...")`` with a double-quoted string (what babel.cfg extracts); a page's scripts.
_SCRIPT_MESSAGE = re.compile(r'\b_\("((?:[^"\\]|\\.)*)"\)')
_SCRIPT = re.compile(r'<script src="/static/([\w.-]+\.js)"></script>')
#: Where :func:`page` puts the messages (a string no template writes).
_MESSAGES_HERE = "\x00nnlearn-script-messages\x00"


def known(tag) -> str | None:
    """The language of nnlearn that ``tag`` (``zh-CN``, ``ja``, ``en-GB``) names, else None."""
    if not isinstance(tag, str) or not tag.strip() or len(tag) > 35:
        return None
    try:
        return i18n.choose(tag.strip())
    except UsageError:
        return None


def from_accept_language(header: str) -> str | None:
    """The most wanted language of an ``Accept-Language`` header that nnlearn speaks, else None."""
    weighed = []
    for k, part in enumerate(header[:MAX_HEADER].split(",")[:MAX_ENTRIES]):
        tag, _, params = part.partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        lang = known(tag)
        if lang and 0.0 < q <= 1.0:
            weighed.append((-q, k, lang))
    return min(weighed)[2] if weighed else None


def choose(request) -> tuple[str, bool]:
    """``(language, chosen now)`` for a request: ``?lang=``, the cookie, ``Accept-Language``, English.
    ``chosen now`` says the answer should keep the choice (:func:`keep`)."""
    asked = known(request.query_params.get("lang"))
    if asked:
        return asked, True
    kept = known(request.cookies.get(COOKIE))
    if kept:
        return kept, False
    return from_accept_language(request.headers.get("accept-language", "")) or i18n.SOURCE_LANGUAGE, False


class RequestLanguage:
    """Every request is answered in its language (:func:`choose`): pages, JSON and refusals alike (pure
    ASGI middleware; the worker threads of :func:`nnlearn.see.board.web.work` inherit the language, as anyio
    copies the context into them)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        with i18n.use(choose(Request(scope))[0]):
            await self.app(scope, receive, send)


def keep(response, lang: str):
    """Set the cookie that keeps ``lang`` on ``response``; returns it."""
    response.set_cookie(COOKIE, lang, max_age=COOKIE_SECONDS, path="/", samesite="strict", httponly=True)
    return response


def switcher(lang: str, **query) -> Markup:
    """The links to this page in each language (``query``: the page's other parameters, kept).

    Examples
    --------
    >>> print(switcher("zh", path="runs/a&b"))  # doctest: +ELLIPSIS
    <nav class="languages" aria-label="语言"><a href="?path=runs%2Fa%26b&amp;lang=en" hreflang="en" lang="en">English</a> ...
    """
    links = []
    for other in i18n.languages():
        href = "?" + urlencode({**query, "lang": other})
        current = ' aria-current="true"' if other == lang else ""
        links.append(
            f'<a href="{escape(href)}" hreflang="{other}" lang="{other}"{current}>{escape(NAMES.get(other, other))}</a>'
        )
    label = escape(i18n.translate(N_("language"), lang))
    return Markup(f'<nav class="languages" aria-label="{label}">{" · ".join(links)}</nav>')


@functools.cache
def script_message_ids(scripts: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """Every ``_("...")`` message of the board's scripts named (all of them when None), as written."""
    folder = resources.files("nnlearn.see.board") / "static"
    found = set()
    for f in folder.iterdir():
        if f.name.endswith(".js") and (scripts is None or f.name in scripts):
            found.update(json.loads(f'"{m}"') for m in _SCRIPT_MESSAGE.findall(f.read_text(encoding="utf-8")))
    return tuple(sorted(found))


@functools.cache
def script_messages(lang: str, scripts: tuple[str, ...] | None = None) -> str:
    """The messages of ``scripts`` (all the board's when None) in ``lang``, as JSON text."""
    table = {m: i18n.translate(m, lang) for m in script_message_ids(scripts)}
    return json.dumps(table, ensure_ascii=False, sort_keys=True)


@functools.cache
def page(template: str, lang: str) -> bytes:
    """The board's page ``template`` in ``lang``: its language links, and its scripts' messages (those of
    the scripts it loads, found in the page itself) escaped into its ``<meta name="nnlearn-messages">``."""
    text = render(template, lang=lang, languages=switcher(lang), script_messages=_MESSAGES_HERE)
    messages = escape(script_messages(lang, tuple(sorted(set(_SCRIPT.findall(text))))))
    # The template escaped the marker as it escapes any value: it is found as written (no & < > " ').
    return text.replace(_MESSAGES_HERE, str(messages)).encode("utf-8")


def page_response(request, template: str) -> Response:
    """The page ``template`` in the request's language (:func:`choose`), keeping a choice made now."""
    lang, chosen = choose(request)
    response = Response(page(template, lang), media_type="text/html; charset=utf-8")
    return keep(response, lang) if chosen else response
