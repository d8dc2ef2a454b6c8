"""The board's lessons: sections 4.3-4.4 of the chapter as pages you can touch (``/lessons``), each driven
by nnlearn's own functions through ``/api/lessons/KIND`` (:data:`ENDPOINTS`); the pages only draw.

Every request is bounded before any work (:data:`BOUNDS`, :data:`MAX_FORMULA`, :data:`MAX_QUERY`): too
long is 413/414, out of range 400, with a one-line message that repeats nothing of the request. A formula
is read by ``nnlearn diff``'s parser (never ``eval``). The last answers are kept (:data:`CACHED`), so a
burst of the same requests costs one computation.
"""

from __future__ import annotations

import functools
import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nnlearn.base import i18n
from nnlearn.base.errors import NnlearnError
from nnlearn.base.i18n import _
from nnlearn.see.board import language
from nnlearn.see.board.web import Refused, json_safe, query_number, work

#: The lessons' pages, ``templates/lessons/NAME.html``.
PAGES = ("index", "diff", "gradient", "descent", "numgrad")
#: Longest query string and formula accepted.
MAX_QUERY = 1024
MAX_FORMULA = 200
#: Each number's range and default, as :func:`nnlearn.see.board.web.query_number` takes them.
BOUNDS = {
    "x": (-1e4, 1e4, 5.0, False),
    "h": (1e-20, 1.0, 1e-4, False),
    "x0": (-1e4, 1e4, -3.0, False),
    "x1": (-1e4, 1e4, 4.0, False),
    "lim": (0.1, 100.0, 2.0, False),
    "n": (2, 41, 17, True),
    "lr": (1e-10, 10.0, 0.1, False),
    "steps": (0, 1000, 100, True),
    "race_steps": (1, 300, 30, True),
}
#: Each endpoint: its functions of x (``f=``; none when it takes no function), then its numbers.
ENDPOINTS = {
    "diff": (("function_1", "exp", "sin", "formula"), ("x", "h")),
    "field": (("function_2", "formula"), ("lim", "n")),
    "gradient": (("function_2", "formula"), ("x0", "x1")),
    "descent": (("function_2", "formula"), ("x0", "x1", "lr", "steps")),
    "race": ((), ("race_steps",)),
    "numgrad": ((), ()),
}
#: Answers kept (the most recent), as JSON bytes.
CACHED = 64


def arguments(kind: str, query) -> tuple:
    """The arguments of endpoint ``kind``'s function, read from ``query`` and checked."""
    functions, numbers = ENDPOINTS[kind]
    args: list = []
    if functions:
        name = query.get("f", functions[0])
        if name not in functions:
            raise Refused(400, _("f must be one of {names}", names=", ".join(functions)))
        formula = query.get("formula", "") if name == "formula" else ""
        if len(formula) > MAX_FORMULA:
            raise Refused(413, _("the formula is longer than {n} characters; write a shorter one", n=MAX_FORMULA))
        args += [name, formula]
    # race_steps is the race's own bounds for its query's steps.
    return tuple(args + [query_number(query, n.removeprefix("race_"), *BOUNDS[n]) for n in numbers])


def lesson_function(kind: str):
    """The function that answers endpoint ``kind``, imported on the first lesson: the lessons need matplotlib
    (nnlearn.common.plots), the runs list does not."""
    from nnlearn.see.board import lesson_descent, lesson_diff, lesson_numgrad

    return {
        "diff": lesson_diff.diff_lesson,
        "field": lesson_descent.gradient_field,
        "gradient": lesson_descent.gradient_at,
        "descent": lesson_descent.descent,
        "race": lesson_descent.race,
        "numgrad": lesson_numgrad.numgrad_trace,
    }[kind]


@functools.lru_cache(maxsize=CACHED)
def computed(kind: str, args: tuple, lang: str = i18n.SOURCE_LANGUAGE) -> tuple[int, bytes]:
    """``(status, JSON)`` of endpoint ``kind`` for ``args``, its words in ``lang``: 200 and the answer, or
    400 and the one-line message of nnlearn's error (a formula the parser refuses, a point outside its domain)."""
    try:
        with i18n.use(lang):
            data, status = lesson_function(kind)(*args), 200
    except NnlearnError as exc:
        data, status = {"error": str(exc).splitlines()[0]}, 400
    return status, json.dumps(json_safe(data), allow_nan=False).encode("utf-8")


async def page(request: Request) -> Response:
    name = request.path_params.get("name", "index")
    if name not in PAGES:
        raise Refused(404, _("no such lesson; the lessons are listed at /lessons"))
    return language.page_response(request, f"lessons/{name}.html")


async def api(request: Request) -> Response:
    kind = request.path_params["kind"]
    if kind not in ENDPOINTS:
        raise Refused(404, _("no such lesson endpoint"))
    if len(request.scope.get("query_string", b"")) > MAX_QUERY:
        raise Refused(414, _("the request's query is longer than {n} bytes", n=MAX_QUERY))
    args = arguments(kind, request.query_params)
    status, body = await work(request, "lessons", computed, kind, args, i18n.current())  # RequestLanguage's
    return Response(body, status, media_type="application/json")


#: What :func:`nnlearn.see.board.app.make_app` serves for the lessons.
ROUTES = [Route("/lessons", page), Route("/lessons/{name}", page), Route("/api/lessons/{kind}", api)]
