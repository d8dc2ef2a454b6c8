"""What the board's JSON endpoints share: answers without NaN, and work in bounded worker threads
(one :class:`anyio.CapacityLimiter` per kind of work, made by :func:`nnlearn.see.board.app.make_app`).
"""

from __future__ import annotations

import functools
import json
import math

import anyio
from starlette.requests import Request
from starlette.responses import Response


def json_safe(value):
    """``value`` with every non-finite float as None: JSON has no NaN.

    Examples
    --------
    >>> json_safe({"a": [1.0, float("nan")], "b": float("inf")})
    {'a': [1.0, None], 'b': None}
    """
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
