"""What the board's endpoints share: refusals, numbers read from a query, answers without NaN, and work in
bounded worker threads (one :class:`anyio.CapacityLimiter` per kind, made by :func:`nnlearn.see.board.app.make_app`).
"""

from __future__ import annotations

import functools
import json
import math

import anyio
from starlette.requests import Request
from starlette.responses import Response

from nnlearn.base.i18n import _

#: Longest number read from a query, in characters.
MAX_NUMBER_TEXT = 40


class Refused(Exception):
    """A request answered with an error status and a one-line message (never a path of the server's)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def query_number(query, name: str, lo, hi, default=None, whole: bool = False):
    """The number ``query[name]`` from ``lo`` to ``hi`` (``default`` when absent or empty), else :class:`Refused`;
    the message repeats nothing of the request.
    """
    text = query.get(name, "")
    if text == "":
        return default
    if len(text) > MAX_NUMBER_TEXT:
        raise Refused(413, _("{name} is longer than {n} characters; give a number", name=name, n=MAX_NUMBER_TEXT))
    try:  # ASCII only: Python's int and float also read other scripts' digits ('١٢' is 12)
        value = (int(text) if whole else float(text)) if text.isascii() else math.nan
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and lo <= value <= hi):
        if whole:  # every digit: the seed's bound as 1e+19 would be a wrong one
            raise Refused(400, _("{name} must be a whole number from {lo} to {hi}", name=name, lo=str(lo), hi=str(hi)))
        bounds = {"name": name, "lo": format(lo, "g"), "hi": format(hi, "g")}
        raise Refused(400, _("{name} must be a number from {lo} to {hi}", **bounds))
    return value


def json_safe(value):
    """``value`` with every non-finite float as None: JSON has no NaN."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def answer(data, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON answer."""
    return Response(
        json.dumps(json_safe(data), allow_nan=False).encode("utf-8"),
        status,
        media_type="application/json",
        headers=headers,
    )


async def work(request: Request, kind: str, fn, *args):
    """``fn(*args)`` in a worker thread, at most ``LIMITS[kind]`` (:mod:`nnlearn.see.board.app`) at a time."""
    limiters = request.app.state.limiters
    return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=limiters[kind])
