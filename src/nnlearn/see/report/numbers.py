"""How the report writes values: percentages, numbers, settings. Text only; the templates escape it."""

from __future__ import annotations

import json
import math

from nnlearn.train.tables import finite

#: Written where there is no value (missing, NaN, infinity).
NONE = "–"


def pct(value, digits: int = 2) -> str:
    """A share as a percentage.

    Examples
    --------
    >>> pct(0.9461), pct(float("nan")), pct("x")
    ('94.61%', '–', '–')
    """
    return f"{value:.{digits}%}" if finite(value) else NONE


def num(value) -> str:
    """A setting or a cell: floats to 4 significant digits, lists joined by ``-`` (``[100, 100]`` is
    ``100-100``), anything else as text.

    Examples
    --------
    >>> num(0.012344), num([100, 100]), num(None), num("<b>")
    ('0.01234', '100-100', '–', '<b>')
    """
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else NONE
    if isinstance(value, (list, tuple)):
        return "-".join(num(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, allow_nan=False, default=str)
    return NONE if value is None else str(value)


def sci(value) -> str:
    """A small difference in scientific notation.

    Examples
    --------
    >>> sci(3.25e-9), sci(None)
    ('3.25e-09', '–')
    """
    return f"{value:.2e}" if finite(value) else NONE


def seconds(value) -> str:
    """A duration in seconds, one decimal."""
    return f"{value:.1f} s" if finite(value) else NONE


def jsonish(value) -> str:
    """A value of best.json: objects and lists as JSON, anything else as text.

    Examples
    --------
    >>> jsonish({"lr": 0.5, "hidden": 100}), jsonish(3)
    ('{"hidden": 100, "lr": 0.5}', '3')
    """
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return num(value)
